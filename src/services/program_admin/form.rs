//! The program form (every SPEC §4 field): raw strings in, a checked [`ProgramInput`] out with
//! every error at once, and the services that create and save a program.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use sea_query::{Expr, ExprTrait, Query};

use super::{Manager, ProgramAction, STALE, load_in, require};
use crate::db::dicts::{self, DictItem, Major, kind};
use crate::db::programs::{self as db, ManagedProgram, TemplateVersion, program_target};
use crate::db::{Db, DbError, Tx};
use crate::domain::FieldErrors;
use crate::domain::program_status::ProgramStatus;
use crate::domain::values::{Gpa, StudyLevel, ValueError, parse_date};
use crate::services::audit::{self, Who};
use crate::services::{ServiceError, ServiceResult};

/// What the form's selects may hold: the dictionaries, the majors and the workflow templates.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    pub countries: Vec<DictItem>,
    pub program_types: Vec<DictItem>,
    pub semesters: Vec<DictItem>,
    pub natures: Vec<DictItem>,
    pub majors: Vec<Major>,
    /// The newest version of each template.
    pub workflows: Vec<TemplateVersion>,
}

impl Choices {
    pub async fn load(db: &Db) -> ServiceResult<Choices> {
        let mut workflows: Vec<TemplateVersion> = Vec::new();
        for t in db::template_versions(db).await? {
            // Newest version first within each code.
            if !workflows.iter().any(|w| w.code == t.code) {
                workflows.push(t);
            }
        }
        Ok(Choices {
            countries: dicts::items(db, kind::COUNTRY).await?,
            program_types: dicts::items(db, kind::PROGRAM_TYPE).await?,
            semesters: dicts::items(db, kind::SEMESTER).await?,
            natures: dicts::items(db, kind::PROGRAM_NATURE).await?,
            majors: dicts::majors(db).await?,
            workflows,
        })
    }
}

/// The fixed options of a program field: (field, codes). Their labels are
/// `programs.<field>.<code>` in the catalogue.
pub const REGION_KINDS: [&str; 2] = ["international", "hmt"];
pub const FEE_MODES: [&str; 2] = ["payable", "waived"];
pub const TERMS: [&str; 2] = ["long", "short"];
pub const TEACHING_MODES: [&str; 2] = ["offline", "online"];

/// The program form as posted: every field a raw string (lists for the check boxes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgramForm {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub year: String,
    pub semesters: Vec<String>,
    pub start_date: String,
    pub end_date: String,
    pub duration: String,
    pub nature: String,
    pub region_kind: String,
    pub country: String,
    pub program_type: String,
    pub fee_mode: String,
    pub fee: String,
    pub term: String,
    pub teaching_mode: String,
    pub description: String,
    pub host_unit: String,
    /// 申报开始时间, China time to the minute (`2026-03-01T09:00`).
    pub reg_start: String,
    pub reg_end: String,
    pub levels: Vec<String>,
    /// 申请年级: years separated by commas or spaces.
    pub grades: String,
    pub major_ids: Vec<String>,
    pub min_gpa: String,
    pub has_interview: bool,
    pub allows_late: bool,
    pub max_per_student: String,
    pub notice: String,
    pub workflow_code: String,
    pub active: bool,
}

pub(super) fn checked(value: &str) -> bool {
    matches!(value.trim(), "1" | "on" | "yes" | "true")
}

impl ProgramForm {
    /// The single-value fields, in page order (their labels are `programs.f.<name>` or
    /// `manage.f.<name>`).
    pub const TEXT_FIELDS: [&'static str; 23] = [
        "code",
        "name_zh",
        "name_en",
        "year",
        "start_date",
        "end_date",
        "duration",
        "nature",
        "region_kind",
        "country",
        "program_type",
        "fee_mode",
        "fee",
        "term",
        "teaching_mode",
        "host_unit",
        "reg_start",
        "reg_end",
        "grades",
        "min_gpa",
        "max_per_student",
        "workflow_code",
        "description",
    ];

    /// A blank form for a new program: this year, sensible defaults, the semester workflow.
    pub fn blank(year: i32) -> ProgramForm {
        ProgramForm {
            year: year.to_string(),
            region_kind: "international".into(),
            term: "long".into(),
            teaching_mode: "offline".into(),
            workflow_code: "semester_exchange".into(),
            active: true,
            ..ProgramForm::default()
        }
    }

    /// Reads a posted form; unknown keys are ignored, repeated keys fill the lists.
    pub fn from_pairs(pairs: &[(String, String)]) -> ProgramForm {
        let mut f = ProgramForm::default();
        for (key, value) in pairs {
            let v = value.clone();
            match key.as_str() {
                "code" => f.code = v,
                "name_zh" => f.name_zh = v,
                "name_en" => f.name_en = v,
                "year" => f.year = v,
                "semesters" => f.semesters.push(v),
                "start_date" => f.start_date = v,
                "end_date" => f.end_date = v,
                "duration" => f.duration = v,
                "nature" => f.nature = v,
                "region_kind" => f.region_kind = v,
                "country" => f.country = v,
                "program_type" => f.program_type = v,
                "fee_mode" => f.fee_mode = v,
                "fee" => f.fee = v,
                "term" => f.term = v,
                "teaching_mode" => f.teaching_mode = v,
                "description" => f.description = v,
                "host_unit" => f.host_unit = v,
                "reg_start" => f.reg_start = v,
                "reg_end" => f.reg_end = v,
                "levels" => f.levels.push(v),
                "grades" => f.grades = v,
                "major_ids" => f.major_ids.push(v),
                "min_gpa" => f.min_gpa = v,
                "has_interview" => f.has_interview = checked(value),
                "allows_late" => f.allows_late = checked(value),
                "max_per_student" => f.max_per_student = v,
                "notice" => f.notice = v,
                "workflow_code" => f.workflow_code = v,
                "active" => f.active = checked(value),
                _ => {}
            }
        }
        f
    }

    /// The form showing a stored program.
    pub fn from_row(p: &ManagedProgram) -> ProgramForm {
        let p = &p.program;
        ProgramForm {
            code: p.code.clone(),
            name_zh: p.name_zh.clone(),
            name_en: p.name_en.clone(),
            year: p.year.to_string(),
            semesters: p.semesters(),
            start_date: p.start_date.clone(),
            end_date: p.end_date.clone(),
            duration: p.duration.clone(),
            nature: p.nature.clone(),
            region_kind: p.region_kind.clone(),
            country: p.country.clone(),
            program_type: p.program_type.clone(),
            fee_mode: p.fee_mode.clone(),
            fee: p.fee.clone(),
            term: p.term.clone(),
            teaching_mode: p.teaching_mode.clone(),
            description: p.description.clone(),
            host_unit: p.host_unit.clone(),
            reg_start: china_minute(p.reg_start),
            reg_end: china_minute(p.reg_end),
            levels: p.levels(),
            grades: p.grades().join(", "),
            major_ids: p.major_ids().iter().map(i64::to_string).collect(),
            min_gpa: p.min_gpa.map(gpa_text).unwrap_or_default(),
            has_interview: p.has_interview,
            allows_late: p.allows_late,
            max_per_student: p.max_per_student.map(|n| n.to_string()).unwrap_or_default(),
            notice: p.notice.clone(),
            workflow_code: p.workflow_code.clone(),
            active: p.active,
        }
    }

    /// The raw value of a single-value field.
    pub fn text(&self, name: &str) -> &str {
        match name {
            "code" => &self.code,
            "name_zh" => &self.name_zh,
            "name_en" => &self.name_en,
            "year" => &self.year,
            "start_date" => &self.start_date,
            "end_date" => &self.end_date,
            "duration" => &self.duration,
            "nature" => &self.nature,
            "region_kind" => &self.region_kind,
            "country" => &self.country,
            "program_type" => &self.program_type,
            "fee_mode" => &self.fee_mode,
            "fee" => &self.fee,
            "term" => &self.term,
            "teaching_mode" => &self.teaching_mode,
            "description" => &self.description,
            "host_unit" => &self.host_unit,
            "reg_start" => &self.reg_start,
            "reg_end" => &self.reg_end,
            "grades" => &self.grades,
            "min_gpa" => &self.min_gpa,
            "max_per_student" => &self.max_per_student,
            "notice" => &self.notice,
            "workflow_code" => &self.workflow_code,
            _ => "",
        }
    }
}

/// A checked program, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramInput {
    /// `None`: number it automatically (`<year><nnnn>`).
    pub code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub year: i64,
    pub semesters: Vec<String>,
    pub start_date: String,
    pub end_date: String,
    pub duration: String,
    pub nature: String,
    pub region_kind: String,
    pub country: String,
    pub program_type: String,
    pub fee_mode: String,
    pub fee: String,
    pub term: String,
    pub teaching_mode: String,
    pub description: String,
    pub host_unit: String,
    pub reg_start: DateTime<Utc>,
    pub reg_end: DateTime<Utc>,
    pub levels: Vec<String>,
    pub grades: Vec<String>,
    pub major_ids: Vec<i64>,
    pub min_gpa: Option<f64>,
    pub has_interview: bool,
    pub allows_late: bool,
    pub max_per_student: Option<i64>,
    pub notice: String,
    pub workflow_code: String,
    pub active: bool,
}

pub(super) fn china_offset() -> FixedOffset {
    // China keeps UTC+8 all year.
    FixedOffset::east_opt(8 * 3600).unwrap_or(FixedOffset::east_opt(0).expect("UTC"))
}

/// A moment as a `datetime-local` value in China time: `2026-03-01T09:00`.
pub fn china_minute(t: DateTime<Utc>) -> String {
    t.with_timezone(&china_offset())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Reads a China-time moment to the minute: `2026-03-01T09:00` (what `datetime-local`
/// posts), `2026-03-01 09:00`, with or without seconds, `-` or `/` between date parts.
pub fn parse_china_minute(input: &str) -> Option<DateTime<Utc>> {
    let s = input.trim().replace('/', "-");
    let s = s.replacen(' ', "T", 1);
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&s, f).ok())?;
    china_offset()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn gpa_text(gpa: f64) -> String {
    let s = format!("{gpa:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A required text of at most `max` characters.
pub(super) fn required_text(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    max: usize,
) -> String {
    let s = raw.trim();
    if s.is_empty() {
        errors.add(field, ValueError::Empty.code());
    } else if s.chars().count() > max {
        errors.add(field, ValueError::TooLong.code());
    }
    s.to_owned()
}

/// An optional text of at most `max` characters.
pub(super) fn optional_text(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    max: usize,
) -> String {
    let s = raw.trim();
    if s.chars().count() > max {
        errors.add(field, ValueError::TooLong.code());
    }
    s.to_owned()
}

/// A required choice among `codes`.
fn required_choice<'a>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    mut codes: impl Iterator<Item = &'a str>,
) -> String {
    let s = raw.trim();
    if s.is_empty() {
        errors.add(field, ValueError::Empty.code());
    } else if !codes.any(|c| c == s) {
        errors.add(field, ValueError::UnknownOption.code());
    }
    s.to_owned()
}

/// An optional choice among `codes` (empty is fine).
pub(super) fn optional_choice<'a>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    mut codes: impl Iterator<Item = &'a str>,
) -> String {
    let s = raw.trim();
    if !s.is_empty() && !codes.any(|c| c == s) {
        errors.add(field, ValueError::UnknownOption.code());
    }
    s.to_owned()
}

/// Several choices among `codes`, duplicates dropped, order kept.
fn choices<'a>(
    errors: &mut FieldErrors,
    field: &str,
    raw: &[String],
    codes: impl Iterator<Item = &'a str> + Clone,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in raw.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if !codes.clone().any(|c| c == v) {
            errors.add(field, ValueError::UnknownOption.code());
            return Vec::new();
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

/// The smallest and largest program year accepted.
const YEARS: std::ops::RangeInclusive<i64> = 2000..=2100;

/// 申请年级: entry years such as `2022, 2023` (commas, 、, spaces).
fn parse_grades(raw: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in raw
        .split(|c: char| c == ',' || c == '，' || c == '、' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let year: i64 = item
            .strip_suffix('级')
            .unwrap_or(item)
            .parse()
            .ok()
            .filter(|y| YEARS.contains(y))?;
        let year = year.to_string();
        if !out.contains(&year) {
            out.push(year);
        }
    }
    Some(out)
}

/// Checks every field of the program form at once.
pub fn parse_program(f: &ProgramForm, c: &Choices) -> Result<ProgramInput, FieldErrors> {
    let mut e = FieldErrors::new();
    let code = f.code.trim();
    let code = if code.is_empty() {
        None
    } else {
        if code.chars().count() > 32
            || !code
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            e.add("code", "manage.err.code_format");
        }
        Some(code.to_owned())
    };
    let name_zh = required_text(&mut e, "name_zh", &f.name_zh, 200);
    let name_en = optional_text(&mut e, "name_en", &f.name_en, 200);
    let year = match f.year.trim().parse::<i64>() {
        Ok(y) if YEARS.contains(&y) => y,
        _ if f.year.trim().is_empty() => {
            e.add("year", ValueError::Empty.code());
            0
        }
        _ => {
            e.add("year", "manage.err.year");
            0
        }
    };
    let semesters = choices(
        &mut e,
        "semesters",
        &f.semesters,
        c.semesters.iter().map(|d| d.code.as_str()),
    );
    let start = e.optional("start_date", &f.start_date, parse_date);
    let end = e.optional("end_date", &f.end_date, parse_date);
    if let (Some(s), Some(t)) = (start, end)
        && t < s
    {
        e.add("end_date", ValueError::DateOrder.code());
    }
    let duration = optional_text(&mut e, "duration", &f.duration, 50);
    let nature = optional_choice(
        &mut e,
        "nature",
        &f.nature,
        c.natures.iter().map(|d| d.code.as_str()),
    );
    let region_kind = required_choice(
        &mut e,
        "region_kind",
        &f.region_kind,
        REGION_KINDS.into_iter(),
    );
    let country = required_choice(
        &mut e,
        "country",
        &f.country,
        c.countries.iter().map(|d| d.code.as_str()),
    );
    let program_type = required_choice(
        &mut e,
        "program_type",
        &f.program_type,
        c.program_types.iter().map(|d| d.code.as_str()),
    );
    let fee_mode = optional_choice(&mut e, "fee_mode", &f.fee_mode, FEE_MODES.into_iter());
    let fee = optional_text(&mut e, "fee", &f.fee, 100);
    let term = required_choice(&mut e, "term", &f.term, TERMS.into_iter());
    let teaching_mode = required_choice(
        &mut e,
        "teaching_mode",
        &f.teaching_mode,
        TEACHING_MODES.into_iter(),
    );
    let description = optional_text(&mut e, "description", &f.description, 20_000);
    let host_unit = optional_text(&mut e, "host_unit", &f.host_unit, 100);
    let reg_start = parse_window_end(&mut e, "reg_start", &f.reg_start);
    let reg_end = parse_window_end(&mut e, "reg_end", &f.reg_end);
    if let (Some(s), Some(t)) = (reg_start, reg_end)
        && t <= s
    {
        e.add("reg_end", "manage.err.reg_order");
    }
    let levels = choices(
        &mut e,
        "levels",
        &f.levels,
        StudyLevel::ALL.iter().map(|l| l.code()),
    );
    let grades = parse_grades(&f.grades).unwrap_or_else(|| {
        e.add("grades", "manage.err.grades");
        Vec::new()
    });
    let major_codes: Vec<String> = c.majors.iter().map(|m| m.id.to_string()).collect();
    let major_ids = choices(
        &mut e,
        "major_ids",
        &f.major_ids,
        major_codes.iter().map(String::as_str),
    )
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect();
    let min_gpa = e
        .optional("min_gpa", &f.min_gpa, Gpa::parse)
        .map(|g| g.value());
    let max_per_student = match f.max_per_student.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if (1..=10).contains(&n) => Some(n),
            _ => {
                e.add("max_per_student", "manage.err.max_per_student");
                None
            }
        },
    };
    let notice = optional_text(&mut e, "notice", &f.notice, 20_000);
    let workflow_code = required_choice(
        &mut e,
        "workflow_code",
        &f.workflow_code,
        c.workflows.iter().map(|w| w.code.as_str()),
    );
    let input = ProgramInput {
        code,
        name_zh,
        name_en,
        year,
        semesters,
        start_date: start.map(|d| d.to_string()).unwrap_or_default(),
        end_date: end.map(|d| d.to_string()).unwrap_or_default(),
        duration,
        nature,
        region_kind,
        country,
        program_type,
        fee_mode,
        fee,
        term,
        teaching_mode,
        description,
        host_unit,
        reg_start: reg_start.unwrap_or_default(),
        reg_end: reg_end.unwrap_or_default(),
        levels,
        grades,
        major_ids,
        min_gpa,
        has_interview: f.has_interview,
        allows_late: f.allows_late,
        max_per_student,
        notice,
        workflow_code,
        active: f.active,
    };
    e.into_result(input)
}

fn parse_window_end(e: &mut FieldErrors, field: &str, raw: &str) -> Option<DateTime<Utc>> {
    if raw.trim().is_empty() {
        e.add(field, ValueError::Empty.code());
        return None;
    }
    let t = parse_china_minute(raw);
    if t.is_none() {
        e.add(field, "manage.err.datetime");
    }
    t
}

pub(super) fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The stored columns of a checked program (everything the form edits but the code).
fn program_values(p: &ProgramInput) -> Vec<(&'static str, Expr)> {
    vec![
        ("name_zh", Expr::val(p.name_zh.clone())),
        ("name_en", Expr::val(p.name_en.clone())),
        ("year", Expr::val(p.year)),
        ("semesters", Expr::val(json_list(&p.semesters))),
        ("start_date", Expr::val(p.start_date.clone())),
        ("end_date", Expr::val(p.end_date.clone())),
        ("duration", Expr::val(p.duration.clone())),
        ("nature", Expr::val(p.nature.clone())),
        ("region_kind", Expr::val(p.region_kind.clone())),
        ("country", Expr::val(p.country.clone())),
        ("program_type", Expr::val(p.program_type.clone())),
        ("fee_mode", Expr::val(p.fee_mode.clone())),
        ("fee", Expr::val(p.fee.clone())),
        ("term", Expr::val(p.term.clone())),
        ("teaching_mode", Expr::val(p.teaching_mode.clone())),
        ("description", Expr::val(p.description.clone())),
        ("host_unit", Expr::val(p.host_unit.clone())),
        ("reg_start", Expr::val(p.reg_start)),
        ("reg_end", Expr::val(p.reg_end)),
        ("levels", Expr::val(json_list(&p.levels))),
        ("grades", Expr::val(json_list(&p.grades))),
        ("major_ids", Expr::val(json_list(&p.major_ids))),
        ("min_gpa", Expr::val(p.min_gpa)),
        ("has_interview", Expr::val(p.has_interview)),
        ("allows_late", Expr::val(p.allows_late)),
        ("max_per_student", Expr::val(p.max_per_student)),
        ("notice", Expr::val(p.notice.clone())),
        ("workflow_code", Expr::val(p.workflow_code.clone())),
        ("active", Expr::val(p.active)),
    ]
}

/// The next free 项目编号 of a year: `<year><nnnn>` after the highest one in use.
pub(super) async fn next_code(tx: &mut Tx, year: i64) -> ServiceResult<String> {
    let prefix = year.to_string();
    let highest = db::codes_starting_with(tx, &prefix)
        .await?
        .iter()
        .filter_map(|c| c.strip_prefix(&prefix))
        .filter(|rest| rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|rest| rest.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    let mut n = highest + 1;
    loop {
        let code = format!("{prefix}{n:04}");
        if !db::code_taken(tx, &code, None).await? {
            return Ok(code);
        }
        n += 1;
    }
}

fn code_taken_error() -> ServiceError {
    let mut e = FieldErrors::new();
    e.add("code", "manage.err.code_taken");
    ServiceError::Invalid(e)
}

/// A unique violation on insert or update can only be the 项目编号 (another clerk took it
/// between the check and the write).
fn on_code_clash(e: DbError) -> ServiceError {
    if e.is_unique_violation() {
        code_taken_error()
    } else {
        e.into()
    }
}

/// Creates a draft program; returns its id. A partner's program is 【合作方】 and theirs.
pub async fn create(db: &Db, who: &Who, m: Manager, form: &ProgramForm) -> ServiceResult<i64> {
    let choices = Choices::load(db).await?;
    let input = parse_program(form, &choices)?;
    let mut tx = db.begin().await?;
    let code = match &input.code {
        Some(code) => {
            if db::code_taken(&mut tx, code, None).await? {
                return Err(code_taken_error());
            }
            code.clone()
        }
        None => next_code(&mut tx, input.year).await?,
    };
    let now = Utc::now();
    let mut values = program_values(&input);
    values.extend([
        ("code", Expr::val(code.clone())),
        (
            "source",
            Expr::val(if m.is_office() { "school" } else { "partner" }),
        ),
        ("status", Expr::val(ProgramStatus::Draft.code())),
        ("created_by", Expr::val(who.id)),
        ("created_at", Expr::val(now)),
        ("updated_at", Expr::val(now)),
        ("version", Expr::val(1i64)),
    ]);
    let id = insert_program(&mut tx, values).await?;
    audit::record(
        &mut tx,
        who,
        "program.create",
        &program_target(id),
        &format!("{code} {}", input.name_zh),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn insert_program(
    tx: &mut Tx,
    values: Vec<(&'static str, Expr)>,
) -> ServiceResult<i64> {
    let (columns, exprs): (Vec<&'static str>, Vec<Expr>) = values.into_iter().unzip();
    tx.insert_id(
        Query::insert()
            .into_table("programs")
            .columns(columns)
            .values_panic(exprs),
    )
    .await
    .map_err(on_code_clash)
}

/// Saves the program form if the program is still at `seen_version`.
pub async fn update(
    db: &Db,
    who: &Who,
    m: Manager,
    id: i64,
    seen_version: i64,
    form: &ProgramForm,
) -> ServiceResult<()> {
    let choices = Choices::load(db).await?;
    let input = parse_program(form, &choices)?;
    let mut tx = db.begin().await?;
    let p = load_in(&mut tx, m, id).await?;
    require(m, &p, ProgramAction::Edit)?;
    let code = match &input.code {
        Some(code) => code.clone(),
        // Clearing the number keeps the old one.
        None => p.program.code.clone(),
    };
    if db::code_taken(&mut tx, &code, Some(id)).await? {
        return Err(code_taken_error());
    }
    let mut values = program_values(&input);
    values.extend([
        ("code", Expr::val(code.clone())),
        ("updated_at", Expr::val(Utc::now())),
        ("version", Expr::col("version").add(1)),
    ]);
    let n = tx
        .update(
            Query::update()
                .table("programs")
                .values(values)
                .and_where(Expr::col("id").eq(id))
                .and_where(Expr::col("version").eq(seen_version)),
        )
        .await
        .map_err(on_code_clash)?;
    if n == 0 {
        return Err(ServiceError::Conflict(STALE));
    }
    audit::record(
        &mut tx,
        who,
        "program.update",
        &program_target(id),
        &format!("{code} v{seen_version}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The labels of the fixed program options, by field: `programs.<field>.<code>`.
pub fn fixed_options(field: &str) -> &'static [&'static str] {
    match field {
        "region_kind" => &REGION_KINDS,
        "fee_mode" => &FEE_MODES,
        "term" => &TERMS,
        "teaching_mode" => &TEACHING_MODES,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn item(code: &str) -> DictItem {
        DictItem {
            code: code.into(),
            label_zh: code.into(),
            label_en: code.into(),
        }
    }

    fn choices() -> Choices {
        Choices {
            countries: vec![item("GB"), item("JP")],
            program_types: vec![item("semester_exchange"), item("short_term")],
            semesters: vec![item("spring"), item("autumn")],
            natures: vec![item("school_public")],
            majors: vec![Major {
                id: 7,
                college_id: 1,
                code: "M7".into(),
                name_zh: "英语".into(),
                name_en: "English".into(),
            }],
            workflows: vec![TemplateVersion {
                id: 1,
                code: "semester_exchange".into(),
                version: 1,
                name_zh: "学期".into(),
                name_en: String::new(),
                stages: "[]".into(),
                created_at: Utc::now(),
            }],
        }
    }

    fn good() -> ProgramForm {
        ProgramForm {
            name_zh: "2026年秋季学期英国交换项目".into(),
            country: "GB".into(),
            program_type: "semester_exchange".into(),
            reg_start: "2026-03-01T09:00".into(),
            reg_end: "2026-03-31 17:30".into(),
            semesters: vec!["autumn".into(), "autumn".into()],
            levels: vec!["undergraduate".into()],
            grades: "2023，2024级 2023".into(),
            major_ids: vec!["7".into()],
            min_gpa: "3.3".into(),
            ..ProgramForm::blank(2026)
        }
    }

    #[test]
    fn a_complete_form_parses_into_stored_values_in_china_time() {
        let p = parse_program(&good(), &choices()).expect("valid");
        assert_eq!(p.code, None, "an empty number is given one on save");
        assert_eq!(p.year, 2026);
        assert_eq!(p.semesters, vec!["autumn"]);
        assert_eq!(p.grades, vec!["2023", "2024"]);
        assert_eq!(p.major_ids, vec![7]);
        assert_eq!(p.min_gpa, Some(3.3));
        assert_eq!(p.reg_start.hour(), 1, "09:00 in China is 01:00 UTC");
        assert_eq!(china_minute(p.reg_end), "2026-03-31T17:30");
        assert!(p.active);
    }

    #[test]
    fn every_bad_field_is_reported_at_once_beside_its_field() {
        let f = ProgramForm {
            code: "20 26".into(),
            name_zh: " ".into(),
            year: "26".into(),
            start_date: "2026-09-01".into(),
            end_date: "2026-08-01".into(),
            country: "XX".into(),
            reg_start: "2026-03-31T09:00".into(),
            reg_end: "2026-03-01T09:00".into(),
            grades: "二〇二三".into(),
            min_gpa: "5.5".into(),
            max_per_student: "0".into(),
            workflow_code: "nope".into(),
            levels: vec!["kindergarten".into()],
            ..good()
        };
        let e = parse_program(&f, &choices()).expect_err("invalid");
        let got: Vec<(&str, &str)> = e.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            vec![
                ("code", "manage.err.code_format"),
                ("name_zh", "err.required"),
                ("year", "manage.err.year"),
                ("end_date", "err.date.order"),
                ("country", "err.option.unknown"),
                ("reg_end", "manage.err.reg_order"),
                ("levels", "err.option.unknown"),
                ("grades", "manage.err.grades"),
                ("min_gpa", "err.gpa.range"),
                ("max_per_student", "manage.err.max_per_student"),
                ("workflow_code", "err.option.unknown"),
            ]
        );
    }

    #[test]
    fn the_registration_window_needs_both_ends_to_the_minute_and_start_before_end() {
        let e = parse_program(
            &ProgramForm {
                reg_start: String::new(),
                reg_end: "tomorrow".into(),
                ..good()
            },
            &choices(),
        )
        .expect_err("invalid");
        assert_eq!(e.get("reg_start"), Some("err.required"));
        assert_eq!(e.get("reg_end"), Some("manage.err.datetime"));
        let same = ProgramForm {
            reg_end: good().reg_start,
            ..good()
        };
        assert_eq!(
            parse_program(&same, &choices())
                .expect_err("equal")
                .get("reg_end"),
            Some("manage.err.reg_order")
        );
        assert!(parse_china_minute("2026/03/01 09:00:30").is_some());
        assert!(parse_china_minute("2026-02-30T09:00").is_none());
    }

    #[test]
    fn a_stored_program_comes_back_as_the_same_form() {
        let input = parse_program(&good(), &choices()).expect("valid");
        let row = ManagedProgram {
            program: db::ProgramRow {
                id: 1,
                code: "20260001".into(),
                name_zh: input.name_zh.clone(),
                name_en: input.name_en.clone(),
                year: input.year,
                semesters: json_list(&input.semesters),
                start_date: input.start_date.clone(),
                end_date: input.end_date.clone(),
                duration: String::new(),
                nature: String::new(),
                region_kind: input.region_kind.clone(),
                country: input.country.clone(),
                program_type: input.program_type.clone(),
                fee_mode: String::new(),
                fee: String::new(),
                term: input.term.clone(),
                teaching_mode: input.teaching_mode.clone(),
                description: String::new(),
                host_unit: String::new(),
                reg_start: input.reg_start,
                reg_end: input.reg_end,
                levels: json_list(&input.levels),
                grades: json_list(&input.grades),
                major_ids: json_list(&input.major_ids),
                min_gpa: input.min_gpa,
                has_interview: false,
                allows_late: false,
                max_per_student: None,
                notice: String::new(),
                workflow_code: input.workflow_code.clone(),
                source: "school".into(),
                status: "draft".into(),
                active: true,
                published_at: None,
            },
            version: 1,
            created_by: None,
            updated_at: Utc::now(),
            review_note: String::new(),
        };
        let back = ProgramForm::from_row(&row);
        let again = parse_program(&back, &choices()).expect("still valid");
        assert_eq!(again.code.as_deref(), Some("20260001"));
        assert_eq!(
            ProgramInput {
                code: None,
                ..again
            },
            input
        );
    }
}
