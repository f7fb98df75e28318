//! Staff reports (SPEC §10): 申请查询 — the filtered application list every member of staff
//! has, with counts per status, sorting, pages and the 导出 Excel form — the .xlsx download
//! itself, and 统计 — counts by year, country/region, program type, college, level and status
//! as SVG bar charts and the same numbers as tables.
//!
//! What a person sees is scoped on the server by [`reports::scope_for`]: a college reviewer
//! only ever gets their own colleges' applications, in the list, the export and the statistics.

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tower_http::services::fs::AsyncReadBody;

use crate::charts::{Bar, BarChart};
use crate::db::reports::{self as q, Page};
use crate::domain::FieldErrors;
use crate::domain::status::Status;
use crate::export::export_dir;
use crate::i18n::Lang;
use crate::services::reports::{
    self, ApplicationFilter, Column, Criteria, Disclosure, ExportRequest, Scope, Sort,
};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, StaffCtx, who};
use crate::web::forms::error_of;
use crate::web::layout::Layout;
use crate::web::pages::cn_time;
use crate::web::render::html_status;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/applications", get(list))
        .route("/staff/applications/export.xlsx", get(export))
        .route("/staff/statistics", get(statistics))
}

/// Rows per page of the list.
const PER_PAGE: u64 = 20;

/// The person's scope (the extractor already refused anyone who is not staff).
fn scope_of(ctx: &StaffCtx) -> AppResult<Scope> {
    let user = ctx.user();
    reports::scope_for(&user.roles, &user.college_ids).ok_or(AppError::Forbidden)
}

// ---------------------------------------------------------------------------------------------
// 申请查询

/// The list's query string: the filter, the order, the page and the ticked export columns.
#[derive(Debug, Clone, Default)]
struct ListQuery {
    filter: ApplicationFilter,
    sort: Sort,
    descending: bool,
    page: u64,
    /// `col=` values; empty when the export form was never sent.
    columns: Vec<String>,
}

fn sort_code(sort: Sort) -> &'static str {
    match sort {
        Sort::SubmittedAt => "submitted_at",
        Sort::Name => "name",
        Sort::Status => "status",
    }
}

impl ListQuery {
    /// Reads the query string leniently: unknown keys are ignored, an unknown order or page
    /// falls back to the default (newest submission first, page 1).
    fn parse(raw: Option<&str>) -> ListQuery {
        let pairs: Vec<(String, String)> = raw
            .and_then(|r| serde_urlencoded::from_str(r).ok())
            .unwrap_or_default();
        let mut q = ListQuery {
            filter: ApplicationFilter::from_pairs(&pairs),
            descending: true,
            page: 1,
            ..ListQuery::default()
        };
        for (k, v) in &pairs {
            match k.as_str() {
                "sort" => {
                    q.sort = match v.as_str() {
                        "name" => Sort::Name,
                        "status" => Sort::Status,
                        _ => Sort::SubmittedAt,
                    }
                }
                "dir" => q.descending = v != "asc",
                "page" => q.page = v.trim().parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                "col" => q.columns.push(v.clone()),
                _ => {}
            }
        }
        q
    }

    /// The list's URL with this filter and `extra` pairs, ready to append more (ends in `?`
    /// or `&`).
    fn url(&self, extra: &[(&str, String)]) -> String {
        let mut pairs = self.filter.pairs();
        pairs.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if qs.is_empty() {
            "/staff/applications?".to_owned()
        } else {
            format!("/staff/applications?{qs}&")
        }
    }

    fn order_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("sort", sort_code(self.sort).to_owned()),
            (
                "dir",
                if self.descending { "desc" } else { "asc" }.to_owned(),
            ),
        ]
    }
}

/// The translated error of each filter field.
#[derive(Debug, Default)]
struct FilterErrors {
    program: Option<String>,
    college: Option<String>,
    status: Option<String>,
    year: Option<String>,
    from: Option<String>,
    to: Option<String>,
    keyword: Option<String>,
}

impl FilterErrors {
    fn new(errors: &FieldErrors, lang: Lang) -> FilterErrors {
        let e = |f: &str| error_of(errors, f, lang);
        FilterErrors {
            program: e("program"),
            college: e("college"),
            status: e("status"),
            year: e("year"),
            from: e("from"),
            to: e("to"),
            keyword: e("keyword"),
        }
    }
}

/// One entry of the 各状态数量 line.
struct StatusCount {
    label: String,
    count: i64,
    href: String,
    current: bool,
}

/// A sortable column header.
struct SortHeader {
    label: String,
    href: String,
    /// `ascending`, `descending` or `none` (the `aria-sort` value).
    state: &'static str,
}

/// An export column checkbox.
struct ColumnChoice {
    code: &'static str,
    label: String,
    checked: bool,
    /// Shown masked to this person.
    masked: bool,
}

/// One row of the list.
struct RowView {
    id: i64,
    student_no: String,
    name: String,
    college: String,
    major: String,
    program: String,
    year: i64,
    status_label: String,
    badge: &'static str,
    stage: String,
    submitted: String,
    is_late: bool,
}

#[derive(Template)]
#[template(path = "reports/applications.html")]
struct ListPage {
    l: Layout,
    f: ApplicationFilter,
    errors: FilterErrors,
    invalid: bool,
    college_reviewer: bool,
    program_options: Vec<(String, String)>,
    college_options: Vec<(String, String)>,
    status_options: Vec<(String, String)>,
    years: Vec<String>,
    counts: Vec<StatusCount>,
    all_count: i64,
    all_href: String,
    all_current: bool,
    sort_name: SortHeader,
    sort_status: SortHeader,
    sort_submitted: SortHeader,
    rows: Vec<RowView>,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    export_fields: Vec<(&'static str, String)>,
    columns: Vec<ColumnChoice>,
    column_error: Option<String>,
    masked_note: bool,
}

async fn list(
    State(state): State<AppState>,
    ctx: StaffCtx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let q = ListQuery::parse(raw.as_deref());
    render_list(&state, &ctx, q, None).await
}

/// Draws the list; `column_error` comes from a refused export.
async fn render_list(
    state: &AppState,
    ctx: &StaffCtx,
    mut q: ListQuery,
    column_error: Option<&'static str>,
) -> AppResult<Response> {
    let lang = ctx.0.lang;
    let scope = scope_of(ctx)?;
    let (criteria, errors) = match q.filter.parse() {
        Ok(c) => (Some(c), FieldErrors::new()),
        Err(e) => (None, e),
    };
    // A filter with errors lists nothing: the errors beside the fields say why.
    let (page, counts) = match &criteria {
        Some(c) => {
            let mut page =
                q::page(&state.db, c, &scope, q.sort, q.descending, q.page, PER_PAGE).await?;
            // A page past the end (an old link) shows the last page instead.
            let last = (page.total.max(0) as u64).div_ceil(PER_PAGE);
            if page.rows.is_empty() && last >= 1 && q.page > last {
                q.page = last;
                page =
                    q::page(&state.db, c, &scope, q.sort, q.descending, q.page, PER_PAGE).await?;
            }
            (page, q::status_counts(&state.db, c, &scope).await?)
        }
        None => (
            Page {
                rows: Vec::new(),
                total: 0,
            },
            Vec::new(),
        ),
    };
    let stages = reports::current_stages(&state.db, &page.rows, lang).await?;
    let rows = page
        .rows
        .iter()
        .zip(stages)
        .map(|(r, stage)| {
            let status = r.status();
            RowView {
                id: r.id,
                student_no: r.student_no.clone(),
                name: r.student_name.clone(),
                college: lang.pick(&r.college_zh, &r.college_en).to_owned(),
                major: lang
                    .pick(
                        r.major_zh.as_deref().unwrap_or_default(),
                        r.major_en.as_deref().unwrap_or_default(),
                    )
                    .to_owned(),
                program: lang.pick(&r.program_zh, &r.program_en).to_owned(),
                year: r.round_year,
                status_label: lang.t(status.label_key()).to_owned(),
                badge: status.badge(),
                stage,
                submitted: r.submitted_at.map(cn_time).unwrap_or_default(),
                is_late: r.is_late,
            }
        })
        .collect();

    let user = ctx.user();
    let colleges = q::colleges(&state.db).await?;
    let college_options = colleges
        .iter()
        .filter(|c| match &scope {
            Scope::All => true,
            Scope::Colleges(ids) => ids.contains(&c.id),
        })
        .map(|c| {
            (
                c.id.to_string(),
                lang.pick(&c.name_zh, &c.name_en).to_owned(),
            )
        })
        .collect();
    let program_options = q::programs_with_applications(&state.db, &scope)
        .await?
        .into_iter()
        .map(|p| {
            (
                p.id.to_string(),
                format!("{}（{}）", lang.pick(&p.name_zh, &p.name_en), p.year),
            )
        })
        .collect();
    let staff_statuses = Status::ALL.iter().filter(|s| **s != Status::Draft);
    let status_options = staff_statuses
        .clone()
        .map(|s| (s.code().to_owned(), lang.t(s.label_key()).to_owned()))
        .collect();

    // 各状态数量: every status with applications, in lifecycle order, each a link.
    let without_status = ListQuery {
        filter: ApplicationFilter {
            status: String::new(),
            ..q.filter.clone()
        },
        ..q.clone()
    };
    let counts: Vec<StatusCount> = staff_statuses
        .filter_map(|s| {
            let n = counts.iter().find(|(code, _)| code == s.code())?.1;
            Some(StatusCount {
                label: lang.t(s.label_key()).to_owned(),
                count: n,
                href: format!(
                    "{}status={}",
                    without_status.url(&without_status.order_pairs()),
                    s.code()
                ),
                current: q.filter.status == s.code(),
            })
        })
        .collect();
    let all_count = counts.iter().map(|c| c.count).sum();

    let header = |sort: Sort, key: &str| {
        let active = q.sort == sort;
        // A click on the active column turns its order; on another, starts descending for
        // the time and ascending for the rest.
        let next_desc = if active {
            !q.descending
        } else {
            sort == Sort::SubmittedAt
        };
        SortHeader {
            label: lang.t(key).to_owned(),
            href: q
                .url(&[
                    ("sort", sort_code(sort).to_owned()),
                    ("dir", if next_desc { "desc" } else { "asc" }.to_owned()),
                ])
                .trim_end_matches(['&', '?'])
                .to_owned(),
            state: match (active, q.descending) {
                (false, _) => "none",
                (true, true) => "descending",
                (true, false) => "ascending",
            },
        }
    };

    let disclosure = Disclosure::for_roles(&user.roles);
    let ticked: Vec<Column> = if q.columns.is_empty() {
        Column::DEFAULT.to_vec()
    } else {
        q.columns
            .iter()
            .filter_map(|c| Column::from_code(c))
            .collect()
    };
    let columns = Column::ALL
        .iter()
        .map(|c| ColumnChoice {
            code: c.code(),
            label: lang.t(c.label_key()).to_owned(),
            checked: ticked.contains(c),
            masked: c.is_personal() && disclosure == Disclosure::Masked,
        })
        .collect();

    let per_page = PER_PAGE as i64;
    let years = q::years(&state.db, &scope)
        .await?
        .iter()
        .map(i64::to_string)
        .collect();
    let invalid = !errors.is_empty() || column_error.is_some();
    let page_view = ListPage {
        l: ctx.0.layout("nav.staff_applications", "report.list.title"),
        errors: FilterErrors::new(&errors, lang),
        invalid,
        college_reviewer: matches!(scope, Scope::Colleges(_)),
        program_options,
        college_options,
        status_options,
        years,
        all_href: without_status
            .url(&without_status.order_pairs())
            .trim_end_matches(['&', '?'])
            .to_owned(),
        all_current: q.filter.status.is_empty(),
        counts,
        all_count,
        sort_name: header(Sort::Name, "report.col.name"),
        sort_status: header(Sort::Status, "report.col.status"),
        sort_submitted: header(Sort::SubmittedAt, "report.col.submitted_at"),
        rows,
        page: q.page.min(i64::MAX as u64) as i64,
        pages: (page.total + per_page - 1) / per_page,
        total: page.total,
        base: q.url(&q.order_pairs()),
        export_fields: q.filter.pairs(),
        columns,
        column_error: column_error.map(|k| lang.t(k).to_owned()),
        masked_note: disclosure == Disclosure::Masked,
        f: q.filter,
    };
    let status = if invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(html_status(status, page_view))
}

// ---------------------------------------------------------------------------------------------
// 导出 Excel

/// `GET /staff/applications/export.xlsx?…&col=…`: the filtered list as an .xlsx download. A
/// filter with errors, or no column ticked, redraws the list with the errors (422).
async fn export(
    State(state): State<AppState>,
    ctx: StaffCtx,
    ClientIp(ip): ClientIp,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let q = ListQuery::parse(raw.as_deref());
    let scope = scope_of(&ctx)?;
    let columns = Column::parse_list(&q.columns);
    let (criteria, columns): (Criteria, Vec<Column>) = match (q.filter.parse(), columns) {
        (Ok(c), Ok(cols)) => (c, cols),
        (_, Err(key)) => return render_list(&state, &ctx, q, Some(key)).await,
        (Err(_), Ok(_)) => return render_list(&state, &ctx, q, None).await,
    };
    let lang = ctx.0.lang;
    let exported = reports::export_applications(
        &state.db,
        &state.key,
        &who(&ctx.0, &ip),
        &export_dir(&state.config.data_dir),
        ExportRequest {
            criteria: &criteria,
            scope: &scope,
            columns: &columns,
            disclosure: Disclosure::for_roles(&ctx.user().roles),
            lang,
        },
    )
    .await?;
    send_xlsx(exported, lang).await
}

/// Streams a finished export to the client as an attachment (`filename*=UTF-8''…`, with an
/// English ASCII fallback) and lets go of the file: it is unlinked as soon as it is open, so
/// nothing stays in the data folder however the download ends. Other staff lists that export
/// through [`reports::export_applications`] answer with this too.
pub async fn send_xlsx(exported: reports::ExportedFile, lang: Lang) -> AppResult<Response> {
    let ascii_name =
        exported
            .file_name
            .replacen(lang.t("report.export.file_stem"), "applications", 1);
    let name = exported.file_name.clone();
    let (file, len) = exported
        .file
        .open_and_unlink()
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?;
    let mut response = Body::new(AsyncReadBody::with_capacity(file, 64 * 1024)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX_MIME));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(header::CONTENT_DISPOSITION, attachment(&name, &ascii_name));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Characters kept as they are in `filename*=UTF-8''…` (RFC 5987 attr-char).
const ATTR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="<ascii>"; filename*=UTF-8''<exact name>`. The attachments page's
/// helper builds its ASCII fallback by replacing every other character with `_`; an export
/// has a meaningful English name to fall back on instead.
fn attachment(name: &str, ascii_fallback: &str) -> HeaderValue {
    let fallback: String = ascii_fallback
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        utf8_percent_encode(name, ATTR)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

// ---------------------------------------------------------------------------------------------
// 统计

struct StatRow {
    label: String,
    count: i64,
    share: String,
}

struct StatSection {
    code: &'static str,
    title: String,
    chart: String,
    rows: Vec<StatRow>,
    total: i64,
}

#[derive(Template)]
#[template(path = "reports/statistics.html")]
struct StatsPage {
    l: Layout,
    year: String,
    year_error: Option<String>,
    years: Vec<String>,
    college_reviewer: bool,
    total: i64,
    sections: Vec<StatSection>,
}

/// A share of the total, one decimal: "42.9%".
fn share(count: i64, total: i64) -> String {
    if total <= 0 {
        return "0%".to_owned();
    }
    format!("{:.1}%", count as f64 * 100.0 / total as f64)
}

/// `GET /staff/statistics?year=`: the six tallies, each a chart and a table.
async fn statistics(
    State(state): State<AppState>,
    ctx: StaffCtx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let lang = ctx.0.lang;
    let scope = scope_of(&ctx)?;
    let pairs: Vec<(String, String)> = raw
        .as_deref()
        .and_then(|r| serde_urlencoded::from_str(r).ok())
        .unwrap_or_default();
    let year_raw = pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "year")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let mut errors = FieldErrors::new();
    let year = reports::parse_year(&mut errors, "year", &year_raw);
    let tallies = if errors.is_empty() {
        reports::statistics(&state.db, &scope, year, lang).await?
    } else {
        Vec::new()
    };
    let sections: Vec<StatSection> = tallies
        .iter()
        .map(|t| {
            let code = reports::dimension_code(t.dimension);
            let title = lang.t(reports::dimension_key(t.dimension)).to_owned();
            let chart = BarChart {
                id: format!("chart-{}", code.replace('_', "-")),
                title: title.clone(),
                category_label: lang.t(&format!("report.axis.{code}")).to_owned(),
                value_label: lang.t("report.axis.count").to_owned(),
                empty_text: lang.t("common.none").to_owned(),
                // The section's heading already says it.
                show_title: false,
                bars: t
                    .rows
                    .iter()
                    .map(|r| Bar {
                        label: r.label.clone(),
                        value: r.count,
                    })
                    .collect(),
            };
            StatSection {
                code,
                title,
                chart: chart.render(),
                rows: t
                    .rows
                    .iter()
                    .map(|r| StatRow {
                        label: r.label.clone(),
                        count: r.count,
                        share: share(r.count, t.total),
                    })
                    .collect(),
                total: t.total,
            }
        })
        .collect();
    let years = q::years(&state.db, &scope)
        .await?
        .iter()
        .map(i64::to_string)
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(
        status,
        StatsPage {
            l: ctx.0.layout("nav.statistics", "report.stats.title"),
            year_error: error_of(&errors, "year", lang),
            year: year_raw,
            years,
            college_reviewer: matches!(scope, Scope::Colleges(_)),
            total: sections.first().map_or(0, |s| s.total),
            sections,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_query_keeps_the_filter_order_page_and_columns() {
        let q = ListQuery::parse(Some(
            "status=under_review&sort=name&dir=asc&page=3&col=name&col=id_number&x=1",
        ));
        assert_eq!(q.filter.status, "under_review");
        assert_eq!(q.sort, Sort::Name);
        assert!(!q.descending);
        assert_eq!(q.page, 3);
        assert_eq!(q.columns, vec!["name", "id_number"]);
        let d = ListQuery::parse(Some("page=0&sort=evil"));
        assert_eq!((d.page, d.sort, d.descending), (1, Sort::SubmittedAt, true));
        assert_eq!(
            q.url(&q.order_pairs()),
            "/staff/applications?status=under_review&sort=name&dir=asc&"
        );
    }

    #[test]
    fn the_download_name_travels_in_filename_star_with_an_english_fallback() {
        let v = attachment(
            "申请名单_20260312_1530.xlsx",
            "applications_20260312_1530.xlsx",
        );
        let s = v.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\"applications_20260312_1530.xlsx\""));
        assert!(
            s.contains("filename*=UTF-8''%E7%94%B3%E8%AF%B7%E5%90%8D%E5%8D%95_20260312_1530.xlsx")
        );
    }

    #[test]
    fn shares_have_one_decimal_and_survive_an_empty_total() {
        assert_eq!(share(3, 7), "42.9%");
        assert_eq!(share(0, 0), "0%");
    }
}
