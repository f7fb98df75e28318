//! 交流项目 as students see them (SPEC §4): the catalogue with its filter bar, and one
//! program's 项目信息 page with the eligibility verdict and the 报名 button.
//!
//! Any signed-in person may browse; only a student gets eligibility notes and 报名, and only
//! while [`apply_blockers`] finds nothing in the way — the same rule the application flow
//! enforces on submit. Times are shown in China time (UTC+8).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, FixedOffset, Utc};

use crate::db::dicts::{self, DictItem, kind};
use crate::db::programs::{self, AttachmentType, CatalogueFilter, PartnerSchool, ProgramRow};
use crate::domain::application::Registration;
use crate::domain::eligibility::StudentFacts;
use crate::domain::values::StudyLevel;
use crate::i18n::{self, Lang};
use crate::services::programs::{CLOSED, NOT_YET_OPEN, ROUND_LIMIT, apply_blockers, student_facts};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Ctx, Path, Signed};
use crate::web::layout::Layout;
use crate::web::render::html;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/programs", get(list))
        .route("/programs/{id}", get(detail))
}

/// Programs per catalogue page.
const PER_PAGE: u64 = 20;

/// China Standard Time, in seconds east of UTC.
const CHINA_OFFSET_SECS: i32 = 8 * 3600;

fn china(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    match FixedOffset::east_opt(CHINA_OFFSET_SECS) {
        Some(offset) => t.with_timezone(&offset),
        None => t.fixed_offset(),
    }
}

/// A moment as people read it: China time, to the minute ("2026-03-01 09:00").
pub fn cn_time(t: DateTime<Utc>) -> String {
    china(t).format("%Y-%m-%d %H:%M").to_string()
}

/// The China-time date of a moment ("2026-03-01").
pub fn cn_date(t: DateTime<Utc>) -> String {
    china(t).format("%Y-%m-%d").to_string()
}

/// The `datetime` attribute of a `<time>`: China time with its offset ("2026-03-01T09:00+08:00").
pub fn cn_iso(t: DateTime<Utc>) -> String {
    china(t).format("%Y-%m-%dT%H:%M%:z").to_string()
}

/// A size limit as people read it: "10 MB", "1.5 MB", "500 KB".
fn size_label(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = 1024 * 1024;
    if bytes >= MB && bytes % MB == 0 {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= KB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{} B", bytes.max(0))
    }
}

/// A GPA without trailing zeros: 3.30 → "3.3", 3.0 → "3".
fn gpa_label(gpa: f64) -> String {
    let s = format!("{gpa:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A list as a sentence in `lang`: "本科生、硕士研究生" / "Undergraduate, Master's student".
fn join(lang: Lang, items: &[String]) -> String {
    items.join(if lang == Lang::Zh { "、" } else { ", " })
}

/// The label of a `StudyLevel` code (or the code itself).
fn level_label(lang: Lang, code: &str) -> String {
    match StudyLevel::from_code(code) {
        Some(l) => lang.t(l.label_key()).to_owned(),
        None => code.to_owned(),
    }
}

/// The label of a fixed code of a program field (`programs.<field>.<code>`), or the stored
/// text itself when it is not a known code.
fn code_label(lang: Lang, field: &str, code: &str) -> String {
    let key = format!("programs.{field}.{code}");
    if i18n::has_key(&key) {
        lang.t(&key).to_owned()
    } else {
        code.to_owned()
    }
}

/// The badge of a registration state: colour and catalogue key.
fn registration_badge(reg: Registration) -> (&'static str, &'static str) {
    match reg {
        Registration::NotYetOpen => ("blue", "programs.reg.not_yet_open"),
        Registration::Open => ("green", "programs.reg.open"),
        Registration::LateOnly => ("orange", "programs.reg.late_only"),
        Registration::Closed => ("grey", "programs.reg.closed"),
    }
}

/// One reason of [`apply_blockers`] in words that name the program's own condition
/// ("仅限硕士研究生", "GPA要求不低于3.3"); the window keys read as they are.
pub fn blocker_text(lang: Lang, key: &str, program: &ProgramRow) -> String {
    let gpa = program.min_gpa.map(gpa_label).unwrap_or_default();
    match key {
        "err.eligibility.level" => {
            let levels: Vec<String> = program
                .levels()
                .iter()
                .map(|c| level_label(lang, c))
                .collect();
            lang.tf("programs.reason.level", &join(lang, &levels))
        }
        "err.eligibility.grade" => lang.tf("programs.reason.grade", &join(lang, &program.grades())),
        "err.eligibility.major" => lang.t("programs.reason.major").to_owned(),
        "err.eligibility.gpa_too_low" => lang.tf("programs.reason.gpa_too_low", &gpa),
        "err.eligibility.gpa_unknown" => lang.tf("programs.reason.gpa_unknown", &gpa),
        other => lang.t(other).replace("{required}", &gpa),
    }
}

/// What the page offers one viewer on one program.
#[derive(Debug, Clone, PartialEq)]
struct Offer {
    registration: Registration,
    /// 报名 is shown.
    can_apply: bool,
    /// Why a student may not apply (eligibility only: the badge tells the window).
    reasons: Vec<String>,
    /// The window is the obstacle: "报名尚未开始" / "报名已截止".
    window: Option<&'static str>,
    /// The student already holds as many active applications in this round as allowed:
    /// the message shown where 报名 would be.
    round_limit: Option<String>,
}

/// `facts` is `None` for a viewer who is not a student: no 报名 and no verdict.
fn offer(
    program: &ProgramRow,
    facts: Option<&StudentFacts>,
    now: DateTime<Utc>,
    lang: Lang,
) -> Offer {
    let registration = program.registration(now);
    let Some(facts) = facts else {
        return Offer {
            registration,
            can_apply: false,
            reasons: Vec::new(),
            window: None,
            round_limit: None,
        };
    };
    let blockers = apply_blockers(program, facts, now);
    Offer {
        registration,
        can_apply: blockers.is_empty(),
        reasons: blockers
            .iter()
            .filter(|k| ![NOT_YET_OPEN, CLOSED, ROUND_LIMIT].contains(*k))
            .map(|k| blocker_text(lang, k, program))
            .collect(),
        window: blockers
            .iter()
            .copied()
            .find(|k| *k == NOT_YET_OPEN || *k == CLOSED),
        round_limit: blockers
            .contains(&ROUND_LIMIT)
            .then(|| lang.t(ROUND_LIMIT).to_owned()),
    }
}

/// The viewer's eligibility facts when they are a student (unknown facts when the registry has
/// no record yet), `None` for staff.
async fn viewer_facts(state: &AppState, ctx: &Ctx) -> AppResult<Option<StudentFacts>> {
    let user = ctx.user()?;
    if !user.roles.is_student() {
        return Ok(None);
    }
    Ok(Some(
        student_facts(&state.db, user.id).await?.unwrap_or_default(),
    ))
}

// ---------------------------------------------------------------------------------------------
// The catalogue

/// The filter bar as typed, kept verbatim to redraw the form and the page links.
#[derive(Debug, Clone, Default, PartialEq)]
struct ListQuery {
    keyword: String,
    name: String,
    year: String,
    program_type: String,
    school: String,
    country: String,
    level: String,
    open_only: bool,
    page: u64,
}

impl ListQuery {
    /// Reads the query string leniently: unknown keys are ignored, the last value wins, and a
    /// page that is not a positive number is the first page. A query that cannot be decoded at
    /// all is an empty filter.
    fn parse(raw: Option<&str>) -> ListQuery {
        let pairs: Vec<(String, String)> = raw
            .and_then(|r| serde_urlencoded::from_str(r).ok())
            .unwrap_or_default();
        let mut q = ListQuery {
            page: 1,
            ..ListQuery::default()
        };
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            match key.as_str() {
                "keyword" => q.keyword = value,
                "name" => q.name = value,
                "year" => q.year = value,
                "program_type" => q.program_type = value,
                "school" => q.school = value,
                "country" => q.country = value,
                "level" => q.level = value,
                "open_only" => q.open_only = !value.is_empty() && value != "0",
                "page" => q.page = value.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                _ => {}
            }
        }
        q
    }

    fn filter(&self) -> CatalogueFilter {
        CatalogueFilter {
            keyword: self.keyword.clone(),
            name: self.name.clone(),
            year: self.year.parse().ok(),
            program_type: self.program_type.clone(),
            school: self.school.clone(),
            country: self.country.clone(),
            level: self.level.clone(),
            open_only: self.open_only,
            page: self.page,
            per_page: PER_PAGE,
        }
    }

    /// The list's URL with the filters set, ready for `page=N` (ends in `?` or `&`).
    fn pager_base(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = [
            ("keyword", &self.keyword),
            ("name", &self.name),
            ("year", &self.year),
            ("program_type", &self.program_type),
            ("school", &self.school),
            ("country", &self.country),
            ("level", &self.level),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.as_str()))
        .collect();
        if self.open_only {
            pairs.push(("open_only", "1"));
        }
        match serde_urlencoded::to_string(&pairs) {
            Ok(qs) if !qs.is_empty() => format!("/programs?{qs}&"),
            _ => "/programs?".to_owned(),
        }
    }
}

/// One catalogue row.
struct RowView {
    id: i64,
    /// Publish date (China), or empty.
    published: String,
    partner: bool,
    name: String,
    code: String,
    year: i64,
    type_label: String,
    country_label: String,
    reg_start: String,
    reg_start_iso: String,
    reg_end: String,
    reg_end_iso: String,
    badge_color: &'static str,
    badge_label: String,
    can_apply: bool,
    /// Why 报名 is not offered to this student: 本轮限报项目数 reached, "不符合申请条件：…".
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "programs/list.html")]
struct ListPage {
    l: Layout,
    q: ListQuery,
    years: Vec<String>,
    type_options: Vec<(String, String)>,
    country_options: Vec<(String, String)>,
    level_options: Vec<(String, String)>,
    rows: Vec<RowView>,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
}

fn row_view(
    p: &ProgramRow,
    facts: Option<&StudentFacts>,
    now: DateTime<Utc>,
    lang: Lang,
    types: &[DictItem],
    countries: &[DictItem],
) -> RowView {
    let o = offer(p, facts, now, lang);
    let (badge_color, badge_key) = registration_badge(o.registration);
    RowView {
        id: p.id,
        published: p.published_at.map(cn_date).unwrap_or_default(),
        partner: p.source == "partner",
        name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
        code: p.code.clone(),
        year: p.year,
        type_label: dicts::label_of(types, &p.program_type, lang).to_owned(),
        country_label: dicts::label_of(countries, &p.country, lang).to_owned(),
        reg_start: cn_time(p.reg_start),
        reg_start_iso: cn_iso(p.reg_start),
        reg_end: cn_time(p.reg_end),
        reg_end_iso: cn_iso(p.reg_end),
        badge_color,
        badge_label: lang.t(badge_key).to_owned(),
        can_apply: o.can_apply,
        notes: o
            .round_limit
            .into_iter()
            .chain((!o.reasons.is_empty()).then(|| {
                lang.tf(
                    "programs.ineligible",
                    &o.reasons.join(if lang == Lang::Zh { "；" } else { "; " }),
                )
            }))
            .collect(),
    }
}

/// `GET /programs`: the catalogue.
async fn list(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let q = ListQuery::parse(raw.as_deref());
    let now = Utc::now();
    let facts = viewer_facts(&state, &ctx).await?;
    let mut q = q;
    let mut page = programs::catalogue(&state.db, &q.filter(), now).await?;
    // A page past the end (an old link after programs closed) shows the last page instead.
    let last = (page.total.max(0) as u64).div_ceil(PER_PAGE);
    if page.rows.is_empty() && last >= 1 && q.page > last {
        q.page = last;
        page = programs::catalogue(&state.db, &q.filter(), now).await?;
    }
    let types = dicts::items(&state.db, kind::PROGRAM_TYPE).await?;
    let countries = dicts::items(&state.db, kind::COUNTRY).await?;
    let years = programs::years(&state.db).await?;
    let rows = page
        .rows
        .iter()
        .map(|p| row_view(p, facts.as_ref(), now, lang, &types, &countries))
        .collect();
    let per_page = PER_PAGE as i64;
    Ok(html(ListPage {
        l: ctx.layout("nav.programs", "programs.title"),
        years: years.iter().map(i64::to_string).collect(),
        type_options: dicts::options(&types, lang),
        country_options: dicts::options(&countries, lang),
        level_options: StudyLevel::ALL
            .iter()
            .map(|l| (l.code().to_owned(), lang.t(l.label_key()).to_owned()))
            .collect(),
        rows,
        page: q.page.min(i64::MAX as u64) as i64,
        pages: (page.total + per_page - 1) / per_page,
        total: page.total,
        base: q.pager_base(),
        q,
    }))
}

// ---------------------------------------------------------------------------------------------
// One program

/// One `dt`/`dd` pair of the 项目信息 list.
struct Kv {
    label: String,
    value: String,
}

struct SchoolView {
    name_zh: String,
    name_en: String,
    country: String,
    quota: i64,
}

struct AttachmentView {
    name: String,
    required: bool,
    hint: String,
    formats: String,
    max_size: String,
}

#[derive(Template)]
#[template(path = "programs/detail.html")]
struct DetailPage {
    l: Layout,
    id: i64,
    name: String,
    partner: bool,
    badge_color: &'static str,
    badge_label: String,
    items: Vec<Kv>,
    schools: Vec<SchoolView>,
    attachments: Vec<AttachmentView>,
    /// Some attachment is required (the note under the list explains the *).
    any_required: bool,
    /// 其他说明 as cleaned HTML (the office writes simple Markdown).
    description_html: String,
    notice: String,
    is_student: bool,
    can_apply: bool,
    late: bool,
    reasons: Vec<String>,
    window: Option<String>,
    round_limit: Option<String>,
}

/// Everything the 项目信息 list shows, looked up in the dictionaries.
struct Lookups {
    semesters: Vec<DictItem>,
    natures: Vec<DictItem>,
    countries: Vec<DictItem>,
    types: Vec<DictItem>,
    majors: HashMap<i64, (String, String)>,
}

fn yes_no(lang: Lang, yes: bool) -> String {
    lang.t(if yes { "common.yes" } else { "common.no" })
        .to_owned()
}

/// The 项目信息 list, in the order of the manuals (seed 001).
fn info_items(p: &ProgramRow, schools: &[PartnerSchool], x: &Lookups, lang: Lang) -> Vec<Kv> {
    let unlimited = || lang.t("programs.unlimited").to_owned();
    let or_unlimited = |items: Vec<String>| {
        if items.is_empty() {
            unlimited()
        } else {
            join(lang, &items)
        }
    };
    let kv = |key: &str, value: String| Kv {
        label: lang.t(key).to_owned(),
        value,
    };
    let dates = match (p.start_date.trim(), p.end_date.trim()) {
        ("", "") => String::new(),
        (s, e) => format!("{s} {} {e}", lang.t("common.to")),
    };
    let semesters = p
        .semesters()
        .iter()
        .map(|c| dicts::label_of(&x.semesters, c, lang).to_owned())
        .collect::<Vec<_>>();
    let majors = p
        .major_ids()
        .iter()
        .map(|id| match x.majors.get(id) {
            Some((zh, en)) => lang.pick(zh, en).to_owned(),
            None => id.to_string(),
        })
        .collect::<Vec<_>>();
    let levels = p
        .levels()
        .iter()
        .map(|c| level_label(lang, c))
        .collect::<Vec<_>>();
    vec![
        kv(
            "programs.f.name",
            lang.pick(&p.name_zh, &p.name_en).to_owned(),
        ),
        kv("programs.f.code", p.code.clone()),
        kv("programs.f.year", p.year.to_string()),
        kv("programs.f.semesters", join(lang, &semesters)),
        kv("programs.f.dates", dates),
        kv("programs.f.duration", p.duration.clone()),
        kv(
            "programs.f.nature",
            dicts::label_of(&x.natures, &p.nature, lang).to_owned(),
        ),
        kv(
            "programs.f.school_zh",
            join(
                lang,
                &schools
                    .iter()
                    .map(|s| s.name_zh.clone())
                    .collect::<Vec<_>>(),
            ),
        ),
        kv(
            "programs.f.school_en",
            join(
                lang,
                &schools
                    .iter()
                    .filter(|s| !s.name_en.is_empty())
                    .map(|s| s.name_en.clone())
                    .collect::<Vec<_>>(),
            ),
        ),
        kv(
            "programs.f.country",
            dicts::label_of(&x.countries, &p.country, lang).to_owned(),
        ),
        kv(
            "programs.f.region_kind",
            code_label(lang, "region_kind", &p.region_kind),
        ),
        kv(
            "programs.f.program_type",
            dicts::label_of(&x.types, &p.program_type, lang).to_owned(),
        ),
        kv(
            "programs.f.fee_mode",
            code_label(lang, "fee_mode", &p.fee_mode),
        ),
        kv("programs.f.fee", p.fee.clone()),
        kv("programs.f.term", code_label(lang, "term", &p.term)),
        kv(
            "programs.f.active",
            lang.t(if p.active {
                "programs.active"
            } else {
                "programs.inactive"
            })
            .to_owned(),
        ),
        kv(
            "programs.f.teaching_mode",
            code_label(lang, "teaching_mode", &p.teaching_mode),
        ),
        kv("programs.f.host_unit", p.host_unit.clone()),
        kv("programs.f.reg_start", cn_time(p.reg_start)),
        kv("programs.f.reg_end", cn_time(p.reg_end)),
        kv("programs.f.levels", or_unlimited(levels)),
        kv("programs.f.grades", or_unlimited(p.grades())),
        kv("programs.f.majors", or_unlimited(majors)),
        kv(
            "programs.f.min_gpa",
            p.min_gpa.map(gpa_label).unwrap_or_else(unlimited),
        ),
        kv(
            "programs.f.quota",
            schools
                .iter()
                .map(|s| s.quota.max(0))
                .sum::<i64>()
                .to_string(),
        ),
        kv("programs.f.has_interview", yes_no(lang, p.has_interview)),
        kv("programs.f.allows_late", yes_no(lang, p.allows_late)),
    ]
}

fn attachment_view(a: &AttachmentType, lang: Lang) -> AttachmentView {
    let formats: Vec<String> = a
        .formats()
        .iter()
        .map(|f| f.ext().to_ascii_uppercase())
        .collect();
    AttachmentView {
        name: lang.pick(&a.name_zh, &a.name_en).to_owned(),
        required: a.required,
        hint: a.hint.clone(),
        formats: join(lang, &formats),
        max_size: size_label(a.max_bytes),
    }
}

/// `GET /programs/{id}`: 项目信息. Drafts and programs awaiting approval do not exist here.
async fn detail(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let program = programs::visible_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let facts = viewer_facts(&state, &ctx).await?;
    let schools = programs::partner_schools(&state.db, id).await?;
    let attachment_types = programs::attachment_types(&state.db, id).await?;
    let lookups = Lookups {
        semesters: dicts::items(&state.db, kind::SEMESTER).await?,
        natures: dicts::items(&state.db, kind::PROGRAM_NATURE).await?,
        countries: dicts::items(&state.db, kind::COUNTRY).await?,
        types: dicts::items(&state.db, kind::PROGRAM_TYPE).await?,
        majors: dicts::majors(&state.db)
            .await?
            .into_iter()
            .map(|m| (m.id, (m.name_zh, m.name_en)))
            .collect(),
    };
    let o = offer(&program, facts.as_ref(), now, lang);
    let (badge_color, badge_key) = registration_badge(o.registration);
    let name = lang.pick(&program.name_zh, &program.name_en).to_owned();
    Ok(html(DetailPage {
        l: ctx.layout_titled(
            "nav.programs",
            format!("{} - {}", lang.t("programs.detail_title"), name),
        ),
        id: program.id,
        partner: program.source == "partner",
        badge_color,
        badge_label: lang.t(badge_key).to_owned(),
        items: info_items(&program, &schools, &lookups, lang),
        schools: schools
            .iter()
            .map(|s| SchoolView {
                name_zh: s.name_zh.clone(),
                name_en: s.name_en.clone(),
                country: dicts::label_of(&lookups.countries, &s.country, lang).to_owned(),
                quota: s.quota,
            })
            .collect(),
        any_required: attachment_types.iter().any(|a| a.required),
        attachments: attachment_types
            .iter()
            .map(|a| attachment_view(a, lang))
            .collect(),
        description_html: crate::web::markdown::to_safe_html(&program.description),
        notice: program.notice.clone(),
        is_student: facts.is_some(),
        can_apply: o.can_apply,
        late: o.registration.is_late(),
        reasons: o.reasons,
        window: o.window.map(|k| lang.t(k).to_owned()),
        round_limit: o.round_limit,
        name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0)
            .single()
            .expect("a real time")
    }

    fn program() -> ProgramRow {
        ProgramRow {
            id: 7,
            code: "P7".into(),
            name_zh: "帝国理工学院长期项目".into(),
            name_en: "Imperial College semester".into(),
            year: 2026,
            semesters: r#"["spring"]"#.into(),
            start_date: "2026-09-01".into(),
            end_date: "2027-01-31".into(),
            duration: "一学期".into(),
            nature: "school".into(),
            region_kind: "international".into(),
            country: "GB".into(),
            program_type: "semester_exchange".into(),
            fee_mode: "waived".into(),
            fee: "0.00".into(),
            term: "long".into(),
            teaching_mode: "offline".into(),
            description: "第一行\n<b>第二行</b>".into(),
            host_unit: "国际处".into(),
            reg_start: at(1, 1, 0),
            reg_end: at(20, 2, 30),
            levels: r#"["master"]"#.into(),
            grades: "[]".into(),
            major_ids: "[]".into(),
            min_gpa: Some(3.3),
            has_interview: false,
            allows_late: false,
            max_per_student: None,
            notice: String::new(),
            workflow_code: "default".into(),
            source: "partner".into(),
            status: "published".into(),
            active: true,
            published_at: Some(at(1, 0, 0)),
        }
    }

    fn undergraduate() -> StudentFacts {
        StudentFacts {
            level: Some(StudyLevel::Undergraduate),
            grade: Some("2023".into()),
            major_id: Some(1),
            gpa: Some(3.5),
            ..StudentFacts::default()
        }
    }

    #[test]
    fn times_are_shown_in_china_time_to_the_minute() {
        let t = at(1, 17, 5);
        assert_eq!(cn_time(t), "2026-03-02 01:05");
        assert_eq!(cn_date(t), "2026-03-02");
        assert_eq!(cn_iso(t), "2026-03-02T01:05+08:00");
    }

    #[test]
    fn sizes_and_gpas_read_naturally() {
        assert_eq!(size_label(10 * 1024 * 1024), "10 MB");
        assert_eq!(size_label(1024 * 1024 + 512 * 1024), "1.5 MB");
        assert_eq!(size_label(500 * 1024), "500 KB");
        assert_eq!(size_label(12), "12 B");
        assert_eq!(gpa_label(3.3), "3.3");
        assert_eq!(gpa_label(3.0), "3");
        assert_eq!(gpa_label(3.25), "3.25");
    }

    #[test]
    fn a_staff_viewer_gets_neither_button_nor_verdict() {
        let o = offer(&program(), None, at(10, 0, 0), Lang::Zh);
        assert_eq!(o.registration, Registration::Open);
        assert!(!o.can_apply);
        assert!(o.reasons.is_empty());
    }

    #[test]
    fn an_ineligible_student_is_told_why_in_the_programs_own_terms() {
        let o = offer(&program(), Some(&undergraduate()), at(10, 0, 0), Lang::Zh);
        assert!(!o.can_apply);
        assert_eq!(o.window, None);
        assert_eq!(o.reasons.len(), 1);
        assert!(o.reasons[0].contains("硕士研究生"), "{:?}", o.reasons);
    }

    #[test]
    fn an_eligible_student_may_apply_only_inside_the_window_or_as_a_late_application() {
        let master = StudentFacts {
            level: Some(StudyLevel::Master),
            ..undergraduate()
        };
        assert!(offer(&program(), Some(&master), at(10, 0, 0), Lang::Zh).can_apply);
        let after = offer(&program(), Some(&master), at(21, 0, 0), Lang::Zh);
        assert!(!after.can_apply);
        assert_eq!(after.window, Some(CLOSED));
        let late = ProgramRow {
            allows_late: true,
            ..program()
        };
        let o = offer(&late, Some(&master), at(21, 0, 0), Lang::Zh);
        assert!(o.can_apply);
        assert_eq!(o.registration, Registration::LateOnly);
    }

    #[test]
    fn a_student_at_the_round_limit_gets_the_reason_instead_of_apply() {
        let full = StudentFacts {
            level: Some(StudyLevel::Master),
            rounds: crate::domain::eligibility::RoundLoad {
                held: [(2026, 1)].into(),
                configured_limit: None,
            },
            ..undergraduate()
        };
        let o = offer(&program(), Some(&full), at(10, 0, 0), Lang::Zh);
        assert!(!o.can_apply);
        assert!(o.reasons.is_empty(), "not an eligibility condition");
        assert!(
            o.round_limit
                .as_deref()
                .is_some_and(|t| t.contains("已达到本轮限报项目数")),
            "{:?}",
            o.round_limit
        );
    }

    #[test]
    fn the_gpa_reason_names_the_required_gpa() {
        let p = ProgramRow {
            levels: "[]".into(),
            ..program()
        };
        let weak = StudentFacts {
            gpa: Some(2.0),
            ..undergraduate()
        };
        let o = offer(&p, Some(&weak), at(10, 0, 0), Lang::Zh);
        assert_eq!(o.reasons.len(), 1);
        assert!(o.reasons[0].contains("3.3"), "{:?}", o.reasons);
    }

    #[test]
    fn the_query_string_is_read_leniently_and_kept_for_the_pager() {
        let q = ListQuery::parse(Some(
            "keyword=%E8%8B%B1%E5%9B%BD&year=2026&open_only=1&page=3&junk=x",
        ));
        assert_eq!(q.keyword, "英国");
        assert_eq!(q.year, "2026");
        assert!(q.open_only);
        assert_eq!(q.page, 3);
        let f = q.filter();
        assert_eq!(f.year, Some(2026));
        assert_eq!(f.per_page, PER_PAGE);
        assert_eq!(
            q.pager_base(),
            "/programs?keyword=%E8%8B%B1%E5%9B%BD&year=2026&open_only=1&"
        );

        let bad = ListQuery::parse(Some("year=abc&page=-2&page=zero"));
        assert_eq!(bad.page, 1);
        assert_eq!(bad.filter().year, None);
        assert_eq!(ListQuery::parse(None).pager_base(), "/programs?");
        assert_eq!(ListQuery::parse(Some("%ZZ=&&=")).page, 1);
    }

    #[test]
    fn a_program_code_field_shows_its_label_or_the_stored_text() {
        assert_eq!(code_label(Lang::Zh, "region_kind", "hmt"), "港澳台");
        assert_eq!(code_label(Lang::Zh, "fee_mode", "自定义"), "自定义");
    }

    #[test]
    fn the_information_list_covers_every_field_and_says_unlimited_for_no_condition() {
        let lookups = Lookups {
            semesters: Vec::new(),
            natures: Vec::new(),
            countries: Vec::new(),
            types: Vec::new(),
            majors: HashMap::new(),
        };
        let p = ProgramRow {
            levels: "[]".into(),
            min_gpa: None,
            ..program()
        };
        let schools = vec![PartnerSchool {
            id: 1,
            program_id: 7,
            name_zh: "帝国理工学院".into(),
            name_en: "Imperial College London".into(),
            country: "GB".into(),
            quota: 2,
            sort_order: 0,
        }];
        let items = info_items(&p, &schools, &lookups, Lang::Zh);
        assert_eq!(items.len(), 27);
        let value = |label: &str| {
            items
                .iter()
                .find(|k| k.label == label)
                .map(|k| k.value.clone())
                .unwrap_or_default()
        };
        assert_eq!(value("申请对象"), "不限");
        assert_eq!(value("GPA要求"), "不限");
        assert_eq!(value("院校英文名"), "Imperial College London");
        assert_eq!(value("推荐名额"), "2");
        assert_eq!(value("申报开始时间"), "2026-03-01 09:00");
        assert_eq!(value("项目起止日期"), "2026-09-01 至 2027-01-31");
    }
}
