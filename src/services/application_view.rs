//! The read side of one application: what a viewer may see and do with it, decided here once.
//!
//! [`view`] returns, for a viewer (the applicant, or a member of staff) and an application, a
//! ready [`ApplicationView`]: the actions this viewer may take now (from the state machine, with
//! the facts of [`facts`]), the profile already redacted for this viewer, the current stage with
//! its name in both languages, the history and the labels of the coded fields. The student's
//! 申请查看, the staff's application page and the API all render that same value, so buttons,
//! masked numbers and wording cannot drift apart. An application the viewer may not see is
//! [`ServiceError::NotFound`].

use super::applications as lifecycle;
use super::review::{self, Reviewer};
use super::{ServiceError, ServiceResult};
use crate::crypto::DataKey;
use crate::db::Db;
use crate::db::applications::{self as apps, ApplicationRow, HistoryRow, SupplementRow};
use crate::db::dicts::{self, DictItem, kind};
use crate::db::programs::{self, PartnerSchool, ProgramRow};
use crate::db::students;
use crate::domain::profile::ProfileForm;
use crate::domain::redact;
use crate::domain::status::{Action, Actor, Facts, Status};
use crate::domain::values::{Gender, IdType, MaritalStatus};
use crate::domain::workflow::{Stage, Workflow};
pub use crate::i18n::Text;
use crate::i18n::{Lang, Phrase};

/// Who looks at an application.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// A student: sees only their own applications.
    Student { user_id: i64 },
    /// A member of staff: sees the submitted applications within their scope.
    Staff(Reviewer),
}

/// One line of 基本信息: the field's name and its value as shown (redacted, labelled).
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub value: Text,
}

/// One step of 进度跟踪.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub row: HistoryRow,
    /// The status the step led to.
    pub status: Status,
    /// What was done (通过, 提交 …).
    pub action: Text,
    /// The step as a person would say it: "学院审核 通过（王老师）", "补录分数：560".
    pub text: Text,
    /// The opinion or note that came with it; empty when the line says it all.
    pub opinion: Text,
}

/// Everything a viewer sees of one application, and what they may do with it.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub app: ApplicationRow,
    pub program: ProgramRow,
    pub status: Status,
    /// The workflow the application was submitted under.
    pub workflow: Option<Workflow>,
    /// The stage deciding now, while a review runs or the student revises.
    pub stage: Option<Stage>,
    pub facts: Facts,
    /// What this viewer may do now, from the state machine.
    pub actions: Vec<Action>,
    /// The profile as this viewer may see it (personal numbers masked, health left out).
    pub profile: ProfileForm,
    /// 基本信息, in display order.
    pub basic: Vec<Field>,
    pub supplements: Vec<SupplementRow>,
    /// 进度跟踪, oldest first.
    pub history: Vec<HistoryLine>,
}

impl ApplicationView {
    /// The current stage's name in both languages; empty outside a review.
    pub fn stage_name(&self) -> Text {
        self.stage
            .as_ref()
            .map(|s| Text::names(&s.name_zh, &s.name_en))
            .unwrap_or_default()
    }

    /// Whether the viewer may take `action` now.
    pub fn may(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }
}

/// The fields of 基本信息, in display order.
pub const BASIC_FIELDS: [&str; 12] = [
    "name_zh",
    "pinyin_surname",
    "pinyin_given",
    "gender",
    "birth_date",
    "id_number",
    "political_status",
    "mobile",
    "email",
    "emergency_name",
    "emergency_mobile",
    "emergency_relation",
];

/// The facts the state machine needs about `app`: the one place they are gathered, for every
/// viewer and every page.
pub async fn facts(
    db: &Db,
    app: &ApplicationRow,
    workflow: Option<&Workflow>,
) -> ServiceResult<Facts> {
    let open = apps::supplements(db, app.id)
        .await?
        .iter()
        .any(|s| s.fulfilled_at.is_none());
    let settings = crate::db::after_admission::settings(db, app.program_id).await?;
    let requests = crate::db::after_admission::requests(db, app.id).await?;
    let mut facts = lifecycle::facts(app, open);
    facts.requests = super::after_admission::request_facts(&requests, settings.as_ref());
    if let Some(w) = workflow
        && let Some(stage) = w.stage(app.stage_index)
    {
        facts.is_last_stage = w.is_last_of_phase(app.stage_index);
        facts.stage_phase = stage.phase;
    }
    Ok(facts)
}

/// The workflow template `app` was submitted under, if it still parses.
pub async fn workflow_of(db: &Db, app: &ApplicationRow) -> ServiceResult<Option<Workflow>> {
    Ok(match app.workflow_template_id {
        Some(id) => apps::template(db, id)
            .await?
            .and_then(|t| Workflow::parse(&t.stages).ok()),
        None => None,
    })
}

/// The stage `app` stands at while a review runs or the student revises what it returned.
fn current_stage(app: &ApplicationRow, workflow: Option<&Workflow>) -> Option<Stage> {
    let status = app.status();
    if status.review_phase().is_none() && status != Status::Returned {
        return None;
    }
    workflow.and_then(|w| w.stage(app.stage_index)).cloned()
}

/// What the applicant may do with their own `app` now (我的申请's 操作 menu).
pub async fn student_actions(db: &Db, app: &ApplicationRow) -> ServiceResult<Vec<Action>> {
    let workflow = workflow_of(db, app).await?;
    let facts = facts(db, app, workflow.as_ref()).await?;
    Ok(app
        .status()
        .available_actions(&Actor::student(true), &facts))
}

/// The application `id` as `viewer` sees it; `NotFound` when it is not theirs to see.
pub async fn view(
    db: &Db,
    key: &DataKey,
    viewer: &Viewer,
    id: i64,
) -> ServiceResult<ApplicationView> {
    let (app, workflow, facts, actions, sees_whole) = match viewer {
        Viewer::Student { user_id } => {
            let app = apps::own(db, *user_id, id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let workflow = workflow_of(db, &app).await?;
            let facts = facts(db, &app, workflow.as_ref()).await?;
            let actions = app
                .status()
                .available_actions(&Actor::student(true), &facts);
            (app, workflow, facts, actions, true)
        }
        Viewer::Staff(reviewer) => {
            let staff = review::load(db, reviewer, id).await?;
            (
                staff.app,
                staff.workflow,
                staff.facts,
                staff.actions,
                reviewer.is_office(),
            )
        }
    };
    let program = programs::by_id(db, app.program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let profile = redacted_profile(db, key, &app, sees_whole).await?;
    let kinds: Vec<&str> = DICT_FIELDS.iter().map(|(_, k)| *k).collect();
    let labels = dicts::labels(db, &kinds).await?;
    let basic = BASIC_FIELDS
        .iter()
        .map(|name| Field {
            name,
            value: shown(&labels, name, profile.field(name).unwrap_or_default()),
        })
        .collect();
    let schools = programs::partner_schools(db, app.program_id).await?;
    let history = apps::history(db, id)
        .await?
        .into_iter()
        .map(|row| history_line(row, workflow.as_ref(), &schools))
        .collect();
    Ok(ApplicationView {
        stage: current_stage(&app, workflow.as_ref()),
        status: app.status(),
        supplements: apps::supplements(db, id).await?,
        app,
        program,
        workflow,
        facts,
        actions,
        profile,
        basic,
        history,
    })
}

/// The profile shown with an application: the snapshot taken at submission (masked then), or
/// the live profile of a draft, masked here. Whoever is not the applicant or the office sees
/// phone numbers masked too, as in the exports.
async fn redacted_profile(
    db: &Db,
    key: &DataKey,
    app: &ApplicationRow,
    sees_whole: bool,
) -> ServiceResult<ProfileForm> {
    let mut p: ProfileForm = if app.submitted_at.is_some() {
        serde_json::from_str(&apps::profile_snapshot(db, app.id).await?).unwrap_or_default()
    } else {
        students::profile_form(db, key, app.student_id)
            .await
            .map_err(ServiceError::Unexpected)?
            .unwrap_or_default()
    };
    p.id_number = if app.submitted_at.is_some() {
        // Masked when the snapshot was taken; never unmask or mask twice.
        p.id_number
    } else {
        redact::id_document(&p.id_type, &p.id_number)
    };
    p.passport_no = redact::passport(&p.passport_no);
    p.health = redact::health(&p.health);
    if !sees_whole {
        p.mobile = redact::mobile(&p.mobile);
        p.emergency_mobile = redact::mobile(&p.emergency_mobile);
        p.home_phone = redact::phone(&p.home_phone);
        p.supervisor_phone = redact::phone(&p.supervisor_phone);
    }
    Ok(p)
}

/// The profile fields that hold an option code of a dictionary.
const DICT_FIELDS: [(&str, &str); 5] = [
    ("nationality", kind::COUNTRY),
    ("ethnicity", kind::ETHNICITY),
    ("admission_category", kind::ADMISSION_CATEGORY),
    ("political_status", kind::POLITICAL_STATUS),
    ("id_type", kind::ID_TYPE),
];

/// A profile value as shown: an option code as its label in both languages (a code no list
/// knows stays as it is), anything else as typed.
fn shown(labels: &[(String, DictItem)], field: &str, value: &str) -> Text {
    let fixed = match field {
        "gender" => Gender::from_code(value).map(Gender::label_key),
        "marital_status" => MaritalStatus::from_code(value).map(MaritalStatus::label_key),
        "id_type" => IdType::from_code(value).map(IdType::label_key),
        _ => None,
    };
    if let Some(key) = fixed {
        return Text::key(key);
    }
    DICT_FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, k)| {
            labels
                .iter()
                .find(|(kind, item)| kind == k && item.code == value.trim())
        })
        .map_or_else(
            || Text::plain(value),
            |(_, item)| Text::names(&item.label_zh, &item.label_en),
        )
}

/// A stage name stored in a history row (its Chinese name when it was written) in both
/// languages, from the workflow template; a name the template no longer has stays as it is.
fn stage_text(stored: &str, workflow: Option<&Workflow>) -> Text {
    if stored.is_empty() {
        return Text::key("history.review");
    }
    if stored == Lang::Zh.t("adm.stage") {
        return Text::key("adm.stage");
    }
    workflow
        .and_then(|w| w.stages().iter().find(|s| s.name_zh == stored))
        .map_or_else(
            || Text::plain(stored),
            |s| Text::names(&s.name_zh, &s.name_en),
        )
}

/// The school an admission line names: from the stored phrase, or from the Chinese text
/// older rows hold ("录取学校：…"), matched against the program's partner schools.
fn admitted_school(opinion: &str, schools: &[PartnerSchool]) -> Option<Text> {
    if let Some(p) = Phrase::parse(opinion) {
        return (p.key == "adm.history.school")
            .then(|| p.args.first().cloned())
            .flatten();
    }
    let prefix = Lang::Zh.t("adm.history.school").split("{}").next()?;
    let name = opinion.strip_prefix(prefix)?.trim();
    Some(schools.iter().find(|s| s.name_zh == name).map_or_else(
        || Text::plain(name),
        |s| Text::names(&s.name_zh, &s.name_en),
    ))
}

/// One history row as a person would say it, in both languages.
fn history_line(
    row: HistoryRow,
    workflow: Option<&Workflow>,
    schools: &[PartnerSchool],
) -> HistoryLine {
    let status = Status::from_code(&row.to_status).unwrap_or(Status::Draft);
    let action = Action::from_code(&row.action);
    let action_text = action.map_or_else(
        || Text::key(&format!("history.{}", row.action)),
        |a| Text::key(a.label_key()),
    );
    let stage = stage_text(&row.stage_name, workflow);
    let actor = Text::plain(&row.actor_name);
    let opinion = Phrase::read(&row.opinion);
    let status_text = Text::key(status.label_key());
    let (text, opinion) = match action {
        None if row.action == "create" => (Text::key("history.line.created"), opinion),
        None if row.action == "supplement_request" => (
            Text::fill("history.line.supplement_request", &[&stage, &actor]),
            opinion,
        ),
        Some(Action::Submit | Action::Resubmit) => {
            let key = match (action, row.stage_name.is_empty()) {
                (Some(Action::Submit), false) => "history.line.submitted_to",
                (Some(Action::Submit), true) => "history.line.submitted",
                (_, false) => "history.line.resubmitted_to",
                (_, true) => "history.line.resubmitted",
            };
            (Text::fill(key, &[&stage]), opinion)
        }
        Some(Action::WithdrawForEdit) => (Text::key("history.line.withdrawn"), opinion),
        Some(a @ (Action::Approve | Action::Reject | Action::ReturnForRevision)) => {
            let result = Text::key(&format!("history.result.{}", a.code()));
            (
                Text::fill("history.line.decided", &[&stage, &result, &actor]),
                opinion,
            )
        }
        Some(Action::BackfillScore) => (
            Text::fill("history.line.backfilled", &[&opinion]),
            Text::default(),
        ),
        Some(Action::UploadSupplement) => (
            Text::fill("history.line.supplement_uploaded", &[&opinion]),
            Text::default(),
        ),
        Some(Action::StaffEdit) => (Text::fill("history.line.staff_edit", &[&actor]), opinion),
        Some(Action::RecordAdmission(_) | Action::PublishAllocation(_)) => {
            match admitted_school(&row.opinion, schools) {
                Some(school) => (
                    Text::fill("history.line.admission_school", &[&status_text, &school]),
                    Text::default(),
                ),
                None => (
                    Text::fill("history.line.admission", &[&status_text]),
                    opinion,
                ),
            }
        }
        _ => (
            Text::fill("history.line.other", &[&action_text, &status_text]),
            opinion,
        ),
    };
    HistoryLine {
        row,
        status,
        action: action_text,
        text,
        opinion,
    }
}
