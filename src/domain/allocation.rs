//! 平行志愿: allocating a program's partner-school places by parallel choices (SPEC §8).
//!
//! Pure: the input is the program's nominated applicants (score parts, first and second
//! choice, submission time), its partner schools (推荐名额 and the places already filled by
//! earlier results) and the office's overrides; the output is one [`Line`] per applicant with
//! its rank, result, school and an explanation made of catalogue keys with arguments.
//!
//! The rules, in order:
//! 1. Rank by the configured [`ScoreSettings`], highest first. An applicant missing a part of
//!    the score ranks after every scored applicant, and the line says which part is missing.
//!    Ties go to the earlier submission, then to the lower application id, so the same data
//!    always gives the same allocation whatever order it was read in.
//! 2. The office's overrides are decisions: they are placed first and take their places even
//!    beyond a quota, in which case the line says so.
//! 3. Everybody else, in rank order, gets the first choice while it has room, else the second,
//!    else 待调剂 (adjustment).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::FieldErrors;
use super::status::AdmissionResult;
use super::values::{Gpa, Percentage};

coded_enum! {
    /// How applicants are ranked.
    #[derive(Default)]
    pub enum ScoreRule: "alloc.rule" {
        /// By GPA.
        #[default]
        Gpa = "gpa",
        /// By 加权平均分.
        WeightedAverage = "weighted_avg",
        /// By the score of one language exam.
        Language = "language",
        /// By a weighted mix of the three, each as a share of its full mark.
        Mix = "mix",
    }
}

coded_enum! {
    /// A part of an applicant's score.
    pub enum Component: "alloc.component" {
        /// GPA.
        Gpa = "gpa",
        /// 加权平均分.
        WeightedAverage = "weighted_avg",
        /// 外语成绩 of the configured exam.
        Language = "language",
    }
}

/// The most a number in a score field may be, in hundredths (TOEIC 990, GMAT 800 … fit).
const MAX_POINTS: u32 = 1_000_000;

/// The usual full mark of an exam of the `exam_type` dictionary, in hundredths, offered when
/// the office leaves 满分 empty.
pub fn usual_full_mark(exam_type: &str) -> Option<u32> {
    let points = match exam_type {
        "cet4" | "cet6" => 710,
        "tem4" | "tem8" | "delf" | "dalf" | "goethe" | "dele" => 100,
        "toefl" => 120,
        "ielts" => 9,
        "gre" => 340,
        "gmat" => 800,
        "duolingo" => 160,
        "jlpt_n1" | "jlpt_n2" | "jlpt_n3" | "jlpt_n4" | "jlpt_n5" => 180,
        "topik" => 300,
        "tcf" => 699,
        "testdaf" => 20,
        _ => return None,
    };
    Some(points * 100)
}

/// Parses a plain decimal (`6.5`, `710`, full-width digits too) into hundredths; more than two
/// decimals are cut, not rounded (a score is never made higher than written).
fn parse_points(run: &str) -> Option<u32> {
    let (int, frac) = run.split_once('.').unwrap_or((run, ""));
    if int.is_empty() || int.len() > 7 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int: u32 = int.parse().ok()?;
    let frac: u32 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u32>().ok()? * 10,
        _ => frac[..2].parse().ok()?,
    };
    let points = int.checked_mul(100)?.checked_add(frac)?;
    (points <= MAX_POINTS).then_some(points)
}

/// Full-width digits and point to ASCII, so that `６.５` reads as `6.5`.
fn ascii_digit(c: char) -> char {
    match c {
        '０'..='９' => {
            char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
        }
        '．' => '.',
        _ => c,
    }
}

/// The score a free-text 考试成绩 stands for, in hundredths: the first number in the text that
/// is not part of a name. `IELTS 6.5` → 650, `CET-6 565` → 56500, `N1 150分` → 15000,
/// `总分580` → 58000, `6.5 (L7.0 R6.5)` → 650. `None` when there is no such number.
pub fn language_points(text: &str) -> Option<u32> {
    let chars: Vec<char> = text.chars().map(ascii_digit).collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
            i += 1;
        }
        // A number glued to a letter or a hyphen names something (N1, CET-6, L7.0).
        let named =
            start > 0 && (chars[start - 1].is_ascii_alphabetic() || chars[start - 1] == '-');
        if named {
            continue;
        }
        let run: String = chars[start..i].iter().collect();
        let run = run.trim_end_matches('.');
        if let Some(points) = parse_points(run) {
            return Some(points);
        }
    }
    None
}

/// An applicant's score parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Scores {
    /// GPA.
    pub gpa: Option<Gpa>,
    /// 加权平均分.
    pub weighted_avg: Option<Percentage>,
    /// The best score of the configured exam, in hundredths (see [`language_points`]).
    pub language: Option<u32>,
}

impl Scores {
    /// The part `c` in hundredths, if known.
    pub fn part(&self, c: Component) -> Option<u32> {
        match c {
            Component::Gpa => self.gpa.map(|g| g.hundredths()),
            Component::WeightedAverage => self.weighted_avg.map(|p| p.hundredths()),
            Component::Language => self.language,
        }
    }
}

/// A rank score: `points / scale`. Within one allocation every score has the same scale, so
/// comparing points compares scores; integers keep the ranking exact (no float ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Score {
    points: u64,
    scale: u64,
}

impl Score {
    /// The raw points (for ordering and fingerprints).
    pub fn points(&self) -> u64 {
        self.points
    }

    /// The score with two decimals, rounded half up: `3.65`, `86.42`.
    pub fn display(&self) -> String {
        let scale = self.scale.max(1);
        let hundredths =
            (u128::from(self.points) * 100 + u128::from(scale) / 2) / u128::from(scale);
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

/// The office's score settings of a program, as posted: every field a raw string.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct SettingsForm {
    /// A [`ScoreRule`] code.
    pub rule: String,
    /// Weight of GPA in the mix, a whole percentage.
    pub weight_gpa: String,
    /// Weight of 加权平均分 in the mix.
    pub weight_avg: String,
    /// Weight of the language score in the mix.
    pub weight_language: String,
    /// The `exam_type` code whose score counts as the language score.
    pub language_exam: String,
    /// The GPA scale's full mark (4.00, 5.00 …), for the mix.
    pub gpa_full: String,
    /// The exam's full mark (IELTS 9, TOEFL 120 …), for the mix.
    pub language_full: String,
}

/// How a program's applicants are scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreSettings {
    pub rule: ScoreRule,
    /// Whole percentages; only the mix uses them, and there they add up to 100.
    pub weight_gpa: u32,
    pub weight_avg: u32,
    pub weight_language: u32,
    /// The `exam_type` code whose best score counts (empty when no language score is used).
    pub language_exam: String,
    /// Hundredths: 400 for a 4.0 scale.
    pub gpa_full: u32,
    /// Hundredths: 900 for IELTS.
    pub language_full: u32,
}

impl Default for ScoreSettings {
    /// Rank by GPA; the mix, once chosen, starts at 50 / 30 / 20 with IELTS out of 9 and GPA
    /// out of 4.
    fn default() -> Self {
        ScoreSettings {
            rule: ScoreRule::Gpa,
            weight_gpa: 50,
            weight_avg: 30,
            weight_language: 20,
            language_exam: "ielts".into(),
            gpa_full: 400,
            language_full: 900,
        }
    }
}

impl ScoreSettings {
    /// Every error code a settings parse can give, for the catalogue test.
    pub const ERROR_CODES: [&'static str; 5] = [
        "alloc.err.rule",
        "alloc.err.weight",
        "alloc.err.weight_sum",
        "alloc.err.exam",
        "alloc.err.full_mark",
    ];

    /// The form as it would be posted back.
    pub fn form(&self) -> SettingsForm {
        let hundredths = |h: u32| {
            if h.is_multiple_of(100) {
                (h / 100).to_string()
            } else {
                format!("{}.{:02}", h / 100, h % 100)
            }
        };
        SettingsForm {
            rule: self.rule.code().into(),
            weight_gpa: self.weight_gpa.to_string(),
            weight_avg: self.weight_avg.to_string(),
            weight_language: self.weight_language.to_string(),
            language_exam: self.language_exam.clone(),
            gpa_full: format!("{:.2}", f64::from(self.gpa_full) / 100.0),
            language_full: hundredths(self.language_full),
        }
    }

    /// Parses the posted settings, every error at once. `exam_types` are the codes of the
    /// `exam_type` dictionary. Weights must be whole numbers 0–100 and, for the mix, add up to
    /// 100; the exam is required when its score counts; a full mark left empty takes the usual
    /// one ([`usual_full_mark`], 4.00 for GPA).
    pub fn parse(form: &SettingsForm, exam_types: &[String]) -> Result<ScoreSettings, FieldErrors> {
        let mut e = FieldErrors::new();
        let defaults = ScoreSettings::default();
        let rule = ScoreRule::from_code(&form.rule);
        if rule.is_none() {
            e.add("rule", "alloc.err.rule");
        }
        let rule = rule.unwrap_or_default();
        let mut weight = |field: &str, raw: &str, default: u32| -> u32 {
            let raw = raw.trim();
            if raw.is_empty() {
                return if rule == ScoreRule::Mix { 0 } else { default };
            }
            match raw.parse::<u32>() {
                Ok(w) if w <= 100 => w,
                _ => {
                    e.add(field, "alloc.err.weight");
                    default
                }
            }
        };
        let weight_gpa = weight("weight_gpa", &form.weight_gpa, defaults.weight_gpa);
        let weight_avg = weight("weight_avg", &form.weight_avg, defaults.weight_avg);
        let weight_language = weight(
            "weight_language",
            &form.weight_language,
            defaults.weight_language,
        );
        let mix = rule == ScoreRule::Mix;
        if mix && e.is_empty() && weight_gpa + weight_avg + weight_language != 100 {
            e.add("weight_gpa", "alloc.err.weight_sum");
        }
        let uses_language = rule == ScoreRule::Language || (mix && weight_language > 0);
        let language_exam = form.language_exam.trim().to_owned();
        if language_exam.is_empty() {
            if uses_language {
                e.add("language_exam", "err.required");
            }
        } else if !exam_types.contains(&language_exam) {
            e.add("language_exam", "alloc.err.exam");
        }

        let gpa_full = match form.gpa_full.trim() {
            "" => defaults.gpa_full,
            raw => match Gpa::parse(raw) {
                Ok(g) if g.hundredths() > 0 => g.hundredths(),
                _ => {
                    e.add("gpa_full", "alloc.err.full_mark");
                    defaults.gpa_full
                }
            },
        };
        let language_full = match form.language_full.trim() {
            "" => match usual_full_mark(&language_exam) {
                Some(full) => full,
                None if mix && weight_language > 0 => {
                    e.add("language_full", "err.required");
                    0
                }
                None => 0,
            },
            raw => match parse_points(raw) {
                Some(full) if full > 0 => full,
                _ => {
                    e.add("language_full", "alloc.err.full_mark");
                    0
                }
            },
        };
        e.into_result(ScoreSettings {
            rule,
            weight_gpa,
            weight_avg,
            weight_language,
            language_exam,
            gpa_full,
            language_full,
        })
    }

    /// The parts this rule needs, each with its weight (percent) and full mark (hundredths).
    fn parts(&self) -> Vec<(Component, u64, u64)> {
        match self.rule {
            ScoreRule::Gpa => vec![(Component::Gpa, 100, 0)],
            ScoreRule::WeightedAverage => vec![(Component::WeightedAverage, 100, 0)],
            ScoreRule::Language => vec![(Component::Language, 100, 0)],
            ScoreRule::Mix => [
                (Component::Gpa, self.weight_gpa, self.gpa_full),
                (Component::WeightedAverage, self.weight_avg, 10_000),
                (
                    Component::Language,
                    self.weight_language,
                    self.language_full,
                ),
            ]
            .into_iter()
            .filter(|(_, w, _)| *w > 0)
            .map(|(c, w, full)| (c, u64::from(w), u64::from(full)))
            .collect(),
        }
    }

    /// Whether the rule looks at `c` at all.
    pub fn uses(&self, c: Component) -> bool {
        self.parts().iter().any(|(p, ..)| *p == c)
    }

    /// The applicant's score, or the parts it misses. A single-part rule scores the part
    /// itself (GPA 3.65 → 3.65); the mix scores out of 100: each part as a share of its full
    /// mark (capped at the full mark), weighted.
    pub fn score(&self, s: &Scores) -> Result<Score, Vec<Component>> {
        let parts = self.parts();
        let missing: Vec<Component> = parts
            .iter()
            .filter(|(c, ..)| s.part(*c).is_none())
            .map(|(c, ..)| *c)
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        if self.rule != ScoreRule::Mix {
            let value = parts
                .first()
                .and_then(|(c, ..)| s.part(*c))
                .unwrap_or_default();
            return Ok(Score {
                points: u64::from(value),
                scale: 100,
            });
        }
        // Each part as a share in millionths, times its weight in percent: out of 100 × 10⁶.
        const SHARE: u64 = 1_000_000;
        let points = parts
            .iter()
            .map(|(c, weight, full)| {
                let value = u64::from(s.part(*c).unwrap_or_default());
                let share = if *full == 0 {
                    0
                } else {
                    value.min(*full) * SHARE / full
                };
                weight * share
            })
            .sum();
        Ok(Score {
            points,
            scale: SHARE,
        })
    }
}

/// One applicant as the allocator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// The application id.
    pub id: i64,
    /// When it was submitted: the earlier wins a tie.
    pub submitted_at: DateTime<Utc>,
    pub scores: Scores,
    /// 第一志愿: a partner-school id.
    pub first: Option<i64>,
    /// 第二志愿.
    pub second: Option<i64>,
}

/// A partner school of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct School {
    pub id: i64,
    /// 推荐名额; 0 means no places.
    pub quota: i64,
    /// Places already filled by earlier results (published or recorded one by one).
    pub taken: i64,
}

/// An argument of an explanation, rendered by the web layer in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// A partner school, by id.
    School(i64),
    /// A number (a quota).
    Count(i64),
    /// An admission result's label.
    Result(AdmissionResult),
    /// Score parts' labels, joined.
    Components(Vec<Component>),
}

/// One clause of an explanation: a catalogue key whose `{}` are filled by `args` in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub key: &'static str,
    pub args: Vec<Arg>,
}

impl Why {
    fn plain(key: &'static str) -> Why {
        Why {
            key,
            args: Vec::new(),
        }
    }

    /// Every key an explanation can use, for the catalogue test.
    pub const KEYS: [&'static str; 16] = [
        "alloc.why.take_first",
        "alloc.why.take_second",
        "alloc.why.adjust",
        "alloc.why.first.not_chosen",
        "alloc.why.first.not_offered",
        "alloc.why.first.no_quota",
        "alloc.why.first.full",
        "alloc.why.second.not_chosen",
        "alloc.why.second.not_offered",
        "alloc.why.second.no_quota",
        "alloc.why.second.full",
        "alloc.why.override",
        "alloc.why.override_over_quota",
        "alloc.why.override_ignored",
        "alloc.why.missing_score",
        "alloc.why.ranked_last",
    ];
}

/// Why a choice could not be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unavailable {
    NotChosen,
    NotOffered,
    NoQuota,
    Full,
}

impl Unavailable {
    fn why(self, first: bool) -> Why {
        Why::plain(match (first, self) {
            (true, Unavailable::NotChosen) => "alloc.why.first.not_chosen",
            (true, Unavailable::NotOffered) => "alloc.why.first.not_offered",
            (true, Unavailable::NoQuota) => "alloc.why.first.no_quota",
            (true, Unavailable::Full) => "alloc.why.first.full",
            (false, Unavailable::NotChosen) => "alloc.why.second.not_chosen",
            (false, Unavailable::NotOffered) => "alloc.why.second.not_offered",
            (false, Unavailable::NoQuota) => "alloc.why.second.no_quota",
            (false, Unavailable::Full) => "alloc.why.second.full",
        })
    }
}

/// One applicant's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub application_id: i64,
    /// 1 for the best-ranked applicant.
    pub rank: usize,
    /// `None` when a part is missing (see `missing`).
    pub score: Option<Score>,
    /// The parts of the score the applicant lacks (ranked last because of them).
    pub missing: Vec<Component>,
    pub result: AdmissionResult,
    /// The school admitted to (first or second choice), else `None`.
    pub school_id: Option<i64>,
    /// The office's override decided this line.
    pub overridden: bool,
    /// The override placed the applicant beyond the school's quota.
    pub over_quota: bool,
    /// The explanation, clause by clause.
    pub why: Vec<Why>,
}

/// How a school's places were used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchoolUse {
    pub id: i64,
    pub quota: i64,
    pub taken: i64,
    /// Placed by this allocation (overrides included).
    pub placed: i64,
}

impl SchoolUse {
    /// Places left after this allocation (negative when overrides went beyond the quota).
    pub fn left(&self) -> i64 {
        self.quota - self.taken - self.placed
    }
}

/// The whole allocation: lines in rank order and the schools' use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub lines: Vec<Line>,
    pub schools: Vec<SchoolUse>,
}

/// Ranks the applicants and allocates the places. See the module documentation for the
/// rules. `overrides` maps an application id to the result the office fixed for it; an
/// override to a choice the applicant did not make (or a school not in the program) cannot be
/// honoured: it is ignored and the line says so.
pub fn allocate(
    settings: &ScoreSettings,
    applicants: &[Applicant],
    schools: &[School],
    overrides: &BTreeMap<i64, AdmissionResult>,
) -> Allocation {
    // Rank: scored first, best score first, earlier submission, lower id.
    let mut ranked: Vec<(&Applicant, Result<Score, Vec<Component>>)> = applicants
        .iter()
        .map(|a| (a, settings.score(&a.scores)))
        .collect();
    ranked.sort_by(|(a, sa), (b, sb)| {
        let key = |s: &Result<Score, Vec<Component>>| match s {
            Ok(score) => (false, std::cmp::Reverse(score.points())),
            Err(_) => (true, std::cmp::Reverse(0)),
        };
        key(sa)
            .cmp(&key(sb))
            .then(a.submitted_at.cmp(&b.submitted_at))
            .then(a.id.cmp(&b.id))
    });

    let by_id: BTreeMap<i64, School> = schools.iter().map(|s| (s.id, *s)).collect();
    let mut placed: BTreeMap<i64, i64> = BTreeMap::new();
    let has_room = |placed: &BTreeMap<i64, i64>, choice: Option<i64>| -> Result<i64, Unavailable> {
        let id = choice.ok_or(Unavailable::NotChosen)?;
        let school = by_id.get(&id).ok_or(Unavailable::NotOffered)?;
        if school.quota <= 0 {
            return Err(Unavailable::NoQuota);
        }
        let used = school.taken + placed.get(&id).copied().unwrap_or(0);
        if used < school.quota {
            Ok(id)
        } else {
            Err(Unavailable::Full)
        }
    };

    let mut lines: Vec<Line> = ranked
        .iter()
        .enumerate()
        .map(|(i, (a, score))| {
            let (score, missing) = match score {
                Ok(s) => (Some(*s), Vec::new()),
                Err(m) => (None, m.clone()),
            };
            let mut why = Vec::new();
            if !missing.is_empty() {
                why.push(Why {
                    key: "alloc.why.missing_score",
                    args: vec![Arg::Components(missing.clone())],
                });
                why.push(Why::plain("alloc.why.ranked_last"));
            }
            Line {
                application_id: a.id,
                rank: i + 1,
                score,
                missing,
                result: AdmissionResult::Adjustment,
                school_id: None,
                overridden: false,
                over_quota: false,
                why,
            }
        })
        .collect();

    // The office's decisions first, in rank order: they take their places whatever is left.
    let mut decided = vec![false; lines.len()];
    for (i, (a, _)) in ranked.iter().enumerate() {
        let Some(&result) = overrides.get(&a.id) else {
            continue;
        };
        let line = &mut lines[i];
        let school = match result {
            AdmissionResult::FirstChoice => Some(a.first),
            AdmissionResult::SecondChoice => Some(a.second),
            _ => None,
        };
        let school = match school {
            None => None,
            Some(Some(id)) if by_id.contains_key(&id) => Some(id),
            // A choice that was not made (or a school no longer offered) cannot be given.
            Some(_) => {
                line.why.push(Why {
                    key: "alloc.why.override_ignored",
                    args: vec![Arg::Result(result)],
                });
                continue;
            }
        };
        decided[i] = true;
        line.result = result;
        line.school_id = school;
        line.overridden = true;
        line.why.push(Why {
            key: "alloc.why.override",
            args: vec![Arg::Result(result)],
        });
        if let Some(id) = school {
            let n = placed.entry(id).or_insert(0);
            *n += 1;
            let s = by_id[&id];
            if s.taken + *n > s.quota {
                line.over_quota = true;
                line.why.push(Why {
                    key: "alloc.why.override_over_quota",
                    args: vec![Arg::School(id), Arg::Count(s.quota)],
                });
            }
        }
    }

    // Everybody else, in rank order: first choice while it has room, else second, else 调剂.
    for (i, (a, _)) in ranked.iter().enumerate() {
        if decided[i] {
            continue;
        }
        let line = &mut lines[i];
        match has_room(&placed, a.first) {
            Ok(id) => {
                line.result = AdmissionResult::FirstChoice;
                line.school_id = Some(id);
                line.why.push(Why::plain("alloc.why.take_first"));
            }
            Err(first) => {
                line.why.push(first.why(true));
                match has_room(&placed, a.second) {
                    Ok(id) => {
                        line.result = AdmissionResult::SecondChoice;
                        line.school_id = Some(id);
                        line.why.push(Why::plain("alloc.why.take_second"));
                    }
                    Err(second) => {
                        line.result = AdmissionResult::Adjustment;
                        line.school_id = None;
                        line.why.push(second.why(false));
                        line.why.push(Why::plain("alloc.why.adjust"));
                    }
                }
            }
        }
        if let Some(id) = line.school_id {
            *placed.entry(id).or_insert(0) += 1;
        }
    }

    let schools = schools
        .iter()
        .map(|s| SchoolUse {
            id: s.id,
            quota: s.quota,
            taken: s.taken,
            placed: placed.get(&s.id).copied().unwrap_or(0),
        })
        .collect();
    Allocation { lines, schools }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    use AdmissionResult as R;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_780_000_000 + minute * 60, 0).unwrap()
    }

    fn gpa(s: &str) -> Option<Gpa> {
        Some(Gpa::parse(s).unwrap())
    }

    fn applicant(id: i64, g: &str, minute: i64, first: i64, second: Option<i64>) -> Applicant {
        Applicant {
            id,
            submitted_at: at(minute),
            scores: Scores {
                gpa: if g.is_empty() { None } else { gpa(g) },
                ..Scores::default()
            },
            first: Some(first),
            second,
        }
    }

    fn school(id: i64, quota: i64) -> School {
        School {
            id,
            quota,
            taken: 0,
        }
    }

    fn keys(line: &Line) -> Vec<&'static str> {
        line.why.iter().map(|w| w.key).collect()
    }

    fn line(a: &Allocation, id: i64) -> &Line {
        a.lines.iter().find(|l| l.application_id == id).unwrap()
    }

    const A: i64 = 101;
    const B: i64 = 102;

    #[test]
    fn the_best_gpa_gets_the_first_choice_and_the_next_one_the_second_when_the_first_is_full() {
        let applicants = [
            applicant(1, "3.50", 0, A, Some(B)),
            applicant(2, "3.90", 5, A, Some(B)),
            applicant(3, "3.70", 1, A, Some(B)),
        ];
        let out = allocate(
            &ScoreSettings::default(),
            &applicants,
            &[school(A, 1), school(B, 1)],
            &BTreeMap::new(),
        );
        let order: Vec<i64> = out.lines.iter().map(|l| l.application_id).collect();
        assert_eq!(order, vec![2, 3, 1]);
        assert_eq!(line(&out, 2).result, R::FirstChoice);
        assert_eq!(line(&out, 2).school_id, Some(A));
        assert_eq!(keys(line(&out, 2)), vec!["alloc.why.take_first"]);
        assert_eq!(line(&out, 3).result, R::SecondChoice);
        assert_eq!(line(&out, 3).school_id, Some(B));
        assert_eq!(
            keys(line(&out, 3)),
            vec!["alloc.why.first.full", "alloc.why.take_second"]
        );
        assert_eq!(line(&out, 1).result, R::Adjustment);
        assert_eq!(line(&out, 1).school_id, None);
        assert_eq!(
            keys(line(&out, 1)),
            vec![
                "alloc.why.first.full",
                "alloc.why.second.full",
                "alloc.why.adjust"
            ]
        );
        assert_eq!(line(&out, 2).rank, 1);
        assert_eq!(line(&out, 2).score.unwrap().display(), "3.90");
    }

    #[test]
    fn an_equal_score_goes_to_the_earlier_submission_then_the_lower_id() {
        let applicants = [
            applicant(7, "3.60", 10, A, None),
            applicant(5, "3.60", 10, A, None),
            applicant(9, "3.60", 3, A, None),
        ];
        let out = allocate(
            &ScoreSettings::default(),
            &applicants,
            &[school(A, 1)],
            &BTreeMap::new(),
        );
        let order: Vec<i64> = out.lines.iter().map(|l| l.application_id).collect();
        assert_eq!(order, vec![9, 5, 7]);
        assert_eq!(line(&out, 9).result, R::FirstChoice);
        assert_eq!(
            keys(line(&out, 5)),
            vec![
                "alloc.why.first.full",
                "alloc.why.second.not_chosen",
                "alloc.why.adjust"
            ]
        );
    }

    #[test]
    fn an_applicant_without_the_score_ranks_last_and_is_told_why() {
        let applicants = [
            applicant(1, "", 0, A, None),
            applicant(2, "2.10", 9, A, None),
        ];
        let out = allocate(
            &ScoreSettings::default(),
            &applicants,
            &[school(A, 1)],
            &BTreeMap::new(),
        );
        assert_eq!(line(&out, 2).rank, 1);
        let last = line(&out, 1);
        assert_eq!(last.rank, 2);
        assert_eq!(last.score, None);
        assert_eq!(last.missing, vec![Component::Gpa]);
        assert_eq!(last.why[0].key, "alloc.why.missing_score");
        assert_eq!(
            last.why[0].args,
            vec![Arg::Components(vec![Component::Gpa])]
        );
        assert_eq!(last.result, R::Adjustment);
    }

    #[test]
    fn a_quota_of_zero_means_no_places_and_says_so() {
        let out = allocate(
            &ScoreSettings::default(),
            &[applicant(1, "4.00", 0, A, Some(B))],
            &[school(A, 0), school(B, 2)],
            &BTreeMap::new(),
        );
        assert_eq!(line(&out, 1).result, R::SecondChoice);
        assert_eq!(
            keys(line(&out, 1)),
            vec!["alloc.why.first.no_quota", "alloc.why.take_second"]
        );
    }

    #[test]
    fn places_already_filled_by_earlier_results_count_against_the_quota() {
        let schools = [
            School {
                id: A,
                quota: 2,
                taken: 2,
            },
            school(B, 1),
        ];
        let out = allocate(
            &ScoreSettings::default(),
            &[applicant(1, "4.00", 0, A, Some(B))],
            &schools,
            &BTreeMap::new(),
        );
        assert_eq!(line(&out, 1).result, R::SecondChoice);
        assert_eq!(keys(line(&out, 1))[0], "alloc.why.first.full");
    }

    #[test]
    fn a_choice_of_a_school_not_in_the_program_is_skipped() {
        let out = allocate(
            &ScoreSettings::default(),
            &[applicant(1, "4.00", 0, 999, Some(B))],
            &[school(A, 1), school(B, 1)],
            &BTreeMap::new(),
        );
        assert_eq!(line(&out, 1).result, R::SecondChoice);
        assert_eq!(keys(line(&out, 1))[0], "alloc.why.first.not_offered");
    }

    #[test]
    fn an_override_is_placed_first_and_reported_when_it_exceeds_the_quota() {
        let applicants = [
            applicant(1, "3.90", 0, A, Some(B)),
            applicant(2, "3.10", 0, A, Some(B)),
        ];
        // The office puts the lower-ranked applicant into A: the better one moves to B.
        let overrides = BTreeMap::from([(2, R::FirstChoice)]);
        let out = allocate(
            &ScoreSettings::default(),
            &applicants,
            &[school(A, 1), school(B, 1)],
            &overrides,
        );
        assert_eq!(line(&out, 2).result, R::FirstChoice);
        assert!(line(&out, 2).overridden);
        assert!(!line(&out, 2).over_quota);
        assert_eq!(line(&out, 1).result, R::SecondChoice);

        // Both forced into A, whose quota is 1: honoured, and the second one is flagged.
        let overrides = BTreeMap::from([(1, R::FirstChoice), (2, R::FirstChoice)]);
        let out = allocate(
            &ScoreSettings::default(),
            &applicants,
            &[school(A, 1), school(B, 1)],
            &overrides,
        );
        assert!(!line(&out, 1).over_quota);
        let flagged = line(&out, 2);
        assert_eq!(flagged.result, R::FirstChoice);
        assert!(flagged.over_quota);
        assert_eq!(
            flagged.why[1],
            Why {
                key: "alloc.why.override_over_quota",
                args: vec![Arg::School(A), Arg::Count(1)]
            }
        );
        assert_eq!(out.schools[0].left(), -1);
    }

    #[test]
    fn an_override_to_a_choice_that_was_not_made_is_ignored_and_reported() {
        let overrides = BTreeMap::from([(1, R::SecondChoice)]);
        let out = allocate(
            &ScoreSettings::default(),
            &[applicant(1, "3.00", 0, A, None)],
            &[school(A, 1)],
            &overrides,
        );
        let l = line(&out, 1);
        assert!(!l.overridden);
        assert_eq!(l.result, R::FirstChoice);
        assert_eq!(
            keys(l),
            vec!["alloc.why.override_ignored", "alloc.why.take_first"]
        );
    }

    #[test]
    fn an_override_to_not_admitted_takes_no_place() {
        let overrides = BTreeMap::from([(1, R::NotAdmitted)]);
        let out = allocate(
            &ScoreSettings::default(),
            &[
                applicant(1, "4.00", 0, A, None),
                applicant(2, "3.00", 0, A, None),
            ],
            &[school(A, 1)],
            &overrides,
        );
        assert_eq!(line(&out, 1).result, R::NotAdmitted);
        assert_eq!(line(&out, 1).school_id, None);
        assert_eq!(line(&out, 2).result, R::FirstChoice);
    }

    fn mix(gpa_w: u32, avg_w: u32, lang_w: u32) -> ScoreSettings {
        ScoreSettings {
            rule: ScoreRule::Mix,
            weight_gpa: gpa_w,
            weight_avg: avg_w,
            weight_language: lang_w,
            ..ScoreSettings::default()
        }
    }

    #[test]
    fn the_mix_weighs_each_part_as_a_share_of_its_full_mark() {
        let scores = Scores {
            gpa: gpa("3.60"),
            weighted_avg: Some(Percentage::parse("88").unwrap()),
            language: Some(650),
        };
        // 0.5 × 90 + 0.3 × 88 + 0.2 × (6.5 / 9 × 100) = 45 + 26.4 + 14.444… = 85.84
        let score = mix(50, 30, 20).score(&scores).unwrap();
        assert_eq!(score.display(), "85.84");
        // A part with no weight is not needed.
        let no_language = Scores {
            language: None,
            ..scores
        };
        assert_eq!(
            mix(50, 50, 0).score(&no_language).unwrap().display(),
            "89.00"
        );
        assert_eq!(
            mix(50, 30, 20).score(&no_language),
            Err(vec![Component::Language])
        );
    }

    #[test]
    fn a_score_above_the_full_mark_counts_as_the_full_mark() {
        let s = Scores {
            gpa: gpa("4.50"),
            ..Scores::default()
        };
        assert_eq!(mix(100, 0, 0).score(&s).unwrap().display(), "100.00");
    }

    #[test]
    fn single_part_rules_rank_by_that_part() {
        let scores = Scores {
            gpa: gpa("3.20"),
            weighted_avg: Some(Percentage::parse("91.5").unwrap()),
            language: Some(7_00),
        };
        let by = |rule| {
            ScoreSettings {
                rule,
                ..ScoreSettings::default()
            }
            .score(&scores)
            .unwrap()
            .display()
        };
        assert_eq!(by(ScoreRule::Gpa), "3.20");
        assert_eq!(by(ScoreRule::WeightedAverage), "91.50");
        assert_eq!(by(ScoreRule::Language), "7.00");
    }

    #[test]
    fn language_scores_are_read_from_free_text() {
        assert_eq!(language_points("6.5"), Some(650));
        assert_eq!(language_points("IELTS 6.5"), Some(650));
        assert_eq!(language_points("CET-6 565"), Some(56_500));
        assert_eq!(language_points("N1 150分"), Some(15_000));
        assert_eq!(language_points("总分580"), Some(58_000));
        assert_eq!(language_points("6.5 (L7.0 R6.5)"), Some(650));
        assert_eq!(language_points("６．５"), Some(650));
        assert_eq!(language_points("95."), Some(9_500));
        assert_eq!(language_points("7.125"), Some(712));
        assert_eq!(language_points("合格"), None);
        assert_eq!(language_points(""), None);
        assert_eq!(language_points("N2"), None);
    }

    fn exams() -> Vec<String> {
        vec!["ielts".into(), "toefl".into(), "school_test".into()]
    }

    #[test]
    fn settings_parse_and_round_trip_through_the_form() {
        let form = SettingsForm {
            rule: "mix".into(),
            weight_gpa: "40".into(),
            weight_avg: "40".into(),
            weight_language: "20".into(),
            language_exam: "toefl".into(),
            gpa_full: "5".into(),
            language_full: String::new(),
        };
        let s = ScoreSettings::parse(&form, &exams()).unwrap();
        assert_eq!(s.gpa_full, 500);
        assert_eq!(s.language_full, 12_000, "TOEFL is out of 120");
        assert_eq!(ScoreSettings::parse(&s.form(), &exams()), Ok(s));
        let d = ScoreSettings::default();
        assert_eq!(ScoreSettings::parse(&d.form(), &exams()), Ok(d));
    }

    #[test]
    fn settings_errors_are_reported_beside_each_field_at_once() {
        let form = SettingsForm {
            rule: "mix".into(),
            weight_gpa: "abc".into(),
            weight_avg: "101".into(),
            weight_language: "20".into(),
            language_exam: "klingon".into(),
            gpa_full: "0".into(),
            language_full: "-3".into(),
        };
        let e = ScoreSettings::parse(&form, &exams()).unwrap_err();
        assert_eq!(e.get("weight_gpa"), Some("alloc.err.weight"));
        assert_eq!(e.get("weight_avg"), Some("alloc.err.weight"));
        assert_eq!(e.get("language_exam"), Some("alloc.err.exam"));
        assert_eq!(e.get("gpa_full"), Some("alloc.err.full_mark"));
        assert_eq!(e.get("language_full"), Some("alloc.err.full_mark"));

        let bad_sum = SettingsForm {
            rule: "mix".into(),
            weight_gpa: "50".into(),
            weight_avg: "30".into(),
            weight_language: "10".into(),
            language_exam: "ielts".into(),
            ..SettingsForm::default()
        };
        let e = ScoreSettings::parse(&bad_sum, &exams()).unwrap_err();
        assert_eq!(e.get("weight_gpa"), Some("alloc.err.weight_sum"));

        let no_rule = SettingsForm {
            rule: "luck".into(),
            ..SettingsForm::default()
        };
        let e = ScoreSettings::parse(&no_rule, &exams()).unwrap_err();
        assert_eq!(e.get("rule"), Some("alloc.err.rule"));

        let language_without_exam = SettingsForm {
            rule: "language".into(),
            ..SettingsForm::default()
        };
        let e = ScoreSettings::parse(&language_without_exam, &exams()).unwrap_err();
        assert_eq!(e.get("language_exam"), Some("err.required"));

        let unknown_full_mark = SettingsForm {
            rule: "mix".into(),
            weight_gpa: "50".into(),
            weight_avg: "0".into(),
            weight_language: "50".into(),
            language_exam: "school_test".into(),
            ..SettingsForm::default()
        };
        let e = ScoreSettings::parse(&unknown_full_mark, &exams()).unwrap_err();
        assert_eq!(e.get("language_full"), Some("err.required"));
    }

    #[test]
    fn every_label_and_explanation_key_is_in_the_catalogue() {
        let mut keys: Vec<&str> = Vec::new();
        keys.extend(Why::KEYS);
        keys.extend(ScoreSettings::ERROR_CODES);
        keys.extend(ScoreRule::ALL.iter().map(|r| r.label_key()));
        keys.extend(Component::ALL.iter().map(|c| c.label_key()));
        keys.push("err.required");
        let missing: Vec<&str> = keys
            .into_iter()
            .filter(|k| !crate::i18n::has_key(k))
            .collect();
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    // ---- properties ------------------------------------------------------------------------

    /// School ids 1..=4; a choice may also name 9 (not offered) or nothing.
    fn arb_choice() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![
            4 => (1i64..=4).prop_map(Some),
            1 => Just(Some(9)),
            1 => Just(None),
        ]
    }

    fn arb_applicants() -> impl Strategy<Value = Vec<Applicant>> {
        prop::collection::vec(
            (
                prop::option::weighted(0.85, 250u32..=400),
                prop::option::weighted(0.85, 6_000u32..=9_900),
                prop::option::weighted(0.7, 500u32..=900),
                0i64..6,
                arb_choice(),
                arb_choice(),
            ),
            0..14,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (g, avg, lang, minute, first, second))| Applicant {
                    id: 1000 + i as i64,
                    submitted_at: at(minute),
                    scores: Scores {
                        // Coarse values, so that equal scores (ties) happen often.
                        gpa: g.map(|h| {
                            Gpa::parse(&format!("{}.{}", h / 100, (h % 100) / 50 * 5)).unwrap()
                        }),
                        weighted_avg: avg
                            .map(|h| Percentage::parse(&format!("{}", h / 100)).unwrap()),
                        language: lang.map(|h| h / 50 * 50),
                    },
                    first,
                    second,
                })
                .collect()
        })
    }

    fn arb_schools() -> impl Strategy<Value = Vec<School>> {
        prop::collection::vec((0i64..=3, 0i64..=2), 1..=4).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (quota, taken))| School {
                    id: i as i64 + 1,
                    quota,
                    taken: taken.min(quota),
                })
                .collect()
        })
    }

    fn arb_settings() -> impl Strategy<Value = ScoreSettings> {
        prop_oneof![
            Just(ScoreSettings::default()),
            Just(ScoreSettings {
                rule: ScoreRule::WeightedAverage,
                ..ScoreSettings::default()
            }),
            Just(ScoreSettings {
                rule: ScoreRule::Language,
                ..ScoreSettings::default()
            }),
            Just(mix(50, 30, 20)),
            Just(mix(0, 100, 0)),
        ]
    }

    fn arb_overrides(n: usize) -> impl Strategy<Value = BTreeMap<i64, AdmissionResult>> {
        prop::collection::btree_map(
            (0..n.max(1) as i64).prop_map(|i| 1000 + i),
            prop::sample::select(AdmissionResult::ALL.to_vec()),
            0..=n.min(4),
        )
    }

    fn arb_case() -> impl Strategy<
        Value = (
            ScoreSettings,
            Vec<Applicant>,
            Vec<School>,
            BTreeMap<i64, AdmissionResult>,
        ),
    > {
        (arb_settings(), arb_applicants(), arb_schools()).prop_flat_map(|(s, a, sc)| {
            let n = a.len();
            (Just(s), Just(a), Just(sc), arb_overrides(n))
        })
    }

    /// Places at `school` still open given `placed` so far.
    fn room(schools: &[School], placed: &BTreeMap<i64, i64>, choice: Option<i64>) -> bool {
        choice
            .and_then(|id| schools.iter().find(|s| s.id == id))
            .is_some_and(|s| s.taken + placed.get(&s.id).copied().unwrap_or(0) < s.quota)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn quotas_are_never_exceeded_except_by_overrides_which_are_reported(
            (settings, applicants, schools, overrides) in arb_case()
        ) {
            let out = allocate(&settings, &applicants, &schools, &overrides);
            for s in &schools {
                let auto = out.lines.iter()
                    .filter(|l| !l.overridden && l.school_id == Some(s.id)).count() as i64;
                let forced = out.lines.iter()
                    .filter(|l| l.overridden && l.school_id == Some(s.id)).count() as i64;
                let flagged = out.lines.iter()
                    .filter(|l| l.over_quota && l.school_id == Some(s.id)).count() as i64;
                // Automatic placements only fill what the overrides left.
                prop_assert!(auto <= (s.quota - s.taken - forced).max(0));
                // Exactly the overrides beyond the quota are flagged.
                prop_assert_eq!(flagged, (s.taken + forced - s.quota).max(0).min(forced));
                let used = out.schools.iter().find(|u| u.id == s.id).unwrap();
                prop_assert_eq!(used.placed, auto + forced);
            }
        }

        #[test]
        fn nobody_gets_a_lower_choice_while_a_higher_one_had_room_when_their_turn_came(
            (settings, applicants, schools, overrides) in arb_case()
        ) {
            let out = allocate(&settings, &applicants, &schools, &overrides);
            let by_id: BTreeMap<i64, &Applicant> = applicants.iter().map(|a| (a.id, a)).collect();
            // Overrides hold their places before anybody's turn.
            let mut placed: BTreeMap<i64, i64> = BTreeMap::new();
            for l in out.lines.iter().filter(|l| l.overridden) {
                if let Some(id) = l.school_id {
                    *placed.entry(id).or_insert(0) += 1;
                }
            }
            for l in out.lines.iter().filter(|l| !l.overridden) {
                let a = by_id[&l.application_id];
                let first_room = room(&schools, &placed, a.first);
                let second_room = room(&schools, &placed, a.second);
                match l.result {
                    R::FirstChoice => {
                        prop_assert!(first_room);
                        prop_assert_eq!(l.school_id, a.first);
                    }
                    R::SecondChoice => {
                        prop_assert!(!first_room);
                        prop_assert!(second_room);
                        prop_assert_eq!(l.school_id, a.second);
                    }
                    R::Adjustment => {
                        prop_assert!(!first_room && !second_room);
                        prop_assert_eq!(l.school_id, None);
                    }
                    other => prop_assert!(false, "automatic result {:?}", other),
                }
                if let Some(id) = l.school_id {
                    *placed.entry(id).or_insert(0) += 1;
                }
            }
        }

        #[test]
        fn a_lower_ranked_applicant_never_takes_a_place_a_better_one_wanted_more(
            (settings, applicants, schools, overrides) in arb_case()
        ) {
            // No justified envy among automatic lines: if A did not get a choice S, everybody
            // placed automatically at S ranks above A.
            let out = allocate(&settings, &applicants, &schools, &overrides);
            let by_id: BTreeMap<i64, &Applicant> = applicants.iter().map(|a| (a.id, a)).collect();
            for l in out.lines.iter().filter(|l| !l.overridden) {
                let a = by_id[&l.application_id];
                let wanted: Vec<i64> = match l.result {
                    R::SecondChoice => a.first.into_iter().collect(),
                    R::Adjustment => a.first.into_iter().chain(a.second).collect(),
                    _ => Vec::new(),
                };
                for s in wanted {
                    for other in out.lines.iter().filter(|o| !o.overridden && o.school_id == Some(s)) {
                        prop_assert!(other.rank < l.rank);
                    }
                }
            }
        }

        #[test]
        fn the_allocation_is_deterministic_whatever_order_the_input_comes_in(
            (settings, applicants, schools, overrides) in arb_case(),
            seed in any::<u64>()
        ) {
            let out = allocate(&settings, &applicants, &schools, &overrides);
            let mut shuffled = applicants.clone();
            // A cheap deterministic shuffle from the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(&allocate(&settings, &shuffled, &schools, &overrides).lines, &out.lines);
            prop_assert_eq!(allocate(&settings, &applicants, &schools, &overrides), out);
        }

        #[test]
        fn overrides_are_honoured_unless_they_name_a_choice_that_was_not_made(
            (settings, applicants, schools, overrides) in arb_case()
        ) {
            let out = allocate(&settings, &applicants, &schools, &overrides);
            let offered: BTreeSet<i64> = schools.iter().map(|s| s.id).collect();
            for a in &applicants {
                let l = out.lines.iter().find(|l| l.application_id == a.id).unwrap();
                match overrides.get(&a.id) {
                    None => prop_assert!(!l.overridden),
                    Some(&r) => {
                        let school = match r {
                            R::FirstChoice => Some(a.first),
                            R::SecondChoice => Some(a.second),
                            _ => None,
                        };
                        let possible = match school {
                            None => true,
                            Some(s) => s.is_some_and(|id| offered.contains(&id)),
                        };
                        prop_assert_eq!(l.overridden, possible);
                        if possible {
                            prop_assert_eq!(l.result, r);
                            prop_assert_eq!(l.school_id, school.flatten());
                        } else {
                            prop_assert_eq!(l.why.iter().filter(|w| w.key == "alloc.why.override_ignored").count(), 1);
                        }
                    }
                }
            }
        }

        #[test]
        fn everyone_is_ranked_once_best_score_first_and_the_unscored_last(
            (settings, applicants, schools, overrides) in arb_case()
        ) {
            let out = allocate(&settings, &applicants, &schools, &overrides);
            prop_assert_eq!(out.lines.len(), applicants.len());
            let ranks: Vec<usize> = out.lines.iter().map(|l| l.rank).collect();
            prop_assert_eq!(ranks, (1..=applicants.len()).collect::<Vec<_>>());
            let by_id: BTreeMap<i64, &Applicant> = applicants.iter().map(|a| (a.id, a)).collect();
            for pair in out.lines.windows(2) {
                let (x, y) = (&pair[0], &pair[1]);
                match (x.score, y.score) {
                    (Some(sx), Some(sy)) => {
                        prop_assert!(sx.points() >= sy.points());
                        if sx.points() == sy.points() {
                            let (ax, ay) = (by_id[&x.application_id], by_id[&y.application_id]);
                            prop_assert!((ax.submitted_at, ax.id) < (ay.submitted_at, ay.id));
                        }
                    }
                    (None, Some(_)) => prop_assert!(false, "an unscored line ranks above a scored one"),
                    _ => {}
                }
                prop_assert_eq!(x.score.is_none(), !x.missing.is_empty());
            }
        }
    }
}
