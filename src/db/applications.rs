//! Reading applications: a student's own list, one application with its rows, history and
//! files. Student queries always filter by owner in SQL, so another student's id finds nothing.

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, JoinType, Order, Query, SelectStatement};

use super::{Db, DbResult, Tx};
use crate::domain::application::{ApplicationInfoForm, LanguageScoreForm};
use crate::domain::status::Status;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicationRow {
    pub id: i64,
    pub student_id: i64,
    pub program_id: i64,
    pub round_year: i64,
    pub status: String,
    pub version: i64,
    pub is_late: bool,
    pub workflow_template_id: Option<i64>,
    pub stage_index: i64,
    pub stage_decided: bool,
    pub commitment_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub info: String,
    #[serde(skip)]
    pub passport_no_enc: String,
    pub has_pending_score: bool,
    pub score_backfilled: bool,
    pub admitted_school_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl ApplicationRow {
    /// The status as the domain type (an unknown code reads as a draft, which can do least).
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Draft)
    }

    /// The 申请信息 step as last saved (the passport number is kept apart, sealed).
    pub fn info_form(&self) -> ApplicationInfoForm {
        serde_json::from_str(&self.info).unwrap_or_default()
    }
}

pub const COLUMNS: [&str; 19] = [
    "id",
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
    "passport_no_enc",
    "has_pending_score",
    "score_backfilled",
    "admitted_school_id",
    "created_at",
    "updated_at",
    "submitted_at",
];

fn select() -> SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from("applications")
        .to_owned()
}

/// One application, whoever owns it (staff paths check scope themselves).
pub async fn by_id(db: &Db, id: i64) -> DbResult<Option<ApplicationRow>> {
    db.optional(&select().and_where(Expr::col("id").eq(id)).to_owned())
        .await
}

/// One application of this student; `None` for anybody else's.
pub async fn own(db: &Db, student_id: i64, id: i64) -> DbResult<Option<ApplicationRow>> {
    db.optional(
        &select()
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("student_id").eq(student_id))
            .to_owned(),
    )
    .await
}

/// The same inside a write transaction.
pub async fn own_in(tx: &mut Tx, student_id: i64, id: i64) -> DbResult<Option<ApplicationRow>> {
    tx.optional(
        &select()
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("student_id").eq(student_id))
            .to_owned(),
    )
    .await
}

/// The student's draft for a program, if one is open.
pub async fn draft_for_program(
    db: &Db,
    student_id: i64,
    program_id: i64,
) -> DbResult<Option<ApplicationRow>> {
    db.optional(
        &select()
            .and_where(Expr::col("student_id").eq(student_id))
            .and_where(Expr::col("program_id").eq(program_id))
            .and_where(Expr::col("status").is_in([Status::Draft.code(), Status::Returned.code()]))
            .to_owned(),
    )
    .await
}

/// A row of 我的申请.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct ListRow {
    pub id: i64,
    pub program_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
    pub program_year: i64,
    pub program_type: String,
    pub status: String,
    pub version: i64,
    pub is_late: bool,
    pub has_pending_score: bool,
    pub score_backfilled: bool,
    pub stage_decided: bool,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
}

impl ListRow {
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Draft)
    }
}

/// The student's applications, newest first.
pub async fn list_for_student(db: &Db, student_id: i64) -> DbResult<Vec<ListRow>> {
    db.all(
        &Query::select()
            .column(("a", "id"))
            .column(("a", "program_id"))
            .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
            .expr_as(Expr::col(("p", "name_en")), "program_name_en")
            .expr_as(Expr::col(("p", "year")), "program_year")
            .column(("p", "program_type"))
            .column(("a", "status"))
            .column(("a", "version"))
            .column(("a", "is_late"))
            .column(("a", "has_pending_score"))
            .column(("a", "score_backfilled"))
            .column(("a", "stage_decided"))
            .column(("a", "created_at"))
            .column(("a", "submitted_at"))
            .from_as("applications", "a")
            .join_as(
                JoinType::InnerJoin,
                "programs",
                "p",
                Expr::col(("p", "id")).equals(("a", "program_id")),
            )
            .and_where(Expr::col(("a", "student_id")).eq(student_id))
            .order_by(("a", "id"), Order::Desc)
            .to_owned(),
    )
    .await
}

/// The statuses that count toward the per-round limit: submitted and still active.
fn counted_statuses() -> Vec<&'static str> {
    Status::ALL
        .iter()
        .filter(|s| s.is_active() && **s != Status::Draft)
        .map(|s| s.code())
        .collect()
}

/// How many applications of the student count toward the per-round limit: submitted ones
/// that are still active, in the program year `round_year`.
pub async fn active_submitted_in_round(
    tx: &mut Tx,
    student_id: i64,
    round_year: i64,
) -> DbResult<i64> {
    tx.count(
        &Query::select()
            .expr(Expr::col("id").count())
            .from("applications")
            .and_where(Expr::col("student_id").eq(student_id))
            .and_where(Expr::col("round_year").eq(round_year))
            .and_where(Expr::col("status").is_in(counted_statuses()))
            .to_owned(),
    )
    .await
}

/// The same for every round at once: (round year, applications counted), for the catalogue.
pub async fn active_submitted_by_round(db: &Db, student_id: i64) -> DbResult<Vec<(i64, i64)>> {
    db.all(
        &Query::select()
            .column("round_year")
            .expr(Expr::col("id").count())
            .from("applications")
            .and_where(Expr::col("student_id").eq(student_id))
            .and_where(Expr::col("status").is_in(counted_statuses()))
            .group_by_col("round_year")
            .to_owned(),
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LanguageRow {
    pub id: i64,
    pub language: String,
    pub exam_type: String,
    pub score: String,
    pub exam_date: String,
    pub backfilled_at: Option<DateTime<Utc>>,
}

impl LanguageRow {
    pub fn form(&self) -> LanguageScoreForm {
        LanguageScoreForm {
            language: self.language.clone(),
            exam_type: self.exam_type.clone(),
            score: self.score.clone(),
            exam_date: self.exam_date.clone(),
        }
    }
}

pub async fn languages(db: &Db, application_id: i64) -> DbResult<Vec<LanguageRow>> {
    db.all(
        &Query::select()
            .columns([
                "id",
                "language",
                "exam_type",
                "score",
                "exam_date",
                "backfilled_at",
            ])
            .from("language_scores")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AttachmentRow {
    pub id: i64,
    pub application_id: i64,
    pub attachment_type_id: Option<i64>,
    pub supplement_request_id: Option<i64>,
    /// The after-admission request this file supports (the proof of a change).
    pub request_id: Option<i64>,
    #[serde(skip)]
    pub storage_key: String,
    pub original_name: String,
    pub format: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

const ATTACHMENT_COLUMNS: [&str; 11] = [
    "id",
    "application_id",
    "attachment_type_id",
    "supplement_request_id",
    "request_id",
    "storage_key",
    "original_name",
    "format",
    "size_bytes",
    "sha256",
    "created_at",
];

pub async fn attachments(db: &Db, application_id: i64) -> DbResult<Vec<AttachmentRow>> {
    db.all(
        &Query::select()
            .columns(ATTACHMENT_COLUMNS)
            .from("attachments")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

pub async fn attachment(db: &Db, application_id: i64, id: i64) -> DbResult<Option<AttachmentRow>> {
    db.optional(
        &Query::select()
            .columns(ATTACHMENT_COLUMNS)
            .from("attachments")
            .and_where(Expr::col("application_id").eq(application_id))
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryRow {
    pub id: i64,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub stage_name: String,
    pub actor_name: String,
    pub opinion: String,
    pub created_at: DateTime<Utc>,
}

/// Every step since creation, oldest first (进度跟踪).
pub async fn history(db: &Db, application_id: i64) -> DbResult<Vec<HistoryRow>> {
    db.all(
        &Query::select()
            .columns([
                "id",
                "action",
                "from_status",
                "to_status",
                "stage_name",
                "actor_name",
                "opinion",
                "created_at",
            ])
            .from("application_history")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct SupplementRow {
    pub id: i64,
    pub name: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub fulfilled_at: Option<DateTime<Utc>>,
}

/// The reviewers' requests for extra material (补交材料).
pub async fn supplements(db: &Db, application_id: i64) -> DbResult<Vec<SupplementRow>> {
    db.all(
        &Query::select()
            .columns(["id", "name", "note", "created_at", "fulfilled_at"])
            .from("supplement_requests")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name_zh: String,
    pub stages: String,
}

/// The newest version of a workflow template.
pub async fn latest_template(tx: &mut Tx, code: &str) -> DbResult<Option<TemplateRow>> {
    tx.optional(
        &Query::select()
            .columns(["id", "code", "version", "name_zh", "stages"])
            .from("workflow_templates")
            .and_where(Expr::col("code").eq(code))
            .order_by("version", Order::Desc)
            .limit(1)
            .to_owned(),
    )
    .await
}

pub async fn template(db: &Db, id: i64) -> DbResult<Option<TemplateRow>> {
    db.optional(
        &Query::select()
            .columns(["id", "code", "version", "name_zh", "stages"])
            .from("workflow_templates")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// The profile as it was at submission (JSON of the masked profile form); empty for a draft.
pub async fn profile_snapshot(db: &Db, id: i64) -> DbResult<String> {
    Ok(db
        .scalar::<String>(
            &Query::select()
                .column("profile_snapshot")
                .from("applications")
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )
        .await?
        .unwrap_or_default())
}
