//! The review workbench (SPEC §8): what waits on a member of staff, what they may see, and
//! every decision (通过 / 不通过 / 退回修改), 补交材料 request, internal note and staff 编辑 /
//! 删除 of an application.
//!
//! Decisions go through one function, [`decide`]: the workflow template the application was
//! submitted under says who decides its current stage; the state machine says what the
//! decision leads to; the update is guarded on the version the reviewer saw, so of two
//! reviewers deciding at once exactly one wins and the other gets "已被他人处理" (409). The
//! history keeps every decision.

use sea_query::{Expr, ExprTrait, Query};

use super::applications::{STALE, history, transition};
use super::audit::{self, Who};
use super::messages::{Note, Notifier};
use super::{ServiceError, ServiceResult};
use crate::crypto::DataKey;
use crate::db::applications::{self as apps, ApplicationRow};
use crate::db::review::{self as queries, QueueFilter, QueueRow, Slot};
use crate::db::{Db, dicts, programs};
use crate::domain::FieldErrors;
use crate::domain::application::{ApplicationInfoForm, parse_application_info};
use crate::domain::status::{Action, Actor, Facts, Role, Status};
use crate::domain::workflow::{Reach, Stage, Workflow};
use crate::i18n::Text;
use crate::storage::Storage;

/// The longest opinion, note or request text accepted.
pub const MAX_TEXT: usize = 2000;

/// A member of staff as the review rules see them.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub user_id: i64,
    pub roles: Vec<Role>,
    /// Colleges reviewed for (college reviewers).
    pub college_ids: Vec<i64>,
}

impl Reviewer {
    /// University-wide offices see every submitted application; a college reviewer only those
    /// of their own colleges (SPEC §1).
    pub fn sees_every_college(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::InternationalOffice
                    | Role::Admin
                    | Role::AcademicAffairs
                    | Role::ForeignAffairs
            )
        })
    }

    /// Whether the application of a student of `college` is visible at all.
    pub fn may_see(&self, college: i64) -> bool {
        self.sees_every_college()
            || (self.roles.contains(&Role::CollegeReviewer) && self.college_ids.contains(&college))
    }

    /// The international office's rights.
    pub fn is_office(&self) -> bool {
        self.roles.contains(&Role::InternationalOffice) || self.roles.contains(&Role::Admin)
    }
}

/// A decision a reviewer records on the current stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 通过 / 推荐.
    Approve,
    /// 不通过 / 不推荐.
    Reject,
    /// 退回修改.
    Return,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Approve, Decision::Reject, Decision::Return];

    pub const fn action(self) -> Action {
        match self {
            Decision::Approve => Action::Approve,
            Decision::Reject => Action::Reject,
            Decision::Return => Action::ReturnForRevision,
        }
    }

    pub fn code(self) -> &'static str {
        self.action().code()
    }

    pub fn from_code(code: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.code() == code)
    }

    /// A refusal or a return needs the reason the student will read.
    pub const fn needs_opinion(self) -> bool {
        !matches!(self, Decision::Approve)
    }
}

/// Every stored template version that parses: (id, workflow).
async fn workflows(db: &Db) -> ServiceResult<Vec<(i64, Workflow)>> {
    let mut out = Vec::new();
    for (template_id, json) in queries::templates(db).await? {
        match Workflow::parse(&json) {
            Ok(w) => out.push((template_id, w)),
            Err(_) => tracing::warn!(template_id, "a stored workflow template does not parse"),
        }
    }
    Ok(out)
}

/// Every stage of these template versions that this person decides.
fn slots(workflows: &[(i64, Workflow)], reviewer: &Reviewer) -> Vec<Slot> {
    let mut out = Vec::new();
    for (template_id, workflow) in workflows {
        for (i, stage) in workflow.stages().iter().enumerate() {
            let Some(reach) = stage.reach(&reviewer.roles, &reviewer.college_ids) else {
                continue;
            };
            out.push(Slot {
                template_id: *template_id,
                stage_index: i64::try_from(i).unwrap_or(i64::MAX),
                status: match stage.phase {
                    crate::domain::status::Phase::Application => Status::UnderReview,
                    crate::domain::status::Phase::PreDeparture => Status::PreDeparture,
                    crate::domain::status::Phase::Return => Status::ReturnReview,
                },
                colleges: match reach {
                    Reach::Everyone => None,
                    Reach::Colleges(c) => Some(c),
                },
            });
        }
    }
    out
}

/// A page of the person's queue, its total and the counts per status.
pub struct Queue {
    pub rows: Vec<QueueRow>,
    pub total: i64,
    pub counts: Vec<(Status, i64)>,
    /// (template id, stage index) → the stage, for the 当前环节 column.
    pub stages: Vec<(i64, i64, Stage)>,
}

/// What waits on this person, filtered.
pub async fn queue(
    db: &Db,
    reviewer: &Reviewer,
    filter: &QueueFilter,
    page: u64,
) -> ServiceResult<Queue> {
    let workflows = workflows(db).await?;
    let slots = slots(&workflows, reviewer);
    let counts = queries::counts(db, &slots, filter).await?;
    let total = queries::total(&counts, filter);
    let rows = queries::queue(db, &slots, filter, page, total).await?;
    let stages = workflows
        .iter()
        .flat_map(|(template_id, w)| {
            w.stages()
                .iter()
                .enumerate()
                .map(|(i, s)| (*template_id, i64::try_from(i).unwrap_or(0), s.clone()))
        })
        .collect();
    Ok(Queue {
        rows,
        total,
        counts,
        stages,
    })
}

/// An application as a member of staff sees it, with its workflow position and what this
/// person may do to it now.
#[derive(Debug, Clone)]
pub struct StaffView {
    pub app: ApplicationRow,
    pub applicant_college: i64,
    pub workflow: Option<Workflow>,
    /// The stage the application is at, while a review phase runs or it waits on the student.
    pub stage: Option<Stage>,
    pub actor: Actor,
    pub facts: Facts,
    /// The actions this person may take now, in display order.
    pub actions: Vec<Action>,
}

impl StaffView {
    /// Whether the person decides the current stage now.
    pub fn decides(&self) -> bool {
        Decision::ALL
            .iter()
            .any(|d| self.actions.contains(&d.action()))
    }
}

/// Loads an application for a member of staff: `NotFound` when it is outside their scope or
/// was never submitted (a draft is the student's own business).
pub async fn load(db: &Db, reviewer: &Reviewer, app_id: i64) -> ServiceResult<StaffView> {
    let app = apps::by_id(db, app_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if app.submitted_at.is_none() {
        return Err(ServiceError::NotFound);
    }
    let college = queries::applicant_college(db, app.student_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !reviewer.may_see(college) {
        return Err(ServiceError::NotFound);
    }
    let workflow = super::application_view::workflow_of(db, &app).await?;
    let status = app.status();
    let stage = workflow
        .as_ref()
        .and_then(|w| w.stage(app.stage_index))
        .cloned();
    let in_review = stage
        .as_ref()
        .is_some_and(|s| status.review_phase() == Some(s.phase));
    let decides = in_review
        && stage
            .as_ref()
            .is_some_and(|s| s.decided_by(&reviewer.roles, &reviewer.college_ids, college));
    let facts = super::application_view::facts(db, &app, workflow.as_ref()).await?;
    let actor = Actor {
        roles: reviewer.roles.clone(),
        is_owner: app.student_id == reviewer.user_id,
        decides_current_stage: decides,
    };
    let actions = status
        .available_actions(&actor, &facts)
        .into_iter()
        .filter(|a| {
            matches!(
                a,
                Action::Approve | Action::Reject | Action::ReturnForRevision | Action::StaffEdit
            ) || *a == Action::StaffDelete
        })
        .collect();
    Ok(StaffView {
        app,
        applicant_college: college,
        workflow,
        stage,
        actor,
        facts,
        actions,
    })
}

/// Checks a free text: required or not, at most [`MAX_TEXT`] characters.
fn text(field: &'static str, value: &str, required: bool) -> ServiceResult<String> {
    let value = value.trim();
    let mut errors = FieldErrors::new();
    if required && value.is_empty() {
        errors.add(field, "err.required");
    } else if value.chars().count() > MAX_TEXT {
        errors.add(field, "err.review.too_long");
    }
    if errors.is_empty() {
        Ok(value.to_owned())
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// The message the student reads about a decision, in both languages.
fn decision_note(
    app: &ApplicationRow,
    program: &Text,
    decision: Decision,
    to: Status,
    stage: &Text,
    opinion: &str,
) -> Note {
    let what = match (decision, to) {
        (Decision::Approve, Status::Nominated) => Text::key("msg.review.nominated"),
        (Decision::Approve, Status::UnderReview | Status::PreDeparture | Status::ReturnReview) => {
            Text::fill("msg.review.next_stage", &[stage])
        }
        (Decision::Approve, Status::ReadyToDepart) => Text::key("msg.review.ready_to_depart"),
        (Decision::Approve, Status::Completed) => Text::key("msg.review.completed"),
        (Decision::Approve, _) => Text::fill("msg.review.approved", &[stage]),
        (Decision::Reject, _) => Text::fill("msg.review.rejected", &[stage]),
        (Decision::Return, _) => Text::fill("msg.review.returned", &[stage]),
    };
    let body = if opinion.is_empty() {
        what
    } else {
        Text::fill("msg.review.with_opinion", &[&what, &Text::plain(opinion)])
    };
    Note {
        user_id: app.student_id,
        title: Text::fill("msg.review.title", &[program]),
        body,
        link: format!("/applications/{}", app.id),
    }
}

/// Records a decision on the application's current stage. `seen_version` is the version the
/// reviewer's page showed: anything that happened since makes this a 409.
pub async fn decide(
    db: &Db,
    who: &Who,
    reviewer: &Reviewer,
    app_id: i64,
    seen_version: i64,
    decision: Decision,
    opinion: &str,
) -> ServiceResult<Status> {
    let opinion = text("opinion", opinion, decision.needs_opinion())?;
    let view = load(db, reviewer, app_id).await?;
    if view.app.version != seen_version {
        return Err(ServiceError::Conflict(STALE));
    }
    let stage = view
        .stage
        .clone()
        .ok_or(ServiceError::Refused("err.transition.stage_mismatch"))?;
    let next = match (&view.workflow, decision) {
        (Some(w), Decision::Approve) => w.next_in_phase(view.app.stage_index),
        _ => None,
    };
    let program = programs::by_id(db, view.app.program_id)
        .await?
        .map(|p| Text::names(&p.name_zh, &p.name_en))
        .unwrap_or_default();
    let mut tx = db.begin().await?;
    let to = transition(
        &mut tx,
        &view.app,
        seen_version,
        decision.action(),
        &view.actor,
        &view.facts,
        who,
        &stage.name_zh,
        &opinion,
        |q| {
            q.value("stage_decided", true);
            if let Some(next) = next {
                q.value("stage_index", next);
            }
        },
    )
    .await?;
    let next_name = next
        .and_then(|i| view.workflow.as_ref().and_then(|w| w.stage(i)))
        .map(|s| Text::names(&s.name_zh, &s.name_en));
    let stage_name = Text::names(&stage.name_zh, &stage.name_en);
    let mut note = decision_note(&view.app, &program, decision, to, &stage_name, &opinion);
    if let Some(next_name) = next_name {
        note.body = Text::fill("msg.review.next", &[&note.body, &next_name]);
    }
    Notifier::send(&mut tx, &note).await?;
    tx.commit().await?;
    Ok(to)
}

/// What happened to one application of a batch.
#[derive(Debug)]
pub struct BatchLine {
    pub app_id: i64,
    pub outcome: ServiceResult<Status>,
}

/// The same decision and opinion for several applications, each in its own transaction: an
/// application that moved meanwhile is reported, the others still decided.
pub async fn decide_batch(
    db: &Db,
    who: &Who,
    reviewer: &Reviewer,
    items: &[(i64, i64)],
    decision: Decision,
    opinion: &str,
) -> ServiceResult<Vec<BatchLine>> {
    // A missing opinion is the same mistake for every line: say it once, beside the field.
    text("opinion", opinion, decision.needs_opinion())?;
    let mut out = Vec::with_capacity(items.len());
    for &(app_id, version) in items {
        let outcome = decide(db, who, reviewer, app_id, version, decision, opinion).await;
        out.push(BatchLine { app_id, outcome });
    }
    Ok(out)
}

/// Asks the student for a named extra document (补交材料) without withdrawing the
/// application. Staff who decide the current stage, or the office, may ask.
pub async fn request_supplement(
    db: &Db,
    who: &Who,
    reviewer: &Reviewer,
    app_id: i64,
    name: &str,
    note: &str,
) -> ServiceResult<()> {
    let name = text("name", name, true)?;
    let note = text("note", note, false)?;
    if name.chars().count() > 100 {
        let mut e = FieldErrors::new();
        e.add("name", "err.review.too_long");
        return Err(ServiceError::Invalid(e));
    }
    let view = load(db, reviewer, app_id).await?;
    let status = view.app.status();
    if !(view.decides() || reviewer.is_office()) || status.is_terminal() || status == Status::Draft
    {
        return Err(ServiceError::Refused("err.review.supplement_not_now"));
    }
    let program = programs::by_id(db, view.app.program_id)
        .await?
        .map(|p| Text::names(&p.name_zh, &p.name_en))
        .unwrap_or_default();
    let mut tx = db.begin().await?;
    queries::insert_supplement_request(&mut tx, app_id, &name, &note, reviewer.user_id).await?;
    history(
        &mut tx,
        app_id,
        "supplement_request",
        Some(status),
        status,
        view.stage.as_ref().map_or("", |s| s.name_zh.as_str()),
        who,
        &if note.is_empty() {
            name.clone()
        } else {
            format!("{name}：{note}")
        },
    )
    .await?;
    Notifier::send(
        &mut tx,
        &Note {
            user_id: view.app.student_id,
            title: Text::fill("msg.supplement.title", &[&program]),
            body: if note.is_empty() {
                Text::fill("msg.supplement.body", &[&Text::plain(&name)])
            } else {
                Text::fill(
                    "msg.supplement.body_note",
                    &[&Text::plain(&name), &Text::plain(&note)],
                )
            },
            link: format!("/applications/{app_id}?tab=attachments"),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds an internal note, seen by staff only.
pub async fn add_note(
    db: &Db,
    who: &Who,
    reviewer: &Reviewer,
    app_id: i64,
    body: &str,
) -> ServiceResult<()> {
    let body = text("body", body, true)?;
    load(db, reviewer, app_id).await?;
    let mut tx = db.begin().await?;
    queries::insert_note(&mut tx, app_id, reviewer.user_id, &who.name, &body).await?;
    tx.commit().await?;
    Ok(())
}

/// Staff 编辑: the office corrects the 申请信息 of an application, with a reason recorded in the
/// history. The same checks as the student's form apply.
#[expect(clippy::too_many_arguments, reason = "the edit and its context")]
pub async fn staff_edit(
    db: &Db,
    key: &DataKey,
    who: &Who,
    reviewer: &Reviewer,
    app_id: i64,
    seen_version: i64,
    form: &ApplicationInfoForm,
    reason: &str,
) -> ServiceResult<()> {
    let reason_checked = text("reason", reason, true);
    let view = load(db, reviewer, app_id).await?;
    if !reviewer.is_office() {
        return Err(ServiceError::Forbidden);
    }
    let schools: Vec<i64> = programs::partner_schools(db, view.app.program_id)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let sources = dicts::codes(&dicts::items(db, dicts::kind::FUNDING_SOURCE).await?);
    let parsed = parse_application_info(form, &schools, &sources);
    let (parsed, reason) = match (parsed, reason_checked) {
        (Ok(parsed), Ok(reason)) => (parsed, reason),
        (Err(mut e), Err(ServiceError::Invalid(r))) => {
            e.merge(r);
            return Err(ServiceError::Invalid(e));
        }
        (Err(e), _) => return Err(ServiceError::Invalid(e)),
        (_, Err(e)) => return Err(e),
    };
    // The passport number is personal data: sealed in its own column, never in the JSON.
    let passport = if parsed.has_passport == Some(false) {
        String::new()
    } else {
        form.passport_no.trim().to_owned()
    };
    let mut stored = form.clone();
    stored.passport_no = String::new();
    let info = serde_json::to_string(&stored).map_err(|e| ServiceError::Unexpected(e.into()))?;
    let mut tx = db.begin().await?;
    transition(
        &mut tx,
        &view.app,
        seen_version,
        Action::StaffEdit,
        &view.actor,
        &view.facts,
        who,
        view.stage.as_ref().map_or("", |s| s.name_zh.as_str()),
        &reason,
        |q| {
            q.value("info", info)
                .value("passport_no_enc", key.seal(&passport));
        },
    )
    .await?;
    audit::record(
        &mut tx,
        who,
        "application.staff_edit",
        &format!("application:{app_id}"),
        &reason,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Staff 删除: the office removes an application. The record, its history and its files go;
/// the audit log keeps who, when, why and what the application was.
pub async fn staff_delete(
    db: &Db,
    storage: &Storage,
    who: &Who,
    reviewer: &Reviewer,
    app_id: i64,
    seen_version: i64,
    reason: &str,
) -> ServiceResult<()> {
    let view = load(db, reviewer, app_id).await?;
    if !reviewer.is_office() {
        return Err(ServiceError::Forbidden);
    }
    let reason = text("reason", reason, true)?;
    view.app
        .status()
        .apply(Action::StaffDelete, &view.actor, &view.facts)
        .map_err(|e| ServiceError::Refused(e.code()))?;
    let files = apps::attachments(db, app_id).await?;
    let trail: Vec<String> = apps::history(db, app_id)
        .await?
        .into_iter()
        .map(|h| {
            format!(
                "{} {} {}→{} {} {}",
                h.created_at.to_rfc3339(),
                h.actor_name,
                h.from_status.unwrap_or_default(),
                h.to_status,
                h.stage_name,
                crate::i18n::Phrase::read(&h.opinion).zh
            )
        })
        .collect();
    let program = programs::by_id(db, view.app.program_id)
        .await?
        .map(|p| Text::names(&p.name_zh, &p.name_en))
        .unwrap_or_default();
    let mut tx = db.begin().await?;
    let n = tx
        .delete(
            Query::delete()
                .from_table("applications")
                .and_where(Expr::col("id").eq(app_id))
                .and_where(Expr::col("version").eq(seen_version)),
        )
        .await?;
    if n == 0 {
        return Err(ServiceError::Conflict(STALE));
    }
    audit::record(
        &mut tx,
        who,
        "application.staff_delete",
        &format!("application:{app_id}"),
        &format!(
            "原因：{reason}；学生 {}；项目 {}；状态 {}；历史：{}",
            view.app.student_id,
            program.zh,
            view.app.status,
            trail.join(" | ")
        ),
    )
    .await?;
    Notifier::send(
        &mut tx,
        &Note {
            user_id: view.app.student_id,
            title: Text::fill("msg.deleted.title", &[&program]),
            body: Text::fill("msg.deleted.body", &[&Text::plain(&reason)]),
            link: "/applications".into(),
        },
    )
    .await?;
    tx.commit().await?;
    for f in files {
        if let Err(e) = storage.delete(&f.storage_key).await {
            tracing::warn!(error = %e, "could not remove a deleted application's file");
        }
    }
    Ok(())
}
