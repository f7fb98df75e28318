//! After admission (SPEC §9): a program's settings for the journey after admission, the dates
//! of each exchange, the requests the office decides, check-ins abroad, self-arranged program
//! proposals, the reminders already sent, and the 在外学生 lists.

use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{Expr, ExprTrait, JoinType, OnConflict, Order, Query, SelectStatement};

use super::programs::{ATTACHMENT_TYPE_COLUMNS, AttachmentType};
use super::{Db, DbResult, Tx};
use crate::domain::after_admission::{CheckInRule, FundingOffer, RequestKind, RequestStatus};
use crate::domain::status::Phase;

// ---------------------------------------------------------------------------------------------
// Per-program settings

/// What a program sets for the journey after admission.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JourneySettingsRow {
    pub check_in_first_days: i64,
    pub check_in_interval_days: i64,
    pub budget_offer: String,
    pub funding_offer: String,
    pub min_summary_chars: i64,
    pub owner_student_id: Option<i64>,
}

impl JourneySettingsRow {
    /// The check-in rule.
    pub fn check_in_rule(&self) -> CheckInRule {
        stored_rule(self.check_in_first_days, self.check_in_interval_days)
    }

    /// The budget items offered (none when the stored JSON does not parse).
    pub fn budget(&self) -> FundingOffer {
        serde_json::from_str(&self.budget_offer).unwrap_or_default()
    }

    /// The subsidy items offered.
    pub fn funding(&self) -> FundingOffer {
        serde_json::from_str(&self.funding_offer).unwrap_or_default()
    }

    /// The shortest 交流总结.
    pub fn min_summary(&self) -> usize {
        usize::try_from(self.min_summary_chars).unwrap_or(0)
    }
}

/// A check-in rule as stored (a value outside the form's range reads as the default's).
fn stored_rule(first_days: i64, interval_days: i64) -> CheckInRule {
    let days = |v: i64, default: u32| u32::try_from(v).unwrap_or(default);
    let d = CheckInRule::default();
    CheckInRule {
        first_within_days: Ord::max(days(first_days, d.first_within_days), 1),
        interval_days: days(interval_days, d.interval_days),
    }
}

/// The settings of one program.
pub async fn settings(db: &Db, program_id: i64) -> DbResult<Option<JourneySettingsRow>> {
    db.optional(
        &Query::select()
            .columns([
                "check_in_first_days",
                "check_in_interval_days",
                "budget_offer",
                "funding_offer",
                "min_summary_chars",
                "owner_student_id",
            ])
            .from("programs")
            .and_where(Expr::col("id").eq(program_id))
            .to_owned(),
    )
    .await
}

/// The document types of a program for one part of the journey (行前材料 or 返校材料).
pub async fn document_types(
    db: &Db,
    program_id: i64,
    phase: Phase,
) -> DbResult<Vec<AttachmentType>> {
    db.all(
        &Query::select()
            .columns(ATTACHMENT_TYPE_COLUMNS)
            .from("attachment_types")
            .and_where(Expr::col("program_id").eq(program_id))
            .and_where(Expr::col("phase").eq(phase.code()))
            .order_by("sort_order", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// A document type of a program, whatever its phase.
pub async fn any_type(db: &Db, program_id: i64, type_id: i64) -> DbResult<Option<AttachmentType>> {
    db.optional(
        &Query::select()
            .columns(ATTACHMENT_TYPE_COLUMNS)
            .from("attachment_types")
            .and_where(Expr::col("program_id").eq(program_id))
            .and_where(Expr::col("id").eq(type_id))
            .to_owned(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The exchange's dates

/// The dates of one admitted student's exchange.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlanRow {
    pub application_id: i64,
    pub plan_start: String,
    pub plan_end: String,
    pub departed_on: Option<String>,
    pub destination_city: String,
    pub returned_on: Option<String>,
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl PlanRow {
    pub fn start(&self) -> Option<NaiveDate> {
        date(&self.plan_start)
    }

    pub fn end(&self) -> Option<NaiveDate> {
        date(&self.plan_end)
    }

    pub fn departed(&self) -> Option<NaiveDate> {
        self.departed_on.as_deref().and_then(date)
    }

    pub fn returned(&self) -> Option<NaiveDate> {
        self.returned_on.as_deref().and_then(date)
    }
}

const PLAN_COLUMNS: [&str; 6] = [
    "application_id",
    "plan_start",
    "plan_end",
    "departed_on",
    "destination_city",
    "returned_on",
];

/// The plan of an application, if one was made.
pub async fn plan(db: &Db, application_id: i64) -> DbResult<Option<PlanRow>> {
    db.optional(
        &Query::select()
            .columns(PLAN_COLUMNS)
            .from("exchange_plans")
            .and_where(Expr::col("application_id").eq(application_id))
            .to_owned(),
    )
    .await
}

/// The same inside a write transaction.
pub async fn plan_in(tx: &mut Tx, application_id: i64) -> DbResult<Option<PlanRow>> {
    tx.optional(
        &Query::select()
            .columns(PLAN_COLUMNS)
            .from("exchange_plans")
            .and_where(Expr::col("application_id").eq(application_id))
            .to_owned(),
    )
    .await
}

/// Writes the whole plan of an application (made on first need, replaced afterwards).
pub async fn save_plan(tx: &mut Tx, plan: &PlanRow) -> DbResult<()> {
    tx.insert(
        Query::insert()
            .into_table("exchange_plans")
            .columns([
                "application_id",
                "plan_start",
                "plan_end",
                "departed_on",
                "destination_city",
                "returned_on",
                "updated_at",
            ])
            .values_panic([
                plan.application_id.into(),
                plan.plan_start.clone().into(),
                plan.plan_end.clone().into(),
                plan.departed_on.clone().into(),
                plan.destination_city.clone().into(),
                plan.returned_on.clone().into(),
                Utc::now().into(),
            ])
            .on_conflict(
                OnConflict::column("application_id")
                    .update_columns([
                        "plan_start",
                        "plan_end",
                        "departed_on",
                        "destination_city",
                        "returned_on",
                        "updated_at",
                    ])
                    .to_owned(),
            ),
    )
    .await?;
    Ok(())
}

/// Keeps the 交流总结 filed with the return (the plan exists by then).
pub async fn save_summary(tx: &mut Tx, application_id: i64, summary: &str) -> DbResult<()> {
    tx.update(
        Query::update()
            .table("exchange_plans")
            .value("summary", summary)
            .and_where(Expr::col("application_id").eq(application_id)),
    )
    .await?;
    Ok(())
}

/// The 交流总结 of an application ('' before the return is filed).
pub async fn summary(db: &Db, application_id: i64) -> DbResult<String> {
    Ok(db
        .scalar::<String>(
            &Query::select()
                .column("summary")
                .from("exchange_plans")
                .and_where(Expr::col("application_id").eq(application_id))
                .to_owned(),
        )
        .await?
        .unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Requests

/// One request as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub application_id: i64,
    pub kind: String,
    pub status: String,
    pub version: i64,
    pub payload: String,
    pub sealed: String,
    pub approval: String,
    pub opinion: String,
    pub filed_by: i64,
    pub filed_at: DateTime<Utc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl RequestRow {
    /// The kind (`None` for a code this build does not know).
    pub fn kind(&self) -> Option<RequestKind> {
        RequestKind::from_code(&self.kind)
    }

    /// The status (an unknown code reads as refused, which allows least).
    pub fn status(&self) -> RequestStatus {
        RequestStatus::from_code(&self.status).unwrap_or(RequestStatus::Rejected)
    }
}

const REQUEST_COLUMNS: [&str; 13] = [
    "id",
    "application_id",
    "kind",
    "status",
    "version",
    "payload",
    "sealed",
    "approval",
    "opinion",
    "filed_by",
    "filed_at",
    "decided_by",
    "decided_at",
];

fn select_requests() -> SelectStatement {
    Query::select()
        .columns(REQUEST_COLUMNS.map(|c| (sea_query::Alias::new("r"), sea_query::Alias::new(c))))
        .from_as("application_requests", "r")
        .to_owned()
}

/// Every request of an application, oldest first.
pub async fn requests(db: &Db, application_id: i64) -> DbResult<Vec<RequestRow>> {
    db.all(
        &select_requests()
            .and_where(Expr::col(("r", "application_id")).eq(application_id))
            .order_by(("r", "id"), Order::Asc)
            .to_owned(),
    )
    .await
}

/// The same inside a write transaction.
pub async fn requests_in(tx: &mut Tx, application_id: i64) -> DbResult<Vec<RequestRow>> {
    tx.all(
        &select_requests()
            .and_where(Expr::col(("r", "application_id")).eq(application_id))
            .order_by(("r", "id"), Order::Asc)
            .to_owned(),
    )
    .await
}

/// One request of an application.
pub async fn request(db: &Db, application_id: i64, id: i64) -> DbResult<Option<RequestRow>> {
    db.optional(
        &select_requests()
            .and_where(Expr::col(("r", "application_id")).eq(application_id))
            .and_where(Expr::col(("r", "id")).eq(id))
            .to_owned(),
    )
    .await
}

/// What a new request holds.
pub struct NewRequest<'a> {
    pub application_id: i64,
    pub kind: RequestKind,
    pub payload: &'a str,
    pub sealed: &'a str,
    pub filed_by: i64,
}

/// Files a request (待审核); returns its id.
pub async fn insert_request(tx: &mut Tx, r: &NewRequest<'_>) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("application_requests")
            .columns([
                "application_id",
                "kind",
                "status",
                "version",
                "payload",
                "sealed",
                "filed_by",
                "filed_at",
            ])
            .values_panic([
                r.application_id.into(),
                r.kind.code().into(),
                RequestStatus::Pending.code().into(),
                1.into(),
                r.payload.into(),
                r.sealed.into(),
                r.filed_by.into(),
                Utc::now().into(),
            ]),
    )
    .await
}

/// Files a returned request again with new contents, guarded on the version the student saw;
/// 0 rows = someone moved it first.
pub async fn refile_request(
    tx: &mut Tx,
    id: i64,
    seen_version: i64,
    payload: &str,
    sealed: &str,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("application_requests")
            .value("status", RequestStatus::Pending.code())
            .value("payload", payload)
            .value("sealed", sealed)
            .value("filed_at", Utc::now())
            .value("version", Expr::col("version").add(1))
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("version").eq(seen_version))
            .and_where(Expr::col("status").eq(RequestStatus::Returned.code())),
    )
    .await
}

/// Records the office's decision, guarded on the version and the status the office saw;
/// 0 rows = someone decided first.
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn decide_request(
    tx: &mut Tx,
    id: i64,
    seen_version: i64,
    from: RequestStatus,
    to: RequestStatus,
    approval: &str,
    opinion: &str,
    decided_by: i64,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("application_requests")
            .value("status", to.code())
            .value("approval", approval)
            .value("opinion", opinion)
            .value("decided_by", decided_by)
            .value("decided_at", Utc::now())
            .value("version", Expr::col("version").add(1))
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("version").eq(seen_version))
            .and_where(Expr::col("status").eq(from.code())),
    )
    .await
}

/// A request waiting for the office, with who filed it and for what.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenRequestRow {
    pub id: i64,
    pub application_id: i64,
    pub kind: String,
    pub version: i64,
    pub filed_at: DateTime<Utc>,
    pub student_no: String,
    pub student_name: String,
    pub college_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
}

/// The requests waiting for the office (待审核), oldest first; `colleges` limits them to
/// students of those colleges (`None`: every college).
pub async fn pending_requests(db: &Db, colleges: Option<&[i64]>) -> DbResult<Vec<OpenRequestRow>> {
    let mut q = Query::select()
        .columns([
            ("r", "id"),
            ("r", "application_id"),
            ("r", "kind"),
            ("r", "version"),
            ("r", "filed_at"),
        ])
        .expr_as(Expr::col(("s", "student_no")), "student_no")
        .expr_as(Expr::col(("s", "name_zh")), "student_name")
        .expr_as(Expr::col(("s", "college_id")), "college_id")
        .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
        .expr_as(Expr::col(("p", "name_en")), "program_name_en")
        .from_as("application_requests", "r")
        .join_as(
            JoinType::InnerJoin,
            "applications",
            "a",
            Expr::col(("a", "id")).equals(("r", "application_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "programs",
            "p",
            Expr::col(("p", "id")).equals(("a", "program_id")),
        )
        .and_where(Expr::col(("r", "status")).eq(RequestStatus::Pending.code()))
        .order_by(("r", "filed_at"), Order::Asc)
        .order_by(("r", "id"), Order::Asc)
        .to_owned();
    if let Some(colleges) = colleges {
        q.and_where(Expr::col(("s", "college_id")).is_in(colleges.iter().copied()));
    }
    db.all(&q).await
}

// ---------------------------------------------------------------------------------------------
// Check-ins

/// One check-in as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CheckInRow {
    pub id: i64,
    pub application_id: i64,
    pub kind: String,
    pub checked_on: String,
    pub due_on: String,
    pub arrival_date: Option<String>,
    pub address: String,
    pub local_phone: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl CheckInRow {
    /// The day it was made.
    pub fn day(&self) -> Option<NaiveDate> {
        date(&self.checked_on)
    }

    /// It came after the day it was due.
    pub fn is_late(&self) -> bool {
        self.checked_on > self.due_on
    }
}

const CHECK_IN_COLUMNS: [&str; 10] = [
    "id",
    "application_id",
    "kind",
    "checked_on",
    "due_on",
    "arrival_date",
    "address",
    "local_phone",
    "note",
    "created_at",
];

/// An application's check-ins, oldest first.
pub async fn check_ins(db: &Db, application_id: i64) -> DbResult<Vec<CheckInRow>> {
    db.all(
        &Query::select()
            .columns(CHECK_IN_COLUMNS)
            .from("check_ins")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// The same inside a write transaction.
pub async fn check_ins_in(tx: &mut Tx, application_id: i64) -> DbResult<Vec<CheckInRow>> {
    tx.all(
        &Query::select()
            .columns(CHECK_IN_COLUMNS)
            .from("check_ins")
            .and_where(Expr::col("application_id").eq(application_id))
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// What a new check-in holds.
pub struct NewCheckIn<'a> {
    pub application_id: i64,
    pub kind: &'a str,
    pub checked_on: NaiveDate,
    pub due_on: NaiveDate,
    pub arrival_date: Option<NaiveDate>,
    pub address: &'a str,
    pub local_phone: &'a str,
    pub note: &'a str,
}

/// Records a check-in; returns its id.
pub async fn insert_check_in(tx: &mut Tx, c: &NewCheckIn<'_>) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("check_ins")
            .columns([
                "application_id",
                "kind",
                "checked_on",
                "due_on",
                "arrival_date",
                "address",
                "local_phone",
                "note",
                "created_at",
            ])
            .values_panic([
                c.application_id.into(),
                c.kind.into(),
                c.checked_on.to_string().into(),
                c.due_on.to_string().into(),
                c.arrival_date.map(|d| d.to_string()).into(),
                c.address.into(),
                c.local_phone.into(),
                c.note.into(),
                Utc::now().into(),
            ]),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// 自联项目

/// A self-arranged program proposal as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProposalRow {
    pub id: i64,
    pub student_id: i64,
    pub status: String,
    pub version: i64,
    pub payload: String,
    pub proof_key: String,
    pub proof_name: String,
    pub proof_format: String,
    pub proof_size: i64,
    pub program_id: Option<i64>,
    pub opinion: String,
    pub filed_at: DateTime<Utc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl ProposalRow {
    pub fn status(&self) -> RequestStatus {
        RequestStatus::from_code(&self.status).unwrap_or(RequestStatus::Rejected)
    }
}

const PROPOSAL_COLUMNS: [&str; 14] = [
    "id",
    "student_id",
    "status",
    "version",
    "payload",
    "proof_key",
    "proof_name",
    "proof_format",
    "proof_size",
    "program_id",
    "opinion",
    "filed_at",
    "decided_by",
    "decided_at",
];

fn select_proposals() -> SelectStatement {
    Query::select()
        .columns(PROPOSAL_COLUMNS)
        .from("self_arranged_proposals")
        .to_owned()
}

/// A student's proposals, newest first.
pub async fn proposals_of(db: &Db, student_id: i64) -> DbResult<Vec<ProposalRow>> {
    db.all(
        &select_proposals()
            .and_where(Expr::col("student_id").eq(student_id))
            .order_by("id", Order::Desc)
            .to_owned(),
    )
    .await
}

/// One proposal, whoever made it (staff paths check scope themselves).
pub async fn proposal(db: &Db, id: i64) -> DbResult<Option<ProposalRow>> {
    db.optional(
        &select_proposals()
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// Every proposal in a status, oldest first.
pub async fn proposals_in_status(db: &Db, status: RequestStatus) -> DbResult<Vec<ProposalRow>> {
    db.all(
        &select_proposals()
            .and_where(Expr::col("status").eq(status.code()))
            .order_by("filed_at", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned(),
    )
    .await
}

/// What a new proposal holds (the proof file is stored first).
pub struct NewProposal<'a> {
    pub student_id: i64,
    pub payload: &'a str,
    pub proof_key: &'a str,
    pub proof_name: &'a str,
    pub proof_format: &'a str,
    pub proof_size: i64,
}

/// Files a proposal (待审核); returns its id.
pub async fn insert_proposal(tx: &mut Tx, p: &NewProposal<'_>) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("self_arranged_proposals")
            .columns([
                "student_id",
                "status",
                "version",
                "payload",
                "proof_key",
                "proof_name",
                "proof_format",
                "proof_size",
                "filed_at",
            ])
            .values_panic([
                p.student_id.into(),
                RequestStatus::Pending.code().into(),
                1.into(),
                p.payload.into(),
                p.proof_key.into(),
                p.proof_name.into(),
                p.proof_format.into(),
                p.proof_size.into(),
                Utc::now().into(),
            ]),
    )
    .await
}

/// Records the office's decision on a proposal, guarded on the version it saw.
pub async fn decide_proposal(
    tx: &mut Tx,
    id: i64,
    seen_version: i64,
    to: RequestStatus,
    program_id: Option<i64>,
    opinion: &str,
    decided_by: i64,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("self_arranged_proposals")
            .value("status", to.code())
            .value("program_id", program_id)
            .value("opinion", opinion)
            .value("decided_by", decided_by)
            .value("decided_at", Utc::now())
            .value("version", Expr::col("version").add(1))
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("version").eq(seen_version))
            .and_where(Expr::col("status").eq(RequestStatus::Pending.code())),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Reminders

/// Records that the reminder `key` went to `user_id`; false when it had been sent before (the
/// caller then sends nothing).
pub async fn mark_reminder_sent(tx: &mut Tx, key: &str, user_id: i64) -> DbResult<bool> {
    let inserted = tx
        .insert(
            Query::insert()
                .into_table("reminders_sent")
                .columns(["reminder_key", "user_id", "sent_at"])
                .values_panic([key.into(), user_id.into(), Utc::now().into()])
                .on_conflict(OnConflict::column("reminder_key").do_nothing().to_owned()),
        )
        .await?;
    Ok(inserted > 0)
}

/// How many reminders were ever sent (tests and the operations page).
pub async fn reminders_sent_count(db: &Db) -> DbResult<i64> {
    db.count(
        &Query::select()
            .expr(Expr::col("reminder_key").count())
            .from("reminders_sent")
            .to_owned(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// 在外学生: admitted students from admission to return

/// One admitted student's exchange, for the 在外学生 lists and the reminder job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JourneyRow {
    pub application_id: i64,
    pub student_id: i64,
    pub status: String,
    pub student_no: String,
    pub student_name: String,
    pub college_id: i64,
    pub program_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
    pub region_kind: String,
    pub country: String,
    pub program_start: String,
    pub program_end: String,
    pub plan_start: Option<String>,
    pub plan_end: Option<String>,
    pub departed_on: Option<String>,
    pub destination_city: Option<String>,
    pub returned_on: Option<String>,
    pub check_in_first_days: i64,
    pub check_in_interval_days: i64,
    pub check_in_count: i64,
    pub last_check_in: Option<String>,
}

impl JourneyRow {
    /// The planned start: the plan's, else the program's.
    pub fn start(&self) -> Option<NaiveDate> {
        self.plan_start
            .as_deref()
            .and_then(date)
            .or_else(|| date(&self.program_start))
    }

    /// The planned end: the plan's, else the program's.
    pub fn end(&self) -> Option<NaiveDate> {
        self.plan_end
            .as_deref()
            .and_then(date)
            .or_else(|| date(&self.program_end))
    }

    pub fn departed(&self) -> Option<NaiveDate> {
        self.departed_on.as_deref().and_then(date)
    }

    pub fn last_check_in(&self) -> Option<NaiveDate> {
        self.last_check_in.as_deref().and_then(date)
    }

    pub fn check_in_rule(&self) -> CheckInRule {
        stored_rule(self.check_in_first_days, self.check_in_interval_days)
    }
}

/// Every application in one of `statuses`, with its student, program, plan and check-ins;
/// `colleges` limits it to students of those colleges (`None`: every college).
pub async fn journeys(
    db: &Db,
    statuses: &[&str],
    colleges: Option<&[i64]>,
) -> DbResult<Vec<JourneyRow>> {
    let last = Query::select()
        .expr(Expr::col(("c", "checked_on")).max())
        .from_as("check_ins", "c")
        .and_where(Expr::col(("c", "application_id")).equals(("a", "id")))
        .to_owned();
    let count = Query::select()
        .expr(Expr::col(("c", "id")).count())
        .from_as("check_ins", "c")
        .and_where(Expr::col(("c", "application_id")).equals(("a", "id")))
        .to_owned();
    let mut q = Query::select()
        .expr_as(Expr::col(("a", "id")), "application_id")
        .expr_as(Expr::col(("a", "student_id")), "student_id")
        .expr_as(Expr::col(("a", "status")), "status")
        .expr_as(Expr::col(("s", "student_no")), "student_no")
        .expr_as(Expr::col(("s", "name_zh")), "student_name")
        .expr_as(Expr::col(("s", "college_id")), "college_id")
        .expr_as(Expr::col(("p", "id")), "program_id")
        .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
        .expr_as(Expr::col(("p", "name_en")), "program_name_en")
        .expr_as(Expr::col(("p", "region_kind")), "region_kind")
        .expr_as(Expr::col(("p", "country")), "country")
        .expr_as(Expr::col(("p", "start_date")), "program_start")
        .expr_as(Expr::col(("p", "end_date")), "program_end")
        .expr_as(Expr::col(("x", "plan_start")), "plan_start")
        .expr_as(Expr::col(("x", "plan_end")), "plan_end")
        .expr_as(Expr::col(("x", "departed_on")), "departed_on")
        .expr_as(Expr::col(("x", "destination_city")), "destination_city")
        .expr_as(Expr::col(("x", "returned_on")), "returned_on")
        .expr_as(
            Expr::col(("p", "check_in_first_days")),
            "check_in_first_days",
        )
        .expr_as(
            Expr::col(("p", "check_in_interval_days")),
            "check_in_interval_days",
        )
        .expr_as(count, "check_in_count")
        .expr_as(last, "last_check_in")
        .from_as("applications", "a")
        .join_as(
            JoinType::InnerJoin,
            "students",
            "s",
            Expr::col(("s", "user_id")).equals(("a", "student_id")),
        )
        .join_as(
            JoinType::InnerJoin,
            "programs",
            "p",
            Expr::col(("p", "id")).equals(("a", "program_id")),
        )
        .join_as(
            JoinType::LeftJoin,
            "exchange_plans",
            "x",
            Expr::col(("x", "application_id")).equals(("a", "id")),
        )
        .and_where(Expr::col(("a", "status")).is_in(statuses.iter().copied()))
        .order_by(("a", "id"), Order::Asc)
        .to_owned();
    if let Some(colleges) = colleges {
        q.and_where(Expr::col(("s", "college_id")).is_in(colleges.iter().copied()));
    }
    db.all(&q).await
}

/// A draft whose program's registration closes before `until` (and has not closed yet).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClosingDraftRow {
    pub application_id: i64,
    pub student_id: i64,
    pub program_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
    pub reg_end: DateTime<Utc>,
}

/// The drafts whose registration closes between `now` and `until`.
pub async fn closing_drafts(
    db: &Db,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> DbResult<Vec<ClosingDraftRow>> {
    db.all(
        &Query::select()
            .expr_as(Expr::col(("a", "id")), "application_id")
            .expr_as(Expr::col(("a", "student_id")), "student_id")
            .expr_as(Expr::col(("p", "id")), "program_id")
            .expr_as(Expr::col(("p", "name_zh")), "program_name_zh")
            .expr_as(Expr::col(("p", "name_en")), "program_name_en")
            .expr_as(Expr::col(("p", "reg_end")), "reg_end")
            .from_as("applications", "a")
            .join_as(
                JoinType::InnerJoin,
                "programs",
                "p",
                Expr::col(("p", "id")).equals(("a", "program_id")),
            )
            .and_where(Expr::col(("a", "status")).eq(crate::domain::Status::Draft.code()))
            .and_where(Expr::col(("p", "reg_end")).gte(now))
            .and_where(Expr::col(("p", "reg_end")).lt(until))
            .order_by(("a", "id"), Order::Asc)
            .to_owned(),
    )
    .await
}
