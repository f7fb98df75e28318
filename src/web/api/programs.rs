//! 交流项目: the catalogue (the HTML page's filters, paginated) and one program with its partner
//! schools, attachment types, registration state and — for a student — what stands between
//! them and 报名 ([`apply_blockers`], the rule the application flow enforces too).

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, ErrorBody, QueryParams};
use crate::db::dicts::{self, DictItem, kind};
use crate::db::programs::{
    self, AttachmentType, CatalogueFilter, MAX_PER_PAGE, PartnerSchool, ProgramRow,
};
use crate::domain::eligibility::StudentFacts;
use crate::i18n::Lang;
use crate::services::programs::{apply_blockers, student_facts};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{Ctx, Signed};
use crate::web::pages::programs::blocker_text;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(detail))
}

/// The catalogue's filters (智能搜索, 项目名称, 项目年度, 项目类型, 学校, 国家/地区, 申请对象,
/// 仅显示可报名项目) and the page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct CatalogueQuery {
    /// 智能搜索: name, 项目编号, partner school or country.
    pub keyword: String,
    /// 项目名称 (Chinese or English).
    pub name: String,
    /// 项目年度.
    pub year: Option<i64>,
    /// 项目类型: a `program_type` dictionary code.
    pub program_type: String,
    /// 学校: part of a partner school's name.
    pub school: String,
    /// 国家/地区: a `country` dictionary code.
    pub country: String,
    /// 申请对象: `undergraduate`, `master` or `doctoral`.
    pub level: String,
    /// 仅显示可报名项目.
    pub open_only: bool,
    /// 1-based; default 1.
    pub page: Option<u64>,
    /// Default 20, at most 100.
    pub per_page: Option<u64>,
}

/// Programs per page unless the client asks otherwise (the HTML catalogue's page size).
const PER_PAGE: u64 = 20;

/// Whether the caller (a student) may apply, and why not.
#[derive(Debug, Serialize, ToSchema)]
pub struct Eligibility {
    /// 报名 may be offered now.
    pub can_apply: bool,
    /// An application made now is a 补录申请.
    pub late: bool,
    /// Every reason in the way: the registration window first, then each unmet condition.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reason {
    /// A catalogue key (`programs.blocker.closed`, `err.eligibility.gpa_too_low` …).
    pub code: String,
    /// In the caller's language, naming the program's own condition.
    pub message: String,
}

/// A program in the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramItem {
    pub id: i64,
    /// 项目编号.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The name in the caller's language.
    pub name: String,
    /// 项目年度.
    pub year: i64,
    /// 项目类型 code and label.
    pub program_type: String,
    pub program_type_label: String,
    /// 国家/地区 code and label.
    pub country: String,
    pub country_label: String,
    /// `international` or `hmt` (港澳台: 返境时间 instead of 回国时间).
    pub region_kind: String,
    /// `school` (【校级项目】) or `partner` (【合作方】).
    pub source: String,
    /// 项目学期 codes.
    pub semesters: Vec<String>,
    /// 申请对象 level codes (empty = every level).
    pub levels: Vec<String>,
    /// 项目起止日期 (YYYY-MM-DD or empty).
    pub start_date: String,
    pub end_date: String,
    /// 项目时长.
    pub duration: String,
    /// 项目期限: `long` or `short`.
    pub term: String,
    /// 授课形式: `offline` or `online`.
    pub teaching_mode: String,
    /// 申报开始 / 结束时间.
    pub reg_start: DateTime<Utc>,
    pub reg_end: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// `not_yet_open`, `open`, `late_only` or `closed`.
    pub registration: String,
    pub registration_label: String,
    /// For a student caller only.
    pub eligibility: Option<Eligibility>,
}

/// One page of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramPage {
    pub items: Vec<ProgramItem>,
    /// Every program matching the filters.
    pub total: i64,
    pub page: u64,
    pub per_page: u64,
}

/// An attachment the program asks for.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentTypeView {
    pub id: i64,
    pub name_zh: String,
    pub name_en: String,
    pub name: String,
    /// Must be uploaded before submit (the red *).
    pub required: bool,
    /// The ⓘ hint.
    pub hint: String,
    /// Accepted extensions (`pdf`, `png`, `jpg` …).
    pub formats: Vec<String>,
    pub max_bytes: i64,
}

impl AttachmentTypeView {
    pub fn new(t: &AttachmentType, lang: Lang) -> AttachmentTypeView {
        AttachmentTypeView {
            id: t.id,
            name: lang.pick(&t.name_zh, &t.name_en).to_owned(),
            name_zh: t.name_zh.clone(),
            name_en: t.name_en.clone(),
            required: t.required,
            hint: t.hint.clone(),
            formats: t.formats().iter().map(|f| f.ext().to_owned()).collect(),
            max_bytes: t.max_bytes,
        }
    }
}

/// 项目信息: everything about one program.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramDetail {
    #[serde(flatten)]
    pub program: ProgramItem,
    /// 项目性质 code.
    pub nature: String,
    /// 项目费用模式 and 费用.
    pub fee_mode: String,
    pub fee: String,
    /// 其他说明 as the office wrote it: plain text, or simple Markdown (paragraphs, lists,
    /// bold, links), which the program page shows rendered and cleaned.
    pub description: String,
    /// 项目主办单位.
    pub host_unit: String,
    /// 申请年级 (empty = every grade).
    pub grades: Vec<String>,
    /// 招生专业 ids (empty = every major).
    pub major_ids: Vec<i64>,
    /// GPA要求.
    pub min_gpa: Option<f64>,
    pub has_interview: bool,
    /// 是否允许补录.
    pub allows_late: bool,
    /// 申报须知: the commitment text shown before 开始填报.
    pub notice: String,
    /// The 志愿 choices, in order.
    pub schools: Vec<PartnerSchool>,
    pub attachment_types: Vec<AttachmentTypeView>,
}

/// The caller's eligibility facts if they are a student (unknown facts when the registry has
/// no record yet), `None` for staff — as on the HTML pages.
async fn viewer_facts(state: &AppState, ctx: &Ctx) -> AppResult<Option<StudentFacts>> {
    let user = ctx.user()?;
    if !user.roles.is_student() {
        return Ok(None);
    }
    Ok(Some(
        student_facts(&state.db, user.id).await?.unwrap_or_default(),
    ))
}

fn item(
    p: &ProgramRow,
    facts: Option<&StudentFacts>,
    now: DateTime<Utc>,
    lang: Lang,
    types: &[DictItem],
    countries: &[DictItem],
) -> ProgramItem {
    let registration = p.registration(now);
    ProgramItem {
        id: p.id,
        code: p.code.clone(),
        name_zh: p.name_zh.clone(),
        name_en: p.name_en.clone(),
        name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
        year: p.year,
        program_type: p.program_type.clone(),
        program_type_label: dicts::label_of(types, &p.program_type, lang).to_owned(),
        country: p.country.clone(),
        country_label: dicts::label_of(countries, &p.country, lang).to_owned(),
        region_kind: p.region_kind.clone(),
        source: p.source.clone(),
        semesters: p.semesters(),
        levels: p.levels(),
        start_date: p.start_date.clone(),
        end_date: p.end_date.clone(),
        duration: p.duration.clone(),
        term: p.term.clone(),
        teaching_mode: p.teaching_mode.clone(),
        reg_start: p.reg_start,
        reg_end: p.reg_end,
        published_at: p.published_at,
        registration: registration.code().to_owned(),
        registration_label: lang
            .t(&format!("programs.reg.{}", registration.code()))
            .to_owned(),
        eligibility: facts.map(|facts| {
            let blockers = apply_blockers(p, facts, now);
            Eligibility {
                can_apply: blockers.is_empty(),
                late: registration.is_late(),
                reasons: blockers
                    .iter()
                    .map(|k| Reason {
                        code: (*k).to_owned(),
                        message: blocker_text(lang, k, p),
                    })
                    .collect(),
            }
        }),
    }
}

/// 交流项目 / The catalogue.
///
/// Published and closed programs, newest first, filtered as on the catalogue page.
#[utoipa::path(
    get,
    path = "/programs",
    tag = "programs",
    params(CatalogueQuery),
    responses(
        (status = 200, description = "One page", body = ProgramPage),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A malformed query", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    QueryParams(q): QueryParams<CatalogueQuery>,
) -> AppResult<axum::Json<ProgramPage>> {
    let now = Utc::now();
    let filter = CatalogueFilter {
        keyword: q.keyword,
        name: q.name,
        year: q.year,
        program_type: q.program_type,
        school: q.school,
        country: q.country,
        level: q.level,
        open_only: q.open_only,
        page: q.page.unwrap_or(1).max(1),
        per_page: q.per_page.unwrap_or(PER_PAGE).clamp(1, MAX_PER_PAGE),
    };
    let page = programs::catalogue(&state.db, &filter, now).await?;
    let facts = viewer_facts(&state, &ctx).await?;
    let types = dicts::items(&state.db, kind::PROGRAM_TYPE).await?;
    let countries = dicts::items(&state.db, kind::COUNTRY).await?;
    Ok(axum::Json(ProgramPage {
        items: page
            .rows
            .iter()
            .map(|p| item(p, facts.as_ref(), now, ctx.lang, &types, &countries))
            .collect(),
        total: page.total,
        page: filter.page,
        per_page: filter.per_page,
    }))
}

/// 项目信息 / One program.
#[utoipa::path(
    get,
    path = "/programs/{id}",
    tag = "programs",
    params(("id" = i64, Path, description = "Program id")),
    responses(
        (status = 200, description = "The program", body = ProgramDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such visible program", body = ErrorBody),
    )
)]
async fn detail(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<axum::Json<ProgramDetail>> {
    let p = programs::visible_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let facts = viewer_facts(&state, &ctx).await?;
    let types = dicts::items(&state.db, kind::PROGRAM_TYPE).await?;
    let countries = dicts::items(&state.db, kind::COUNTRY).await?;
    let lang = ctx.lang;
    Ok(axum::Json(ProgramDetail {
        program: item(&p, facts.as_ref(), now, lang, &types, &countries),
        schools: programs::partner_schools(&state.db, id).await?,
        attachment_types: programs::attachment_types(&state.db, id)
            .await?
            .iter()
            .map(|t| AttachmentTypeView::new(t, lang))
            .collect(),
        grades: p.grades(),
        major_ids: p.major_ids(),
        nature: p.nature,
        fee_mode: p.fee_mode,
        fee: p.fee,
        description: p.description,
        host_unit: p.host_unit,
        min_gpa: p.min_gpa,
        has_interview: p.has_interview,
        allows_late: p.allows_late,
        notice: p.notice,
    }))
}
