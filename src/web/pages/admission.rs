//! 录取管理 (office and admin only): the list of applications waiting for a partner school's
//! answer (待对方学校返回录取结果) or for reallocation (待调剂), where results are recorded one
//! by one or in batch; and per program the allocation by parallel choices (平行志愿): score
//! settings, the preview with its explanations and overrides, and 发布录取结果.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::db::admission::{self as queries, QueueFilter, WAITING};
use crate::domain::FieldErrors;
use crate::domain::allocation::{ScoreRule, SettingsForm};
use crate::domain::application::ApplicationInfoForm;
use crate::domain::status::{Action, Actor, AdmissionResult, Status};
use crate::services::ServiceError;
use crate::services::admission::{self as service, Officer, Outcome, Pick, Preview, Recorded};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, Ctx, Form, OfficeCtx, Path, Query, redirect_flash, who};
use crate::web::forms::error_of;
use crate::web::layout::{FieldKind, FormField, Layout};
use crate::web::pages::cn_time;
use crate::web::render::{html, html_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/admissions", get(list))
        .route("/staff/admissions/record", post(record))
        .route(
            "/staff/admissions/programs/{id}/allocation",
            get(allocation),
        )
        .route(
            "/staff/admissions/programs/{id}/allocation/settings",
            post(save_settings),
        )
        .route(
            "/staff/admissions/programs/{id}/allocation/override",
            post(set_override),
        )
        .route(
            "/staff/admissions/programs/{id}/allocation/publish",
            post(publish),
        )
}

/// Lines per page of the list.
const PER_PAGE: u64 = 50;

fn officer(ctx: &OfficeCtx, ip: &str) -> Officer {
    let user = ctx.user();
    Officer {
        user_id: user.id,
        roles: user.roles.0.clone(),
        who: who(&ctx.0, ip),
    }
}

// ---------------------------------------------------------------------------------------------
// The list: 待对方学校返回录取结果 and 待调剂

/// The list's filters, as in the address.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
#[serde(default)]
struct ListQuery {
    program: String,
    status: String,
    keyword: String,
    page: String,
}

impl ListQuery {
    fn filter(&self) -> QueueFilter {
        QueueFilter {
            program_id: self.program.trim().parse().ok(),
            keyword: self.keyword.chars().take(50).collect(),
            status: Status::from_code(&self.status).filter(|s| WAITING.contains(s)),
        }
    }

    fn page(&self) -> u64 {
        self.page
            .trim()
            .parse::<u64>()
            .unwrap_or(1)
            .clamp(1, 100_000)
    }

    /// The filters as a query string (without the page), for links and the batch form.
    fn filters(&self) -> String {
        serde_urlencoded::to_string([
            ("program", self.program.as_str()),
            ("status", self.status.as_str()),
            ("keyword", self.keyword.as_str()),
        ])
        .unwrap_or_default()
    }
}

struct QueueLine {
    id: i64,
    version: i64,
    student_name: String,
    student_no: String,
    college: String,
    program: String,
    program_id: i64,
    /// 第一志愿：… 第二志愿：…
    choices: Vec<String>,
    submitted: String,
    status: Status,
    /// The one-by-one buttons: (posted value `id:version:result`, label).
    results: Vec<(String, String)>,
}

struct ReportLine {
    app_id: i64,
    ok: bool,
    text: String,
}

struct WaitingProgramView {
    id: i64,
    name: String,
    year: i64,
    nominated: i64,
    pending: i64,
}

#[derive(Template)]
#[template(path = "admission/list.html")]
struct ListPage {
    l: Layout,
    q: ListQuery,
    lines: Vec<QueueLine>,
    total: i64,
    page: i64,
    pages: i64,
    pager_base: String,
    filters: String,
    programs: Vec<WaitingProgramView>,
    status_options: Vec<(&'static str, String)>,
    result_options: Vec<(&'static str, String)>,
    batch_result: String,
    batch_error: Option<String>,
    report: Vec<ReportLine>,
}

#[derive(Default)]
struct BatchState {
    result: String,
    error: Option<String>,
    report: Vec<ReportLine>,
}

/// The results the office may record for this line, derived from the state machine.
fn results_for(
    ctx: &Ctx,
    row: &queries::QueueRow,
    actor_id: i64,
    roles: &[crate::domain::status::Role],
) -> Vec<(String, String)> {
    let status = row.status();
    let actor = Actor {
        is_owner: row.student_id == actor_id,
        ..Actor::staff(roles, false)
    };
    let info: ApplicationInfoForm = serde_json::from_str(&row.info).unwrap_or_default();
    status
        .available_actions(&actor, &crate::domain::Facts::default())
        .into_iter()
        .filter_map(|a| match a {
            Action::RecordAdmission(r) => Some(r),
            _ => None,
        })
        // 调剂 again from 待调剂 changes nothing; a second choice needs one.
        .filter(|r| !(status == Status::PendingAdjustment && *r == AdmissionResult::Adjustment))
        .filter(|r| *r != AdmissionResult::SecondChoice || !info.choice_2.trim().is_empty())
        .map(|r| {
            (
                format!("{}:{}:{}", row.id, row.version, r.code()),
                ctx.t(r.outcome().label_key()).to_owned(),
            )
        })
        .collect()
}

async fn render_list(
    state: &AppState,
    ctx: &OfficeCtx,
    q: ListQuery,
    batch: BatchState,
) -> AppResult<Response> {
    let c = &ctx.0;
    let user = ctx.user();
    let page = q.page();
    let (rows, total) = queries::queue(&state.db, &q.filter(), page, PER_PAGE).await?;
    let mut school_ids: Vec<i64> = Vec::new();
    let infos: Vec<ApplicationInfoForm> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.info).unwrap_or_default())
        .collect();
    for info in &infos {
        for raw in [&info.choice_1, &info.choice_2] {
            if let Ok(id) = raw.trim().parse::<i64>() {
                school_ids.push(id);
            }
        }
    }
    school_ids.sort_unstable();
    school_ids.dedup();
    let names = crate::db::programs::school_names(&state.db, &school_ids).await?;
    let school = |raw: &str| {
        raw.trim().parse::<i64>().ok().and_then(|id| {
            names
                .iter()
                .find(|n| n.id == id)
                .map(|n| c.lang.pick(&n.name_zh, &n.name_en).to_owned())
        })
    };
    let lines = rows
        .iter()
        .zip(&infos)
        .map(|(row, info)| {
            let mut choices = Vec::new();
            if let Some(s) = school(&info.choice_1) {
                choices.push(format!("{}{}", c.t("adm.choice1_prefix"), s));
            }
            if let Some(s) = school(&info.choice_2) {
                choices.push(format!("{}{}", c.t("adm.choice2_prefix"), s));
            }
            QueueLine {
                id: row.id,
                version: row.version,
                student_name: row.student_name.clone(),
                student_no: row.student_no.clone(),
                college: c
                    .lang
                    .pick(&row.college_name_zh, &row.college_name_en)
                    .to_owned(),
                program: c
                    .lang
                    .pick(&row.program_name_zh, &row.program_name_en)
                    .to_owned(),
                program_id: row.program_id,
                choices,
                submitted: row.submitted_at.map(cn_time).unwrap_or_default(),
                status: row.status(),
                results: results_for(c, row, user.id, &user.roles.0),
            }
        })
        .collect();
    let programs = queries::waiting_programs(&state.db)
        .await?
        .into_iter()
        .map(|p| WaitingProgramView {
            id: p.id,
            name: c.lang.pick(&p.name_zh, &p.name_en).to_owned(),
            year: p.year,
            nominated: p.nominated,
            pending: p.pending,
        })
        .collect();
    let pages = ((total.max(0) as u64).div_ceil(PER_PAGE)).max(1) as i64;
    let filters = q.filters();
    let page = ListPage {
        l: c.layout("nav.admissions", "adm.title"),
        pager_base: format!("/staff/admissions?{filters}&"),
        filters,
        q,
        lines,
        total,
        page: page as i64,
        pages,
        programs,
        status_options: WAITING
            .iter()
            .map(|s| (s.code(), c.t(s.label_key()).to_owned()))
            .collect(),
        result_options: AdmissionResult::ALL
            .iter()
            .map(|r| (r.code(), c.t(r.outcome().label_key()).to_owned()))
            .collect(),
        batch_result: batch.result,
        batch_error: batch.error,
        report: batch.report,
    };
    Ok(html(page))
}

async fn list(
    State(state): State<AppState>,
    ctx: OfficeCtx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    render_list(&state, &ctx, q, BatchState::default()).await
}

/// The sentence of one report line.
fn report_line(ctx: &Ctx, r: &Recorded) -> ReportLine {
    let name = if r.student_name.is_empty() {
        String::new()
    } else {
        format!("{} ", r.student_name)
    };
    let (ok, text) = match &r.outcome {
        Outcome::Done(to) => (
            true,
            format!(
                "{name}{} → {}",
                ctx.t("adm.report.done"),
                ctx.t(to.label_key())
            ),
        ),
        Outcome::Stale => (false, format!("{name}{}", ctx.t("error.409"))),
        Outcome::NotAllowed(key) => (
            false,
            format!("{name}{}：{}", ctx.t("adm.report.not_allowed"), ctx.t(key)),
        ),
        Outcome::NotFound => (false, ctx.t("error.404").to_owned()),
    };
    ReportLine {
        app_id: r.application_id,
        ok,
        text,
    }
}

fn parse_pick(raw: &str) -> Option<Pick> {
    let (id, version) = raw.split_once(':')?;
    Some(Pick {
        application_id: id.trim().parse().ok()?,
        seen_version: version.trim().parse().ok()?,
    })
}

/// 批量录取 (checked lines + the result select) or one line's button (`one=id:version:result`).
async fn record(
    State(state): State<AppState>,
    ctx: OfficeCtx,
    ClientIp(ip): ClientIp,
    Query(q): Query<ListQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let c = &ctx.0;
    let officer = officer(&ctx, &ip);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let back = format!("/staff/admissions?{}&page={}", q.filters(), q.page());

    // One line's button: answered like any single decision (409 when stale).
    let one = field("one");
    if !one.is_empty() {
        let (pick, result) = one
            .rsplit_once(':')
            .and_then(|(pick, code)| Some((parse_pick(pick)?, AdmissionResult::from_code(code)?)))
            .ok_or(AppError::Refused("adm.err.choose_result"))?;
        let report = service::record_admission(&state.db, &officer, result, &[pick]).await?;
        let line = report.first().ok_or(AppError::NotFound)?;
        return match &line.outcome {
            Outcome::Done(to) => Ok(redirect_flash(
                &back,
                "success",
                &format!(
                    "{} {} → {}",
                    line.student_name,
                    c.t("adm.report.done"),
                    c.t(to.label_key())
                ),
            )),
            Outcome::Stale => Err(AppError::Conflict("error.409")),
            Outcome::NotAllowed(key) => Err(AppError::Refused(key)),
            Outcome::NotFound => Err(AppError::NotFound),
        };
    }

    let result_raw = field("result");
    let picks: Vec<Pick> = fields
        .iter()
        .filter(|(k, _)| k == "pick")
        .filter_map(|(_, v)| parse_pick(v))
        .collect();
    let mut batch = BatchState {
        result: result_raw.clone(),
        ..BatchState::default()
    };
    let Some(result) = AdmissionResult::from_code(&result_raw) else {
        batch.error = Some(c.t("adm.err.choose_result").to_owned());
        return render_list(&state, &ctx, q, batch).await;
    };
    if picks.is_empty() {
        batch.error = Some(c.t("adm.err.choose_rows").to_owned());
        return render_list(&state, &ctx, q, batch).await;
    }
    let report = service::record_admission(&state.db, &officer, result, &picks).await?;
    batch.report = report.iter().map(|r| report_line(c, r)).collect();
    render_list(&state, &ctx, q, batch).await
}

// ---------------------------------------------------------------------------------------------
// The allocation page of one program

struct SchoolView {
    name: String,
    quota: i64,
    taken: i64,
    placed: i64,
    left: i64,
}

struct LineView {
    app_id: i64,
    rank: usize,
    student_name: String,
    student_no: String,
    college: String,
    score: String,
    gpa: String,
    weighted_avg: String,
    language: String,
    first: String,
    second: String,
    result: AdmissionResult,
    school: String,
    why: String,
    overridden: bool,
    over_quota: bool,
    /// The override's code, or "" for 按规则.
    override_code: String,
    override_note: String,
}

#[derive(Template)]
#[template(path = "admission/allocation.html")]
struct AllocationPage {
    l: Layout,
    program_id: i64,
    program_name: String,
    program_year: i64,
    rule_label: String,
    schools: Vec<SchoolView>,
    fields: Vec<FormField>,
    settings_error: bool,
    lines: Vec<LineView>,
    override_options: Vec<(&'static str, String)>,
    fingerprint: String,
    published: Option<String>,
    over_quota: bool,
}

/// The settings form, with the posted values and errors when re-shown.
fn settings_fields(
    ctx: &Ctx,
    form: &SettingsForm,
    errors: &FieldErrors,
    exams: &[crate::db::dicts::DictItem],
) -> Vec<FormField> {
    let lang = ctx.lang;
    let field = |name: &str, label: &str, kind: FieldKind, value: &str| {
        FormField::new(format!("s_{name}"), ctx.t(label), kind)
            .value(value)
            .error(error_of(errors, name, lang))
    };
    let weight_hint = ctx.t("adm.settings.weight_hint");
    vec![
        field("rule", "adm.settings.rule", FieldKind::Select, &form.rule)
            .required(true)
            .options(
                ScoreRule::ALL
                    .iter()
                    .map(|r| (r.code().to_owned(), ctx.t(r.label_key()).to_owned()))
                    .collect(),
            ),
        field(
            "weight_gpa",
            "adm.settings.weight_gpa",
            FieldKind::Number,
            &form.weight_gpa,
        )
        .hint(weight_hint),
        field(
            "weight_avg",
            "adm.settings.weight_avg",
            FieldKind::Number,
            &form.weight_avg,
        )
        .hint(weight_hint),
        field(
            "weight_language",
            "adm.settings.weight_language",
            FieldKind::Number,
            &form.weight_language,
        )
        .hint(weight_hint),
        field(
            "language_exam",
            "adm.settings.language_exam",
            FieldKind::Select,
            &form.language_exam,
        )
        .hint(ctx.t("adm.settings.language_exam_hint"))
        .options(
            exams
                .iter()
                .map(|e| {
                    (
                        e.code.clone(),
                        lang.pick(&e.label_zh, &e.label_en).to_owned(),
                    )
                })
                .collect(),
        ),
        field(
            "gpa_full",
            "adm.settings.gpa_full",
            FieldKind::Number,
            &form.gpa_full,
        )
        .hint(ctx.t("adm.settings.gpa_full_hint")),
        field(
            "language_full",
            "adm.settings.language_full",
            FieldKind::Number,
            &form.language_full,
        )
        .hint(ctx.t("adm.settings.language_full_hint")),
    ]
}

fn allocation_page(
    ctx: &Ctx,
    p: &Preview,
    form: &SettingsForm,
    errors: &FieldErrors,
    exams: &[crate::db::dicts::DictItem],
) -> AllocationPage {
    let lang = ctx.lang;
    let school_name = |id: Option<i64>| {
        id.map(|id| {
            p.school(id).map_or_else(
                || ctx.t("adm.school_unknown").to_owned(),
                |s| lang.pick(&s.name_zh, &s.name_en).to_owned(),
            )
        })
        .unwrap_or_default()
    };
    let none = ctx.t("adm.score_missing");
    let lines = p
        .allocation
        .lines
        .iter()
        .filter_map(|line| {
            let c = p.candidate(line)?;
            let over = p.overrides.get(&line.application_id);
            Some(LineView {
                app_id: line.application_id,
                rank: line.rank,
                student_name: c.row.student_name.clone(),
                student_no: c.row.student_no.clone(),
                college: lang
                    .pick(&c.row.college_name_zh, &c.row.college_name_en)
                    .to_owned(),
                score: line.score.map_or_else(|| none.to_owned(), |s| s.display()),
                gpa: c.gpa.map_or_else(|| none.to_owned(), |g| g.to_string()),
                weighted_avg: c
                    .weighted_avg
                    .map_or_else(|| none.to_owned(), |w| w.to_string()),
                language: if c.language_text.is_empty() {
                    none.to_owned()
                } else {
                    c.language_text.clone()
                },
                first: school_name(c.first),
                second: school_name(c.second),
                result: line.result,
                school: school_name(line.school_id),
                why: service::explain(lang, &line.why, &p.schools),
                overridden: line.overridden,
                over_quota: line.over_quota,
                override_code: over.map(|o| o.result.clone()).unwrap_or_default(),
                override_note: over
                    .map(|o| format!("{} {}", o.set_by_name, cn_time(o.set_at)))
                    .unwrap_or_default(),
            })
        })
        .collect();
    let schools = p
        .allocation
        .schools
        .iter()
        .map(|u| SchoolView {
            name: school_name(Some(u.id)),
            quota: u.quota,
            taken: u.taken,
            placed: u.placed,
            left: u.left(),
        })
        .collect();
    let published = p.stored.as_ref().and_then(|s| {
        s.published_at.map(|at| {
            service::fill(
                ctx.t("adm.published_at"),
                &[
                    &cn_time(at),
                    &s.published_by,
                    &s.published_count.to_string(),
                ],
            )
        })
    });
    AllocationPage {
        l: ctx.layout_titled(
            "nav.admissions",
            format!(
                "{} · {}",
                ctx.t("adm.allocation.title"),
                lang.pick(&p.program.name_zh, &p.program.name_en)
            ),
        ),
        program_id: p.program.id,
        program_name: lang.pick(&p.program.name_zh, &p.program.name_en).to_owned(),
        program_year: p.program.year,
        rule_label: ctx.t(p.settings.rule.label_key()).to_owned(),
        schools,
        fields: settings_fields(ctx, form, errors, exams),
        settings_error: !errors.is_empty(),
        over_quota: p.allocation.lines.iter().any(|l| l.over_quota),
        lines,
        override_options: AdmissionResult::ALL
            .iter()
            .map(|r| (r.code(), ctx.t(r.outcome().label_key()).to_owned()))
            .collect(),
        fingerprint: p.fingerprint.clone(),
        published,
    }
}

async fn allocation(
    State(state): State<AppState>,
    ctx: OfficeCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = service::preview(&state.db, &officer(&ctx, &ip), id).await?;
    let exams = service::exam_types(&state.db).await?;
    let form = p.settings.form();
    Ok(html(allocation_page(
        &ctx.0,
        &p,
        &form,
        &FieldErrors::new(),
        &exams,
    )))
}

/// The settings form posts its fields with an `s_` prefix (ids unique on the page).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PostedSettings {
    s_rule: String,
    s_weight_gpa: String,
    s_weight_avg: String,
    s_weight_language: String,
    s_language_exam: String,
    s_gpa_full: String,
    s_language_full: String,
}

impl From<PostedSettings> for SettingsForm {
    fn from(p: PostedSettings) -> Self {
        SettingsForm {
            rule: p.s_rule,
            weight_gpa: p.s_weight_gpa,
            weight_avg: p.s_weight_avg,
            weight_language: p.s_weight_language,
            language_exam: p.s_language_exam,
            gpa_full: p.s_gpa_full,
            language_full: p.s_language_full,
        }
    }
}

fn allocation_path(id: i64) -> String {
    format!("/staff/admissions/programs/{id}/allocation")
}

async fn save_settings(
    State(state): State<AppState>,
    ctx: OfficeCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(posted): Form<PostedSettings>,
) -> AppResult<Response> {
    let officer = officer(&ctx, &ip);
    let form = SettingsForm::from(posted);
    match service::save_settings(&state.db, &officer, id, &form).await {
        Ok(_) => Ok(redirect_flash(
            &allocation_path(id),
            "success",
            ctx.0.t("adm.settings.saved"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let p = service::preview(&state.db, &officer, id).await?;
            let exams = service::exam_types(&state.db).await?;
            Ok(html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                allocation_page(&ctx.0, &p, &form, &errors, &exams),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OverrideForm {
    application_id: String,
    result: String,
}

async fn set_override(
    State(state): State<AppState>,
    ctx: OfficeCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<OverrideForm>,
) -> AppResult<Response> {
    let app_id: i64 = form
        .application_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let result = match form.result.trim() {
        "" => None,
        code => Some(
            AdmissionResult::from_code(code).ok_or(AppError::Refused("adm.err.choose_result"))?,
        ),
    };
    let back = format!("{}#line-{app_id}", allocation_path(id));
    match service::set_override(&state.db, &officer(&ctx, &ip), id, app_id, result).await {
        Ok(()) => Ok(redirect_flash(
            &back,
            "success",
            ctx.0.t("adm.override.saved"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let key = errors.get("result").unwrap_or("error.invalid");
            Ok(redirect_flash(&back, "error", ctx.0.t(key)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PublishForm {
    fingerprint: String,
}

async fn publish(
    State(state): State<AppState>,
    ctx: OfficeCtx,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    let n = service::publish(&state.db, &officer(&ctx, &ip), id, form.fingerprint.trim()).await?;
    Ok(redirect_flash(
        &allocation_path(id),
        "success",
        &ctx.0.lang.tf("adm.publish.done", &n.to_string()),
    ))
}
