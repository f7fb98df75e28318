//! The workflow-template editor (SPEC §8): ordered stage rows in, a checked
//! [`Workflow`] out, saved as a NEW version — versions in use are never changed.

use std::collections::HashMap;

use chrono::Utc;
use sea_query::Query;

use super::STALE;
use super::form::{optional_text, required_text};
use crate::db::programs::{self as db, TemplateVersion};
use crate::db::{Db, DbError, Tx};
use crate::domain::FieldErrors;
use crate::domain::status::Role;
use crate::domain::values::ValueError;
use crate::domain::workflow::{Phase, Scope, Stage, Workflow, WorkflowError};
use crate::services::audit::{self, Who};
use crate::services::{ServiceError, ServiceResult};

/// One stage row of the editor, as posted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageForm {
    /// The stage's stable key (hidden); a new row gets one on save.
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub role: String,
    pub scope: String,
    pub phase: String,
}

impl StageForm {
    fn from_stage(s: &Stage) -> StageForm {
        StageForm {
            key: s.key.clone(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            role: s.role.code().to_owned(),
            scope: s.scope.code().to_owned(),
            phase: s.phase.code().to_owned(),
        }
    }
}

/// The template editor's form: the template's names, the version it was drawn from, and the
/// ordered stage rows (posted as `stage_<i>_<field>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowForm {
    /// The template's code (only typed when creating one).
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The version the editor started from (0 for a new template).
    pub based_on: String,
    pub stages: Vec<StageForm>,
}

/// What a button of the editor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorOp {
    Save,
    Add,
    Remove(usize),
    Up(usize),
    Down(usize),
}

impl EditorOp {
    /// `save`, `add`, `remove:2`, `up:1`, `down:0`; anything else is saving.
    pub fn parse(raw: &str) -> EditorOp {
        let (verb, index) = raw.split_once(':').unwrap_or((raw, ""));
        let index = index.parse::<usize>().ok();
        match (verb, index) {
            ("add", _) => EditorOp::Add,
            ("remove", Some(i)) => EditorOp::Remove(i),
            ("up", Some(i)) => EditorOp::Up(i),
            ("down", Some(i)) => EditorOp::Down(i),
            _ => EditorOp::Save,
        }
    }
}

/// The most stages a template may have.
const MAX_STAGES: usize = 30;

impl WorkflowForm {
    /// The editor showing a stored version (its stages; an unreadable list shows none).
    pub fn from_version(t: &TemplateVersion) -> WorkflowForm {
        let stages: Vec<Stage> = serde_json::from_str(&t.stages).unwrap_or_default();
        WorkflowForm {
            code: t.code.clone(),
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
            based_on: t.version.to_string(),
            stages: stages.iter().map(StageForm::from_stage).collect(),
        }
    }

    /// A new template: one 学院审核 and one 国际交流部审核 stage to start from.
    pub fn blank() -> WorkflowForm {
        WorkflowForm {
            based_on: "0".into(),
            stages: vec![
                StageForm {
                    key: "college_review".into(),
                    name_zh: "学院审核".into(),
                    name_en: "College review".into(),
                    role: Role::CollegeReviewer.code().into(),
                    scope: Scope::College.code().into(),
                    phase: Phase::Application.code().into(),
                },
                StageForm {
                    key: "office_review".into(),
                    name_zh: "国际交流部审核".into(),
                    name_en: "International office review".into(),
                    role: Role::InternationalOffice.code().into(),
                    scope: Scope::All.code().into(),
                    phase: Phase::Application.code().into(),
                },
            ],
            ..WorkflowForm::default()
        }
    }

    /// Reads a posted editor; rows come back in their index order.
    pub fn from_pairs(pairs: &[(String, String)]) -> WorkflowForm {
        let mut f = WorkflowForm::default();
        let mut rows: std::collections::BTreeMap<usize, StageForm> = Default::default();
        for (key, value) in pairs {
            match key.as_str() {
                "code" => f.code = value.clone(),
                "name_zh" => f.name_zh = value.clone(),
                "name_en" => f.name_en = value.clone(),
                "based_on" => f.based_on = value.clone(),
                other => {
                    let Some(rest) = other.strip_prefix("stage_") else {
                        continue;
                    };
                    let Some((index, field)) = rest.split_once('_') else {
                        continue;
                    };
                    let Ok(index) = index.parse::<usize>() else {
                        continue;
                    };
                    if index >= MAX_STAGES {
                        continue;
                    }
                    let row = rows.entry(index).or_default();
                    let v = value.clone();
                    match field {
                        "key" => row.key = v,
                        "name_zh" => row.name_zh = v,
                        "name_en" => row.name_en = v,
                        "role" => row.role = v,
                        "scope" => row.scope = v,
                        "phase" => row.phase = v,
                        _ => {}
                    }
                }
            }
        }
        f.stages = rows.into_values().collect();
        f
    }

    /// Applies an editing button (add / remove / move); saving changes nothing here.
    pub fn apply(&mut self, op: EditorOp) {
        let n = self.stages.len();
        match op {
            EditorOp::Save => {}
            EditorOp::Add if n < MAX_STAGES => {
                let phase = self
                    .stages
                    .last()
                    .map(|s| s.phase.clone())
                    .unwrap_or_else(|| Phase::Application.code().into());
                self.stages.push(StageForm {
                    role: Role::InternationalOffice.code().into(),
                    scope: Scope::All.code().into(),
                    phase,
                    ..StageForm::default()
                });
            }
            EditorOp::Add => {}
            EditorOp::Remove(i) if i < n => {
                self.stages.remove(i);
            }
            EditorOp::Up(i) if i > 0 && i < n => self.stages.swap(i - 1, i),
            EditorOp::Down(i) if i + 1 < n => self.stages.swap(i, i + 1),
            EditorOp::Remove(_) | EditorOp::Up(_) | EditorOp::Down(_) => {}
        }
    }
}

/// A key for a new stage: `stage_<n>`, not yet taken.
fn fresh_key(taken: &[String]) -> String {
    (1..)
        .map(|n| format!("stage_{n}"))
        .find(|k| !taken.contains(k))
        .unwrap_or_else(|| "stage".into())
}

fn key_is_valid(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A checked template: its names and stage list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowInput {
    pub name_zh: String,
    pub name_en: String,
    pub workflow: Workflow,
}

/// The form field an error of the stage list belongs beside.
fn workflow_error_field(e: &WorkflowError) -> String {
    match e {
        WorkflowError::Unnamed(i) => format!("stage_{i}_name_zh"),
        WorkflowError::PhaseOrder(i) => format!("stage_{i}_phase"),
        WorkflowError::NotAStaffRole(i) => format!("stage_{i}_role"),
        WorkflowError::CollegeScope(i) => format!("stage_{i}_scope"),
        WorkflowError::Malformed(_)
        | WorkflowError::NoApplicationStage
        | WorkflowError::DuplicateKey(_) => "stages".into(),
    }
}

/// Checks the editor: names, each row's choices, then the stage list as a whole
/// ([`Workflow::new`]), whose refusal is shown beside the row it names.
pub fn parse_workflow(f: &WorkflowForm) -> Result<WorkflowInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let name_zh = required_text(&mut e, "name_zh", &f.name_zh, 100);
    let name_en = optional_text(&mut e, "name_en", &f.name_en, 100);
    let mut keys: Vec<String> = f
        .stages
        .iter()
        .map(|s| s.key.trim().to_owned())
        .filter(|k| key_is_valid(k))
        .collect();
    let mut stages = Vec::with_capacity(f.stages.len());
    for (i, row) in f.stages.iter().enumerate() {
        let field = |name: &str| format!("stage_{i}_{name}");
        let name_zh = optional_text(&mut e, &field("name_zh"), &row.name_zh, 50);
        let name_en = optional_text(&mut e, &field("name_en"), &row.name_en, 100);
        let role = Role::from_code(&row.role).filter(|r| r.is_staff());
        let scope = Scope::from_code(&row.scope);
        let phase = Phase::from_code(&row.phase);
        for (name, ok) in [
            ("role", role.is_some()),
            ("scope", scope.is_some()),
            ("phase", phase.is_some()),
        ] {
            if !ok {
                e.add(field(name), ValueError::UnknownOption.code());
            }
        }
        let key = if key_is_valid(row.key.trim()) {
            row.key.trim().to_owned()
        } else {
            let k = fresh_key(&keys);
            keys.push(k.clone());
            k
        };
        if let (Some(role), Some(scope), Some(phase)) = (role, scope, phase) {
            stages.push(Stage {
                key,
                name_zh,
                name_en,
                role,
                scope,
                phase,
            });
        }
    }
    if !e.is_empty() {
        return Err(e);
    }
    match Workflow::new(stages) {
        Ok(workflow) => Ok(WorkflowInput {
            name_zh,
            name_en,
            workflow,
        }),
        Err(err) => {
            e.add(workflow_error_field(&err), err.code());
            Err(e)
        }
    }
}

/// What saving the editor did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new version was stored.
    Version(i64),
    /// Nothing differed from the newest version: no version was made.
    Unchanged,
}

/// Saves the editor as a NEW version of template `code`; the version it was drawn from must
/// still be the newest ([`STALE`] otherwise). Versions are never updated: applications keep
/// the one they were submitted under.
pub async fn save_workflow(
    db: &Db,
    who: &Who,
    code: &str,
    form: &WorkflowForm,
) -> ServiceResult<Saved> {
    let input = parse_workflow(form)?;
    let based_on: i64 = form.based_on.trim().parse().unwrap_or(-1);
    let mut tx = db.begin().await?;
    let latest = db::latest_template_in(&mut tx, code)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if latest.version != based_on {
        return Err(ServiceError::Conflict(STALE));
    }
    let stages = input.workflow.to_json();
    let unchanged = Workflow::parse(&latest.stages).is_ok_and(|w| w == input.workflow)
        && latest.name_zh == input.name_zh
        && latest.name_en == input.name_en;
    if unchanged {
        return Ok(Saved::Unchanged);
    }
    let version = latest.version + 1;
    insert_template(&mut tx, code, version, &input, &stages)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                ServiceError::Conflict(STALE)
            } else {
                e.into()
            }
        })?;
    audit::record(
        &mut tx,
        who,
        "workflow.save",
        &format!("workflow:{code}"),
        &format!("v{version}: {stages}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved::Version(version))
}

async fn insert_template(
    tx: &mut Tx,
    code: &str,
    version: i64,
    input: &WorkflowInput,
    stages: &str,
) -> Result<u64, DbError> {
    tx.insert(
        Query::insert()
            .into_table("workflow_templates")
            .columns([
                "code",
                "version",
                "name_zh",
                "name_en",
                "stages",
                "created_at",
            ])
            .values_panic([
                code.into(),
                version.into(),
                input.name_zh.clone().into(),
                input.name_en.clone().into(),
                stages.into(),
                Utc::now().into(),
            ]),
    )
    .await
}

/// A template code: 2–40 lower-case letters, digits or `_`, starting with a letter.
fn template_code_is_valid(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Creates a new template code at version 1; returns the code.
pub async fn create_workflow(db: &Db, who: &Who, form: &WorkflowForm) -> ServiceResult<String> {
    let code = form.code.trim().to_owned();
    let mut e = FieldErrors::new();
    if code.is_empty() {
        e.add("code", ValueError::Empty.code());
    } else if !template_code_is_valid(&code) {
        e.add("code", "manage.err.workflow_code");
    }
    let input = match parse_workflow(form) {
        Ok(input) => Some(input),
        Err(more) => {
            e.merge(more);
            None
        }
    };
    let Some(input) = input.filter(|_| e.is_empty()) else {
        return Err(ServiceError::Invalid(e));
    };
    let mut tx = db.begin().await?;
    let taken = || {
        let mut e = FieldErrors::new();
        e.add("code", "manage.err.workflow_code_taken");
        ServiceError::Invalid(e)
    };
    if db::latest_template_in(&mut tx, &code).await?.is_some() {
        return Err(taken());
    }
    let stages = input.workflow.to_json();
    insert_template(&mut tx, &code, 1, &input, &stages)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                taken()
            } else {
                e.into()
            }
        })?;
    audit::record(
        &mut tx,
        who,
        "workflow.create",
        &format!("workflow:{code}"),
        &format!("v1: {stages}"),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// Applications on each template version (by id), for the editor.
pub async fn template_counts(db: &Db) -> ServiceResult<HashMap<i64, db::ApplicationCounts>> {
    Ok(db::template_application_counts(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, role: &str, scope: &str, phase: &str) -> StageForm {
        StageForm {
            key: String::new(),
            name_zh: name.into(),
            name_en: String::new(),
            role: role.into(),
            scope: scope.into(),
            phase: phase.into(),
        }
    }

    #[test]
    fn the_editor_reads_rows_in_order_and_moves_them() {
        let pairs: Vec<(String, String)> = [
            ("name_zh", "流程"),
            ("based_on", "1"),
            ("stage_1_name_zh", "国际交流部审核"),
            ("stage_1_role", "international_office"),
            ("stage_0_name_zh", "学院审核"),
            ("stage_0_key", "college_review"),
            ("stage_x_name_zh", "ignored"),
            ("stage_99_name_zh", "ignored too"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut f = WorkflowForm::from_pairs(&pairs);
        assert_eq!(f.stages.len(), 2);
        assert_eq!(f.stages[0].key, "college_review");
        f.apply(EditorOp::Down(0));
        assert_eq!(f.stages[0].name_zh, "国际交流部审核");
        f.apply(EditorOp::Up(1));
        assert_eq!(f.stages[0].name_zh, "学院审核");
        f.apply(EditorOp::Up(0));
        f.apply(EditorOp::Down(1));
        assert_eq!(
            f.stages[1].name_zh, "国际交流部审核",
            "moves past an end do nothing"
        );
        f.apply(EditorOp::Add);
        assert_eq!(f.stages.len(), 3);
        f.apply(EditorOp::Remove(0));
        f.apply(EditorOp::Remove(7));
        assert_eq!(f.stages.len(), 2);
        assert_eq!(EditorOp::parse("up:3"), EditorOp::Up(3));
        assert_eq!(EditorOp::parse("remove:x"), EditorOp::Save);
    }

    #[test]
    fn a_valid_stage_list_gets_keys_for_new_rows() {
        let f = WorkflowForm {
            name_zh: "新流程".into(),
            stages: vec![
                StageForm {
                    key: "college_review".into(),
                    ..row("学院审核", "college_reviewer", "college", "application")
                },
                row("国际处审核", "international_office", "all", "application"),
                row("外事审核", "foreign_affairs", "all", "pre_departure"),
            ],
            ..WorkflowForm::default()
        };
        let w = parse_workflow(&f).expect("valid");
        let keys: Vec<&str> = w.workflow.stages().iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, vec!["college_review", "stage_1", "stage_2"]);
    }

    #[test]
    fn a_bad_stage_list_is_refused_beside_the_row_with_the_domains_message() {
        let check = |stages: Vec<StageForm>| {
            let f = WorkflowForm {
                name_zh: "流程".into(),
                stages,
                ..WorkflowForm::default()
            };
            let e = parse_workflow(&f).expect_err("invalid");
            e.iter()
                .map(|x| (x.field.clone(), x.code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            check(vec![row(
                "国际处",
                "international_office",
                "college",
                "application"
            )]),
            vec![("stage_0_scope".to_owned(), "err.workflow.college_scope")]
        );
        assert_eq!(
            check(vec![row("外事", "foreign_affairs", "all", "pre_departure")]),
            vec![("stages".to_owned(), "err.workflow.no_application_stage")]
        );
        assert_eq!(
            check(vec![]),
            vec![("stages".to_owned(), "err.workflow.no_application_stage")]
        );
        assert_eq!(
            check(vec![
                row("国际处", "international_office", "all", "application"),
                row("返校", "international_office", "all", "return"),
                row("行前", "foreign_affairs", "all", "pre_departure"),
            ]),
            vec![("stage_2_phase".to_owned(), "err.workflow.phase_order")]
        );
        assert_eq!(
            check(vec![row(" ", "international_office", "all", "application")]),
            vec![("stage_0_name_zh".to_owned(), "err.workflow.unnamed")]
        );
        assert_eq!(
            check(vec![row("学生", "student", "all", "application")]),
            vec![("stage_0_role".to_owned(), "err.option.unknown")]
        );
    }

    #[test]
    fn template_codes_are_short_lower_case_words() {
        assert!(template_code_is_valid("summer_2027"));
        for bad in ["a", "Summer", "2027summer", "summer-school", "学期"] {
            assert!(!template_code_is_valid(bad), "{bad}");
        }
    }
}
