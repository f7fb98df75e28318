//! Staff reports: the application filter every staff list shares, who sees which applications,
//! the streaming .xlsx export, and the statistics (SPEC §10).
//!
//! The API other staff pages build on:
//! - [`ApplicationFilter`]: the filter bar as typed (program, college, status, 项目年度,
//!   submission date range 从…至, keyword), read from a query string and parsed into
//!   [`Criteria`] with every input error beside its field;
//! - [`scope_for`]: the [`Scope`] of a person — college reviewers see their own colleges, the
//!   international office, admins, academic affairs and foreign affairs see all;
//! - [`export_applications`]: writes the matching applications, with the columns a clerk
//!   ticked, to an .xlsx file page by page (1,000 rows per query), so memory stays flat
//!   whatever the number of rows; 证件号码 and 手机 are masked unless [`Disclosure::Full`].
//!   Each export leaves an audit row.
//! - [`statistics`]: counts by year, country/region, program type, college, level, status.
//!
//! Reading one page of the list is a plain selector: [`crate::db::reports::page`].
//!
//! Another staff list reuses all of it, e.g. a reviewer queue's 导出 button:
//!
//! ```ignore
//! let filter = ApplicationFilter::from_query(raw.as_deref());
//! let mut criteria = filter.parse()?;                 // FieldErrors → beside the fields
//! criteria.application_ids = Some(queue_ids);         // exactly the queue's rows
//! let scope = scope_for(&user.roles, &user.college_ids).ok_or(Forbidden)?;
//! let columns = Column::parse_list(&ticked)?;         // `col=` values of the form
//! let exported = export_applications(db, key, &who, &export_dir(data_dir), ExportRequest {
//!     criteria: &criteria, scope: &scope, columns: &columns,
//!     disclosure: Disclosure::for_roles(&user.roles), lang,
//! }).await?;
//! // then stream `exported.file` as `exported.file_name` (see web::pages::reports::export).
//! ```

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::{self, Who};
use super::{ServiceError, ServiceResult};
use crate::auth::{Role, Roles};
use crate::crypto::DataKey;
use crate::db::Db;
use crate::db::dicts::{self, kind};
use crate::db::reports::{self as q, Extras, StaffRow};
pub use crate::db::reports::{Criteria, Dimension, Scope, Sort};
use crate::domain::FieldErrors;
use crate::domain::status::Status;
use crate::domain::values::{StudyLevel, ValueError, parse_date};
use crate::domain::workflow::Workflow;
pub use crate::export::{Column, Disclosure};
use crate::export::{ExportError, TempFile, XlsxStream, mask_mobile};
use crate::i18n::Lang;

// ---------------------------------------------------------------------------------------------
// The filter

/// The staff filter bar as typed: every field a raw string, so that reading it never fails;
/// [`ApplicationFilter::parse`] checks it. Field names are the query-string keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicationFilter {
    /// A program id.
    pub program: String,
    /// A college id.
    pub college: String,
    /// A status code (`under_review` …).
    pub status: String,
    /// 项目年度.
    pub year: String,
    /// Submitted on or after this date (YYYY-MM-DD, China time).
    pub from: String,
    /// Submitted on or before this date.
    pub to: String,
    /// Part of a name, student number or program name / code.
    pub keyword: String,
}

/// The longest keyword searched for.
pub const MAX_KEYWORD_CHARS: usize = 50;

/// China Standard Time, in hours east of UTC (no daylight saving).
const CHINA_OFFSET_HOURS: i64 = 8;

/// The moment a China-time day begins.
fn china_midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::MIN).and_utc() - Duration::hours(CHINA_OFFSET_HOURS)
}

/// A positive id from a select, or the field's error.
fn parse_id(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errors.add(field, "err.report.choice");
            None
        }
    }
}

/// A program year (2000–2100), or the field's error.
pub fn parse_year(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(y) if (2000..=2100).contains(&y) => Some(y),
        _ => {
            errors.add(field, "err.report.year");
            None
        }
    }
}

impl ApplicationFilter {
    /// The query-string keys, in form order.
    pub const FIELDS: [&'static str; 7] = [
        "program", "college", "status", "year", "from", "to", "keyword",
    ];

    /// Reads the filter from decoded `key=value` pairs leniently: unknown keys are ignored and
    /// the last value of a key wins.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> ApplicationFilter {
        let mut f = ApplicationFilter::default();
        for (k, v) in pairs {
            let v = v.as_ref().trim().to_owned();
            match k.as_ref() {
                "program" => f.program = v,
                "college" => f.college = v,
                "status" => f.status = v,
                "year" => f.year = v,
                "from" => f.from = v,
                "to" => f.to = v,
                "keyword" => f.keyword = v,
                _ => {}
            }
        }
        f
    }

    /// Reads the filter from a raw query string (`RawQuery`); an undecodable one is empty.
    pub fn from_query(raw: Option<&str>) -> ApplicationFilter {
        let pairs: Vec<(String, String)> = raw
            .and_then(|r| serde_urlencoded::from_str(r).ok())
            .unwrap_or_default();
        ApplicationFilter::from_pairs(&pairs)
    }

    /// The value typed in `field` (one of [`Self::FIELDS`]).
    pub fn get(&self, field: &str) -> &str {
        match field {
            "program" => &self.program,
            "college" => &self.college,
            "status" => &self.status,
            "year" => &self.year,
            "from" => &self.from,
            "to" => &self.to,
            "keyword" => &self.keyword,
            _ => "",
        }
    }

    /// The fields that are set, as `(key, value)` pairs: hidden inputs of a form that carries
    /// the filter on (导出), and page links.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        Self::FIELDS
            .into_iter()
            .filter(|f| !self.get(f).is_empty())
            .map(|f| (f, self.get(f).to_owned()))
            .collect()
    }

    /// The set fields as a query string (`status=under_review&keyword=%E5%BC%A0`), or "".
    pub fn query_string(&self) -> String {
        serde_urlencoded::to_string(self.pairs()).unwrap_or_default()
    }

    /// Checks every field at once: the criteria, or each error beside its field (a date
    /// that is not a date, 至 before 从, an id that is not one, an unknown status …).
    pub fn parse(&self) -> Result<Criteria, FieldErrors> {
        let mut errors = FieldErrors::new();
        let program_id = parse_id(&mut errors, "program", &self.program);
        let college_id = parse_id(&mut errors, "college", &self.college);
        let status = match self.status.trim() {
            "" => None,
            code => match Status::from_code(code).filter(|s| *s != Status::Draft) {
                Some(s) => Some(s),
                None => {
                    errors.add("status", "err.report.choice");
                    None
                }
            },
        };
        let year = parse_year(&mut errors, "year", &self.year);
        let from = errors.optional("from", &self.from, parse_date);
        let to = errors.optional("to", &self.to, parse_date);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            errors.add("to", ValueError::DateOrder.code());
        }
        let keyword = self.keyword.trim().to_owned();
        if keyword.chars().count() > MAX_KEYWORD_CHARS {
            errors.add("keyword", ValueError::TooLong.code());
        }
        errors.into_result(Criteria {
            program_id,
            college_id,
            status,
            year,
            submitted_from: from.map(china_midnight),
            submitted_before: to.and_then(|d| d.succ_opt()).map(china_midnight),
            keyword,
            application_ids: None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Who sees what

/// The roles that see every application (SPEC §1: their stages are university-wide).
pub const SEES_ALL: [Role; 4] = [
    Role::InternationalOffice,
    Role::Admin,
    Role::AcademicAffairs,
    Role::ForeignAffairs,
];

/// Which applications a person holding `roles` sees in staff lists, exports and statistics:
/// all of them for the office, admins, academic and foreign affairs; those of their own
/// colleges for a college reviewer; `None` for anyone else (students, partners).
pub fn scope_for(roles: &Roles, reviewer_colleges: &[i64]) -> Option<Scope> {
    if SEES_ALL.iter().any(|r| roles.has(*r)) {
        Some(Scope::All)
    } else if roles.has(Role::CollegeReviewer) {
        Some(Scope::Colleges(reviewer_colleges.to_vec()))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Cells

/// The few 申请信息 fields an export shows (the rest of the JSON is skipped unread).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InfoPick {
    choice_1: String,
    choice_2: String,
    gpa: String,
}

/// Labels and names the cells need, loaded once per export (schools and workflows as met).
#[derive(Debug, Default)]
pub struct Lookups {
    pub lang: Lang,
    pub countries: HashMap<String, String>,
    pub program_types: HashMap<String, String>,
    /// Partner-school names by id.
    pub schools: HashMap<i64, String>,
    /// Workflow templates by id (`None`: missing or unreadable).
    pub workflows: HashMap<i64, Option<Workflow>>,
}

impl Lookups {
    /// The dictionaries in `lang`; schools and workflows are added by [`Lookups::complete`].
    pub async fn load(db: &Db, lang: Lang) -> ServiceResult<Lookups> {
        let map = |items: Vec<dicts::DictItem>| {
            items
                .into_iter()
                .map(|i| {
                    let label = i.label(lang).to_owned();
                    (i.code, label)
                })
                .collect::<HashMap<_, _>>()
        };
        Ok(Lookups {
            lang,
            countries: map(dicts::items(db, kind::COUNTRY).await?),
            program_types: map(dicts::items(db, kind::PROGRAM_TYPE).await?),
            ..Lookups::default()
        })
    }

    /// Loads the schools and workflows `rows` refer to that are not known yet.
    async fn complete(&mut self, db: &Db, rows: &[(StaffRow, InfoPick)]) -> ServiceResult<()> {
        let mut missing: Vec<i64> = rows
            .iter()
            .flat_map(|(r, info)| {
                [
                    info.choice_1.trim().parse().ok(),
                    info.choice_2.trim().parse().ok(),
                    r.admitted_school_id,
                ]
            })
            .flatten()
            .filter(|id| !self.schools.contains_key(id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for s in crate::db::programs::school_names(db, &missing).await? {
            let name = self.lang.pick(&s.name_zh, &s.name_en).to_owned();
            self.schools.insert(s.id, name);
        }
        load_workflows(db, &mut self.workflows, rows.iter().map(|(r, _)| r)).await
    }

    fn school(&self, id: &str) -> String {
        id.trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| self.schools.get(&id))
            .cloned()
            .unwrap_or_default()
    }
}

/// What the audit log says of an export, in the exporter's language: the rows, the columns,
/// whether personal numbers were in full, whose applications, and the filter in words.
fn export_detail(req: &ExportRequest<'_>, rows: u64) -> String {
    let lang = req.lang;
    let (sep, colon, comma) = match lang {
        Lang::En => ("; ", ": ", ", "),
        Lang::Zh => ("；", "：", "、"),
    };
    let columns: Vec<&str> = req.columns.iter().map(|c| lang.t(c.label_key())).collect();
    let scope = match req.scope {
        Scope::All => lang.t("audit.export.scope_all").to_owned(),
        Scope::Colleges(ids) => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            format!(
                "{}{colon}{}",
                lang.t("audit.export.scope_colleges"),
                ids.join(comma)
            )
        }
    };
    let c = req.criteria;
    let mut filter: Vec<String> = Vec::new();
    let mut add = |key: &str, value: String| {
        filter.push(format!("{}{colon}{value}", lang.t(key)));
    };
    if let Some(id) = c.program_id {
        add("audit.export.program", id.to_string());
    }
    if let Some(id) = c.college_id {
        add("audit.export.college", id.to_string());
    }
    if let Some(s) = c.status {
        add("audit.export.status", lang.t(s.label_key()).to_owned());
    }
    if let Some(y) = c.year {
        add("audit.export.year", y.to_string());
    }
    if let Some(t) = c.submitted_from {
        add("audit.export.from", china_time(t));
    }
    if let Some(t) = c.submitted_before {
        add("audit.export.before", china_time(t));
    }
    if !c.keyword.is_empty() {
        add("audit.export.keyword", format!("“{}”", c.keyword));
    }
    if let Some(ids) = &c.application_ids {
        add("audit.export.selected", ids.len().to_string());
    }
    let filter = if filter.is_empty() {
        lang.t("audit.export.filter_none").to_owned()
    } else {
        filter.join(comma)
    };
    [
        lang.tf("audit.export.rows", &rows.to_string()),
        format!(
            "{}{colon}{}",
            lang.t("audit.export.columns"),
            columns.join(comma)
        ),
        lang.t(match req.disclosure {
            Disclosure::Full => "audit.export.personal_full",
            Disclosure::Masked => "audit.export.personal_masked",
        })
        .to_owned(),
        format!("{}{colon}{scope}", lang.t("audit.export.scope")),
        format!("{}{colon}{filter}", lang.t("audit.export.filter")),
    ]
    .join(sep)
}

/// A moment as the export writes it: China time, to the minute.
fn china_time(t: DateTime<Utc>) -> String {
    (t + Duration::hours(CHINA_OFFSET_HOURS))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Adds to `workflows` the templates `rows` refer to that it does not hold yet.
async fn load_workflows<'r>(
    db: &Db,
    workflows: &mut HashMap<i64, Option<Workflow>>,
    rows: impl Iterator<Item = &'r StaffRow>,
) -> ServiceResult<()> {
    for r in rows {
        if let Some(id) = r.workflow_template_id
            && !workflows.contains_key(&id)
        {
            let wf = q::template_stages(db, id)
                .await?
                .and_then(|json| Workflow::parse(&json).ok());
            workflows.insert(id, wf);
        }
    }
    Ok(())
}

/// The 当前环节 of each row (empty where no reviewer is deciding), for a page of a list.
pub async fn current_stages(db: &Db, rows: &[StaffRow], lang: Lang) -> ServiceResult<Vec<String>> {
    let mut workflows = HashMap::new();
    load_workflows(db, &mut workflows, rows.iter()).await?;
    Ok(rows
        .iter()
        .map(|r| current_stage(r, &workflows, lang))
        .collect())
}

/// The 当前环节 of an application: the stage deciding now, while reviewers decide.
pub fn current_stage(
    row: &StaffRow,
    workflows: &HashMap<i64, Option<Workflow>>,
    lang: Lang,
) -> String {
    if row.status().review_phase().is_none() {
        return String::new();
    }
    row.workflow_template_id
        .and_then(|id| workflows.get(&id))
        .and_then(Option::as_ref)
        .and_then(|wf| wf.stage(row.stage_index))
        .map(|stage| stage.name(lang == Lang::En).to_owned())
        .unwrap_or_default()
}

/// The text of one cell. Personal numbers follow `disclosure`; a sealed 证件号码 that cannot
/// be opened shows its masked form rather than failing the export.
fn cell(
    column: Column,
    row: &StaffRow,
    info: &InfoPick,
    lookups: &Lookups,
    disclosure: Disclosure,
    key: &DataKey,
) -> String {
    let lang = lookups.lang;
    match column {
        Column::StudentNo => row.student_no.clone(),
        Column::Name => row.student_name.clone(),
        Column::College => lang.pick(&row.college_zh, &row.college_en).to_owned(),
        Column::Major => lang
            .pick(
                row.major_zh.as_deref().unwrap_or_default(),
                row.major_en.as_deref().unwrap_or_default(),
            )
            .to_owned(),
        Column::Grade => row.grade.clone(),
        Column::Level => match StudyLevel::from_code(&row.level) {
            Some(l) => lang.t(l.label_key()).to_owned(),
            None => row.level.clone(),
        },
        Column::Program => lang.pick(&row.program_zh, &row.program_en).to_owned(),
        Column::Year => row.round_year.to_string(),
        Column::ProgramType => lookups
            .program_types
            .get(&row.program_type)
            .cloned()
            .unwrap_or_else(|| row.program_type.clone()),
        Column::Country => lookups
            .countries
            .get(&row.country)
            .cloned()
            .unwrap_or_else(|| row.country.clone()),
        Column::Choice1 => lookups.school(&info.choice_1),
        Column::Choice2 => lookups.school(&info.choice_2),
        Column::Status => lang.t(row.status().label_key()).to_owned(),
        Column::Stage => current_stage(row, &lookups.workflows, lang),
        Column::SubmittedAt => row.submitted_at.map(china_time).unwrap_or_default(),
        Column::IdNumber => match disclosure {
            Disclosure::Masked => row.id_number_masked.clone(),
            Disclosure::Full => key.open(&row.id_number_enc).unwrap_or_else(|e| {
                tracing::warn!(application = row.id, error = %e, "cannot open an ID number");
                row.id_number_masked.clone()
            }),
        },
        Column::Mobile => match disclosure {
            Disclosure::Masked => mask_mobile(&row.mobile),
            Disclosure::Full => row.mobile.clone(),
        },
        Column::Email => row.email.clone(),
        Column::Gpa => {
            if info.gpa.trim().is_empty() {
                row.profile_gpa.clone()
            } else {
                info.gpa.trim().to_owned()
            }
        }
        Column::AdmittedSchool => match (row.admitted_school_id, row.status()) {
            (Some(id), _) => lookups.schools.get(&id).cloned().unwrap_or_default(),
            (None, Status::AdmittedFirstChoice) => lookups.school(&info.choice_1),
            (None, Status::AdmittedSecondChoice) => lookups.school(&info.choice_2),
            (None, _) => String::new(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The export

/// Rows read per query while exporting.
pub const EXPORT_PAGE: u64 = 1_000;

/// What to export, for whom.
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest<'a> {
    pub criteria: &'a Criteria,
    pub scope: &'a Scope,
    /// The ticked columns, in file order (see [`Column::parse_list`]).
    pub columns: &'a [Column],
    pub disclosure: Disclosure,
    /// Headers and labels in this language.
    pub lang: Lang,
}

/// A finished export: the file (removed when dropped), its row count and download name.
#[derive(Debug)]
pub struct ExportedFile {
    pub file: TempFile,
    pub rows: u64,
    /// `申请名单_20260312_1530.xlsx` (in the interface language).
    pub file_name: String,
}

fn export_error(e: ExportError) -> ServiceError {
    match e {
        ExportError::TooManyRows => ServiceError::Refused("err.report.too_many_rows"),
        other => ServiceError::Unexpected(anyhow::Error::new(other)),
    }
}

/// One page of an export being read on its own task; dropping it cancels the read.
struct Prefetch(tokio::task::JoinHandle<crate::db::DbResult<Vec<StaffRow>>>);

impl Prefetch {
    /// Starts reading the page after `after_id`.
    fn start(db: &Db, req: ExportRequest<'_>, extras: Extras, after_id: i64) -> Prefetch {
        let (db, criteria, scope) = (db.clone(), req.criteria.clone(), req.scope.clone());
        Prefetch(tokio::spawn(async move {
            q::after_id(&db, &criteria, &scope, extras, after_id, EXPORT_PAGE).await
        }))
    }

    async fn rows(mut self) -> ServiceResult<Vec<StaffRow>> {
        match (&mut self.0).await {
            Ok(rows) => Ok(rows?),
            Err(e) => Err(ServiceError::Unexpected(anyhow::Error::new(e))),
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Writes the applications matching `req.criteria` within `req.scope` to an .xlsx file in
/// `dir` (the data folder's export area), reading [`EXPORT_PAGE`] rows per query by id while
/// a blocking thread writes the previous page, then records the export in the audit log
/// (with the filter, the columns and whether personal numbers were shown in full).
pub async fn export_applications(
    db: &Db,
    key: &DataKey,
    who: &Who,
    dir: &Path,
    req: ExportRequest<'_>,
) -> ServiceResult<ExportedFile> {
    let lang = req.lang;
    let mut lookups = Lookups::load(db, lang).await?;
    let needs_info = req.columns.iter().any(|c| {
        matches!(
            c,
            Column::Choice1 | Column::Choice2 | Column::Gpa | Column::AdmittedSchool
        )
    });
    let extras = Extras {
        info: needs_info,
        id_number: req.disclosure == Disclosure::Full && req.columns.contains(&Column::IdNumber),
    };
    let headers = req
        .columns
        .iter()
        .map(|c| lang.t(c.label_key()).to_owned())
        .collect();
    let widths = req.columns.iter().map(|c| c.width()).collect();
    let mut xlsx = XlsxStream::start(dir, lang.t("report.export.sheet"), headers, widths)
        .map_err(export_error)?;
    // The next page is read while this one is turned into cells, so that the database and
    // the CPU work side by side; the writer thread compresses behind both.
    let mut next = Some(Prefetch::start(db, req, extras, 0));
    while let Some(fetch) = next.take() {
        let rows = fetch.rows().await?;
        let Some(last) = rows.last() else { break };
        if rows.len() as u64 == EXPORT_PAGE {
            next = Some(Prefetch::start(db, req, extras, last.id));
        }
        let rows: Vec<(StaffRow, InfoPick)> = rows
            .into_iter()
            .map(|r| {
                let info = if needs_info {
                    serde_json::from_str(&r.info).unwrap_or_default()
                } else {
                    InfoPick::default()
                };
                (r, info)
            })
            .collect();
        lookups.complete(db, &rows).await?;
        let cells = rows
            .iter()
            .map(|(r, info)| {
                req.columns
                    .iter()
                    .map(|c| cell(*c, r, info, &lookups, req.disclosure, key))
                    .collect()
            })
            .collect();
        xlsx.write(cells).await.map_err(export_error)?;
    }
    let (file, rows) = xlsx.finish().await.map_err(export_error)?;

    let detail = export_detail(&req, rows);
    // A long id list must not bloat the audit log.
    let detail: String = detail.chars().take(2_000).collect();
    let mut tx = db.begin().await?;
    audit::record(&mut tx, who, "report.export", "applications", &detail).await?;
    tx.commit().await?;

    let stamp = (Utc::now() + Duration::hours(CHINA_OFFSET_HOURS)).format("%Y%m%d_%H%M");
    Ok(ExportedFile {
        file,
        rows,
        file_name: format!("{}_{stamp}.xlsx", lang.t("report.export.file_stem")),
    })
}

// ---------------------------------------------------------------------------------------------
// Statistics

/// One value of a dimension, labelled, with its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyRow {
    /// The stored value (a year, a dictionary or college code, a status code …).
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// The counts of one dimension; `total` is their sum, the number of applications counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub dimension: Dimension,
    pub rows: Vec<TallyRow>,
    pub total: i64,
}

/// The catalogue key of a dimension's name (按学院 …).
pub const fn dimension_key(d: Dimension) -> &'static str {
    match d {
        Dimension::Year => "report.dim.year",
        Dimension::Country => "report.dim.country",
        Dimension::ProgramType => "report.dim.program_type",
        Dimension::College => "report.dim.college",
        Dimension::Level => "report.dim.level",
        Dimension::Status => "report.dim.status",
    }
}

/// The code of a dimension, for element ids (`chart-college`).
pub const fn dimension_code(d: Dimension) -> &'static str {
    match d {
        Dimension::Year => "year",
        Dimension::Country => "country",
        Dimension::ProgramType => "program_type",
        Dimension::College => "college",
        Dimension::Level => "level",
        Dimension::Status => "status",
    }
}

/// The applications within `scope` (of program year `year`, if given), counted by every
/// dimension, labelled in `lang`. Years run oldest first, statuses and levels in their own
/// order, everything else by count, largest first.
pub async fn statistics(
    db: &Db,
    scope: &Scope,
    year: Option<i64>,
    lang: Lang,
) -> ServiceResult<Vec<Tally>> {
    let lookups = Lookups::load(db, lang).await?;
    let colleges: HashMap<String, String> = q::colleges(db)
        .await?
        .into_iter()
        .map(|c| {
            let name = lang.pick(&c.name_zh, &c.name_en).to_owned();
            (c.code, name)
        })
        .collect();
    let mut tallies = Vec::with_capacity(Dimension::ALL.len());
    for dimension in Dimension::ALL {
        let counts = q::group_counts(db, dimension, scope, year).await?;
        let mut rows: Vec<(usize, TallyRow)> = counts
            .into_iter()
            .map(|g| {
                let (rank, label) = match dimension {
                    Dimension::Year => (0, g.key.clone()),
                    Dimension::Country => (
                        0,
                        lookups
                            .countries
                            .get(&g.key)
                            .cloned()
                            .unwrap_or_else(|| g.key.clone()),
                    ),
                    Dimension::ProgramType => (
                        0,
                        lookups
                            .program_types
                            .get(&g.key)
                            .cloned()
                            .unwrap_or_else(|| g.key.clone()),
                    ),
                    Dimension::College => (
                        0,
                        colleges
                            .get(&g.key)
                            .cloned()
                            .unwrap_or_else(|| g.key.clone()),
                    ),
                    Dimension::Level => match StudyLevel::from_code(&g.key) {
                        Some(l) => (l as usize, lang.t(l.label_key()).to_owned()),
                        None => (usize::MAX, g.key.clone()),
                    },
                    Dimension::Status => match Status::from_code(&g.key) {
                        Some(s) => (s as usize, lang.t(s.label_key()).to_owned()),
                        None => (usize::MAX, g.key.clone()),
                    },
                };
                (
                    rank,
                    TallyRow {
                        key: g.key,
                        label,
                        count: g.count,
                    },
                )
            })
            .collect();
        match dimension {
            Dimension::Year => rows.sort_by_key(|(_, r)| r.key.parse::<i64>().unwrap_or(i64::MAX)),
            Dimension::Level | Dimension::Status => rows.sort_by_key(|(rank, _)| *rank),
            _ => rows.sort_by(|(_, a), (_, b)| b.count.cmp(&a.count).then(a.label.cmp(&b.label))),
        }
        let rows: Vec<TallyRow> = rows.into_iter().map(|(_, r)| r).collect();
        tallies.push(Tally {
            dimension,
            total: rows.iter().map(|r| r.count).sum(),
            rows,
        });
    }
    Ok(tallies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn filter(pairs: &[(&str, &str)]) -> ApplicationFilter {
        ApplicationFilter::from_pairs(pairs)
    }

    #[test]
    fn an_empty_filter_filters_nothing() {
        assert_eq!(
            ApplicationFilter::default().parse(),
            Ok(Criteria::default())
        );
    }

    #[test]
    fn the_date_range_covers_whole_china_days() {
        let c = filter(&[("from", "2026-03-01"), ("to", "2026-03-31")])
            .parse()
            .unwrap();
        assert_eq!(
            c.submitted_from,
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 16, 0, 0).unwrap())
        );
        assert_eq!(
            c.submitted_before,
            Some(Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap())
        );
    }

    #[test]
    fn bad_input_is_reported_beside_each_field_at_once() {
        let errors = filter(&[
            ("program", "abc"),
            ("college", "-3"),
            ("status", "draft"),
            ("year", "26"),
            ("from", "2026-02-30"),
            ("to", "yesterday"),
            ("keyword", &"张".repeat(MAX_KEYWORD_CHARS + 1)),
        ])
        .parse()
        .unwrap_err();
        assert_eq!(errors.get("program"), Some("err.report.choice"));
        assert_eq!(errors.get("college"), Some("err.report.choice"));
        assert_eq!(errors.get("status"), Some("err.report.choice"));
        assert_eq!(errors.get("year"), Some("err.report.year"));
        assert_eq!(errors.get("from"), Some("err.date.format"));
        assert_eq!(errors.get("to"), Some("err.date.format"));
        assert_eq!(errors.get("keyword"), Some("err.too_long"));
    }

    #[test]
    fn an_end_date_before_the_start_is_refused_on_the_end_date() {
        let errors = filter(&[("from", "2026-03-10"), ("to", "2026-03-01")])
            .parse()
            .unwrap_err();
        assert_eq!(errors.get("to"), Some("err.date.order"));
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn the_filter_reads_a_query_string_and_writes_it_back() {
        let f = ApplicationFilter::from_query(Some(
            "status=under_review&keyword=%E5%BC%A0&page=3&col=name&keyword=%E6%9D%8E",
        ));
        assert_eq!(f.status, "under_review");
        assert_eq!(f.keyword, "李", "the last value wins");
        assert_eq!(f.query_string(), "status=under_review&keyword=%E6%9D%8E");
        assert_eq!(
            ApplicationFilter::from_query(Some("%%%")),
            ApplicationFilter::default()
        );
        let parsed: ApplicationFilter =
            serde_urlencoded::from_str("program=7&from=2026-01-01").unwrap();
        assert_eq!(parsed.parse().unwrap().program_id, Some(7));
    }

    #[test]
    fn college_reviewers_see_their_colleges_and_university_wide_roles_see_all() {
        let roles = |r: &[Role]| Roles(r.to_vec());
        assert_eq!(
            scope_for(&roles(&[Role::CollegeReviewer]), &[4]),
            Some(Scope::Colleges(vec![4]))
        );
        for r in SEES_ALL {
            assert_eq!(scope_for(&roles(&[r]), &[]), Some(Scope::All), "{r:?}");
        }
        assert_eq!(
            scope_for(
                &roles(&[Role::CollegeReviewer, Role::AcademicAffairs]),
                &[4]
            ),
            Some(Scope::All)
        );
        assert_eq!(scope_for(&roles(&[Role::Student]), &[]), None);
        assert_eq!(scope_for(&roles(&[Role::Partner]), &[]), None);
    }

    fn row() -> StaffRow {
        StaffRow {
            id: 1,
            status: "under_review".into(),
            version: 2,
            stage_index: 0,
            workflow_template_id: None,
            round_year: 2026,
            is_late: false,
            submitted_at: Some(Utc.with_ymd_and_hms(2026, 3, 1, 1, 30, 0).unwrap()),
            admitted_school_id: None,
            student_id: 9,
            student_no: "2023010101".into(),
            student_name: "王晓明".into(),
            college_id: 1,
            college_zh: "外国语学院".into(),
            college_en: "School of Foreign Languages".into(),
            major_zh: Some("英语".into()),
            major_en: Some("English".into()),
            grade: "2023".into(),
            level: "undergraduate".into(),
            mobile: "13800138011".into(),
            email: "wangxm@stu.example.edu.cn".into(),
            profile_gpa: "3.62".into(),
            id_number_masked: "330***********0134".into(),
            id_number_enc: String::new(),
            info: String::new(),
            program_id: 3,
            program_code: "P-1".into(),
            program_zh: "=HYPERLINK(\"x\")".into(),
            program_en: String::new(),
            program_type: "semester".into(),
            country: "GB".into(),
        }
    }

    #[test]
    fn personal_numbers_are_masked_unless_disclosed_in_full() {
        let key = DataKey::generate();
        let mut r = row();
        r.id_number_enc = key.seal("330106200503160134");
        let lookups = Lookups::default();
        let info = InfoPick::default();
        let masked = |c| cell(c, &r, &info, &lookups, Disclosure::Masked, &key);
        assert_eq!(masked(Column::IdNumber), "330***********0134");
        assert_eq!(masked(Column::Mobile), "138****8011");
        let full = |c| cell(c, &r, &info, &lookups, Disclosure::Full, &key);
        assert_eq!(full(Column::IdNumber), "330106200503160134");
        assert_eq!(full(Column::Mobile), "13800138011");
        // A number sealed with another key is shown masked, not as an error.
        r.id_number_enc = DataKey::generate().seal("330106200503160134");
        assert_eq!(
            cell(
                Column::IdNumber,
                &r,
                &info,
                &lookups,
                Disclosure::Full,
                &key
            ),
            "330***********0134"
        );
    }

    #[test]
    fn cells_show_labels_in_the_interface_language_and_china_time() {
        let key = DataKey::generate();
        let r = row();
        let mut lookups = Lookups {
            lang: Lang::En,
            ..Lookups::default()
        };
        lookups
            .countries
            .insert("GB".into(), "United Kingdom".into());
        lookups.schools.insert(11, "University of Leeds".into());
        let info = InfoPick {
            choice_1: "11".into(),
            choice_2: "99".into(),
            gpa: " 3.58 ".into(),
        };
        let c = |col| cell(col, &r, &info, &lookups, Disclosure::Masked, &key);
        assert_eq!(c(Column::College), "School of Foreign Languages");
        assert_eq!(c(Column::Level), "Undergraduate");
        assert_eq!(c(Column::Country), "United Kingdom");
        assert_eq!(
            c(Column::ProgramType),
            "semester",
            "an unknown code shows as itself"
        );
        assert_eq!(c(Column::Status), "Under review");
        assert_eq!(c(Column::SubmittedAt), "2026-03-01 09:30");
        assert_eq!(c(Column::Choice1), "University of Leeds");
        assert_eq!(c(Column::Choice2), "", "a school that no longer exists");
        assert_eq!(c(Column::Gpa), "3.58");
        assert_eq!(
            c(Column::Program),
            "=HYPERLINK(\"x\")",
            "kept as text; the writer guards it"
        );
        let none = InfoPick::default();
        assert_eq!(
            cell(Column::Gpa, &r, &none, &lookups, Disclosure::Masked, &key),
            "3.62",
            "the profile's GPA when the application has none"
        );
    }
}
