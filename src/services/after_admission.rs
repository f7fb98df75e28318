//! After admission (SPEC §9): everything an admitted student files until the return, and the
//! office's decisions on it. The only writer of exchange plans, requests and check-ins.
//!
//! - 行前材料 and 返校材料 are attachments of the program's document types of that phase; filed
//!   with [`submit_pre_departure`] and [`submit_return`], they go through the workflow's 行前 and
//!   返校 stages like the application itself (the review workbench decides them).
//! - 派出确认, 派出前变更, 经费预算申请, 变更交流计划 and 资助申请 are requests ([`file_request`]),
//!   decided by the office with [`decide_request`]; only an approved one changes the application.
//! - 境外打卡 ([`check_in`]) is recorded with the day it was due.
//!
//! Each write checks the state machine for this person and this application first, is guarded
//! on the version the person saw, keeps a history row and tells whoever acts next.

use chrono::NaiveDate;
use sea_query::{Expr, ExprTrait, Query};

use super::applications::{STALE, history, transition};
use super::audit::{self, Who};
use super::messages::{Note, Notifier};
use super::review::Reviewer;
use super::{ServiceError, ServiceResult};
use crate::crypto::DataKey;
use crate::db::after_admission::{self as db, JourneySettingsRow, PlanRow, RequestRow};
use crate::db::applications::{self as apps, ApplicationRow};
use crate::db::{Db, Tx, dicts, programs};
use crate::domain::FieldErrors;
use crate::domain::after_admission::{
    ApprovedLine, Budget, CheckIn, CheckInForm, Departure, DepartureForm, Funding, MoneyLine,
    NextStep, PlanChange, PlanChangeForm, PreDepartureChange, PreDepartureChangeForm, Progress,
    ReminderKind, RequestDecision, RequestKind, RequestStatus, ReturnFiling, ReturnForm,
    parse_approval,
};
use crate::domain::files::{FileFormat, check_upload, clean_file_name};
use crate::domain::status::{Action, Actor, Facts, Phase, RequestFacts, Role, Status};
use crate::domain::values::DateRange;
use crate::i18n::Text;
use crate::storage::Storage;

/// The largest supporting file of a request.
pub const PROOF_MAX: u64 = 20 * 1024 * 1024;

/// A file sent with a form.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Whether the student may still add or remove the documents of `phase` in `status`:
/// 行前材料 from admission until they are filed (and again after 退回修改), 返校材料 while abroad.
pub fn documents_open(phase: Phase, status: Status) -> bool {
    match phase {
        Phase::Application => status.is_editable_by_student(),
        Phase::PreDeparture => matches!(
            status,
            Status::AdmittedFirstChoice | Status::AdmittedSecondChoice
        ),
        Phase::Return => status == Status::Abroad,
    }
}

/// What the status machine needs to know of the requests, from the stored ones and the
/// program's offers.
pub fn request_facts(
    requests: &[RequestRow],
    settings: Option<&JourneySettingsRow>,
) -> RequestFacts {
    let mut facts = RequestFacts {
        budget_offered: settings.is_some_and(|s| s.budget().is_offered()),
        funding_offered: settings.is_some_and(|s| s.funding().is_offered()),
        ..RequestFacts::default()
    };
    for r in requests {
        let Some(kind) = r.kind() else { continue };
        match r.status() {
            RequestStatus::Pending | RequestStatus::Returned => {
                facts.open.push(kind);
                if kind == RequestKind::ChangeBeforeDeparture
                    && serde_json::from_str::<PreDepartureChange>(&r.payload)
                        .is_ok_and(|c| matches!(c, PreDepartureChange::Cancel { .. }))
                {
                    facts.open_change_is_cancel = true;
                }
            }
            RequestStatus::Approved => facts.approved.push(kind),
            RequestStatus::Rejected => {}
        }
    }
    facts
}

/// Everything the rules need about one application: the read side's one set of facts.
async fn facts(db: &Db, app: &ApplicationRow) -> ServiceResult<Facts> {
    let workflow = super::application_view::workflow_of(db, app).await?;
    super::application_view::facts(db, app, workflow.as_ref()).await
}

/// The student's own application, or NotFound.
async fn own(db: &Db, student_id: i64, app_id: i64) -> ServiceResult<ApplicationRow> {
    apps::own(db, student_id, app_id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Refuses unless `action` is open to the owner now.
fn allowed(app: &ApplicationRow, action: Action, facts: &Facts) -> ServiceResult<Status> {
    app.status()
        .apply(action, &Actor::student(true), facts)
        .map_err(|e| ServiceError::Refused(e.code()))
}

/// The planned dates: the plan's, else the program's, else (a program without dates) a
/// generous window around today so that the forms can still be checked.
async fn plan_of(db: &Db, app: &ApplicationRow, today: NaiveDate) -> ServiceResult<PlanRow> {
    if let Some(plan) = db::plan(db, app.id).await? {
        return Ok(plan);
    }
    let program = programs::by_id(db, app.program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let fallback = |s: &str, days: i64| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .unwrap_or(today + chrono::Duration::days(days))
            .to_string()
    };
    Ok(PlanRow {
        application_id: app.id,
        plan_start: fallback(&program.start_date, 0),
        plan_end: fallback(&program.end_date, 365),
        departed_on: None,
        destination_city: String::new(),
        returned_on: None,
    })
}

fn range(plan: &PlanRow) -> ServiceResult<DateRange> {
    match (plan.start(), plan.end()) {
        (Some(from), Some(to)) => DateRange::new(from, Ord::max(to, from))
            .map_err(|_| ServiceError::Refused("err.journey.no_plan")),
        _ => Err(ServiceError::Refused("err.journey.no_plan")),
    }
}

/// The program's name for messages, in both languages.
async fn program_name(db: &Db, program_id: i64) -> ServiceResult<Text> {
    Ok(programs::by_id(db, program_id)
        .await?
        .map(|p| Text::names(&p.name_zh, &p.name_en))
        .unwrap_or_default())
}

/// Tells every holder of `role` (the office, by default) that something waits for them.
async fn tell_staff(
    tx: &mut Tx,
    role: Role,
    title: &Text,
    body: &Text,
    link: &str,
) -> ServiceResult<()> {
    let users: Vec<(i64,)> = tx
        .all(
            &Query::select()
                .column(("r", "user_id"))
                .from_as("user_roles", "r")
                .inner_join("users", Expr::col(("users", "id")).equals(("r", "user_id")))
                .and_where(Expr::col(("r", "role")).eq(role.code()))
                .and_where(Expr::col(("users", "active")).eq(true))
                .to_owned(),
        )
        .await?;
    for (user_id,) in users {
        Notifier::send(
            tx,
            &Note {
                user_id,
                title: title.clone(),
                body: body.clone(),
                link: link.to_owned(),
            },
        )
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 行前材料 and 返校材料

/// Files the pre-departure materials: every required 行前材料 must be there; the application
/// then waits on the first 行前 stage of its workflow (行前审核中).
pub async fn submit_pre_departure(
    db: &Db,
    who: &Who,
    student_id: i64,
    app_id: i64,
    seen_version: i64,
) -> ServiceResult<Status> {
    let app = own(db, student_id, app_id).await?;
    let facts = facts(db, &app).await?;
    allowed(&app, Action::SubmitPreDeparture, &facts)?;
    let start = PhaseStart::prepare(db, &app, Phase::PreDeparture).await?;
    let mut tx = db.begin().await?;
    let to = start
        .enter(
            &mut tx,
            &app,
            seen_version,
            Action::SubmitPreDeparture,
            &facts,
            who,
        )
        .await?;
    tx.commit().await?;
    Ok(to)
}

/// The first review stage of a phase, checked before anything is written: every required
/// document of the phase is there and the workflow has a stage for it.
struct PhaseStart {
    phase: Phase,
    index: i64,
    stage: String,
    stage_names: Text,
    role: Role,
    program: Text,
}

impl PhaseStart {
    async fn prepare(db: &Db, app: &ApplicationRow, phase: Phase) -> ServiceResult<PhaseStart> {
        let missing = missing_documents(db, app, phase).await?;
        if !missing.is_empty() {
            let mut e = FieldErrors::new();
            for type_id in missing {
                e.add(
                    format!("attachment_{type_id}"),
                    "err.journey.document_missing",
                );
            }
            return Err(ServiceError::Invalid(e));
        }
        let workflow = super::application_view::workflow_of(db, app)
            .await?
            .ok_or(ServiceError::Refused("err.journey.no_stage"))?;
        let index = workflow
            .first_of(phase)
            .ok_or(ServiceError::Refused("err.journey.no_stage"))?;
        let stage = workflow
            .stage(index)
            .ok_or(ServiceError::Refused("err.journey.no_stage"))?;
        Ok(PhaseStart {
            phase,
            index,
            stage: stage.name_zh.clone(),
            stage_names: Text::names(&stage.name_zh, &stage.name_en),
            role: stage.role,
            program: program_name(db, app.program_id).await?,
        })
    }

    /// Moves the application into the stage (guarded on the version the student saw) and tells
    /// the stage's reviewers.
    async fn enter(
        &self,
        tx: &mut Tx,
        app: &ApplicationRow,
        seen_version: i64,
        action: Action,
        facts: &Facts,
        who: &Who,
    ) -> ServiceResult<Status> {
        let to = transition(
            tx,
            app,
            seen_version,
            action,
            &Actor::student(true),
            facts,
            who,
            &self.stage,
            "",
            |q| {
                q.value("stage_index", self.index)
                    .value("stage_decided", false);
            },
        )
        .await?;
        let what = Text::key(match self.phase {
            Phase::Return => "journey.what.return",
            _ => "journey.what.pre_departure",
        });
        tell_staff(
            tx,
            self.role,
            &Text::fill("journey.msg.filed.title", &[&what]),
            &Text::fill(
                "journey.msg.filed.body",
                &[&self.program, &what, &self.stage_names],
            ),
            &format!("/staff/applications/{}", app.id),
        )
        .await?;
        Ok(to)
    }
}

/// The required document types of `phase` that have no file yet.
async fn missing_documents(db: &Db, app: &ApplicationRow, phase: Phase) -> ServiceResult<Vec<i64>> {
    let types = db::document_types(db, app.program_id, phase).await?;
    let files = apps::attachments(db, app.id).await?;
    Ok(types
        .iter()
        .filter(|t| t.required)
        .filter(|t| !files.iter().any(|f| f.attachment_type_id == Some(t.id)))
        .map(|t| t.id)
        .collect())
}

/// Files the return formalities (返校手续 / 填写交流总结): the return date and the summary, with
/// every required 返校材料; the application then waits on the first 返校 stage.
pub async fn submit_return(
    db: &Db,
    who: &Who,
    student_id: i64,
    app_id: i64,
    seen_version: i64,
    form: &ReturnForm,
    today: NaiveDate,
) -> ServiceResult<Status> {
    let app = own(db, student_id, app_id).await?;
    let facts = facts(db, &app).await?;
    allowed(&app, Action::SubmitReturn, &facts)?;
    let mut plan = plan_of(db, &app, today).await?;
    let departed = plan.departed().unwrap_or(range(&plan)?.from);
    let settings = db::settings(db, app.program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let filing = ReturnFiling::parse(form, departed, today, settings.min_summary())
        .map_err(ServiceError::Invalid)?;
    let start = PhaseStart::prepare(db, &app, Phase::Return).await?;
    plan.returned_on = Some(filing.return_date.to_string());
    // The plan and the summary are written in the transaction that moves the status: a filing
    // that fails leaves neither.
    let mut tx = db.begin().await?;
    let to = start
        .enter(
            &mut tx,
            &app,
            seen_version,
            Action::SubmitReturn,
            &facts,
            who,
        )
        .await?;
    db::save_plan(&mut tx, &plan).await?;
    db::save_summary(&mut tx, app.id, &filing.summary).await?;
    tx.commit().await?;
    Ok(to)
}

// ---------------------------------------------------------------------------------------------
// Requests

/// The action that files a request of `kind`.
pub const fn filing_action(kind: RequestKind) -> Action {
    match kind {
        RequestKind::Departure => Action::ConfirmDeparture,
        RequestKind::ChangeBeforeDeparture => Action::RequestPreDepartureChange,
        RequestKind::Budget => Action::ApplyBudget,
        RequestKind::PlanChange => Action::ChangePlan,
        RequestKind::Funding => Action::ApplyFunding,
    }
}

fn form<T: serde::de::DeserializeOwned + Default>(fields: &[(String, String)]) -> T {
    serde_urlencoded::from_str(&serde_urlencoded::to_string(fields).unwrap_or_default())
        .unwrap_or_default()
}

/// The parsed form of a request: the JSON kept in the row (without personal data) and the
/// sealed personal data.
async fn parse_request(
    db: &Db,
    key: &DataKey,
    app: &ApplicationRow,
    kind: RequestKind,
    fields: &[(String, String)],
    today: NaiveDate,
) -> ServiceResult<(String, String)> {
    let plan = plan_of(db, app, today).await?;
    let settings = db::settings(db, app.program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let out = match kind {
        RequestKind::Departure => {
            let d = Departure::parse(&form::<DepartureForm>(fields), range(&plan)?)
                .map_err(ServiceError::Invalid)?;
            (json(&d), String::new())
        }
        RequestKind::ChangeBeforeDeparture => {
            let c =
                PreDepartureChange::parse(&form::<PreDepartureChangeForm>(fields), range(&plan)?)
                    .map_err(ServiceError::Invalid)?;
            (json(&c), String::new())
        }
        RequestKind::Budget => {
            let sources: Vec<String> = dicts::items(db, "funding_source")
                .await?
                .into_iter()
                .map(|i| i.code)
                .collect();
            let b = Budget::parse(fields, &settings.budget(), &sources)
                .map_err(ServiceError::Invalid)?;
            (json(&b), String::new())
        }
        RequestKind::PlanChange => {
            let departed = plan.departed().unwrap_or(range(&plan)?.from);
            let c = PlanChange::parse(&form::<PlanChangeForm>(fields), range(&plan)?, departed)
                .map_err(ServiceError::Invalid)?;
            (json(&c), String::new())
        }
        RequestKind::Funding => {
            let f = Funding::parse(fields, &settings.funding()).map_err(ServiceError::Invalid)?;
            let public = FundingPublic {
                lines: f.lines.clone(),
                bank_name: f.bank_name.clone(),
                account_holder: f.account_holder.clone(),
                account_masked: f.bank_account.masked(),
            };
            (json(&public), key.seal(f.bank_account.as_str()))
        }
    };
    Ok(out)
}

/// A subsidy request as kept in the row: the account number only masked (the full number is
/// sealed apart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FundingPublic {
    pub lines: Vec<MoneyLine>,
    pub bank_name: String,
    pub account_holder: String,
    pub account_masked: String,
}

/// JSON of a parsed form value (`serde_json` cannot fail on these plain types).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Files a request of `kind` for the student's own application, or files a returned one
/// again. A supporting file, when given, is stored first and removed again if the request does
/// not commit. Returns the request's id.
#[expect(clippy::too_many_arguments, reason = "who, which, what")]
pub async fn file_request(
    db: &Db,
    storage: &Storage,
    key: &DataKey,
    who: &Who,
    student_id: i64,
    app_id: i64,
    kind: RequestKind,
    fields: &[(String, String)],
    proof: Option<Upload>,
    today: NaiveDate,
) -> ServiceResult<i64> {
    let app = own(db, student_id, app_id).await?;
    let requests = db::requests(db, app.id).await?;
    let returned = requests
        .iter()
        .rev()
        .find(|r| r.kind() == Some(kind) && r.status() == RequestStatus::Returned);
    let mut facts = facts(db, &app).await?;
    if returned.is_some() {
        // Filing a returned request again replaces it: it does not count as another one.
        facts.requests.open.retain(|k| *k != kind);
    }
    allowed(&app, filing_action(kind), &facts)?;
    let (payload, sealed) = parse_request(db, key, &app, kind, fields, today).await?;
    let proof = match proof {
        Some(p) if !p.bytes.is_empty() => {
            let format = check_upload(
                &p.file_name,
                &p.bytes,
                FileFormat::ALL.as_slice(),
                PROOF_MAX,
            )
            .map_err(|e| {
                let mut errors = FieldErrors::new();
                errors.add("proof", e.code());
                ServiceError::Invalid(errors)
            })?;
            Some((clean_file_name(&p.file_name), format, p.bytes))
        }
        _ => None,
    };
    let stored = match &proof {
        Some((_, _, bytes)) => Some(storage.put(bytes.clone()).await?),
        None => None,
    };
    let program = program_name(db, app.program_id).await?;
    let result = async {
        let mut tx = db.begin().await?;
        let id = match returned {
            Some(r) => {
                if db::refile_request(&mut tx, r.id, r.version, &payload, &sealed).await? == 0 {
                    return Err(ServiceError::Conflict(STALE));
                }
                r.id
            }
            None => {
                db::insert_request(
                    &mut tx,
                    &db::NewRequest {
                        application_id: app.id,
                        kind,
                        payload: &payload,
                        sealed: &sealed,
                        filed_by: student_id,
                    },
                )
                .await?
            }
        };
        if let (Some(stored), Some((name, format, _))) = (&stored, &proof) {
            insert_proof(&mut tx, app.id, id, stored, name, *format, student_id).await?;
        }
        // The application row's version moves too: a page showing the old menu is stale.
        touch(&mut tx, &app).await?;
        let status = app.status();
        history(
            &mut tx,
            app.id,
            filing_action(kind).code(),
            Some(status),
            status,
            "",
            who,
            "",
        )
        .await?;
        let label = Text::key(kind.label_key());
        tell_staff(
            &mut tx,
            Role::InternationalOffice,
            &Text::fill("journey.msg.filed.title", &[&label]),
            &Text::fill("journey.msg.request_filed.body", &[&program, &label]),
            &format!("/staff/applications/{}?tab=requests", app.id),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
    .await;
    if result.is_err()
        && let Some(stored) = &stored
        && let Err(e) = storage.delete(&stored.key).await
    {
        tracing::warn!(error = %e, "could not remove the proof of a request that did not commit");
    }
    result
}

/// Bumps the application's version (something about it changed that pages show).
async fn touch(tx: &mut Tx, app: &ApplicationRow) -> ServiceResult<()> {
    tx.update(
        Query::update()
            .table("applications")
            .value("version", Expr::col("version").add(1))
            .value("updated_at", chrono::Utc::now())
            .and_where(Expr::col("id").eq(app.id)),
    )
    .await?;
    Ok(())
}

async fn insert_proof(
    tx: &mut Tx,
    app_id: i64,
    request_id: i64,
    stored: &crate::storage::StoredFile,
    name: &str,
    format: FileFormat,
    uploaded_by: i64,
) -> ServiceResult<()> {
    tx.insert(
        Query::insert()
            .into_table("attachments")
            .columns([
                "application_id",
                "request_id",
                "storage_key",
                "original_name",
                "format",
                "size_bytes",
                "sha256",
                "uploaded_by",
                "created_at",
            ])
            .values_panic([
                app_id.into(),
                request_id.into(),
                stored.key.clone().into(),
                name.into(),
                format.ext().into(),
                i64::try_from(stored.size).unwrap_or(i64::MAX).into(),
                stored.sha256.clone().into(),
                uploaded_by.into(),
                chrono::Utc::now().into(),
            ]),
    )
    .await?;
    Ok(())
}

/// The office's decision on a request: 通过 (with the item-by-item amounts of a budget or a
/// subsidy), 不通过 or 退回修改 (both with an opinion). An approved 派出确认 makes the student
/// 境外交流中; an approved cancel ends the application (已取消); approved new dates replace the
/// plan, recorded with the old and the new dates.
#[expect(clippy::too_many_arguments, reason = "who, which, what")]
pub async fn decide_request(
    db: &Db,
    who: &Who,
    office: &Reviewer,
    app_id: i64,
    request_id: i64,
    seen_version: i64,
    decision: RequestDecision,
    opinion: &str,
    fields: &[(String, String)],
    today: NaiveDate,
) -> ServiceResult<RequestStatus> {
    if !office.is_office() {
        return Err(ServiceError::NotFound);
    }
    let app = apps::by_id(db, app_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let request = db::request(db, app_id, request_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let kind = request.kind().ok_or(ServiceError::NotFound)?;
    if request.version != seen_version {
        return Err(ServiceError::Conflict(STALE));
    }
    let opinion = opinion.trim().to_owned();
    if decision != RequestDecision::Approve && opinion.is_empty() {
        let mut e = FieldErrors::new();
        e.add("opinion", "err.required");
        return Err(ServiceError::Invalid(e));
    }
    if opinion.chars().count() > super::review::MAX_TEXT {
        let mut e = FieldErrors::new();
        e.add("opinion", "err.review.too_long");
        return Err(ServiceError::Invalid(e));
    }
    let facts = facts(db, &app).await?;
    let actor = Actor::staff(&office.roles, false);
    let actor = Actor {
        is_owner: app.student_id == office.user_id,
        ..actor
    };
    // A request decided meanwhile is a conflict (someone was first), checked before the rules
    // that its decision has changed.
    let to = request
        .status()
        .decide(decision)
        .map_err(|e| ServiceError::Conflict(e.code()))?;
    app.status()
        .apply(Action::DecideRequest, &actor, &facts)
        .map_err(|e| ServiceError::Refused(e.code()))?;
    let approval = match (decision, kind) {
        (RequestDecision::Approve, RequestKind::Budget | RequestKind::Funding) => {
            let asked = asked_lines(&request, kind);
            let lines = parse_approval(fields, &asked).map_err(ServiceError::Invalid)?;
            serde_json::to_string(&lines).unwrap_or_default()
        }
        _ => String::new(),
    };
    let mut plan = plan_of(db, &app, today).await?;
    let program = program_name(db, app.program_id).await?;
    let mut tx = db.begin().await?;
    if db::decide_request(
        &mut tx,
        request.id,
        seen_version,
        request.status(),
        to,
        &approval,
        &opinion,
        office.user_id,
    )
    .await?
        == 0
    {
        return Err(ServiceError::Conflict(STALE));
    }
    let status = app.status();
    let mut note_extra = String::new();
    if to == RequestStatus::Approved {
        match kind {
            RequestKind::Departure => {
                let d: Departure = serde_json::from_str(&request.payload)
                    .map_err(|e| ServiceError::Unexpected(e.into()))?;
                transition(
                    &mut tx,
                    &app,
                    app.version,
                    Action::AcceptDeparture,
                    &actor,
                    &facts,
                    who,
                    "",
                    &opinion,
                    |_| {},
                )
                .await?;
                plan.departed_on = Some(d.departure_date.to_string());
                plan.destination_city = d.destination_city;
                db::save_plan(&mut tx, &plan).await?;
            }
            RequestKind::ChangeBeforeDeparture => {
                match serde_json::from_str::<PreDepartureChange>(&request.payload)
                    .map_err(|e| ServiceError::Unexpected(e.into()))?
                {
                    PreDepartureChange::Cancel { .. } => {
                        transition(
                            &mut tx,
                            &app,
                            app.version,
                            Action::CancelBeforeDeparture,
                            &actor,
                            &facts,
                            who,
                            "",
                            &opinion,
                            |_| {},
                        )
                        .await?;
                    }
                    PreDepartureChange::Change { dates, .. } => {
                        note_extra = new_dates(&mut tx, &app, &mut plan, dates, who).await?;
                    }
                }
            }
            RequestKind::PlanChange => {
                let c: PlanChange = serde_json::from_str(&request.payload)
                    .map_err(|e| ServiceError::Unexpected(e.into()))?;
                note_extra = new_dates(&mut tx, &app, &mut plan, c.dates, who).await?;
            }
            RequestKind::Budget | RequestKind::Funding => {}
        }
    }
    touch(&mut tx, &app).await?;
    history(
        &mut tx,
        app.id,
        &format!("request.{}.{}", kind.code(), decision.code()),
        Some(status),
        status,
        "",
        who,
        &opinion,
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "request.decide",
        &format!("application:{}", app.id),
        &format!(
            "{}：{}",
            crate::i18n::Lang::Zh.t(kind.label_key()),
            crate::i18n::Lang::Zh.t(decision.label_key())
        ),
    )
    .await?;
    let label = Text::key(kind.label_key());
    let verdict = match decision {
        RequestDecision::Approve => "journey.msg.decided.approved",
        RequestDecision::Reject => "journey.msg.decided.rejected",
        RequestDecision::Return => "journey.msg.decided.returned",
    };
    let mut body = Text::fill(verdict, &[&label]);
    if !note_extra.is_empty() {
        append(
            &mut body,
            &Text::fill("journey.msg.new_dates", &[&Text::plain(&note_extra)]),
        );
    }
    if !opinion.is_empty() {
        append(
            &mut body,
            &Text::fill("journey.msg.opinion", &[&Text::plain(&opinion)]),
        );
    }
    Notifier::send(
        &mut tx,
        &Note {
            user_id: app.student_id,
            title: Text::fill("journey.msg.decided.title", &[&label, &program]),
            body,
            link: format!("/applications/{}", app.id),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// Adds `more` to the end of `text`, language by language.
fn append(text: &mut Text, more: &Text) {
    text.zh.push_str(&more.zh);
    text.en.push_str(&more.en);
}

/// Replaces the planned dates, with a history row saying the old and the new ones; returns the
/// change in words for the student's message.
async fn new_dates(
    tx: &mut Tx,
    app: &ApplicationRow,
    plan: &mut PlanRow,
    dates: DateRange,
    who: &Who,
) -> ServiceResult<String> {
    let change = format!(
        "{} 至 {} → {} 至 {}",
        plan.plan_start, plan.plan_end, dates.from, dates.to
    );
    plan.plan_start = dates.from.to_string();
    plan.plan_end = dates.to.to_string();
    db::save_plan(tx, plan).await?;
    let status = app.status();
    history(
        tx,
        app.id,
        "plan.dates",
        Some(status),
        status,
        "",
        who,
        &change,
    )
    .await?;
    Ok(change)
}

/// The money lines a budget or subsidy request asked for.
pub fn asked_lines(request: &RequestRow, kind: RequestKind) -> Vec<MoneyLine> {
    match kind {
        RequestKind::Budget => serde_json::from_str::<Budget>(&request.payload)
            .map(|b| b.lines)
            .unwrap_or_default(),
        RequestKind::Funding => serde_json::from_str::<FundingPublic>(&request.payload)
            .map(|f| f.lines)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The approved lines of a decided budget or subsidy.
pub fn approved_lines(request: &RequestRow) -> Vec<ApprovedLine> {
    serde_json::from_str(&request.approval).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 境外打卡

/// Records a check-in abroad: the first is the arrival, later ones safety reports, each with
/// the day it was due by the program's rule.
pub async fn check_in(
    db: &Db,
    who: &Who,
    student_id: i64,
    app_id: i64,
    form: &CheckInForm,
    today: NaiveDate,
) -> ServiceResult<i64> {
    let app = own(db, student_id, app_id).await?;
    let facts = facts(db, &app).await?;
    allowed(&app, Action::CheckIn, &facts)?;
    let plan = plan_of(db, &app, today).await?;
    let departed = plan.departed().unwrap_or(range(&plan)?.from);
    let settings = db::settings(db, app.program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let rule = settings.check_in_rule();
    let mut tx = db.begin().await?;
    // Read inside the transaction: two check-ins at once get consecutive due days.
    let done: Vec<NaiveDate> = db::check_ins_in(&mut tx, app.id)
        .await?
        .iter()
        .filter_map(|c| c.day())
        .collect();
    let first = done.is_empty();
    let c = CheckIn::parse(form, first, departed, today).map_err(ServiceError::Invalid)?;
    let due = rule
        .next(departed, range(&plan)?.to, &done, today)
        .next_due
        .unwrap_or(today);
    let id = db::insert_check_in(
        &mut tx,
        &db::NewCheckIn {
            application_id: app.id,
            kind: c.kind.code(),
            checked_on: today,
            due_on: due,
            arrival_date: c.arrival_date,
            address: &c.address,
            local_phone: c.local_phone.as_str(),
            note: &c.note,
        },
    )
    .await?;
    let status = app.status();
    history(
        &mut tx,
        app.id,
        Action::CheckIn.code(),
        Some(status),
        status,
        "",
        who,
        c.kind.label_key(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// The student's to-do list, the reminder job and 在外学生

/// What the journey rules know of one application in the lists.
pub fn progress_of(row: &db::JourneyRow, check_ins: Vec<NaiveDate>) -> Progress {
    Progress {
        status: Status::from_code(&row.status),
        reg_end: None,
        plan: row
            .start()
            .zip(row.end())
            .and_then(|(from, to)| DateRange::new(from, to).ok()),
        departed: row.departed(),
        check_ins,
        check_in_rule: row.check_in_rule(),
        departure_filed: false,
        funding_open: false,
    }
}

/// The statuses in which an application is somewhere after admission.
pub const AFTER_ADMISSION: [Status; 6] = [
    Status::AdmittedFirstChoice,
    Status::AdmittedSecondChoice,
    Status::PreDeparture,
    Status::ReadyToDepart,
    Status::Abroad,
    Status::ReturnReview,
];

/// One line of the student's to-do list.
#[derive(Debug, Clone)]
pub struct Todo {
    pub application_id: i64,
    pub program_name_zh: String,
    pub program_name_en: String,
    pub step: NextStep,
}

/// The next thing to do for each of the student's active applications, soonest due first.
pub async fn todos(db: &Db, student_id: i64, today: NaiveDate) -> ServiceResult<Vec<Todo>> {
    let mut out = Vec::new();
    for app in apps::list_for_student(db, student_id).await? {
        let status = app.status();
        if status.is_terminal() && status != Status::Completed {
            continue;
        }
        let Some(program) = programs::by_id(db, app.program_id).await? else {
            continue;
        };
        let settings = db::settings(db, app.program_id).await?;
        let requests = db::requests(db, app.id).await?;
        let rf = request_facts(&requests, settings.as_ref());
        let plan = db::plan(db, app.id).await?;
        let range = |start: Option<NaiveDate>, end: Option<NaiveDate>| {
            start.zip(end).and_then(|(f, t)| DateRange::new(f, t).ok())
        };
        let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let progress = Progress {
            status: Some(status),
            reg_end: Some(crate::domain::values::china_date(program.reg_end)),
            plan: match &plan {
                Some(p) => range(p.start(), p.end()),
                None => range(parse(&program.start_date), parse(&program.end_date)),
            },
            departed: plan.as_ref().and_then(PlanRow::departed),
            check_ins: db::check_ins(db, app.id)
                .await?
                .iter()
                .filter_map(db::CheckInRow::day)
                .collect(),
            check_in_rule: settings
                .as_ref()
                .map(JourneySettingsRow::check_in_rule)
                .unwrap_or_default(),
            departure_filed: rf.is_open(RequestKind::Departure),
            funding_open: rf.funding_offered
                && !rf.is_open(RequestKind::Funding)
                && !rf.approved.contains(&RequestKind::Funding),
        };
        if let Some(step) = progress.next_step(today) {
            out.push(Todo {
                application_id: app.id,
                program_name_zh: app.program_name_zh,
                program_name_en: app.program_name_en,
                step,
            });
        }
    }
    out.sort_by_key(|t| (t.step.due.is_none(), t.step.due, t.application_id));
    Ok(out)
}

/// The daily reminder job: drafts 3 days and 1 day before their registration closes, check-ins
/// due and overdue, returns overdue. Each reminder is recorded with its key in the transaction
/// that writes the message, so a second run (or a restart, or a second server) sends nothing
/// twice. Returns how many messages went out.
pub async fn run_reminders(db: &Db, now: chrono::DateTime<chrono::Utc>) -> ServiceResult<usize> {
    let today = crate::domain::values::china_date(now);
    let mut due: Vec<(i64, ReminderKind, String, Text, i64)> = Vec::new();
    for d in db::closing_drafts(db, now, now + chrono::Duration::days(4)).await? {
        let progress = Progress {
            status: Some(Status::Draft),
            reg_end: Some(crate::domain::values::china_date(d.reg_end)),
            ..Progress::default()
        };
        for (kind, key) in progress.reminders(d.application_id, today) {
            due.push((
                d.student_id,
                kind,
                key,
                Text::names(&d.program_name_zh, &d.program_name_en),
                d.application_id,
            ));
        }
    }
    for row in db::journeys(db, &[Status::Abroad.code()], None).await? {
        let checks: Vec<NaiveDate> = db::check_ins(db, row.application_id)
            .await?
            .iter()
            .filter_map(db::CheckInRow::day)
            .collect();
        for (kind, key) in progress_of(&row, checks).reminders(row.application_id, today) {
            due.push((
                row.student_id,
                kind,
                key,
                Text::names(&row.program_name_zh, &row.program_name_en),
                row.application_id,
            ));
        }
    }
    let mut sent = 0;
    for (user_id, kind, key, program, app_id) in due {
        let mut tx = db.begin().await?;
        if db::mark_reminder_sent(&mut tx, &key, user_id).await? {
            let (title, body, link) = reminder_text(kind, &program, app_id);
            Notifier::send(
                &mut tx,
                &Note {
                    user_id,
                    title,
                    body,
                    link,
                },
            )
            .await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    Ok(sent)
}

fn reminder_text(kind: ReminderKind, program: &Text, app_id: i64) -> (Text, Text, String) {
    let body = format!("journey.reminder.{}.body", kind.code());
    (
        Text::key(kind.label_key()),
        Text::fill(&body, &[program]),
        format!("/applications/{app_id}"),
    )
}

/// One student in the 在外学生 lists.
#[derive(Debug, Clone)]
pub struct AbroadLine {
    pub row: db::JourneyRow,
    pub next_check_in: Option<NaiveDate>,
    pub check_in_overdue: bool,
}

/// 在外学生: who is abroad (by country or region), who departs soon, who has not checked in by
/// the due day, who is past the return without 返校手续, and who came back recently.
#[derive(Debug, Clone, Default)]
pub struct AbroadNow {
    pub abroad: Vec<AbroadLine>,
    pub departing: Vec<AbroadLine>,
    pub not_checked_in: Vec<AbroadLine>,
    pub overdue_return: Vec<AbroadLine>,
    pub back: Vec<AbroadLine>,
    /// (country or region code, students abroad), most first.
    pub by_country: Vec<(String, usize)>,
}

/// The 在外学生 lists for the office (every college) or a college reviewer (their colleges).
pub async fn abroad_now(db: &Db, viewer: &Reviewer, today: NaiveDate) -> ServiceResult<AbroadNow> {
    if !viewer.is_office()
        && !viewer.roles.contains(&Role::CollegeReviewer)
        && !viewer.sees_every_college()
    {
        return Err(ServiceError::NotFound);
    }
    let colleges = (!viewer.sees_every_college()).then_some(viewer.college_ids.as_slice());
    let statuses = [
        Status::ReadyToDepart.code(),
        Status::Abroad.code(),
        Status::ReturnReview.code(),
        Status::Completed.code(),
    ];
    let mut out = AbroadNow::default();
    for row in db::journeys(db, &statuses, colleges).await? {
        let status = Status::from_code(&row.status);
        let checks: Vec<NaiveDate> = if status == Some(Status::Abroad) {
            db::check_ins(db, row.application_id)
                .await?
                .iter()
                .filter_map(db::CheckInRow::day)
                .collect()
        } else {
            Vec::new()
        };
        let progress = progress_of(&row, checks.clone());
        let due = match (
            progress.departed.or(progress.plan.map(|p| p.from)),
            progress.plan,
        ) {
            (Some(departed), plan) => Some(progress.check_in_rule.next(
                departed,
                plan.map_or(NaiveDate::MAX, |p| p.to),
                &checks,
                today,
            )),
            _ => None,
        };
        let line = AbroadLine {
            next_check_in: due.and_then(|d| d.next_due),
            check_in_overdue: due.is_some_and(|d| d.overdue),
            row: row.clone(),
        };
        match status {
            Some(Status::ReadyToDepart)
                if row
                    .start()
                    .is_some_and(|s| s >= today && s <= today + chrono::Days::new(14)) =>
            {
                out.departing.push(line);
            }
            Some(Status::Abroad) => {
                if line.check_in_overdue {
                    out.not_checked_in.push(line.clone());
                }
                if row.end().is_some_and(|end| today > end) {
                    out.overdue_return.push(line.clone());
                }
                out.abroad.push(line);
            }
            Some(Status::ReturnReview | Status::Completed)
                if row
                    .returned_on
                    .as_deref()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .is_some_and(|d| d + chrono::Days::new(90) >= today) =>
            {
                out.back.push(line);
            }
            _ => {}
        }
    }
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for line in &out.abroad {
        *counts.entry(line.row.country.clone()).or_default() += 1;
    }
    out.by_country = counts.into_iter().collect();
    out.by_country
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.departing.sort_by_key(|l| l.row.start());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: RequestKind, status: RequestStatus, payload: &str) -> RequestRow {
        RequestRow {
            id: 1,
            application_id: 1,
            kind: kind.code().into(),
            status: status.code().into(),
            version: 1,
            payload: payload.into(),
            sealed: String::new(),
            approval: String::new(),
            opinion: String::new(),
            filed_by: 1,
            filed_at: chrono::Utc::now(),
            decided_by: None,
            decided_at: None,
        }
    }

    #[test]
    fn request_facts_see_open_and_granted_requests_and_a_pending_cancel() {
        let cancel = r#"{"kind":"cancel","reason":"家中有事无法出行"}"#;
        let rows = [
            row(
                RequestKind::ChangeBeforeDeparture,
                RequestStatus::Pending,
                cancel,
            ),
            row(RequestKind::Budget, RequestStatus::Approved, "{}"),
            row(RequestKind::Departure, RequestStatus::Rejected, "{}"),
            row(RequestKind::PlanChange, RequestStatus::Returned, "{}"),
        ];
        let f = request_facts(&rows, None);
        assert_eq!(
            f.open,
            [RequestKind::ChangeBeforeDeparture, RequestKind::PlanChange]
        );
        assert_eq!(f.approved, [RequestKind::Budget]);
        assert!(f.open_change_is_cancel);
        assert!(!f.budget_offered && !f.funding_offered);
    }

    #[test]
    fn documents_of_each_phase_are_open_only_in_their_part_of_the_journey() {
        use Status::*;
        for s in Status::ALL {
            assert_eq!(
                documents_open(Phase::PreDeparture, s),
                matches!(s, AdmittedFirstChoice | AdmittedSecondChoice),
                "{s}"
            );
            assert_eq!(documents_open(Phase::Return, s), s == Abroad, "{s}");
        }
    }
}
