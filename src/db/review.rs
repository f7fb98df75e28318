//! Reading what staff review: the queue of applications waiting on a person's stages, with
//! its filters and counts, and the internal notes kept on an application.
//!
//! Which stages are a person's is worked out by the service from the workflow templates (a
//! stage is data); this module receives the result as [`Slot`]s and turns them into one SQL
//! condition, so the queue is one indexed query whatever the number of templates.

use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{
    Cond, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, UnionType,
};

use super::programs::column_contains;
use super::{Db, DbResult, Tx};
use crate::domain::status::Status;

/// One stage of one template version that a person decides, for everyone or for some colleges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub template_id: i64,
    pub stage_index: i64,
    /// The status an application has while this stage decides (申请中, 行前审核中, 返校审核中).
    pub status: Status,
    /// `None`: every applicant; `Some`: applicants of these colleges only.
    pub colleges: Option<Vec<i64>>,
}

/// How the queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Oldest submission first: first come, first served.
    #[default]
    Submitted,
    /// Newest submission first.
    SubmittedDesc,
    /// By student number.
    StudentNo,
    /// By program, then submission.
    Program,
}

impl Sort {
    pub const ALL: [Sort; 4] = [
        Sort::Submitted,
        Sort::SubmittedDesc,
        Sort::StudentNo,
        Sort::Program,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Sort::Submitted => "submitted",
            Sort::SubmittedDesc => "submitted_desc",
            Sort::StudentNo => "student_no",
            Sort::Program => "program",
        }
    }

    pub fn from_code(code: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The queue's filters, already parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub program_id: Option<i64>,
    pub college_id: Option<i64>,
    pub status: Option<Status>,
    /// Submitted on or after this day (China time).
    pub from: Option<NaiveDate>,
    /// Submitted on or before this day (China time).
    pub to: Option<NaiveDate>,
    /// In the student's name or number, or the program's name.
    pub keyword: String,
    pub sort: Sort,
}

/// One line of a reviewer's queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub version: i64,
    pub status: String,
    pub workflow_template_id: Option<i64>,
    pub stage_index: i64,
    pub is_late: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub student_no: String,
    pub student_name: String,
    pub college_name_zh: String,
    pub college_name_en: String,
    pub program_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
}

impl QueueRow {
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Draft)
    }
}

/// Rows per queue page.
pub const PAGE_SIZE: u64 = 20;

/// The moment a China day starts, in UTC.
fn china_midnight(day: NaiveDate) -> DateTime<Utc> {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
}

/// "The applicant belongs to one of these colleges", as a condition on `a` alone.
fn in_colleges(colleges: impl IntoIterator<Item = i64>) -> Expr {
    Expr::col(("a", "student_id")).in_subquery(
        Query::select()
            .column(("students", "user_id"))
            .from("students")
            .and_where(Expr::col(("students", "college_id")).is_in(colleges))
            .to_owned(),
    )
}

/// The condition "waits on one of these slots". Every term is on `a` alone, so that SQL can
/// answer each slot from the `applications_queue` index and add the slots up.
fn waiting_on(slots: &[Slot]) -> Condition {
    let mut any = Cond::any();
    for slot in slots {
        let mut one = Cond::all()
            .add(Expr::col(("a", "workflow_template_id")).eq(slot.template_id))
            .add(Expr::col(("a", "stage_index")).eq(slot.stage_index))
            .add(Expr::col(("a", "status")).eq(slot.status.code()));
        if let Some(colleges) = &slot.colleges {
            one = one.add(in_colleges(colleges.iter().copied()));
        }
        any = any.add(one);
    }
    if slots.is_empty() {
        // Nothing is anybody's queue without a stage: an always-false condition.
        any = any.add(Expr::val(1).eq(0));
    }
    any
}

/// The filtered queue as a select over `applications a` alone, without columns: students and
/// programs are asked through subqueries (found once), never joined row by row.
fn base(slots: &[Slot], f: &QueueFilter, with_status: bool) -> SelectStatement {
    let mut q = Query::select();
    q.from_as("applications", "a").cond_where(waiting_on(slots));
    if let Some(id) = f.program_id {
        q.and_where(Expr::col(("a", "program_id")).eq(id));
    }
    if let Some(id) = f.college_id {
        q.and_where(in_colleges([id]));
    }
    if let (Some(status), true) = (f.status, with_status) {
        q.and_where(Expr::col(("a", "status")).eq(status.code()));
    }
    if let Some(day) = f.from {
        q.and_where(Expr::col(("a", "submitted_at")).gte(china_midnight(day)));
    }
    if let Some(day) = f.to.and_then(|d| d.succ_opt()) {
        q.and_where(Expr::col(("a", "submitted_at")).lt(china_midnight(day)));
    }
    let keyword = f.keyword.trim();
    if !keyword.is_empty() {
        let students = Query::select()
            .column(("students", "user_id"))
            .from("students")
            .cond_where(
                Cond::any()
                    .add(column_contains("students", "name_zh", keyword))
                    .add(column_contains("students", "student_no", keyword)),
            )
            .to_owned();
        let programs = Query::select()
            .column(("programs", "id"))
            .from("programs")
            .cond_where(
                Cond::any()
                    .add(column_contains("programs", "name_zh", keyword))
                    .add(column_contains("programs", "name_en", keyword)),
            )
            .to_owned();
        q.cond_where(
            Cond::any()
                .add(Expr::col(("a", "student_id")).in_subquery(students))
                .add(Expr::col(("a", "program_id")).in_subquery(programs)),
        );
    }
    q
}

/// Joins what `sort` orders by and adds the order (ties broken by id).
fn ordered(q: &mut SelectStatement, sort: Sort) {
    match sort {
        Sort::Submitted => q.order_by(("a", "submitted_at"), Order::Asc),
        Sort::SubmittedDesc => q.order_by(("a", "submitted_at"), Order::Desc),
        Sort::StudentNo => q
            .join_as(
                JoinType::InnerJoin,
                "students",
                "s",
                Expr::col(("s", "user_id")).equals(("a", "student_id")),
            )
            .order_by(("s", "student_no"), Order::Asc),
        Sort::Program => q
            .join_as(
                JoinType::InnerJoin,
                "programs",
                "p",
                Expr::col(("p", "id")).equals(("a", "program_id")),
            )
            .order_by(("p", "name_zh"), Order::Asc)
            .order_by(("a", "submitted_at"), Order::Asc),
    };
    q.order_by(("a", "id"), Order::Asc);
}

/// Up to this many matching rows, every match is read and the page is sorted and cut here;
/// above it, SQL walks the sort order (the index holds it) until the page is full.
const NARROW: i64 = 2000;

/// One page of the queue; `total` is the number of rows on all pages (from [`counts`]).
///
/// The matches are chosen from `applications` alone. A narrow filter (a student's number, one
/// program) reads its few matches and sorts them here; a wide one lets SQL walk the order
/// and joins only the page's rows with their student, college and program. Choosing by the
/// count matters: asked to walk the order for a filter only twenty rows meet, SQL would read
/// the whole table to find them.
pub async fn queue(
    db: &Db,
    slots: &[Slot],
    f: &QueueFilter,
    page: u64,
    total: i64,
) -> DbResult<Vec<QueueRow>> {
    let offset = super::page_offset(page, PAGE_SIZE);
    let mut ids = base(slots, f, true);
    ids.column(("a", "id"));
    if total <= NARROW {
        let mut rows: Vec<QueueRow> = db.all(&with_columns(ids)).await?;
        match f.sort {
            Sort::Submitted => rows.sort_by_key(|x| (x.submitted_at, x.id)),
            Sort::SubmittedDesc => {
                rows.sort_by(|x, y| y.submitted_at.cmp(&x.submitted_at).then(x.id.cmp(&y.id)));
            }
            Sort::StudentNo => {
                rows.sort_by(|x, y| (&x.student_no, x.id).cmp(&(&y.student_no, y.id)))
            }
            Sort::Program => rows.sort_by(|x, y| {
                (&x.program_name_zh, x.submitted_at, x.id).cmp(&(
                    &y.program_name_zh,
                    y.submitted_at,
                    y.id,
                ))
            }),
        }
        return Ok(rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(PAGE_SIZE as usize)
            .collect());
    }
    ordered(&mut ids, f.sort);
    ids.limit(PAGE_SIZE).offset(offset);
    let mut q = with_columns(ids);
    ordered(&mut q, f.sort);
    db.all(&q).await
}

/// The queue's columns for the applications whose ids `ids` selects.
fn with_columns(ids: SelectStatement) -> SelectStatement {
    Query::select()
        .from_as("applications", "a")
        .column(("a", "id"))
        .column(("a", "version"))
        .column(("a", "status"))
        .column(("a", "workflow_template_id"))
        .column(("a", "stage_index"))
        .column(("a", "is_late"))
        .column(("a", "submitted_at"))
        .expr_as(Expr::col(("st", "student_no")), "student_no")
        .expr_as(Expr::col(("st", "name_zh")), "student_name")
        .expr_as(Expr::col(("c", "name_zh")), "college_name_zh")
        .expr_as(Expr::col(("c", "name_en")), "college_name_en")
        .column(("a", "program_id"))
        .expr_as(Expr::col(("pr", "name_zh")), "program_name_zh")
        .expr_as(Expr::col(("pr", "name_en")), "program_name_en")
        .join_as(
            JoinType::InnerJoin,
            "students",
            "st",
            Expr::col(("st", "user_id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "programs",
            "pr",
            Expr::col(("pr", "id")).equals(("a", "program_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "colleges",
            "c",
            Expr::col(("c", "id")).equals(("st", "college_id")),
        )
        .and_where(Expr::col(("a", "id")).in_subquery(ids))
        .to_owned()
}

/// How many rows of the filtered queue are in each status (the status filter itself ignored,
/// so the counts can be the filter's options).
///
/// A person's slots never overlap (each is one stage of one template version, and a stage
/// belongs to one role), so each is counted on its own, straight from the `applications_queue`
/// index, and the counts are added up per status.
pub async fn counts(db: &Db, slots: &[Slot], f: &QueueFilter) -> DbResult<Vec<(Status, i64)>> {
    let mut arms = slots.iter().map(|slot| {
        base(std::slice::from_ref(slot), f, false)
            .expr(Expr::val(slot.status.code()))
            .expr(Expr::col(("a", "id")).count())
            .to_owned()
    });
    let Some(mut q) = arms.next() else {
        return Ok(Vec::new());
    };
    for arm in arms {
        q.union(UnionType::All, arm);
    }
    let rows: Vec<(String, i64)> = db.all(&q).await?;
    Ok(Status::ALL
        .into_iter()
        .map(|s| {
            let n = rows
                .iter()
                .filter(|(code, _)| code == s.code())
                .map(|(_, n)| n)
                .sum::<i64>();
            (s, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect())
}

/// The rows on all pages of the filtered queue, from its [`counts`].
pub fn total(counts: &[(Status, i64)], f: &QueueFilter) -> i64 {
    counts
        .iter()
        .filter(|(s, _)| f.status.is_none_or(|wanted| wanted == *s))
        .map(|(_, n)| n)
        .sum()
}

/// The applicant's college: staff scope checks compare it with the reviewer's colleges.
pub async fn applicant_college(db: &Db, student_id: i64) -> DbResult<Option<i64>> {
    db.scalar(
        &Query::select()
            .column("college_id")
            .from("students")
            .and_where(Expr::col("user_id").eq(student_id))
            .to_owned(),
    )
    .await
}

/// Every workflow template version: (id, stages JSON).
pub async fn templates(db: &Db) -> DbResult<Vec<(i64, String)>> {
    db.all(
        &Query::select()
            .columns(["id", "stages"])
            .from("workflow_templates")
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// An internal note on an application.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    pub id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// The notes of an application, oldest first.
pub async fn notes(db: &Db, application_id: i64) -> DbResult<Vec<NoteRow>> {
    db.all(
        &Query::select()
            .columns(["id", "author_name", "body", "created_at"])
            .from("application_notes")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// Adds an internal note.
pub async fn insert_note(
    tx: &mut Tx,
    application_id: i64,
    author_id: i64,
    author_name: &str,
    body: &str,
) -> DbResult<()> {
    tx.insert(
        Query::insert()
            .into_table("application_notes")
            .columns([
                "application_id",
                "author_id",
                "author_name",
                "body",
                "created_at",
            ])
            .values_panic([
                application_id.into(),
                author_id.into(),
                author_name.into(),
                body.into(),
                Utc::now().into(),
            ]),
    )
    .await?;
    Ok(())
}

/// Adds a 补交材料 request.
pub async fn insert_supplement_request(
    tx: &mut Tx,
    application_id: i64,
    name: &str,
    note: &str,
    requested_by: i64,
) -> DbResult<()> {
    tx.insert(
        Query::insert()
            .into_table("supplement_requests")
            .columns([
                "application_id",
                "name",
                "note",
                "requested_by",
                "created_at",
            ])
            .values_panic([
                application_id.into(),
                name.into(),
                note.into(),
                requested_by.into(),
                Utc::now().into(),
            ]),
    )
    .await?;
    Ok(())
}

/// Programs for the queue's 项目 filter: (id, 中文名, English name, year), newest year first.
pub async fn program_options(db: &Db) -> DbResult<Vec<(i64, String, String, i64)>> {
    db.all(
        &Query::select()
            .columns(["id", "name_zh", "name_en", "year"])
            .from("programs")
            .order_by("year", Order::Desc)
            .order_by("name_zh", Order::Asc)
            .to_owned(),
    )
    .await
}
