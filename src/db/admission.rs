//! Reading for 录取管理: the queue of applications waiting for a result, the candidates of a
//! program's allocation with their score sources, the places already filled, and the
//! office's settings and overrides. Each query is built once (a `*_query` function) so that the
//! service can run it on the pool or inside its write transaction.

use chrono::{DateTime, Utc};
use sea_query::{Cond, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement};

use super::{Db, DbResult};
use crate::domain::status::Status;

/// The statuses that wait for an admission result: 待对方学校返回录取结果 and 待调剂.
pub const WAITING: [Status; 2] = [Status::Nominated, Status::PendingAdjustment];

/// The statuses in which an application holds a place at its `admitted_school_id`: from
/// admission to the end of the exchange. 放弃, 未被录取 and 已取消 give the place back.
pub const HOLDING_A_PLACE: [Status; 7] = [
    Status::AdmittedFirstChoice,
    Status::AdmittedSecondChoice,
    Status::PreDeparture,
    Status::ReadyToDepart,
    Status::Abroad,
    Status::ReturnReview,
    Status::Completed,
];

fn codes(statuses: &[Status]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.code()).collect()
}

/// One line of the 录取管理 list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub version: i64,
    pub status: String,
    pub program_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
    pub student_id: i64,
    pub student_no: String,
    pub student_name: String,
    pub college_name_zh: String,
    pub college_name_en: String,
    /// The 申请信息 JSON (choices).
    pub info: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl QueueRow {
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Draft)
    }
}

/// The filters of the list.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub program_id: Option<i64>,
    /// Matches the student's name or number, or the program's name.
    pub keyword: String,
    /// One of [`WAITING`], or both when `None`.
    pub status: Option<Status>,
}

/// The base of the list: applications joined with program, student and college.
fn queue_base(filter: &QueueFilter) -> SelectStatement {
    let statuses = match filter.status {
        Some(s) if WAITING.contains(&s) => vec![s.code()],
        _ => codes(&WAITING),
    };
    let mut q = Query::select();
    q.from_as("applications", "a")
        .join_as(
            JoinType::InnerJoin,
            "programs",
            "p",
            Expr::col(("p", "id")).equals(("a", "program_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "colleges",
            "c",
            Expr::col(("c", "id")).equals(("s", "college_id")),
        )
        .and_where(Expr::col(("a", "status")).is_in(statuses));
    if let Some(p) = filter.program_id {
        q.and_where(Expr::col(("a", "program_id")).eq(p));
    }
    let keyword = filter.keyword.trim();
    if !keyword.is_empty() {
        use super::programs::column_contains as contains;
        q.cond_where(
            Cond::any()
                .add(contains("s", "name_zh", keyword))
                .add(contains("s", "student_no", keyword))
                .add(contains("p", "name_zh", keyword))
                .add(contains("p", "name_en", keyword)),
        );
    }
    q
}

/// One page of the list, oldest submission first (the order the office works in), and the
/// number of lines in all pages.
pub async fn queue(
    db: &Db,
    filter: &QueueFilter,
    page: u64,
    per_page: u64,
) -> DbResult<(Vec<QueueRow>, i64)> {
    let total = db
        .count(
            &queue_base(filter)
                .expr(Expr::col(("a", "id")).count())
                .to_owned(),
        )
        .await?;
    let rows = db
        .all(
            &queue_base(filter)
                .column(("a", "id"))
                .column(("a", "version"))
                .column(("a", "status"))
                .column(("a", "program_id"))
                .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
                .expr_as(Expr::col(("p", "name_en")), "program_name_en")
                .column(("a", "student_id"))
                .expr_as(Expr::col(("s", "student_no")), "student_no")
                .expr_as(Expr::col(("s", "name_zh")), "student_name")
                .expr_as(Expr::col(("c", "name_zh")), "college_name_zh")
                .expr_as(Expr::col(("c", "name_en")), "college_name_en")
                .column(("a", "info"))
                .column(("a", "submitted_at"))
                .order_by(("a", "submitted_at"), Order::Asc)
                .order_by(("a", "id"), Order::Asc)
                .limit(per_page)
                .offset(super::page_offset(page, per_page))
                .to_owned(),
        )
        .await?;
    Ok((rows, total))
}

/// A program with applications waiting for a result.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WaitingProgram {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub year: i64,
    /// 待对方学校返回录取结果.
    pub nominated: i64,
    /// 待调剂.
    pub pending: i64,
}

/// The programs with applications waiting for a result, newest year first.
pub async fn waiting_programs(db: &Db) -> DbResult<Vec<WaitingProgram>> {
    let count_of = |status: Status| {
        let one_if: Expr = Expr::case(Expr::col(("a", "status")).eq(status.code()), 1)
            .finally(0)
            .into();
        Func::sum(one_if)
    };
    let rows: Vec<WaitingProgram> = db
        .all(
            &Query::select()
                .column(("p", "id"))
                .column(("p", "name_zh"))
                .column(("p", "name_en"))
                .column(("p", "year"))
                .expr_as(count_of(Status::Nominated), "nominated")
                .expr_as(count_of(Status::PendingAdjustment), "pending")
                .from_as("applications", "a")
                .join_as(
                    JoinType::InnerJoin,
                    "programs",
                    "p",
                    Expr::col(("p", "id")).equals(("a", "program_id")),
                )
                .and_where(Expr::col(("a", "status")).is_in(codes(&WAITING)))
                .group_by_columns([
                    ("p", "id"),
                    ("p", "name_zh"),
                    ("p", "name_en"),
                    ("p", "year"),
                ])
                .order_by(("p", "year"), Order::Desc)
                .order_by(("p", "id"), Order::Desc)
                .to_owned(),
        )
        .await?;
    Ok(rows)
}

/// A nominated application of a program with what its score is made of.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: i64,
    pub version: i64,
    pub student_id: i64,
    pub student_no: String,
    pub student_name: String,
    pub college_name_zh: String,
    pub college_name_en: String,
    /// The 申请信息 JSON: choices, GPA, 加权平均分.
    pub info: String,
    /// The profile as it was at submission (JSON).
    pub profile_snapshot: String,
    /// The profile's 平均绩点 now.
    pub student_gpa: String,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// The nominated (待对方学校返回录取结果) applications of a program, in id order.
pub fn candidates_query(program_id: i64) -> SelectStatement {
    Query::select()
        .column(("a", "id"))
        .column(("a", "version"))
        .column(("a", "student_id"))
        .expr_as(Expr::col(("s", "student_no")), "student_no")
        .expr_as(Expr::col(("s", "name_zh")), "student_name")
        .expr_as(Expr::col(("c", "name_zh")), "college_name_zh")
        .expr_as(Expr::col(("c", "name_en")), "college_name_en")
        .column(("a", "info"))
        .column(("a", "profile_snapshot"))
        .expr_as(Expr::col(("s", "gpa")), "student_gpa")
        .column(("a", "submitted_at"))
        .from_as("applications", "a")
        .join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "colleges",
            "c",
            Expr::col(("c", "id")).equals(("s", "college_id")),
        )
        .and_where(Expr::col(("a", "program_id")).eq(program_id))
        .and_where(Expr::col(("a", "status")).eq(Status::Nominated.code()))
        .order_by(("a", "id"), Order::Asc)
        .to_owned()
}

/// A 外语水平 row of a candidate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LanguageScoreRow {
    pub application_id: i64,
    pub exam_type: String,
    pub score: String,
}

/// The 外语水平 rows of a program's nominated applications.
pub fn language_scores_query(program_id: i64) -> SelectStatement {
    Query::select()
        .column(("l", "application_id"))
        .column(("l", "exam_type"))
        .column(("l", "score"))
        .from_as("language_scores", "l")
        .join_as(
            JoinType::InnerJoin,
            "applications",
            "a",
            Expr::col(("a", "id")).equals(("l", "application_id")),
        )
        .and_where(Expr::col(("a", "program_id")).eq(program_id))
        .and_where(Expr::col(("a", "status")).eq(Status::Nominated.code()))
        .order_by(("l", "application_id"), Order::Asc)
        .order_by(("l", "id"), Order::Asc)
        .to_owned()
}

/// Places already held at each partner school of a program: (school id, count).
pub fn taken_query(program_id: i64) -> SelectStatement {
    Query::select()
        .column("admitted_school_id")
        .expr_as(Expr::col("id").count(), "taken")
        .from("applications")
        .and_where(Expr::col("program_id").eq(program_id))
        .and_where(Expr::col("admitted_school_id").is_not_null())
        .and_where(Expr::col("status").is_in(codes(&HOLDING_A_PLACE)))
        .group_by_col("admitted_school_id")
        .to_owned()
}

/// The office's score settings of a program, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub program_id: i64,
    pub rule: String,
    pub weight_gpa: i64,
    pub weight_avg: i64,
    pub weight_language: i64,
    pub language_exam: String,
    pub gpa_full: i64,
    pub language_full: i64,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: String,
    pub published_count: i64,
}

pub fn settings_query(program_id: i64) -> SelectStatement {
    Query::select()
        .columns([
            "program_id",
            "rule",
            "weight_gpa",
            "weight_avg",
            "weight_language",
            "language_exam",
            "gpa_full",
            "language_full",
            "version",
            "updated_at",
            "published_at",
            "published_by",
            "published_count",
        ])
        .from("allocation_settings")
        .and_where(Expr::col("program_id").eq(program_id))
        .to_owned()
}

pub async fn settings(db: &Db, program_id: i64) -> DbResult<Option<SettingsRow>> {
    db.optional(&settings_query(program_id)).await
}

/// An override the office set on a preview line.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverrideRow {
    pub application_id: i64,
    pub result: String,
    pub set_by_name: String,
    pub set_at: DateTime<Utc>,
}

pub fn overrides_query(program_id: i64) -> SelectStatement {
    Query::select()
        .columns(["application_id", "result", "set_by_name", "set_at"])
        .from("allocation_overrides")
        .and_where(Expr::col("program_id").eq(program_id))
        .order_by("application_id", Order::Asc)
        .to_owned()
}

/// What a message and a history row about one application need besides the row itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordTarget {
    pub program_name_zh: String,
    pub student_name: String,
}

pub fn record_target_query(application_id: i64) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
        .expr_as(Expr::col(("s", "name_zh")), "student_name")
        .from_as("applications", "a")
        .join_as(
            JoinType::InnerJoin,
            "programs",
            "p",
            Expr::col(("p", "id")).equals(("a", "program_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        )
        .and_where(Expr::col(("a", "id")).eq(application_id))
        .to_owned()
}

/// The partner schools of a program with their 推荐名额, in display order.
pub fn schools_query(program_id: i64) -> SelectStatement {
    Query::select()
        .columns([
            "id",
            "program_id",
            "name_zh",
            "name_en",
            "country",
            "quota",
            "sort_order",
        ])
        .from("partner_schools")
        .and_where(Expr::col("program_id").eq(program_id))
        .order_by("sort_order", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned()
}

/// Applications by id with every column of [`super::applications::ApplicationRow`].
pub fn applications_query(ids: &[i64]) -> SelectStatement {
    Query::select()
        .columns(super::applications::COLUMNS)
        .from("applications")
        .and_where(Expr::col("id").is_in(ids.iter().copied()))
        .to_owned()
}
