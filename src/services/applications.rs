//! The application lifecycle as the student drives it: start after 申报须知, save the steps,
//! 提交, 撤回修改, 申请删除, 补录分数. Every status change goes through [`transition`]: the
//! domain decides whether the move is allowed, the row is updated only if its status and
//! version are still what the person saw, and the history row is written in the same
//! transaction.

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Query, UpdateStatement};

use super::audit::{self, Who};
use super::messages::{Note, Notifier};
use super::{ServiceError, ServiceResult, programs as program_rules};
use crate::crypto::DataKey;
use crate::db::applications::{self as apps, ApplicationRow};
use crate::db::{Db, Tx, dicts, programs, students};
use crate::domain::FieldErrors;
use crate::domain::application::{
    ApplicationInfoForm, Draft, LanguageExams, LanguageScore, LanguageScoreForm, MissingField,
    parse_application_info,
};
use crate::domain::eligibility::RoundLoad;
use crate::domain::profile::ProfileForm;
use crate::domain::redact;
use crate::domain::status::{Action, Actor, Facts, Phase, Status};
use crate::i18n::Text;
use crate::storage::Storage;

/// The conflict every stale or doubled form gets.
pub const STALE: &str = "error.409";

/// The facts the state machine needs about one application.
pub fn facts(app: &ApplicationRow, open_supplements: bool) -> Facts {
    Facts {
        reviewer_has_decided: app.stage_decided,
        is_last_stage: false,
        has_pending_score: app.has_pending_score,
        score_backfilled: app.score_backfilled,
        has_open_supplement_request: open_supplements,
        stage_phase: app.status().review_phase().unwrap_or(Phase::Application),
        admitted_second_choice: app.status() == Status::AdmittedSecondChoice,
        // Only 提交 looks at it; `submit` and `submit_check` count the round and set it.
        at_round_limit: false,
        ..Facts::default()
    }
}

/// The first stage of a workflow template's stage list (JSON), for history rows.
pub fn stage_name(stages_json: &str, index: i64) -> String {
    serde_json::from_str::<Vec<serde_json::Value>>(stages_json)
        .ok()
        .and_then(|stages| stages.get(usize::try_from(index).ok()?).cloned())
        .and_then(|s| s.get("name_zh").and_then(|n| n.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Records one history row.
#[expect(
    clippy::too_many_arguments,
    reason = "one column each; every caller names them"
)]
pub async fn history(
    tx: &mut Tx,
    app_id: i64,
    action: &str,
    from: Option<Status>,
    to: Status,
    stage: &str,
    who: &Who,
    opinion: &str,
) -> ServiceResult<()> {
    tx.insert(
        Query::insert()
            .into_table("application_history")
            .columns([
                "application_id",
                "action",
                "from_status",
                "to_status",
                "stage_name",
                "actor_id",
                "actor_name",
                "opinion",
                "created_at",
            ])
            .values_panic([
                app_id.into(),
                action.into(),
                from.map(|s| s.code()).into(),
                to.code().into(),
                stage.into(),
                who.id.into(),
                who.name.clone().into(),
                opinion.into(),
                Utc::now().into(),
            ]),
    )
    .await?;
    Ok(())
}

/// Applies `action` to `app` for `actor` and persists it: a guarded update on the status and
/// version the person saw (`seen_version`), plus the history row. `extra` adds columns to the
/// update. Returns the new status.
#[expect(clippy::too_many_arguments, reason = "the transition and its context")]
pub async fn transition(
    tx: &mut Tx,
    app: &ApplicationRow,
    seen_version: i64,
    action: Action,
    actor: &Actor,
    facts: &Facts,
    who: &Who,
    stage: &str,
    opinion: &str,
    extra: impl FnOnce(&mut UpdateStatement),
) -> ServiceResult<Status> {
    let from = app.status();
    let to = from
        .apply(action, actor, facts)
        .map_err(|e| ServiceError::Refused(e.code()))?;
    let mut q = Query::update();
    q.table("applications")
        .value("status", to.code())
        .value("version", Expr::col("version").add(1))
        .value("updated_at", Utc::now())
        .and_where(Expr::col("id").eq(app.id))
        .and_where(Expr::col("version").eq(seen_version))
        .and_where(Expr::col("status").eq(from.code()));
    extra(&mut q);
    if tx.update(&q).await? == 0 {
        return Err(ServiceError::Conflict(STALE));
    }
    history(
        tx,
        app.id,
        action.code(),
        Some(from),
        to,
        stage,
        who,
        opinion,
    )
    .await?;
    Ok(to)
}

/// Loads the student's own application or answers NotFound.
async fn own(db: &Db, student_id: i64, app_id: i64) -> ServiceResult<ApplicationRow> {
    apps::own(db, student_id, app_id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Refuses unless the student may still edit the application (未提交 / 退回修改).
fn ensure_editable(app: &ApplicationRow) -> ServiceResult<()> {
    app.status()
        .apply(Action::Edit, &Actor::student(true), &facts(app, false))
        .map(|_| ())
        .map_err(|e| ServiceError::Refused(e.code()))
}

/// Starts an application after the 申报须知 (or resumes the open draft for that program);
/// returns its id.
pub async fn start(
    db: &Db,
    key: &DataKey,
    who: &Who,
    student_id: i64,
    program_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<i64> {
    let program = programs::visible_by_id(db, program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let facts = program_rules::student_facts(db, student_id)
        .await?
        .ok_or(ServiceError::Refused("err.apply.no_registry"))?;
    if let Some(first) = program_rules::apply_blockers(&program, &facts, now).first() {
        return Err(ServiceError::Refused(first));
    }
    // A profile that misses required fields is completed first (seed 001).
    let profile = students::profile_form(db, key, student_id)
        .await
        .map_err(ServiceError::Unexpected)?
        .unwrap_or_default();
    if !crate::domain::profile::missing_required(&profile).is_empty() {
        return Err(ServiceError::Refused("apply.complete_profile_first"));
    }
    if let Some(draft) = apps::draft_for_program(db, student_id, program_id).await? {
        return Ok(draft.id);
    }
    let mut tx = db.begin().await?;
    let id = tx
        .insert_id(
            Query::insert()
                .into_table("applications")
                .columns([
                    "student_id",
                    "program_id",
                    "round_year",
                    "status",
                    "version",
                    "commitment_at",
                    "created_at",
                    "updated_at",
                ])
                .values_panic([
                    student_id.into(),
                    program_id.into(),
                    program.year.into(),
                    Status::Draft.code().into(),
                    1i64.into(),
                    now.into(),
                    now.into(),
                    now.into(),
                ]),
        )
        .await?;
    history(&mut tx, id, "create", None, Status::Draft, "", who, "").await?;
    tx.commit().await?;
    Ok(id)
}

/// The 申请信息 step with the passport number opened.
pub fn info_form(key: &DataKey, app: &ApplicationRow) -> ServiceResult<ApplicationInfoForm> {
    let mut form = app.info_form();
    form.passport_no = key
        .open(&app.passport_no_enc)
        .map_err(|e| ServiceError::Unexpected(e.into()))?;
    Ok(form)
}

/// Saves the 申请信息 step: missing values are kept as a draft, wrong ones refused (every
/// error at once). `seen_version` guards against a stale form. Returns the new version.
pub async fn save_info(
    db: &Db,
    key: &DataKey,
    student_id: i64,
    app_id: i64,
    seen_version: i64,
    form: ApplicationInfoForm,
) -> ServiceResult<i64> {
    let app = own(db, student_id, app_id).await?;
    ensure_editable(&app)?;
    let schools: Vec<i64> = programs::partner_schools(db, app.program_id)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let sources = dicts::codes(&dicts::items(db, dicts::kind::FUNDING_SOURCE).await?);
    let parsed = parse_application_info(&form, &schools, &sources)?;
    // The passport number is personal data: sealed in its own column, never in the JSON.
    let passport = if parsed.has_passport == Some(false) {
        String::new()
    } else {
        form.passport_no.trim().to_owned()
    };
    let mut stored = form;
    stored.passport_no = String::new();
    let json = serde_json::to_string(&stored).map_err(|e| ServiceError::Unexpected(e.into()))?;
    let mut tx = db.begin().await?;
    let n = tx
        .update(
            Query::update()
                .table("applications")
                .value("info", json)
                .value("passport_no_enc", key.seal(&passport))
                .value("version", Expr::col("version").add(1))
                .value("updated_at", Utc::now())
                .and_where(Expr::col("id").eq(app_id))
                .and_where(Expr::col("student_id").eq(student_id))
                .and_where(Expr::col("version").eq(seen_version))
                .and_where(
                    Expr::col("status").is_in([Status::Draft.code(), Status::Returned.code()]),
                ),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::Conflict(STALE));
    }
    tx.commit().await?;
    Ok(seen_version + 1)
}

/// The 语种 and 达标方式 offered, each exam with its language (from the dictionaries).
pub async fn language_exams(db: &Db) -> ServiceResult<LanguageExams> {
    Ok(LanguageExams {
        languages: dicts::codes(&dicts::items(db, dicts::kind::LANGUAGE).await?),
        exams: dicts::exams(db)
            .await?
            .into_iter()
            .map(|e| (e.item.code, e.language))
            .collect(),
    })
}

/// Adds a 外语水平 row (language, exam and date required; the score may wait).
pub async fn add_language(
    db: &Db,
    student_id: i64,
    app_id: i64,
    form: LanguageScoreForm,
) -> ServiceResult<i64> {
    let app = own(db, student_id, app_id).await?;
    ensure_editable(&app)?;
    let row = LanguageScore::parse(&form, &language_exams(db).await?)?;
    let mut tx = db.begin().await?;
    // Counted inside the transaction, so two rows added at once do not share a place.
    let order = tx
        .count(
            &Query::select()
                .expr(Expr::col("id").count())
                .from("language_scores")
                .and_where(Expr::col("application_id").eq(app_id))
                .to_owned(),
        )
        .await?;
    let id = tx
        .insert_id(
            Query::insert()
                .into_table("language_scores")
                .columns([
                    "application_id",
                    "language",
                    "exam_type",
                    "score",
                    "exam_date",
                    "sort_order",
                ])
                .values_panic([
                    app_id.into(),
                    row.language.into(),
                    row.exam_type.into(),
                    row.score.unwrap_or_default().into(),
                    row.exam_date.to_string().into(),
                    order.into(),
                ]),
        )
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a 外语水平 row of an editable application.
pub async fn update_language(
    db: &Db,
    student_id: i64,
    app_id: i64,
    row_id: i64,
    form: LanguageScoreForm,
) -> ServiceResult<()> {
    let app = own(db, student_id, app_id).await?;
    ensure_editable(&app)?;
    let row = LanguageScore::parse(&form, &language_exams(db).await?)?;
    let mut tx = db.begin().await?;
    let n = tx
        .update(
            Query::update()
                .table("language_scores")
                .value("language", row.language)
                .value("exam_type", row.exam_type)
                .value("score", row.score.unwrap_or_default())
                .value("exam_date", row.exam_date.to_string())
                .and_where(Expr::col("id").eq(row_id))
                .and_where(Expr::col("application_id").eq(app_id)),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a 外语水平 row of an editable application.
pub async fn delete_language(
    db: &Db,
    student_id: i64,
    app_id: i64,
    row_id: i64,
) -> ServiceResult<()> {
    let app = own(db, student_id, app_id).await?;
    ensure_editable(&app)?;
    let mut tx = db.begin().await?;
    let n = tx
        .delete(
            Query::delete()
                .from_table("language_scores")
                .and_where(Expr::col("id").eq(row_id))
                .and_where(Expr::col("application_id").eq(app_id)),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Everything the submit check looks at, loaded for one application.
pub struct Loaded {
    pub app: ApplicationRow,
    pub program: programs::ProgramRow,
    pub profile: ProfileForm,
    pub info: ApplicationInfoForm,
    pub languages: Vec<LanguageScoreForm>,
    pub attachment_counts: Vec<(i64, usize)>,
    pub required_types: Vec<(i64, String)>,
    pub schools: Vec<i64>,
    pub funding_sources: Vec<String>,
    pub language_exams: LanguageExams,
}

impl Loaded {
    pub fn draft(&self, today: chrono::NaiveDate) -> Draft<'_> {
        Draft {
            profile: &self.profile,
            info: &self.info,
            languages: &self.languages,
            attachments: &self.attachment_counts,
            required_attachment_types: &self.required_types,
            allowed_schools: &self.schools,
            funding_sources: &self.funding_sources,
            language_exams: &self.language_exams,
            today,
        }
    }
}

/// Loads one of the student's applications with everything the submit check needs.
pub async fn load(db: &Db, key: &DataKey, student_id: i64, app_id: i64) -> ServiceResult<Loaded> {
    let app = own(db, student_id, app_id).await?;
    let program = programs::by_id(db, app.program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let profile = students::profile_form(db, key, student_id)
        .await
        .map_err(ServiceError::Unexpected)?
        .unwrap_or_default();
    let info = info_form(key, &app)?;
    let languages = apps::languages(db, app_id)
        .await?
        .iter()
        .map(|r| r.form())
        .collect();
    let mut attachment_counts: Vec<(i64, usize)> = Vec::new();
    for a in apps::attachments(db, app_id).await? {
        if let Some(t) = a.attachment_type_id {
            match attachment_counts.iter_mut().find(|(id, _)| *id == t) {
                Some((_, n)) => *n += 1,
                None => attachment_counts.push((t, 1)),
            }
        }
    }
    let required_types = programs::attachment_types(db, app.program_id)
        .await?
        .into_iter()
        .filter(|t| t.required)
        .map(|t| (t.id, t.name_zh))
        .collect();
    let schools = programs::partner_schools(db, app.program_id)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let funding_sources = dicts::codes(&dicts::items(db, dicts::kind::FUNDING_SOURCE).await?);
    let language_exams = language_exams(db).await?;
    Ok(Loaded {
        app,
        program,
        profile,
        info,
        languages,
        attachment_counts,
        required_types,
        schools,
        funding_sources,
        language_exams,
    })
}

/// Why a submit did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Fields to fill or correct first, every one of them.
    #[error("the application is incomplete")]
    Incomplete(Vec<MissingField>),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::db::DbError> for SubmitError {
    fn from(e: crate::db::DbError) -> Self {
        SubmitError::Service(e.into())
    }
}

/// Which submit the application's status calls for: 提交 for a draft, 重新提交 for a
/// returned one; anything else was submitted already.
fn submit_action(app: &ApplicationRow) -> ServiceResult<Action> {
    match app.status() {
        Status::Draft => Ok(Action::Submit),
        Status::Returned => Ok(Action::Resubmit),
        _ => Err(ServiceError::Conflict("err.submit.already")),
    }
}

/// Why 提交 would be refused now although the application is complete, as a catalogue key:
/// the registration window and eligibility (for a first submission), then the state machine
/// with the student's standing in the round (本轮限报项目数). `None` means 提交 goes through.
/// The submit page shows this and [`submit`] enforces it, so the page never offers a button
/// that must fail.
async fn refusal(
    db: &Db,
    loaded: &Loaded,
    student_id: i64,
    action: Action,
    now: DateTime<Utc>,
) -> ServiceResult<Option<&'static str>> {
    let app = &loaded.app;
    let student = program_rules::student_facts(db, student_id).await?;
    // A returned application is being corrected, not newly applied for: the window that
    // mattered was the one of its first submission.
    if action == Action::Submit {
        if !loaded.program.registration(now).accepts_applications() {
            return Ok(Some("err.apply.closed"));
        }
        let Some(student) = &student else {
            return Ok(Some("err.apply.no_registry"));
        };
        if let Some(first) = program_rules::apply_blockers(&loaded.program, student, now).first() {
            return Ok(Some(first));
        }
    }
    let facts = Facts {
        at_round_limit: student.is_some_and(|s| {
            s.rounds
                .is_full(app.round_year, loaded.program.max_per_student)
        }),
        ..facts(app, false)
    };
    Ok(app
        .status()
        .apply(action, &Actor::student(true), &facts)
        .err()
        .map(|e| e.code()))
}

/// What the 提交 page shows: the fields still missing or wrong, and the reason 提交 would be
/// refused even so. Submit is offered only when both are empty.
pub struct SubmitCheck {
    pub loaded: Loaded,
    pub missing: Vec<MissingField>,
    pub refusal: Option<&'static str>,
}

impl SubmitCheck {
    /// 提交 would go through.
    pub fn can_submit(&self) -> bool {
        self.missing.is_empty() && self.refusal.is_none()
    }
}

/// Checks one of the student's editable applications as [`submit`] would, without submitting.
pub async fn submit_check(
    db: &Db,
    key: &DataKey,
    student_id: i64,
    app_id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<SubmitCheck> {
    let loaded = load(db, key, student_id, app_id).await?;
    let action = submit_action(&loaded.app)?;
    let missing = match loaded
        .draft(crate::domain::values::china_today())
        .into_submission()
    {
        Ok(_) => Vec::new(),
        Err(missing) => missing,
    };
    let refusal = refusal(db, &loaded, student_id, action, now).await?;
    Ok(SubmitCheck {
        loaded,
        missing,
        refusal,
    })
}

/// 提交 (or 重新提交 after 退回修改): checks everything at once, then the registration
/// window, eligibility and the per-round limit on the server, and moves the application to
/// 申请中 at the first review stage (or the stage that returned it).
pub async fn submit(
    db: &Db,
    key: &DataKey,
    who: &Who,
    student_id: i64,
    app_id: i64,
    seen_version: i64,
    now: DateTime<Utc>,
) -> Result<Status, SubmitError> {
    let loaded = load(db, key, student_id, app_id).await?;
    let app = &loaded.app;
    if app.version != seen_version {
        return Err(ServiceError::Conflict(STALE).into());
    }
    let action = submit_action(app)?;
    let submission = loaded
        .draft(crate::domain::values::china_today())
        .into_submission()
        .map_err(SubmitError::Incomplete)?;
    let registration = loaded.program.registration(now);
    if let Some(key) = refusal(db, &loaded, student_id, action, now).await? {
        return Err(ServiceError::Refused(key).into());
    }
    let configured_limit = program_rules::round_load(db, student_id)
        .await?
        .configured_limit;
    let mut snapshot = loaded.profile.clone();
    // Personal data stays sealed in the profile; the snapshot keeps only what lists show.
    snapshot.id_number = redact::id_document(&snapshot.id_type, &snapshot.id_number);
    snapshot.passport_no = String::new();
    snapshot.health = String::new();
    let snapshot =
        serde_json::to_string(&snapshot).map_err(|e| ServiceError::Unexpected(e.into()))?;

    let mut tx = db.begin().await?;
    // Serialise this student's submits (a row lock on PostgreSQL; SQLite writers queue anyway),
    // so the per-round count below cannot be raced.
    tx.update(
        Query::update()
            .table("students")
            .value("version", Expr::col("version").add(1))
            .and_where(Expr::col("user_id").eq(student_id)),
    )
    .await?;
    // Counted again under that lock: the state machine refuses 提交 at the limit.
    let held = apps::active_submitted_in_round(&mut tx, student_id, app.round_year).await?;
    let rounds = RoundLoad {
        held: [(app.round_year, held)].into(),
        configured_limit,
    };
    let submit_facts = Facts {
        at_round_limit: rounds.is_full(app.round_year, loaded.program.max_per_student),
        ..facts(app, false)
    };
    let (template_id, stages) = match app.workflow_template_id {
        Some(id) => (
            Some(id),
            apps::template(db, id)
                .await?
                .map(|t| t.stages)
                .unwrap_or_default(),
        ),
        None => match apps::latest_template(&mut tx, &loaded.program.workflow_code).await? {
            Some(t) => (Some(t.id), t.stages),
            None => (None, String::new()),
        },
    };
    let stage_index = if action == Action::Resubmit {
        app.stage_index
    } else {
        0
    };
    let stage = stage_name(&stages, stage_index);
    let stage_text = crate::domain::workflow::Workflow::parse(&stages)
        .ok()
        .and_then(|w| {
            w.stage(stage_index)
                .map(|s| Text::names(&s.name_zh, &s.name_en))
        })
        .unwrap_or_else(|| Text::plain(&stage));
    let is_late = action == Action::Submit && registration.is_late() || app.is_late;
    let pending = submission.has_pending_score;
    let to = transition(
        &mut tx,
        app,
        seen_version,
        action,
        &Actor::student(true),
        &submit_facts,
        who,
        &stage,
        "",
        |q| {
            q.value("submitted_at", now)
                .value("is_late", is_late)
                .value("workflow_template_id", template_id)
                .value("stage_index", stage_index)
                .value("stage_decided", false)
                .value("has_pending_score", pending)
                .value("profile_snapshot", snapshot);
        },
    )
    .await?;
    Notifier::send(
        &mut tx,
        &Note {
            user_id: student_id,
            title: Text::fill(
                "msg.submitted.title",
                &[&Text::names(
                    &loaded.program.name_zh,
                    &loaded.program.name_en,
                )],
            ),
            body: Text::fill("msg.submitted.body", &[&stage_text]),
            link: format!("/applications/{app_id}"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// 撤回修改: back to 填写中 while no reviewer has decided.
pub async fn withdraw(
    db: &Db,
    who: &Who,
    student_id: i64,
    app_id: i64,
    seen_version: i64,
) -> ServiceResult<()> {
    let app = own(db, student_id, app_id).await?;
    let mut tx = db.begin().await?;
    transition(
        &mut tx,
        &app,
        seen_version,
        Action::WithdrawForEdit,
        &Actor::student(true),
        &facts(&app, false),
        who,
        "",
        "",
        |q| {
            // The guard against a decision that lands at the same moment.
            q.and_where(Expr::col("stage_decided").eq(false));
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// 申请删除: removes a never-submitted draft with its rows and files.
pub async fn delete_draft(
    db: &Db,
    storage: &Storage,
    who: &Who,
    student_id: i64,
    app_id: i64,
    seen_version: i64,
) -> ServiceResult<()> {
    let app = own(db, student_id, app_id).await?;
    app.status()
        .apply(Action::Delete, &Actor::student(true), &facts(&app, false))
        .map_err(|e| ServiceError::Refused(e.code()))?;
    let files = apps::attachments(db, app_id).await?;
    let mut tx = db.begin().await?;
    let n = tx
        .delete(
            Query::delete()
                .from_table("applications")
                .and_where(Expr::col("id").eq(app_id))
                .and_where(Expr::col("student_id").eq(student_id))
                .and_where(Expr::col("version").eq(seen_version))
                .and_where(Expr::col("status").eq(Status::Draft.code())),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::Conflict(STALE));
    }
    audit::record(
        &mut tx,
        who,
        "application.delete",
        &format!("application:{app_id}"),
        "",
    )
    .await?;
    tx.commit().await?;
    for f in files {
        if let Err(e) = storage.delete(&f.storage_key).await {
            tracing::warn!(error = %e, "could not remove a deleted draft's file");
        }
    }
    Ok(())
}

/// 补录分数: fills a score left empty at submission, once; after that it is immutable.
pub async fn backfill_score(
    db: &Db,
    who: &Who,
    student_id: i64,
    app_id: i64,
    row_id: i64,
    score: &str,
) -> ServiceResult<()> {
    let app = own(db, student_id, app_id).await?;
    let score = score.trim();
    if score.is_empty() {
        let mut e = FieldErrors::new();
        e.add("score", "err.required");
        return Err(ServiceError::Invalid(e));
    }
    if score.chars().count() > 50 {
        let mut e = FieldErrors::new();
        e.add("score", "err.too_long");
        return Err(ServiceError::Invalid(e));
    }
    app.status()
        .apply(
            Action::BackfillScore,
            &Actor::student(true),
            &facts(&app, false),
        )
        .map_err(|e| ServiceError::Refused(e.code()))?;
    let mut tx = db.begin().await?;
    let n = tx
        .update(
            Query::update()
                .table("language_scores")
                .value("score", score)
                .value("backfilled_at", Utc::now())
                .and_where(Expr::col("id").eq(row_id))
                .and_where(Expr::col("application_id").eq(app_id))
                .and_where(Expr::col("score").eq("")),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::NotFound);
    }
    let n = tx
        .update(
            Query::update()
                .table("applications")
                .value("score_backfilled", true)
                .value("version", Expr::col("version").add(1))
                .and_where(Expr::col("id").eq(app_id))
                .and_where(Expr::col("score_backfilled").eq(false)),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::Conflict("err.backfill.done"));
    }
    history(
        &mut tx,
        app_id,
        Action::BackfillScore.code(),
        Some(app.status()),
        app.status(),
        "",
        who,
        score,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
