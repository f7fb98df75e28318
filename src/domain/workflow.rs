//! Review workflows as data (SPEC §8): a template is an ordered list of stages, each decided by
//! one role, within the applicant's college or university-wide, in one phase of the
//! application's life (application review, pre-departure, return).
//!
//! Templates are stored as JSON in versioned rows; an application keeps the row it was
//! submitted under, so editing a template creates a new version and never moves applications
//! already in flight. This module parses and checks a stage list and answers the questions the
//! review service asks: who decides stage *i*, which stage comes next, is this the last one.

use serde::{Deserialize, Serialize};

pub use super::status::{Phase, Role};

coded_enum! {
    /// Whose applications a stage's reviewers see.
    pub enum Scope: "scope" {
        /// Only applicants of the reviewer's own college(s) (学院审核).
        College = "college",
        /// Every applicant (国际交流部审核, 教务处, 外事部门).
        All = "all",
    }
}

/// One review stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Stable within a template: what history rows and queues refer to.
    pub key: String,
    pub name_zh: String,
    pub name_en: String,
    pub role: Role,
    pub scope: Scope,
    pub phase: Phase,
}

impl Stage {
    /// The stage's name in the interface language.
    pub fn name(&self, lang_is_english: bool) -> &str {
        if lang_is_english && !self.name_en.is_empty() {
            &self.name_en
        } else {
            &self.name_zh
        }
    }

    /// Which applicants a person with `roles`, reviewing for `reviewer_colleges`, decides
    /// this stage for; `None` when the stage is not theirs at all. An admin holds every right
    /// of the international office, so decides the office's stages too.
    pub fn reach(&self, roles: &[Role], reviewer_colleges: &[i64]) -> Option<Reach> {
        let has_role = roles.contains(&self.role)
            || (self.role == Role::InternationalOffice && roles.contains(&Role::Admin));
        match (has_role, self.scope) {
            (false, _) => None,
            (true, Scope::All) => Some(Reach::Everyone),
            (true, Scope::College) if reviewer_colleges.is_empty() => None,
            (true, Scope::College) => Some(Reach::Colleges(reviewer_colleges.to_vec())),
        }
    }

    /// Whether that person decides this stage for an applicant of `applicant_college`.
    pub fn decided_by(
        &self,
        roles: &[Role],
        reviewer_colleges: &[i64],
        applicant_college: i64,
    ) -> bool {
        match self.reach(roles, reviewer_colleges) {
            Some(Reach::Everyone) => true,
            Some(Reach::Colleges(c)) => c.contains(&applicant_college),
            None => false,
        }
    }
}

/// The applicants whose stage a reviewer decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Everyone,
    /// Applicants of these colleges only.
    Colleges(Vec<i64>),
}

/// Why a stage list cannot be a workflow. Each carries a catalogue key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("the stage list is not valid JSON: {0}")]
    Malformed(String),
    #[error("a workflow needs at least one application-review stage")]
    NoApplicationStage,
    #[error("stage {0} has no name")]
    Unnamed(usize),
    #[error("two stages share the key {0:?}")]
    DuplicateKey(String),
    #[error("stage {0} belongs to an earlier phase than the stage before it")]
    PhaseOrder(usize),
    #[error("stage {0} is decided by a role that decides nothing")]
    NotAStaffRole(usize),
    #[error("stage {0} is scoped to a college but not decided by college reviewers")]
    CollegeScope(usize),
}

impl WorkflowError {
    /// The catalogue key of the message shown to staff.
    pub const fn code(&self) -> &'static str {
        match self {
            WorkflowError::Malformed(_) => "err.workflow.malformed",
            WorkflowError::NoApplicationStage => "err.workflow.no_application_stage",
            WorkflowError::Unnamed(_) => "err.workflow.unnamed",
            WorkflowError::DuplicateKey(_) => "err.workflow.duplicate_key",
            WorkflowError::PhaseOrder(_) => "err.workflow.phase_order",
            WorkflowError::NotAStaffRole(_) => "err.workflow.not_staff",
            WorkflowError::CollegeScope(_) => "err.workflow.college_scope",
        }
    }

    /// Every code, for the catalogue test.
    pub const ALL_CODES: [&'static str; 7] = [
        "err.workflow.malformed",
        "err.workflow.no_application_stage",
        "err.workflow.unnamed",
        "err.workflow.duplicate_key",
        "err.workflow.phase_order",
        "err.workflow.not_staff",
        "err.workflow.college_scope",
    ];
}

/// A checked stage list: at least one application stage, phases in order, unique keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    stages: Vec<Stage>,
}

const fn phase_rank(p: Phase) -> u8 {
    match p {
        Phase::Application => 0,
        Phase::PreDeparture => 1,
        Phase::Return => 2,
    }
}

impl Workflow {
    /// Checks a stage list.
    pub fn new(stages: Vec<Stage>) -> Result<Workflow, WorkflowError> {
        if !stages.iter().any(|s| s.phase == Phase::Application) {
            return Err(WorkflowError::NoApplicationStage);
        }
        for (i, s) in stages.iter().enumerate() {
            if s.name_zh.trim().is_empty() {
                return Err(WorkflowError::Unnamed(i));
            }
            if stages[..i].iter().any(|o| o.key == s.key) {
                return Err(WorkflowError::DuplicateKey(s.key.clone()));
            }
            if i > 0 && phase_rank(s.phase) < phase_rank(stages[i - 1].phase) {
                return Err(WorkflowError::PhaseOrder(i));
            }
            if !s.role.is_staff() {
                return Err(WorkflowError::NotAStaffRole(i));
            }
            if s.scope == Scope::College && s.role != Role::CollegeReviewer {
                return Err(WorkflowError::CollegeScope(i));
            }
        }
        Ok(Workflow { stages })
    }

    /// Parses and checks the JSON stored in `workflow_templates.stages`.
    pub fn parse(json: &str) -> Result<Workflow, WorkflowError> {
        let stages: Vec<Stage> =
            serde_json::from_str(json).map_err(|e| WorkflowError::Malformed(e.to_string()))?;
        Workflow::new(stages)
    }

    /// The JSON to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.stages).expect("stages always serialise")
    }

    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The stage at `index`, if the index is inside the list.
    pub fn stage(&self, index: i64) -> Option<&Stage> {
        usize::try_from(index).ok().and_then(|i| self.stages.get(i))
    }

    /// The first stage of `phase`, if the template has one.
    pub fn first_of(&self, phase: Phase) -> Option<i64> {
        self.stages
            .iter()
            .position(|s| s.phase == phase)
            .and_then(|i| i64::try_from(i).ok())
    }

    /// The stage that follows `index` within the same phase; `None` when `index` is the last
    /// stage of its phase (approving it ends the phase).
    pub fn next_in_phase(&self, index: i64) -> Option<i64> {
        let here = self.stage(index)?;
        let next = self.stage(index + 1)?;
        (next.phase == here.phase).then_some(index + 1)
    }

    /// Whether approving the stage at `index` ends its phase.
    pub fn is_last_of_phase(&self, index: i64) -> bool {
        self.next_in_phase(index).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(key: &str, role: Role, scope: Scope, phase: Phase) -> Stage {
        Stage {
            key: key.into(),
            name_zh: format!("{key}审核"),
            name_en: key.into(),
            role,
            scope,
            phase,
        }
    }

    fn semester_exchange() -> Workflow {
        Workflow::new(vec![
            stage(
                "college",
                Role::CollegeReviewer,
                Scope::College,
                Phase::Application,
            ),
            stage(
                "office",
                Role::InternationalOffice,
                Scope::All,
                Phase::Application,
            ),
            stage(
                "academic_1",
                Role::AcademicAffairs,
                Scope::All,
                Phase::PreDeparture,
            ),
            stage(
                "academic_2",
                Role::AcademicAffairs,
                Scope::All,
                Phase::PreDeparture,
            ),
            stage(
                "foreign",
                Role::ForeignAffairs,
                Scope::All,
                Phase::PreDeparture,
            ),
            stage(
                "return",
                Role::InternationalOffice,
                Scope::All,
                Phase::Return,
            ),
        ])
        .expect("a valid workflow")
    }

    #[test]
    fn stages_advance_within_their_phase_and_stop_at_its_end() {
        let w = semester_exchange();
        assert_eq!(w.next_in_phase(0), Some(1));
        assert_eq!(
            w.next_in_phase(1),
            None,
            "the office ends the application phase"
        );
        assert!(w.is_last_of_phase(1));
        assert_eq!(w.next_in_phase(2), Some(3));
        assert_eq!(w.next_in_phase(4), None);
        assert!(w.is_last_of_phase(5));
        assert_eq!(w.next_in_phase(6), None, "outside the list");
        assert!(w.stage(-1).is_none());
    }

    #[test]
    fn each_phase_starts_at_its_first_stage() {
        let w = semester_exchange();
        assert_eq!(w.first_of(Phase::Application), Some(0));
        assert_eq!(w.first_of(Phase::PreDeparture), Some(2));
        assert_eq!(w.first_of(Phase::Return), Some(5));
        let short = Workflow::new(vec![stage(
            "office",
            Role::InternationalOffice,
            Scope::All,
            Phase::Application,
        )])
        .expect("valid");
        assert_eq!(short.first_of(Phase::PreDeparture), None);
    }

    #[test]
    fn a_college_stage_is_decided_only_by_reviewers_of_the_applicants_college() {
        let w = semester_exchange();
        let college = w.stage(0).expect("stage 0");
        assert!(college.decided_by(&[Role::CollegeReviewer], &[3, 4], 3));
        assert!(!college.decided_by(&[Role::CollegeReviewer], &[4], 3));
        assert!(!college.decided_by(&[Role::InternationalOffice], &[3], 3));
        assert!(
            !college.decided_by(&[Role::Admin], &[], 3),
            "admins are not college secretaries"
        );
    }

    #[test]
    fn an_office_stage_is_decided_by_the_office_and_by_admins() {
        let w = semester_exchange();
        let office = w.stage(1).expect("stage 1");
        assert!(office.decided_by(&[Role::InternationalOffice], &[], 1));
        assert!(office.decided_by(&[Role::Admin], &[], 1));
        assert!(!office.decided_by(&[Role::CollegeReviewer], &[1], 1));
        assert!(!office.decided_by(&[Role::Student], &[], 1));
        let academic = w.stage(2).expect("stage 2");
        assert!(academic.decided_by(&[Role::AcademicAffairs], &[], 9));
        assert!(!academic.decided_by(&[Role::Admin], &[], 9));
    }

    #[test]
    fn bad_stage_lists_are_refused_with_a_reason() {
        let office = || {
            stage(
                "office",
                Role::InternationalOffice,
                Scope::All,
                Phase::Application,
            )
        };
        assert_eq!(
            Workflow::new(vec![]).unwrap_err(),
            WorkflowError::NoApplicationStage
        );
        assert_eq!(
            Workflow::new(vec![office(), office()]).unwrap_err(),
            WorkflowError::DuplicateKey("office".into())
        );
        let mut unnamed = office();
        unnamed.name_zh = "  ".into();
        assert_eq!(
            Workflow::new(vec![unnamed]).unwrap_err(),
            WorkflowError::Unnamed(0)
        );
        assert_eq!(
            Workflow::new(vec![
                office(),
                stage("ret", Role::InternationalOffice, Scope::All, Phase::Return),
                stage("pre", Role::ForeignAffairs, Scope::All, Phase::PreDeparture),
            ])
            .unwrap_err(),
            WorkflowError::PhaseOrder(2)
        );
        assert_eq!(
            Workflow::new(vec![stage(
                "s",
                Role::Student,
                Scope::All,
                Phase::Application
            )])
            .unwrap_err(),
            WorkflowError::NotAStaffRole(0)
        );
        assert_eq!(
            Workflow::new(vec![stage(
                "o",
                Role::InternationalOffice,
                Scope::College,
                Phase::Application
            )])
            .unwrap_err(),
            WorkflowError::CollegeScope(0)
        );
        assert!(matches!(
            Workflow::parse("[{\"key\":1}]").unwrap_err(),
            WorkflowError::Malformed(_)
        ));
    }

    #[test]
    fn a_workflow_round_trips_through_its_stored_json() {
        let w = semester_exchange();
        assert_eq!(Workflow::parse(&w.to_json()).expect("parses"), w);
    }

    #[test]
    fn every_shipped_template_is_a_valid_workflow() {
        let sql = include_str!("../../migrations/0002_reference_data.sql");
        let mut seen = 0;
        for line in sql.lines().filter(|l| l.contains("\"phase\":")) {
            let start = line.find("'[").expect("a stage list") + 1;
            let end = line[start..].find("]'").expect("its end") + start + 1;
            let w = Workflow::parse(&line[start..end]).expect("a shipped template parses");
            assert_eq!(w.stages()[0].key, "college_review", "{line}");
            seen += 1;
        }
        assert_eq!(seen, 5, "semester, short-term, dual degree, 港澳台, 自联");
    }

    mod generated_text {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_stored_text_is_read_as_a_workflow_or_refused_without_a_panic(
                text in prop_oneof![
                    ".{0,80}",
                    "\\[(\\{\"key\":\"[a-z]{0,4}\",\"role\":\"[a-z_]{0,12}\",\"scope\":\"[a-z]{0,8}\",\"phase\":\"[a-z]{0,12}\"\\},?){0,4}\\]",
                ],
            ) {
                if let Ok(workflow) = Workflow::parse(&text) {
                    prop_assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
                    drop(workflow);
                }
            }
        }
    }
}
