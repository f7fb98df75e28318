//! Who may apply to a program (SPEC §4 申请对象, 申请年级, 招生专业, GPA要求): the catalogue says
//! why a student is not eligible, and submit refuses an ineligible student. Also the per-round
//! limit (SPEC §5 本轮限报项目数, [`RoundLoad`]): how many active applications a student may hold
//! in one round, which the catalogue tells before 报名 and the state machine enforces on 提交.

use std::collections::BTreeMap;

use serde::Serialize;

use super::values::StudyLevel;

/// Tolerance for comparing GPAs held as floats (they have two decimals).
const GPA_EPSILON: f64 = 1e-9;

/// A program's conditions. An empty list means "no condition".
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProgramRules {
    /// 申请对象: the study levels admitted.
    pub levels: Vec<StudyLevel>,
    /// 申请年级: the grades admitted (as the registry writes them, e.g. `2022`).
    pub grades: Vec<String>,
    /// 招生专业: the major ids admitted.
    pub major_ids: Vec<i64>,
    /// GPA要求: the lowest GPA admitted.
    pub min_gpa: Option<f64>,
}

/// What the registry and profile say about a student; `None` when not known.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StudentFacts {
    /// 在读学历.
    pub level: Option<StudyLevel>,
    /// 年级.
    pub grade: Option<String>,
    /// 专业.
    pub major_id: Option<i64>,
    /// 平均绩点.
    pub gpa: Option<f64>,
    /// The active applications the student already holds, per round.
    pub rounds: RoundLoad,
}

/// 本轮限报项目数 when neither the program nor the office sets one: "每人限报 1 个项目" (seed 001).
pub const DEFAULT_ROUND_LIMIT: i64 = 1;

/// The active applications a student holds per round (a program's year), and the office's
/// limit. An application counts once it is submitted and until it ends without an exchange
/// (`Status::is_active`); a draft does not count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoundLoad {
    /// Round (program year) → active submitted applications in it.
    pub held: BTreeMap<i64, i64>,
    /// The office's 本轮限报项目数 (setting `max_active_per_round`), if set.
    pub configured_limit: Option<i64>,
}

impl RoundLoad {
    /// The limit that applies to a program: its own 限报项目数 when it sets a positive one,
    /// otherwise the office's when positive, otherwise [`DEFAULT_ROUND_LIMIT`].
    pub fn limit(&self, program_max: Option<i64>) -> i64 {
        program_max
            .filter(|n| *n > 0)
            .or(self.configured_limit.filter(|n| *n > 0))
            .unwrap_or(DEFAULT_ROUND_LIMIT)
    }

    /// The active applications held in `round`.
    pub fn held_in(&self, round: i64) -> i64 {
        self.held.get(&round).copied().unwrap_or(0)
    }

    /// The student may not submit another application in `round` to a program whose own
    /// limit is `program_max`: they already hold as many as it allows.
    pub fn is_full(&self, round: i64, program_max: Option<i64>) -> bool {
        self.held_in(round) >= self.limit(program_max)
    }
}

/// One reason a student may not apply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Ineligibility {
    /// The program is not open to the student's study level (or it is unknown).
    Level,
    /// The program is not open to the student's grade (or it is unknown).
    Grade,
    /// The program is not open to the student's major (or it is unknown).
    Major,
    /// The student's GPA is below the requirement.
    GpaTooLow {
        /// The GPA required.
        required: f64,
    },
    /// The program requires a GPA and the student has not given one.
    GpaUnknown {
        /// The GPA required.
        required: f64,
    },
}

impl Ineligibility {
    /// Every code, for the catalogue test.
    pub const ALL_CODES: [&'static str; 5] = [
        "err.eligibility.level",
        "err.eligibility.grade",
        "err.eligibility.major",
        "err.eligibility.gpa_too_low",
        "err.eligibility.gpa_unknown",
    ];

    /// The catalogue key of the reason. The GPA messages contain `{required}`, to be replaced
    /// by [`Self::required_gpa`].
    pub const fn code(&self) -> &'static str {
        match self {
            Ineligibility::Level => "err.eligibility.level",
            Ineligibility::Grade => "err.eligibility.grade",
            Ineligibility::Major => "err.eligibility.major",
            Ineligibility::GpaTooLow { .. } => "err.eligibility.gpa_too_low",
            Ineligibility::GpaUnknown { .. } => "err.eligibility.gpa_unknown",
        }
    }

    /// The GPA required, for the messages that mention it.
    pub const fn required_gpa(&self) -> Option<f64> {
        match self {
            Ineligibility::GpaTooLow { required } | Ineligibility::GpaUnknown { required } => {
                Some(*required)
            }
            _ => None,
        }
    }
}

/// Every reason `student` may not apply under `rules`; empty when eligible. A condition the
/// student's facts cannot meet because they are unknown counts as not met: the student is told,
/// and the office can correct the registry.
pub fn check(rules: &ProgramRules, student: &StudentFacts) -> Vec<Ineligibility> {
    let mut reasons = Vec::new();
    if !rules.levels.is_empty() && !student.level.is_some_and(|l| rules.levels.contains(&l)) {
        reasons.push(Ineligibility::Level);
    }
    if !rules.grades.is_empty()
        && !student
            .grade
            .as_deref()
            .is_some_and(|g| rules.grades.iter().any(|r| r.trim() == g.trim()))
    {
        reasons.push(Ineligibility::Grade);
    }
    if !rules.major_ids.is_empty()
        && !student
            .major_id
            .is_some_and(|m| rules.major_ids.contains(&m))
    {
        reasons.push(Ineligibility::Major);
    }
    if let Some(required) = rules.min_gpa {
        match student.gpa {
            None => reasons.push(Ineligibility::GpaUnknown { required }),
            Some(gpa) if gpa + GPA_EPSILON < required => {
                reasons.push(Ineligibility::GpaTooLow { required });
            }
            Some(_) => {}
        }
    }
    reasons
}

/// Whether `student` may apply under `rules`.
pub fn is_eligible(rules: &ProgramRules, student: &StudentFacts) -> bool {
    check(rules, student).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undergraduate() -> StudentFacts {
        StudentFacts {
            level: Some(StudyLevel::Undergraduate),
            grade: Some("2022".into()),
            major_id: Some(7),
            gpa: Some(3.3),
            ..StudentFacts::default()
        }
    }

    #[test]
    fn a_program_without_conditions_is_open_to_everyone() {
        assert!(is_eligible(
            &ProgramRules::default(),
            &StudentFacts::default()
        ));
    }

    #[test]
    fn a_student_meeting_every_condition_is_eligible() {
        let rules = ProgramRules {
            levels: vec![StudyLevel::Undergraduate, StudyLevel::Master],
            grades: vec!["2021".into(), "2022".into()],
            major_ids: vec![7, 8],
            min_gpa: Some(3.3),
        };
        assert_eq!(check(&rules, &undergraduate()), vec![]);
    }

    #[test]
    fn every_unmet_condition_is_reported() {
        let rules = ProgramRules {
            levels: vec![StudyLevel::Doctoral],
            grades: vec!["2020".into()],
            major_ids: vec![1],
            min_gpa: Some(3.5),
        };
        assert_eq!(
            check(&rules, &undergraduate()),
            vec![
                Ineligibility::Level,
                Ineligibility::Grade,
                Ineligibility::Major,
                Ineligibility::GpaTooLow { required: 3.5 },
            ]
        );
    }

    #[test]
    fn unknown_facts_do_not_meet_a_condition() {
        let rules = ProgramRules {
            levels: vec![StudyLevel::Master],
            grades: vec!["2022".into()],
            major_ids: vec![7],
            min_gpa: Some(3.0),
        };
        let reasons = check(&rules, &StudentFacts::default());
        assert_eq!(reasons.len(), 4);
        assert_eq!(reasons[3], Ineligibility::GpaUnknown { required: 3.0 });
        assert_eq!(reasons[3].code(), "err.eligibility.gpa_unknown");
        assert_eq!(reasons[3].required_gpa(), Some(3.0));
    }

    #[test]
    fn a_gpa_equal_to_the_requirement_is_enough() {
        // 1.1 + 2.2 is 3.3000000000000003 in floats; two decimals are what counts.
        let rules = ProgramRules {
            min_gpa: Some(1.1 + 2.2),
            ..ProgramRules::default()
        };
        let student = StudentFacts {
            gpa: Some(3.3),
            ..undergraduate()
        };
        assert!(is_eligible(&rules, &student));
    }

    #[test]
    fn the_round_limit_is_the_programs_then_the_offices_then_one() {
        let office = RoundLoad {
            configured_limit: Some(2),
            ..RoundLoad::default()
        };
        assert_eq!(office.limit(Some(3)), 3);
        assert_eq!(office.limit(None), 2);
        assert_eq!(
            office.limit(Some(0)),
            2,
            "a zero limit on the program is no limit set"
        );
        assert_eq!(RoundLoad::default().limit(None), DEFAULT_ROUND_LIMIT);
        let nonsense = RoundLoad {
            configured_limit: Some(-1),
            ..RoundLoad::default()
        };
        assert_eq!(nonsense.limit(None), DEFAULT_ROUND_LIMIT);
    }

    #[test]
    fn a_round_is_full_when_the_student_holds_as_many_applications_as_allowed() {
        let load = RoundLoad {
            held: BTreeMap::from([(2026, 1), (2027, 0)]),
            configured_limit: None,
        };
        assert!(load.is_full(2026, None));
        assert!(!load.is_full(2026, Some(2)), "the program allows two");
        assert!(!load.is_full(2027, None));
        assert!(!load.is_full(2025, None), "a round never applied in");
    }
}
