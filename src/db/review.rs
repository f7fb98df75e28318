//! Reading what staff review: the queue of applications waiting on a person's stages, with
//! its filters and counts, and the internal notes kept on an application.
//!
//! Which stages are a person's is worked out by the service from the workflow templates (a
//! stage is data); this module receives the result as [`Slot`]s and turns them into one SQL
//! condition, so the queue is one indexed query whatever the number of templates.

use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{Cond, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};

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

/// The condition "waits on one of these slots".
fn waiting_on(slots: &[Slot]) -> Condition {
    let mut any = Cond::any();
    for slot in slots {
        let mut one = Cond::all()
            .add(Expr::col(("a", "workflow_template_id")).eq(slot.template_id))
            .add(Expr::col(("a", "stage_index")).eq(slot.stage_index))
            .add(Expr::col(("a", "status")).eq(slot.status.code()));
        if let Some(colleges) = &slot.colleges {
            one = one.add(Expr::col(("s", "college_id")).is_in(colleges.iter().copied()));
        }
        any = any.add(one);
    }
    if slots.is_empty() {
        // Nothing is anybody's queue without a stage: an always-false condition.
        any = any.add(Expr::val(1).eq(0));
    }
    any
}

/// The select every queue query starts from, without columns. `rows`: joined for the page's
/// columns; otherwise (counting) students are joined only when a college decides and programs
/// never, so a plain count reads the `applications_stage` index alone.
fn base(slots: &[Slot], f: &QueueFilter, with_status: bool, rows: bool) -> SelectStatement {
    let mut q = Query::select();
    q.from_as("applications", "a");
    let by_college = f.college_id.is_some() || slots.iter().any(|s| s.colleges.is_some());
    if rows || by_college {
        q.join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        );
    }
    if rows {
        q.join_as(
            JoinType::InnerJoin,
            "programs",
            "p",
            Expr::col(("p", "id")).equals(("a", "program_id")),
        );
    }
    q.cond_where(waiting_on(slots));
    if let Some(id) = f.program_id {
        q.and_where(Expr::col(("a", "program_id")).eq(id));
    }
    if let Some(id) = f.college_id {
        q.and_where(Expr::col(("s", "college_id")).eq(id));
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
        // Matching students and programs are found once each, not tested on every row.
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

/// One page of the queue. The number of rows on all pages comes from [`counts`].
pub async fn queue(db: &Db, slots: &[Slot], f: &QueueFilter, page: u64) -> DbResult<Vec<QueueRow>> {
    let mut q = base(slots, f, true, true);
    q.column(("a", "id"))
        .column(("a", "version"))
        .column(("a", "status"))
        .column(("a", "workflow_template_id"))
        .column(("a", "stage_index"))
        .column(("a", "is_late"))
        .column(("a", "submitted_at"))
        .expr_as(Expr::col(("s", "student_no")), "student_no")
        .expr_as(Expr::col(("s", "name_zh")), "student_name")
        .expr_as(Expr::col(("c", "name_zh")), "college_name_zh")
        .expr_as(Expr::col(("c", "name_en")), "college_name_en")
        .column(("a", "program_id"))
        .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
        .expr_as(Expr::col(("p", "name_en")), "program_name_en")
        .join_as(
            JoinType::InnerJoin,
            "colleges",
            "c",
            Expr::col(("c", "id")).equals(("s", "college_id")),
        );
    match f.sort {
        Sort::Submitted => q.order_by(("a", "submitted_at"), Order::Asc),
        Sort::SubmittedDesc => q.order_by(("a", "submitted_at"), Order::Desc),
        Sort::StudentNo => q.order_by(("s", "student_no"), Order::Asc),
        Sort::Program => q
            .order_by(("p", "name_zh"), Order::Asc)
            .order_by(("a", "submitted_at"), Order::Asc),
    };
    q.order_by(("a", "id"), Order::Asc)
        .limit(PAGE_SIZE)
        .offset(super::page_offset(page, PAGE_SIZE));
    db.all(&q).await
}

/// How many rows of the filtered queue are in each status (the status filter itself ignored,
/// so the counts can be the filter's options).
pub async fn counts(db: &Db, slots: &[Slot], f: &QueueFilter) -> DbResult<Vec<(Status, i64)>> {
    let rows: Vec<(String, i64)> = db
        .all(
            &base(slots, f, false, false)
                .column(("a", "status"))
                .expr(Expr::col(("a", "id")).count())
                .group_by_col(("a", "status"))
                .to_owned(),
        )
        .await?;
    Ok(Status::ALL
        .into_iter()
        .filter_map(|s| {
            rows.iter()
                .find(|(code, _)| code == s.code())
                .map(|(_, n)| (s, *n))
        })
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
