//! Programs as students meet them: what stands between one student and 报名 on one program.
//!
//! The staff side (create, publish, close …) joins this module later; for now it holds the one
//! rule the catalogue, the detail page and the application flow share: [`apply_blockers`],
//! with the facts it needs about a student ([`student_facts`], the per-round load included).

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Query};

use crate::db::programs::ProgramRow;
use crate::db::{Db, DbResult, applications, dicts};
use crate::domain::application::Registration;
use crate::domain::eligibility::{self, RoundLoad, StudentFacts};
use crate::domain::values::StudyLevel;

/// Catalogue key: 申报时间 has not begun.
pub const NOT_YET_OPEN: &str = "programs.blocker.not_yet_open";
/// Catalogue key: 申报时间 is over (and no 补录), or the program is closed.
pub const CLOSED: &str = "programs.blocker.closed";
/// Catalogue key: the student already holds as many active applications in the program's
/// round as allowed (本轮限报项目数); the same message 提交 refuses with.
pub const ROUND_LIMIT: &str = "err.apply.limit_reached";

/// Every reason the student described by `facts` may not apply to `program` at `now`, as
/// catalogue keys: first the registration window ([`NOT_YET_OPEN`] / [`CLOSED`]), then the
/// per-round limit ([`ROUND_LIMIT`]), then each unmet condition of [`eligibility::check`] (`err.eligibility.*`; the GPA ones mention the
/// program's `min_gpa`). Empty means 报名 may be offered. After 申报结束时间 a program that
/// allows 补录 is still open: the application is marked late, which the page says.
pub fn apply_blockers(
    program: &ProgramRow,
    facts: &StudentFacts,
    now: DateTime<Utc>,
) -> Vec<&'static str> {
    let mut blockers = Vec::new();
    match program.registration(now) {
        Registration::NotYetOpen => blockers.push(NOT_YET_OPEN),
        Registration::Closed => blockers.push(CLOSED),
        Registration::Open | Registration::LateOnly => {}
    }
    if facts.rounds.is_full(program.year, program.max_per_student) {
        blockers.push(ROUND_LIMIT);
    }
    blockers.extend(
        eligibility::check(&program.rules(), facts)
            .iter()
            .map(|r| r.code()),
    );
    blockers
}

#[derive(Debug, sqlx::FromRow)]
struct FactsRow {
    level: String,
    grade: String,
    major_id: Option<i64>,
    gpa: String,
}

impl FactsRow {
    fn into_facts(self) -> StudentFacts {
        let grade = self.grade.trim();
        StudentFacts {
            level: StudyLevel::from_code(&self.level),
            grade: (!grade.is_empty()).then(|| grade.to_owned()),
            major_id: self.major_id,
            gpa: self
                .gpa
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|g| g.is_finite()),
            rounds: RoundLoad::default(),
        }
    }
}

/// What eligibility needs to know about a student (在读学历, 年级, 专业, 平均绩点, and the
/// active applications held per round with the office's limit); `None` when the person has no
/// student record. An empty or unreadable GPA is unknown.
pub async fn student_facts(db: &Db, user_id: i64) -> DbResult<Option<StudentFacts>> {
    let row: Option<FactsRow> = db
        .optional(
            &Query::select()
                .columns(["level", "grade", "major_id", "gpa"])
                .from("students")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut facts = row.into_facts();
    facts.rounds = round_load(db, user_id).await?;
    Ok(Some(facts))
}

/// The active applications `user_id` holds per round, with the office's 本轮限报项目数.
pub async fn round_load(db: &Db, user_id: i64) -> DbResult<RoundLoad> {
    Ok(RoundLoad {
        held: applications::active_submitted_by_round(db, user_id)
            .await?
            .into_iter()
            .collect(),
        configured_limit: dicts::setting(db, ROUND_LIMIT_SETTING)
            .await?
            .and_then(|v| v.trim().parse().ok()),
    })
}

/// The setting that holds the office's 本轮限报项目数.
pub const ROUND_LIMIT_SETTING: &str = "max_active_per_round";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
            .single()
            .expect("a real time")
    }

    pub(crate) fn program() -> ProgramRow {
        ProgramRow {
            id: 1,
            code: "P1".into(),
            name_zh: "项目".into(),
            name_en: String::new(),
            year: 2026,
            semesters: "[]".into(),
            start_date: String::new(),
            end_date: String::new(),
            duration: String::new(),
            nature: String::new(),
            region_kind: "international".into(),
            country: "GB".into(),
            program_type: "semester_exchange".into(),
            fee_mode: String::new(),
            fee: String::new(),
            term: "long".into(),
            teaching_mode: "offline".into(),
            description: String::new(),
            host_unit: String::new(),
            reg_start: at(1, 1),
            reg_end: at(20, 1),
            levels: "[]".into(),
            grades: "[]".into(),
            major_ids: "[]".into(),
            min_gpa: None,
            has_interview: false,
            allows_late: false,
            max_per_student: None,
            notice: String::new(),
            workflow_code: "default".into(),
            source: "school".into(),
            status: "published".into(),
            active: true,
            published_at: Some(at(1, 0)),
        }
    }

    fn master() -> StudentFacts {
        StudentFacts {
            level: Some(StudyLevel::Master),
            grade: Some("2024".into()),
            major_id: Some(3),
            gpa: Some(3.2),
            ..StudentFacts::default()
        }
    }

    #[test]
    fn an_eligible_student_has_no_blocker_while_registration_is_open() {
        assert!(apply_blockers(&program(), &master(), at(10, 0)).is_empty());
    }

    #[test]
    fn a_student_at_the_round_limit_is_told_before_the_eligibility_conditions() {
        let p = ProgramRow {
            min_gpa: Some(3.5),
            ..program()
        };
        let full = StudentFacts {
            rounds: RoundLoad {
                held: [(2026, 1)].into(),
                configured_limit: Some(1),
            },
            ..master()
        };
        assert_eq!(
            apply_blockers(&p, &full, at(10, 0)),
            vec![ROUND_LIMIT, "err.eligibility.gpa_too_low"]
        );
        // Another round, or a program that allows two, is still open to them.
        let next_year = ProgramRow {
            year: 2027,
            ..program()
        };
        assert!(apply_blockers(&next_year, &full, at(10, 0)).is_empty());
        let two = ProgramRow {
            max_per_student: Some(2),
            ..program()
        };
        assert!(apply_blockers(&two, &full, at(10, 0)).is_empty());
    }

    #[test]
    fn registration_not_yet_open_or_over_blocks() {
        assert_eq!(
            apply_blockers(&program(), &master(), at(1, 0)),
            vec![NOT_YET_OPEN]
        );
        assert_eq!(
            apply_blockers(&program(), &master(), at(21, 0)),
            vec![CLOSED]
        );
    }

    #[test]
    fn a_program_allowing_late_applications_stays_open_after_the_deadline() {
        let p = ProgramRow {
            allows_late: true,
            ..program()
        };
        assert!(apply_blockers(&p, &master(), at(25, 0)).is_empty());
        assert_eq!(p.registration(at(25, 0)), Registration::LateOnly);
    }

    #[test]
    fn a_closed_or_inactive_program_is_closed_even_inside_the_window() {
        let closed = ProgramRow {
            status: "closed".into(),
            allows_late: true,
            ..program()
        };
        assert_eq!(apply_blockers(&closed, &master(), at(10, 0)), vec![CLOSED]);
        let inactive = ProgramRow {
            active: false,
            ..program()
        };
        assert_eq!(
            apply_blockers(&inactive, &master(), at(10, 0)),
            vec![CLOSED]
        );
        let draft = ProgramRow {
            status: "draft".into(),
            ..program()
        };
        assert_eq!(draft.registration(at(10, 0)), Registration::Closed);
    }

    #[test]
    fn every_unmet_condition_is_listed_after_the_window() {
        let p = ProgramRow {
            levels: r#"["undergraduate"]"#.into(),
            grades: r#"["2022", 2023]"#.into(),
            major_ids: "[1, 2]".into(),
            min_gpa: Some(3.5),
            ..program()
        };
        assert_eq!(
            apply_blockers(&p, &master(), at(21, 0)),
            vec![
                CLOSED,
                "err.eligibility.level",
                "err.eligibility.grade",
                "err.eligibility.major",
                "err.eligibility.gpa_too_low",
            ]
        );
    }

    #[test]
    fn program_rules_read_the_json_lists_leniently() {
        let p = ProgramRow {
            levels: r#"["master", "nonsense"]"#.into(),
            grades: r#"[2023, "2024", ""]"#.into(),
            major_ids: r#"[5, "6", "x"]"#.into(),
            semesters: "not json".into(),
            ..program()
        };
        let rules = p.rules();
        assert_eq!(rules.levels, vec![StudyLevel::Master]);
        assert_eq!(rules.grades, vec!["2023".to_owned(), "2024".to_owned()]);
        assert_eq!(rules.major_ids, vec![5, 6]);
        assert!(p.semesters().is_empty());
    }

    #[test]
    fn a_students_empty_grade_and_gpa_are_unknown() {
        let facts = FactsRow {
            level: "doctoral".into(),
            grade: " ".into(),
            major_id: None,
            gpa: "".into(),
        }
        .into_facts();
        assert_eq!(
            facts,
            StudentFacts {
                level: Some(StudyLevel::Doctoral),
                ..StudentFacts::default()
            }
        );
        let facts = FactsRow {
            level: "x".into(),
            grade: "2023".into(),
            major_id: Some(1),
            gpa: "3.45".into(),
        }
        .into_facts();
        assert_eq!(facts.level, None);
        assert_eq!(facts.gpa, Some(3.45));
        assert_eq!(facts.grade.as_deref(), Some("2023"));
    }
}
