//! `outbound generate` (hidden): the benchmark's data set and its storage ceiling.
//!
//! On top of the demo set (loaded first when missing) it adds, by copying demo rows in bulk
//! SQL that runs unchanged on SQLite and PostgreSQL:
//! - published programs, copies of the open program a demo student applied to, until
//!   `--programs` are published;
//! - `--students` students with complete profiles who have not applied yet (user names
//!   `2099100001`…, the demo student password), for the deadline rush;
//! - `--applications` applications spread over statuses, review stages, colleges and the
//!   copied programs, owned by further generated students, for the reviewer queue and export.
//!
//! `--ceiling N` instead times N durable single-row commits (`--concurrency` writers) on the
//! same database settings the server uses, and prints one JSON line.

use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use sea_query::{Expr, Query};

use crate::config::{Config, StorageArgs};
use crate::crypto::DataKey;
use crate::db::Db;
use crate::storage::Storage;

/// First user name (a student number) of the rush students.
pub const RUSH_FIRST: u64 = 2_099_100_001;
/// First user name of the students who own the bulk applications.
pub const BULK_FIRST: u64 = 2_099_500_001;
/// Bulk applications per bulk student.
const PER_BULK_STUDENT: usize = 20;
/// The demo student whose profile and application are copied.
const TEMPLATE_STUDENT: &str = "2023020105";

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Published programs wanted in total (copies are added up to this number).
    #[arg(long, default_value_t = 50)]
    pub programs: usize,
    /// Students with complete profiles and no application (the rush).
    #[arg(long, default_value_t = 2000)]
    pub students: usize,
    /// Applications spread over statuses, stages and colleges (the reviewer queue).
    #[arg(long, default_value_t = 100_000)]
    pub applications: usize,
    /// Time this many durable single-row commits instead of generating data.
    #[arg(long)]
    pub ceiling: Option<usize>,
    /// Concurrent writers for `--ceiling`.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub programs: usize,
    pub students: usize,
    pub applications: usize,
}

/// What [`generate`] added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Copies of the template program (published, codes `BENCH-1`…).
    pub program_copies: usize,
    /// Students who own the bulk applications.
    pub bulk_students: usize,
    /// Colleges the bulk students are spread over.
    pub colleges: usize,
}

/// `outbound generate`.
pub async fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let config = Config::from_storage(&args.storage);
    let state = crate::web::server::open(&config).await?;
    let db = state.db.clone();
    let result = match args.ceiling {
        Some(commits) => commit_ceiling(&db, commits, args.concurrency.max(1))
            .await
            .map(|c| {
                println!(
                    "{{\"commits\": {}, \"concurrency\": {}, \"seconds\": {:.3}, \"per_second\": {:.1}}}",
                    c.commits, c.concurrency, c.seconds, c.per_second
                );
            }),
        None => {
            let sizes = Sizes {
                programs: args.programs,
                students: args.students,
                applications: args.applications,
            };
            let started = Instant::now();
            generate(&db, &state.key, &state.storage, sizes)
                .await
                .map(|g| {
                    println!("programs: {} copies", g.program_copies);
                    println!("rush students: {} from {RUSH_FIRST}", sizes.students);
                    println!(
                        "applications: {} over {} students in {} colleges ({:.1} s)",
                        sizes.applications,
                        g.bulk_students,
                        g.colleges,
                        started.elapsed().as_secs_f64()
                    );
                })
        }
    };
    db.close().await;
    result
}

/// Adds the benchmark's data set to `db` (loading the demo set first when it is empty).
pub async fn generate(
    db: &Db,
    key: &DataKey,
    storage: &Storage,
    sizes: Sizes,
) -> anyhow::Result<Generated> {
    if crate::demo::load(db, key, storage).await? == crate::demo::Outcome::Refused {
        bail!("generate needs a database holding the demo set (or an empty one)");
    }
    if scalar_i64(
        db,
        &format!("(SELECT COUNT(*) FROM users WHERE username = '{RUSH_FIRST}')"),
    )
    .await?
        > 0
    {
        bail!("this database already holds generated data; use a new --data-dir");
    }
    let t = Template::find(db).await?;
    let programs = copy_programs(db, &t, sizes.programs).await?;
    add_students(db, &t, RUSH_FIRST, sizes.students, None).await?;
    let bulk = sizes.applications.div_ceil(PER_BULK_STUDENT);
    let colleges = college_majors(db).await?;
    for (k, (college, major)) in colleges.iter().enumerate() {
        let from = bulk * k / colleges.len();
        let to = bulk * (k + 1) / colleges.len();
        add_students(
            db,
            &t,
            BULK_FIRST + from as u64,
            to - from,
            Some((*college, *major)),
        )
        .await?;
    }
    add_applications(db, &t, programs, sizes.applications, bulk).await?;
    // Fresh planner statistics, as a long-running database has.
    db.execute_raw("ANALYZE").await?;
    Ok(Generated {
        program_copies: programs.1,
        bulk_students: bulk,
        colleges: colleges.len(),
    })
}

/// The demo rows that are copied.
struct Template {
    student: i64,
    application: i64,
    program: i64,
}

impl Template {
    async fn find(db: &Db) -> anyhow::Result<Template> {
        let student = scalar_i64(
            db,
            &format!("(SELECT id FROM users WHERE username = '{TEMPLATE_STUDENT}')"),
        )
        .await
        .context("the demo student to copy")?;
        let application = scalar_i64(
            db,
            &format!(
                "(SELECT MIN(id) FROM applications WHERE student_id = {student} AND status = 'under_review')"
            ),
        )
        .await
        .context("the demo application to copy")?;
        let program = scalar_i64(
            db,
            &format!("(SELECT program_id FROM applications WHERE id = {application})"),
        )
        .await?;
        Ok(Template {
            student,
            application,
            program,
        })
    }
}

async fn scalar_i64(db: &Db, expr: &str) -> anyhow::Result<i64> {
    db.scalar::<i64>(&Query::select().expr(Expr::cust(expr.to_owned())).to_owned())
        .await?
        .with_context(|| format!("no value for {expr}"))
}

/// `WITH RECURSIVE n(i)` counting 1..=count, for bulk `INSERT … SELECT`.
fn numbers(count: usize) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) ")
}

/// `INSERT INTO table (columns) SELECT <column or override> FROM <from> WHERE <filter>`.
fn copy(table: &str, columns: &[&str], overrides: &[(&str, String)], from: &str) -> String {
    let values: Vec<String> = columns
        .iter()
        .map(|c| {
            overrides
                .iter()
                .find(|(k, _)| k == c)
                .map_or_else(|| format!("t.{c}"), |(_, v)| v.clone())
        })
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {from}",
        columns.join(", "),
        values.join(", ")
    )
}

/// Every column of `programs` but its id: the row's columns and the bookkeeping ones.
fn program_columns() -> Vec<&'static str> {
    crate::db::programs::PROGRAM_COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "id")
        .chain([
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "review_note",
        ])
        .collect()
}

/// Copies the template program (with its partner schools and attachment types) until
/// `wanted` programs are published; returns (first copy's id, copies).
async fn copy_programs(db: &Db, t: &Template, wanted: usize) -> anyhow::Result<(i64, usize)> {
    let published = scalar_i64(
        db,
        "(SELECT COUNT(*) FROM programs WHERE status = 'published')",
    )
    .await?;
    let copies = wanted.saturating_sub(usize::try_from(published)?).max(1);
    let before = scalar_i64(db, "(SELECT COALESCE(MAX(id), 0) FROM programs)").await?;
    let mut tx = db.begin().await?;
    let sql = numbers(copies)
        + &copy(
            "programs",
            &program_columns(),
            &[
                ("code", "'BENCH-' || CAST(n.i AS TEXT)".into()),
                (
                    "name_zh",
                    "t.name_zh || '（第' || CAST(n.i AS TEXT) || '期）'".into(),
                ),
                (
                    "name_en",
                    "t.name_en || ' (round ' || CAST(n.i AS TEXT) || ')'".into(),
                ),
            ],
            &format!("programs t, n WHERE t.id = {} ORDER BY n.i", t.program),
        );
    tx.execute_raw(&sql).await?;
    let range = format!("p.id > {before} AND p.code LIKE 'BENCH-%'");
    tx.execute_raw(&format!(
        "INSERT INTO partner_schools (program_id, name_zh, name_en, country, quota, sort_order) \
         SELECT p.id, t.name_zh, t.name_en, t.country, t.quota, t.sort_order \
         FROM partner_schools t, programs p WHERE t.program_id = {} AND {range}",
        t.program
    ))
    .await?;
    tx.execute_raw(&format!(
        "INSERT INTO attachment_types (program_id, name_zh, name_en, required, hint, formats, max_bytes, sort_order) \
         SELECT p.id, t.name_zh, t.name_en, t.required, t.hint, t.formats, t.max_bytes, t.sort_order \
         FROM attachment_types t, programs p WHERE t.program_id = {} AND {range}",
        t.program
    ))
    .await?;
    tx.commit().await?;
    Ok((before + 1, copies))
}

/// (college, one of its majors), in code order.
async fn college_majors(db: &Db) -> anyhow::Result<Vec<(i64, i64)>> {
    let rows: Vec<(i64, i64)> = db
        .all(
            &Query::select()
                .expr(Expr::cust("c.id"))
                .expr(Expr::cust(
                    "(SELECT MIN(m.id) FROM majors m WHERE m.college_id = c.id)",
                ))
                .from_as("colleges", "c")
                .and_where(Expr::cust(
                    "EXISTS (SELECT 1 FROM majors m WHERE m.college_id = c.id)",
                ))
                .order_by_expr(Expr::cust("c.code"), sea_query::Order::Asc)
                .to_owned(),
        )
        .await?;
    if rows.is_empty() {
        bail!("no college with a major");
    }
    Ok(rows)
}

/// Every column of `students`: the profile's, then those the profile form does not edit.
fn student_columns() -> Vec<&'static str> {
    crate::db::students::PROFILE_COLUMNS
        .iter()
        .copied()
        .chain([
            "user_id",
            "student_no",
            "campus_card_no",
            "college_id",
            "major_id",
            "grade",
            "level",
            "schooling_years",
            "entry_year",
            "id_number_hash",
            "passport_no_hash",
            "photo_key",
            "updated_at",
        ])
        .collect()
}

/// Adds `count` students numbered from `first`, copies of the template student (account,
/// roles, profile, study records), optionally moved to another college and major.
async fn add_students(
    db: &Db,
    t: &Template,
    first: u64,
    count: usize,
    college: Option<(i64, i64)>,
) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let last = first + count as u64 - 1;
    let username = format!("CAST({} + n.i AS TEXT)", first - 1);
    let mut tx = db.begin().await?;
    tx.execute_raw(
        &(numbers(count)
            + &copy(
                "users",
                &[
                    "username",
                    "display_name",
                    "password_hash",
                    "must_change_password",
                    "failed_logins",
                    "active",
                    "created_at",
                ],
                &[
                    ("username", username.clone()),
                    ("display_name", format!("'学生' || {username}")),
                    ("must_change_password", "FALSE".into()),
                    ("failed_logins", "0".into()),
                ],
                &format!("users t, n WHERE t.id = {} ORDER BY n.i", t.student),
            )),
    )
    .await?;
    let mine = format!("u.username >= '{first}' AND u.username <= '{last}'");
    tx.execute_raw(&format!(
        "INSERT INTO user_roles (user_id, role) SELECT u.id, t.role FROM user_roles t, users u \
         WHERE t.user_id = {} AND {mine}",
        t.student
    ))
    .await?;
    let mut overrides = vec![
        ("user_id", "u.id".to_owned()),
        ("student_no", "u.username".to_owned()),
        ("campus_card_no", "u.username".to_owned()),
        ("name_zh", "u.display_name".to_owned()),
        ("email", "u.username || '@stu.example.edu.cn'".to_owned()),
    ];
    if let Some((college, major)) = college {
        overrides.push(("college_id", college.to_string()));
        overrides.push(("major_id", major.to_string()));
    }
    tx.execute_raw(&copy(
        "students",
        &student_columns(),
        &overrides,
        &format!(
            "students t, users u WHERE t.user_id = {} AND {mine}",
            t.student
        ),
    ))
    .await?;
    tx.execute_raw(&format!(
        "INSERT INTO study_records (user_id, start_date, end_date, school, address, degree) \
         SELECT u.id, t.start_date, t.end_date, t.school, t.address, t.degree \
         FROM study_records t, users u WHERE t.user_id = {} AND {mine}",
        t.student
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

const APPLICATION_COLUMNS: &[&str] = &[
    "student_id",
    "program_id",
    "round_year",
    "status",
    "version",
    "is_late",
    "workflow_template_id",
    "stage_index",
    "stage_decided",
    "commitment_at",
    "info",
    "profile_snapshot",
    "passport_no_enc",
    "has_pending_score",
    "score_backfilled",
    "created_at",
    "updated_at",
    "submitted_at",
];

/// Status by `i % 10`: four in review (at either application stage), then one each of the
/// other states a queue and an export meet.
const STATUS_SPREAD: &str = "CASE n.i % 10 WHEN 4 THEN 'returned' WHEN 5 THEN 'rejected' \
    WHEN 6 THEN 'nominated' WHEN 7 THEN 'draft' WHEN 8 THEN 'not_admitted' \
    WHEN 9 THEN 'pending_adjustment' ELSE 'under_review' END";

async fn add_applications(
    db: &Db,
    t: &Template,
    (first_program, programs): (i64, usize),
    count: usize,
    students: usize,
) -> anyhow::Result<()> {
    let first_student = scalar_i64(
        db,
        &format!("(SELECT MIN(id) FROM users WHERE username = '{BULK_FIRST}')"),
    )
    .await?;
    let spread = scalar_i64(
        db,
        &format!(
            "(SELECT MAX(id) - MIN(id) + 1 FROM users WHERE username >= '{BULK_FIRST}' AND username <= '{}')",
            BULK_FIRST + students as u64 - 1
        ),
    )
    .await?;
    if spread != i64::try_from(students)? {
        bail!("the generated students' ids are not consecutive ({spread} for {students})");
    }
    let before = scalar_i64(db, "(SELECT COALESCE(MAX(id), 0) FROM applications)").await?;
    let mut tx = db.begin().await?;
    tx.execute_raw(
        &(numbers(count)
            + &copy(
                "applications",
                APPLICATION_COLUMNS,
                &[
                    ("student_id", format!("{first_student} + n.i % {students}")),
                    (
                        "program_id",
                        format!("{first_program} + (n.i / {students}) % {programs}"),
                    ),
                    ("status", STATUS_SPREAD.into()),
                    (
                        "stage_index",
                        "CASE WHEN n.i % 10 < 4 THEN n.i % 2 ELSE 0 END".into(),
                    ),
                    (
                        "submitted_at",
                        "CASE WHEN n.i % 10 = 7 THEN NULL ELSE t.submitted_at END".into(),
                    ),
                ],
                &format!(
                    "applications t, n WHERE t.id = {} ORDER BY n.i",
                    t.application
                ),
            )),
    )
    .await?;
    tx.execute_raw(&format!(
        "INSERT INTO language_scores (application_id, language, exam_type, score, exam_date, sort_order) \
         SELECT a.id, t.language, t.exam_type, t.score, t.exam_date, t.sort_order \
         FROM language_scores t, applications a WHERE t.application_id = {} AND a.id > {before}",
        t.application
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The storage ceiling: durable single-row commits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ceiling {
    pub commits: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub per_second: f64,
}

/// Times `commits` transactions of one inserted row each, `concurrency` at a time, in a
/// scratch table that is dropped afterwards.
pub async fn commit_ceiling(
    db: &Db,
    commits: usize,
    concurrency: usize,
) -> anyhow::Result<Ceiling> {
    db.execute_raw("DROP TABLE IF EXISTS bench_ceiling").await?;
    db.execute_raw("CREATE TABLE bench_ceiling (n BIGINT NOT NULL, payload TEXT NOT NULL)")
        .await?;
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..concurrency {
        let db = db.clone();
        workers.spawn(async move {
            let mut n = w;
            while n < commits {
                let mut tx = db.begin().await?;
                tx.insert(
                    &Query::insert()
                        .into_table("bench_ceiling")
                        .columns(["n", "payload"])
                        .values([(n as i64).into(), "a committed row".into()])?
                        .to_owned(),
                )
                .await?;
                tx.commit().await?;
                n += concurrency;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done.context("a ceiling writer")??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let written = scalar_i64(db, "(SELECT COUNT(*) FROM bench_ceiling)").await?;
    db.execute_raw("DROP TABLE bench_ceiling").await?;
    if written != i64::try_from(commits)? {
        bail!("{written} rows committed out of {commits}");
    }
    Ok(Ceiling {
        commits,
        concurrency,
        seconds,
        per_second: commits as f64 / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_keeps_every_column_and_replaces_only_the_overridden_ones() {
        let sql = copy(
            "t2",
            &["a", "b", "c"],
            &[("b", "'x'".into())],
            "t1 t WHERE t.id = 1",
        );
        assert_eq!(
            sql,
            "INSERT INTO t2 (a, b, c) SELECT t.a, 'x', t.c FROM t1 t WHERE t.id = 1"
        );
    }

    #[test]
    fn the_number_series_counts_to_the_requested_size() {
        assert!(numbers(7).contains("WHERE i < 7"));
    }
}
