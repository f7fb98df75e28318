//! `/staff/programs`: the office's (or a partner's) program list, the program form with every
//! SPEC §4 field, and the lifecycle buttons (发布, 撤回发布, 关闭报名, 复制, 提交审核,
//! 审核通过 / 不通过).
//!
//! A failed save re-renders the form with the input kept (422), a stale one with the input
//! kept and the current version (409, "已被他人修改"), so that saving again is a conscious
//! overwrite.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{Datelike, Utc};

use super::{
    CheckOption, Checks, Flag, Posted, error_of, id_of, manager, pairs, program_url, summary, value,
};
use crate::db::dicts::{self, DictItem};
use crate::db::programs::{self as db, ApplicationCounts, ManageFilter, ManagedProgram};
use crate::domain::FieldErrors;
use crate::domain::program_status::ProgramStatus;
use crate::domain::values::StudyLevel;
use crate::i18n::Lang;
use crate::services::ServiceError;
use crate::services::program_admin::{
    self as admin, Choices, LifecycleStep, Manager, ProgramAction, ProgramForm,
};
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::extract::{ClientIp, Ctx, Path, Signed, redirect_flash, who};
use crate::web::layout::{FieldKind, FormField, Layout};
use crate::web::pages::cn_time;
use crate::web::render::html_status;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/programs", get(list))
        .route("/staff/programs/new", get(new_form).post(create))
        .route("/staff/programs/{id}", get(edit_form).post(update))
        .route("/staff/programs/{id}/copy", post(copy))
        // One handler for every lifecycle button; each path is spelled out so that a grep
        // (and the permission matrix) finds it.
        .route(
            "/staff/programs/{id}/publish",
            post(|s, c, i, p, b| lifecycle(ProgramAction::Publish, s, c, i, p, b)),
        )
        .route(
            "/staff/programs/{id}/unpublish",
            post(|s, c, i, p, b| lifecycle(ProgramAction::Unpublish, s, c, i, p, b)),
        )
        .route(
            "/staff/programs/{id}/close",
            post(|s, c, i, p, b| lifecycle(ProgramAction::Close, s, c, i, p, b)),
        )
        .route(
            "/staff/programs/{id}/submit",
            post(|s, c, i, p, b| lifecycle(ProgramAction::Submit, s, c, i, p, b)),
        )
        .route(
            "/staff/programs/{id}/approve",
            post(|s, c, i, p, b| lifecycle(ProgramAction::Approve, s, c, i, p, b)),
        )
        .route(
            "/staff/programs/{id}/refuse",
            post(|s, c, i, p, b| lifecycle(ProgramAction::Refuse, s, c, i, p, b)),
        )
}

/// Programs per list page.
const PER_PAGE: u64 = 20;

/// The badge of a stored program status: colour and catalogue key.
fn status_badge(status: &str) -> (&'static str, String) {
    match ProgramStatus::from_code(status) {
        Some(s) => (s.badge(), s.label_key().to_owned()),
        None => ("grey", status.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Debug, Clone, Default)]
struct ListQuery {
    keyword: String,
    year: String,
    program_type: String,
    status: String,
    page: u64,
}

impl ListQuery {
    fn parse(raw: Option<&str>) -> ListQuery {
        let pairs: Vec<(String, String)> = raw
            .and_then(|r| serde_urlencoded::from_str(r).ok())
            .unwrap_or_default();
        let mut q = ListQuery {
            page: 1,
            ..ListQuery::default()
        };
        for (k, v) in pairs {
            let v = v.trim().to_owned();
            match k.as_str() {
                "keyword" => q.keyword = v,
                "year" => q.year = v,
                "program_type" => q.program_type = v,
                "status" => q.status = v,
                "page" => q.page = v.parse().ok().filter(|p| *p >= 1).unwrap_or(1),
                _ => {}
            }
        }
        q
    }

    fn filter(&self, m: Manager) -> ManageFilter {
        ManageFilter {
            keyword: self.keyword.clone(),
            year: self.year.parse().ok(),
            program_type: self.program_type.clone(),
            status: if db::STATUSES.contains(&self.status.as_str()) {
                self.status.clone()
            } else {
                String::new()
            },
            owner: m.owner(),
            page: self.page,
            per_page: PER_PAGE,
        }
    }

    fn pager_base(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("keyword", &self.keyword),
            ("year", &self.year),
            ("program_type", &self.program_type),
            ("status", &self.status),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.as_str()))
        .collect();
        match serde_urlencoded::to_string(&pairs) {
            Ok(qs) if !qs.is_empty() => format!("/staff/programs?{qs}&"),
            _ => "/staff/programs?".to_owned(),
        }
    }
}

struct ListRow {
    id: i64,
    code: String,
    name: String,
    partner: bool,
    year: i64,
    type_label: String,
    status_color: &'static str,
    status_label: String,
    reg: String,
    counts: ApplicationCounts,
}

#[derive(Template)]
#[template(path = "manage/list.html")]
struct ListPage {
    l: Layout,
    q: ListQuery,
    is_office: bool,
    pending: i64,
    years: Vec<String>,
    type_options: Vec<(String, String)>,
    status_options: Vec<(String, String)>,
    rows: Vec<ListRow>,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
}

/// `GET /staff/programs`.
async fn list(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let lang = ctx.lang;
    let q = ListQuery::parse(raw.as_deref());
    let (programs, total) = db::managed_page(&state.db, &q.filter(m)).await?;
    let ids: Vec<i64> = programs.iter().map(|p| p.program.id).collect();
    let counts = db::application_counts(&state.db, &ids).await?;
    let types = dicts::items(&state.db, dicts::kind::PROGRAM_TYPE).await?;
    let rows = programs
        .iter()
        .map(|mp| {
            let p = &mp.program;
            let (status_color, key) = status_badge(&p.status);
            ListRow {
                id: p.id,
                code: p.code.clone(),
                name: lang.pick(&p.name_zh, &p.name_en).to_owned(),
                partner: p.source == "partner",
                year: p.year,
                type_label: dicts::label_of(&types, &p.program_type, lang).to_owned(),
                status_color,
                status_label: lang.t(&key).to_owned(),
                reg: format!(
                    "{} {} {}",
                    cn_time(p.reg_start),
                    lang.t("common.to"),
                    cn_time(p.reg_end)
                ),
                counts: counts.get(&p.id).copied().unwrap_or_default(),
            }
        })
        .collect();
    let pending = if m.is_office() {
        db::pending_approval_count(&state.db).await?
    } else {
        0
    };
    let per_page = PER_PAGE as i64;
    let html = ListPage {
        l: ctx.layout("nav.manage", "manage.title"),
        is_office: m.is_office(),
        pending,
        years: db::all_years(&state.db, m.owner())
            .await?
            .iter()
            .map(i64::to_string)
            .collect(),
        type_options: dicts::options(&types, lang),
        status_options: db::STATUSES
            .iter()
            .map(|s| {
                (
                    (*s).to_owned(),
                    lang.t(&format!("manage.status.{s}")).to_owned(),
                )
            })
            .collect(),
        rows,
        page: i64::try_from(q.page).unwrap_or(1),
        pages: (total + per_page - 1) / per_page,
        total,
        base: q.pager_base(),
        q,
    };
    Ok(html_status(StatusCode::OK, html))
}

// ---------------------------------------------------------------------------------------------
// The program form

/// A lifecycle button: posts to `/staff/programs/{id}/{path}` with the version.
struct ActionButton {
    path: &'static str,
    label: String,
    kind: &'static str,
    confirm: String,
}

struct SchoolRow {
    id: i64,
    name_zh: String,
    name_en: String,
    country: String,
    quota: i64,
}

struct TypeRow {
    id: i64,
    name: String,
    required: bool,
    hint: String,
    formats: String,
    max: String,
}

/// What the page shows about a stored program besides its form.
struct ProgramInfo {
    id: i64,
    code: String,
    status_color: &'static str,
    status_label: String,
    partner: bool,
    counts: ApplicationCounts,
    actions: Vec<ActionButton>,
    can_refuse: bool,
    refuse_reason: String,
    refuse_error: Option<String>,
    /// The office's last 不通过 reason, shown until the program is approved.
    refusal: Option<String>,
    schools: Vec<SchoolRow>,
    types: Vec<TypeRow>,
    /// Students can open it in the catalogue.
    visible: bool,
}

#[derive(Template)]
#[template(path = "manage/edit.html")]
struct EditPage {
    l: Layout,
    action: String,
    version: i64,
    fields: Vec<FormField>,
    checks: Vec<Checks>,
    flags: Vec<Flag>,
    summary: Vec<String>,
    conflict: bool,
    editable: bool,
    is_office: bool,
    info: Option<ProgramInfo>,
}

impl EditPage {
    /// The field called `name` (every name of the form is built).
    fn f(&self, name: &str) -> &FormField {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or(&self.fields[0])
    }

    fn g(&self, name: &str) -> &Checks {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or(&self.checks[0])
    }

    fn b(&self, name: &str) -> &Flag {
        self.flags
            .iter()
            .find(|c| c.name == name)
            .unwrap_or(&self.flags[0])
    }
}

/// The catalogue key of a program field's label.
fn label_key(name: &str) -> &'static str {
    match name {
        "code" => "programs.f.code",
        "name_zh" => "programs.f.name",
        "name_en" => "manage.f.name_en",
        "year" => "programs.f.year",
        "semesters" => "programs.f.semesters",
        "start_date" => "manage.f.start_date",
        "end_date" => "manage.f.end_date",
        "duration" => "programs.f.duration",
        "nature" => "programs.f.nature",
        "region_kind" => "programs.f.region_kind",
        "country" => "programs.f.country",
        "program_type" => "programs.f.program_type",
        "fee_mode" => "programs.f.fee_mode",
        "fee" => "programs.f.fee",
        "term" => "programs.f.term",
        "teaching_mode" => "programs.f.teaching_mode",
        "description" => "programs.f.description",
        "host_unit" => "programs.f.host_unit",
        "reg_start" => "programs.f.reg_start",
        "reg_end" => "programs.f.reg_end",
        "levels" => "programs.f.levels",
        "grades" => "programs.f.grades",
        "major_ids" => "programs.f.majors",
        "min_gpa" => "programs.f.min_gpa",
        "has_interview" => "programs.f.has_interview",
        "allows_late" => "programs.f.allows_late",
        "max_per_student" => "manage.f.max_per_student",
        "notice" => "programs.notice",
        "workflow_code" => "manage.f.workflow",
        "active" => "programs.f.active",
        _ => "",
    }
}

fn label(lang: Lang, name: &str) -> Option<String> {
    let key = label_key(name);
    (!key.is_empty()).then(|| lang.t(key).to_owned())
}

/// (code, label) of a fixed program option list.
fn fixed(lang: Lang, field: &str) -> Vec<(String, String)> {
    admin::fixed_options(field)
        .iter()
        .map(|c| {
            (
                (*c).to_owned(),
                lang.t(&format!("programs.{field}.{c}")).to_owned(),
            )
        })
        .collect()
}

fn dict_checks(items: &[DictItem], chosen: &[String], lang: Lang) -> Vec<CheckOption> {
    items
        .iter()
        .map(|i| CheckOption {
            value: i.code.clone(),
            label: i.label(lang).to_owned(),
            checked: chosen.contains(&i.code),
        })
        .collect()
}

/// Every field of the program form, with the values and errors to show.
fn build_form(
    lang: Lang,
    form: &ProgramForm,
    errors: &FieldErrors,
    c: &Choices,
    editable: bool,
) -> (Vec<FormField>, Vec<Checks>, Vec<Flag>) {
    let required = [
        "name_zh",
        "year",
        "region_kind",
        "country",
        "program_type",
        "term",
        "teaching_mode",
        "reg_start",
        "reg_end",
        "workflow_code",
    ];
    let field = |name: &'static str, kind: FieldKind| {
        let mut f = FormField::new(name, label(lang, name).unwrap_or_default(), kind)
            .value(form.text(name))
            .required(required.contains(&name))
            .error(error_of(errors, name, lang))
            .readonly(!editable);
        if let Some(hint) = hint_key(name) {
            f = f.hint(lang.t(hint));
        }
        f
    };
    let workflows: Vec<(String, String)> = c
        .workflows
        .iter()
        .map(|w| {
            (
                w.code.clone(),
                format!("{}（v{}）", lang.pick(&w.name_zh, &w.name_en), w.version),
            )
        })
        .collect();
    let fields = vec![
        field("code", FieldKind::Text),
        field("name_zh", FieldKind::Text),
        field("name_en", FieldKind::Text),
        field("year", FieldKind::Number),
        field("start_date", FieldKind::Date),
        field("end_date", FieldKind::Date),
        field("duration", FieldKind::Text),
        field("nature", FieldKind::Select).options(dicts::options(&c.natures, lang)),
        field("region_kind", FieldKind::Radio).options(fixed(lang, "region_kind")),
        field("country", FieldKind::Select).options(dicts::options(&c.countries, lang)),
        field("program_type", FieldKind::Select).options(dicts::options(&c.program_types, lang)),
        field("fee_mode", FieldKind::Radio).options(fixed(lang, "fee_mode")),
        field("fee", FieldKind::Text),
        field("term", FieldKind::Radio).options(fixed(lang, "term")),
        field("teaching_mode", FieldKind::Radio).options(fixed(lang, "teaching_mode")),
        field("host_unit", FieldKind::Text),
        field("reg_start", FieldKind::Text),
        field("reg_end", FieldKind::Text),
        field("grades", FieldKind::Text),
        field("min_gpa", FieldKind::Number),
        field("max_per_student", FieldKind::Number),
        field("workflow_code", FieldKind::Select).options(workflows),
        field("description", FieldKind::Textarea),
        field("notice", FieldKind::Textarea),
    ];
    let group = |name: &'static str, options: Vec<CheckOption>, multi_select: bool| Checks {
        name,
        label: label(lang, name).unwrap_or_default(),
        options,
        error: error_of(errors, name, lang),
        hint: hint_key(name).map(|k| lang.t(k).to_owned()),
        multi_select,
        enabled: editable,
    };
    let majors = c
        .majors
        .iter()
        .map(|m| {
            let id = m.id.to_string();
            CheckOption {
                checked: form.major_ids.contains(&id),
                value: id,
                label: format!("{} {}", m.code, lang.pick(&m.name_zh, &m.name_en)),
            }
        })
        .collect();
    let levels = StudyLevel::ALL
        .iter()
        .map(|l| CheckOption {
            value: l.code().to_owned(),
            label: lang.t(l.label_key()).to_owned(),
            checked: form.levels.iter().any(|v| v == l.code()),
        })
        .collect();
    let checks = vec![
        group(
            "semesters",
            dict_checks(&c.semesters, &form.semesters, lang),
            false,
        ),
        group("levels", levels, false),
        group("major_ids", majors, true),
    ];
    let flag = |name: &'static str, checked: bool| Flag {
        name,
        label: label(lang, name).unwrap_or_default(),
        checked,
        hint: hint_key(name).map(|k| lang.t(k).to_owned()),
        enabled: editable,
    };
    let flags = vec![
        flag("active", form.active),
        flag("allows_late", form.allows_late),
        flag("has_interview", form.has_interview),
    ];
    (fields, checks, flags)
}

fn hint_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "code" => "manage.hint.code",
        "reg_start" | "reg_end" => "manage.hint.datetime",
        "grades" => "manage.hint.grades",
        "levels" | "major_ids" => "manage.hint.unlimited",
        "min_gpa" => "manage.hint.min_gpa",
        "max_per_student" => "manage.hint.max_per_student",
        "allows_late" => "manage.hint.allows_late",
        "notice" => "manage.hint.notice",
        "description" => "manage.hint.description",
        "workflow_code" => "manage.hint.workflow",
        _ => return None,
    })
}

fn action_label_key(a: ProgramAction) -> &'static str {
    match a {
        ProgramAction::Edit => "form.save",
        ProgramAction::Publish => "manage.act.publish",
        ProgramAction::Unpublish => "manage.act.unpublish",
        ProgramAction::Close => "manage.act.close",
        ProgramAction::Copy => "manage.act.copy",
        ProgramAction::Submit => "manage.act.submit",
        ProgramAction::Approve => "manage.act.approve",
        ProgramAction::Refuse => "manage.act.refuse",
    }
}

fn buttons(lang: Lang, m: Manager, p: &ManagedProgram) -> Vec<ActionButton> {
    let reopen = p.program.program_status() == Some(ProgramStatus::Closed);
    admin::allowed(m, &p.program.status)
        .into_iter()
        .filter_map(|a| {
            // 保存 is the form's own button, 不通过 a form of its own with the reason.
            let (kind, confirm) = match a {
                ProgramAction::Edit | ProgramAction::Refuse => return None,
                ProgramAction::Publish if reopen => ("primary", "manage.confirm.reopen"),
                ProgramAction::Publish => ("primary", "manage.confirm.publish"),
                ProgramAction::Unpublish => ("secondary", "manage.confirm.unpublish"),
                ProgramAction::Close => ("danger", "manage.confirm.close"),
                ProgramAction::Copy => ("secondary", "manage.confirm.copy"),
                ProgramAction::Submit => ("primary", "manage.confirm.submit"),
                ProgramAction::Approve => ("primary", "manage.confirm.approve"),
            };
            let path = a.code();
            let label = if a == ProgramAction::Publish && reopen {
                lang.t("manage.act.reopen")
            } else {
                lang.t(action_label_key(a))
            };
            Some(ActionButton {
                path,
                label: label.to_owned(),
                kind,
                confirm: lang.t(confirm).to_owned(),
            })
        })
        .collect()
}

fn size_text(bytes: i64) -> String {
    format!("{} MB", admin::mb_text(bytes))
}

async fn program_info(
    state: &AppState,
    lang: Lang,
    m: Manager,
    p: &ManagedProgram,
    refuse: (String, Option<String>),
) -> AppResult<ProgramInfo> {
    let id = p.program.id;
    let countries = dicts::items(&state.db, dicts::kind::COUNTRY).await?;
    let schools = db::partner_schools(&state.db, id)
        .await?
        .into_iter()
        .map(|s| SchoolRow {
            id: s.id,
            country: dicts::label_of(&countries, &s.country, lang).to_owned(),
            name_zh: s.name_zh,
            name_en: s.name_en,
            quota: s.quota,
        })
        .collect();
    let types = db::attachment_types(&state.db, id)
        .await?
        .into_iter()
        .map(|t| TypeRow {
            id: t.id,
            name: lang.pick(&t.name_zh, &t.name_en).to_owned(),
            required: t.required,
            hint: t.hint.clone(),
            formats: t
                .formats()
                .iter()
                .map(|f| f.ext().to_ascii_uppercase())
                .collect::<Vec<_>>()
                .join(", "),
            max: size_text(t.max_bytes),
        })
        .collect();
    // The office's last reason stays in view while the partner revises and resubmits.
    let refusal = (p
        .program
        .program_status()
        .is_some_and(ProgramStatus::shows_refusal)
        && !p.review_note.is_empty())
    .then(|| p.review_note.clone());
    let (status_color, key) = status_badge(&p.program.status);
    Ok(ProgramInfo {
        id,
        code: p.program.code.clone(),
        status_color,
        status_label: lang.t(&key).to_owned(),
        partner: p.program.source == "partner",
        counts: db::application_counts(&state.db, &[id])
            .await?
            .get(&id)
            .copied()
            .unwrap_or_default(),
        actions: buttons(lang, m, p),
        can_refuse: admin::allowed(m, &p.program.status).contains(&ProgramAction::Refuse),
        refuse_reason: refuse.0,
        refuse_error: refuse.1,
        refusal,
        schools,
        types,
        visible: p.program.is_visible(),
    })
}

/// What to draw the edit page with besides the program.
struct EditState {
    form: ProgramForm,
    errors: FieldErrors,
    conflict: bool,
    refuse: (String, Option<String>),
    status: StatusCode,
}

impl EditState {
    fn of(p: &ManagedProgram) -> EditState {
        EditState {
            form: ProgramForm::from_row(p),
            errors: FieldErrors::new(),
            conflict: false,
            refuse: (String::new(), None),
            status: StatusCode::OK,
        }
    }
}

async fn render_edit(
    state: &AppState,
    ctx: &Ctx,
    m: Manager,
    p: &ManagedProgram,
    s: EditState,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let choices = Choices::load(&state.db).await?;
    let editable = admin::allowed(m, &p.program.status).contains(&ProgramAction::Edit);
    let (fields, checks, flags) = build_form(lang, &s.form, &s.errors, &choices, editable);
    let name = lang.pick(&p.program.name_zh, &p.program.name_en).to_owned();
    let page = EditPage {
        l: ctx.layout_titled(
            "nav.manage",
            format!("{}：{}", lang.t("manage.edit_title"), name),
        ),
        action: program_url(p.program.id),
        version: p.version,
        fields,
        checks,
        flags,
        summary: summary(&s.errors, lang, |f| label(lang, f)),
        conflict: s.conflict,
        editable,
        is_office: m.is_office(),
        info: Some(program_info(state, lang, m, p, s.refuse).await?),
    };
    Ok(html_status(s.status, page))
}

async fn render_new(
    state: &AppState,
    ctx: &Ctx,
    m: Manager,
    form: &ProgramForm,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let choices = Choices::load(&state.db).await?;
    let (fields, checks, flags) = build_form(lang, form, errors, &choices, true);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = EditPage {
        l: ctx.layout("nav.manage", "manage.new_title"),
        action: "/staff/programs/new".into(),
        version: 0,
        fields,
        checks,
        flags,
        summary: summary(errors, lang, |f| label(lang, f)),
        conflict: false,
        editable: true,
        is_office: m.is_office(),
        info: None,
    };
    Ok(html_status(status, page))
}

/// `GET /staff/programs/new`.
async fn new_form(State(state): State<AppState>, Signed(ctx): Signed) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let year = crate::web::pages::cn_today().year();
    render_new(
        &state,
        &ctx,
        m,
        &ProgramForm::blank(year),
        &FieldErrors::new(),
    )
    .await
}

/// `POST /staff/programs/new`: a new draft.
async fn create(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let form = ProgramForm::from_pairs(&pairs(&body));
    match admin::create(&state.db, &who(&ctx, &ip), m, &form).await {
        Ok(id) => Ok(redirect_flash(
            &program_url(id),
            "success",
            ctx.t("manage.flash.created"),
        )),
        Err(ServiceError::Invalid(errors)) => render_new(&state, &ctx, m, &form, &errors).await,
        Err(e) => Err(e.into()),
    }
}

/// `GET /staff/programs/{id}`.
async fn edit_form(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let p = admin::find(&state.db, m, id_of(&id)?).await?;
    render_edit(&state, &ctx, m, &p, EditState::of(&p)).await
}

/// `POST /staff/programs/{id}`: saves the form.
async fn update(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let id = id_of(&id)?;
    let pairs = pairs(&body);
    let form = ProgramForm::from_pairs(&pairs);
    let seen: i64 = value(&pairs, "version").trim().parse().unwrap_or(-1);
    let result = admin::update(&state.db, &who(&ctx, &ip), m, id, seen, &form).await;
    match result {
        Ok(()) => Ok(redirect_flash(
            &program_url(id),
            "success",
            ctx.t("manage.flash.saved"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            let mut p = admin::find(&state.db, m, id).await?;
            // Keep the version the person started from: the error is theirs to fix, not a
            // reason to overwrite someone else's change.
            p.version = seen;
            let s = EditState {
                form,
                errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..EditState::of(&p)
            };
            render_edit(&state, &ctx, m, &p, s).await
        }
        Err(ServiceError::Conflict(_)) => {
            let p = admin::find(&state.db, m, id).await?;
            let s = EditState {
                form,
                conflict: true,
                status: StatusCode::CONFLICT,
                ..EditState::of(&p)
            };
            render_edit(&state, &ctx, m, &p, s).await
        }
        Err(ServiceError::Refused(key)) => {
            Ok(redirect_flash(&program_url(id), "error", ctx.t(key)))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle buttons

/// After a lifecycle button: back to the program with what happened, or with why not.
fn after(ctx: &Ctx, id: i64, result: Result<(), ServiceError>, done: &str) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(redirect_flash(&program_url(id), "success", ctx.t(done))),
        Err(ServiceError::Refused(key)) => {
            Ok(redirect_flash(&program_url(id), "error", ctx.t(key)))
        }
        Err(e) => Err(e.into()),
    }
}

/// What each lifecycle button says when it worked.
fn done_key(a: ProgramAction) -> &'static str {
    match a {
        ProgramAction::Publish => "manage.flash.published",
        ProgramAction::Unpublish => "manage.flash.unpublished",
        ProgramAction::Close => "manage.flash.closed",
        ProgramAction::Submit => "manage.flash.submitted",
        ProgramAction::Approve => "manage.flash.approved",
        ProgramAction::Refuse => "manage.flash.refused",
        ProgramAction::Edit => "manage.flash.saved",
        ProgramAction::Copy => "manage.flash.copied",
    }
}

/// `POST /staff/programs/{id}/{action}`: 发布, 撤回发布, 关闭报名, 提交审核, 审核通过 and
/// 不通过 (with a reason; an empty one is shown beside its box), all through the service's
/// one guarded transition.
async fn lifecycle(
    action: ProgramAction,
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted {
        m, id, seen, pairs, ..
    } = Posted::read(&ctx, &id, &body)?;
    let reason = value(&pairs, "reason").to_owned();
    let step = LifecycleStep {
        action,
        seen_version: seen,
        now: Utc::now(),
        reason: &reason,
    };
    match admin::transition(&state.db, &who(&ctx, &ip), m, id, step).await {
        Err(ServiceError::Invalid(errors)) => {
            let p = admin::find(&state.db, m, id).await?;
            let s = EditState {
                refuse: (reason, error_of(&errors, "reason", ctx.lang)),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..EditState::of(&p)
            };
            render_edit(&state, &ctx, m, &p, s).await
        }
        r => after(&ctx, id, r, done_key(action)),
    }
}

/// `POST /staff/programs/{id}/copy`: next year's draft, opened for editing.
async fn copy(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted { m, id, .. } = Posted::read(&ctx, &id, &body)?;
    match admin::copy(&state.db, &who(&ctx, &ip), m, id).await {
        Ok(new_id) => Ok(redirect_flash(
            &program_url(new_id),
            "success",
            ctx.t("manage.flash.copied"),
        )),
        Err(ServiceError::Refused(key)) => {
            Ok(redirect_flash(&program_url(id), "error", ctx.t(key)))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_field_and_status_has_a_label() {
        for name in ProgramForm::TEXT_FIELDS
            .iter()
            .chain(["semesters", "levels", "major_ids", "notice"].iter())
            .chain(["has_interview", "allows_late", "active"].iter())
        {
            let key = label_key(name);
            assert!(crate::i18n::has_key(key), "{name}: {key}");
        }
        for status in db::STATUSES {
            assert!(crate::i18n::has_key(&status_badge(status).1), "{status}");
        }
    }

    #[test]
    fn the_list_query_keeps_its_filters_for_the_pager_and_ignores_unknown_statuses() {
        let q = ListQuery::parse(Some(
            "keyword=%E7%89%9B%E6%B4%A5&status=nonsense&page=2&year=2026",
        ));
        assert_eq!(q.keyword, "牛津");
        assert_eq!(q.page, 2);
        let f = q.filter(Manager::Partner(3));
        assert_eq!(f.status, "");
        assert_eq!(f.owner, Some(3));
        assert_eq!(f.year, Some(2026));
        assert_eq!(
            q.pager_base(),
            "/staff/programs?keyword=%E7%89%9B%E6%B4%A5&year=2026&status=nonsense&"
        );
    }
}
