//! `/staff/workflows`: the review-workflow templates (SPEC §8), for the office and admins.
//!
//! The list shows the newest version of each template with how many programs use it and how
//! many applications are in flight on each version. The editor is one form of ordered stage
//! rows (名称 中/英, 审核角色, 范围, 阶段); its add / remove / move buttons post the whole form
//! back and redraw it, so it works without JavaScript. 保存 stores a NEW version: versions in
//! use are never changed, and an application keeps the version it was submitted under.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{error_of, pairs, summary, value};
use crate::db::programs::{self as db, ApplicationCounts, TemplateVersion};
use crate::domain::FieldErrors;
use crate::domain::status::Role;
use crate::domain::workflow::{Phase, Scope, Stage};
use crate::i18n::Lang;
use crate::services::ServiceError;
use crate::services::program_admin::{self as admin, EditorOp, Saved, WorkflowForm};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, Ctx, OfficeCtx, Path, redirect_flash, who};
use crate::web::layout::Layout;
use crate::web::pages::cn_time;
use crate::web::render::html_status;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/workflows", get(list))
        .route("/staff/workflows/new", get(new_form).post(create))
        .route("/staff/workflows/{code}", get(edit_form).post(save))
}

fn stage_names(stages_json: &str, lang: Lang) -> String {
    let stages: Vec<Stage> = serde_json::from_str(stages_json).unwrap_or_default();
    stages
        .iter()
        .map(|s| s.name(lang == Lang::En).to_owned())
        .collect::<Vec<_>>()
        .join(" → ")
}

struct TemplateRow {
    code: String,
    name: String,
    version: i64,
    stages: String,
    programs: i64,
    /// In flight on the newest version, and on older ones.
    in_flight_latest: i64,
    in_flight_older: i64,
}

#[derive(Template)]
#[template(path = "manage/workflows.html")]
struct ListPage {
    l: Layout,
    rows: Vec<TemplateRow>,
}

/// `GET /staff/workflows`.
async fn list(State(state): State<AppState>, OfficeCtx(ctx): OfficeCtx) -> AppResult<Response> {
    let lang = ctx.lang;
    let versions = db::template_versions(&state.db).await?;
    let counts = db::template_application_counts(&state.db).await?;
    let programs = db::programs_per_workflow(&state.db).await?;
    let in_flight = |id: i64| counts.get(&id).map_or(0, |c| c.in_flight);
    let mut rows: Vec<TemplateRow> = Vec::new();
    for v in &versions {
        match rows.iter_mut().find(|r| r.code == v.code) {
            // Versions come newest first: the first of a code is its current one.
            Some(row) => row.in_flight_older += in_flight(v.id),
            None => rows.push(TemplateRow {
                code: v.code.clone(),
                name: lang.pick(&v.name_zh, &v.name_en).to_owned(),
                version: v.version,
                stages: stage_names(&v.stages, lang),
                programs: programs.get(&v.code).copied().unwrap_or(0),
                in_flight_latest: in_flight(v.id),
                in_flight_older: 0,
            }),
        }
    }
    Ok(html_status(
        StatusCode::OK,
        ListPage {
            l: ctx.layout("nav.manage", "manage.workflows"),
            rows,
        },
    ))
}

/// One stage row of the editor, with its errors.
struct RowView {
    index: usize,
    key: String,
    name_zh: String,
    name_en: String,
    role: String,
    scope: String,
    phase: String,
    err_name: Option<String>,
    err_role: Option<String>,
    err_scope: Option<String>,
    err_phase: Option<String>,
    first: bool,
    last: bool,
}

struct VersionRow {
    version: i64,
    created: String,
    stages: String,
    counts: ApplicationCounts,
    latest: bool,
}

#[derive(Template)]
#[template(path = "manage/workflow.html")]
struct EditPage {
    l: Layout,
    is_new: bool,
    action: String,
    code: String,
    code_error: Option<String>,
    name_zh: String,
    name_zh_error: Option<String>,
    name_en: String,
    based_on: String,
    rows: Vec<RowView>,
    stages_error: Option<String>,
    summary: Vec<String>,
    conflict: bool,
    role_options: Vec<(String, String)>,
    scope_options: Vec<(String, String)>,
    phase_options: Vec<(String, String)>,
    history: Vec<VersionRow>,
}

fn row_label(lang: Lang, field: &str) -> Option<String> {
    if field == "stages" {
        return None;
    }
    if let Some(rest) = field.strip_prefix("stage_") {
        let (index, name) = rest.split_once('_')?;
        let n: usize = index.parse().ok()?;
        let key = match name {
            "name_zh" => "manage.wf.name_zh",
            "name_en" => "manage.wf.name_en",
            "role" => "manage.wf.role",
            "scope" => "manage.wf.scope",
            "phase" => "manage.wf.phase",
            _ => return None,
        };
        return Some(format!(
            "{} {}",
            lang.tf("manage.wf.stage_n", &(n + 1).to_string()),
            lang.t(key)
        ));
    }
    Some(
        lang.t(match field {
            "code" => "manage.wf.code",
            "name_zh" => "manage.wf.template_name_zh",
            "name_en" => "manage.wf.template_name_en",
            _ => return None,
        })
        .to_owned(),
    )
}

struct Draw {
    is_new: bool,
    code: String,
    form: WorkflowForm,
    errors: FieldErrors,
    conflict: bool,
    status: StatusCode,
}

async fn render(state: &AppState, ctx: &Ctx, d: Draw) -> AppResult<Response> {
    let lang = ctx.lang;
    let err = |field: &str| error_of(&d.errors, field, lang);
    let n = d.form.stages.len();
    let rows = d
        .form
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| RowView {
            index: i,
            key: s.key.clone(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            role: s.role.clone(),
            scope: s.scope.clone(),
            phase: s.phase.clone(),
            err_name: err(&format!("stage_{i}_name_zh")).or(err(&format!("stage_{i}_name_en"))),
            err_role: err(&format!("stage_{i}_role")),
            err_scope: err(&format!("stage_{i}_scope")),
            err_phase: err(&format!("stage_{i}_phase")),
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    let history = if d.is_new {
        Vec::new()
    } else {
        let counts: HashMap<i64, ApplicationCounts> = admin::template_counts(&state.db).await?;
        let versions: Vec<TemplateVersion> = db::template_history(&state.db, &d.code).await?;
        versions
            .iter()
            .enumerate()
            .map(|(i, v)| VersionRow {
                version: v.version,
                created: cn_time(v.created_at),
                stages: stage_names(&v.stages, lang),
                counts: counts.get(&v.id).copied().unwrap_or_default(),
                latest: i == 0,
            })
            .collect()
    };
    let title = if d.is_new {
        lang.t("manage.wf.new_title").to_owned()
    } else {
        format!("{}：{}", lang.t("manage.wf.edit_title"), d.code)
    };
    let page = EditPage {
        l: ctx.layout_titled("nav.manage", title),
        is_new: d.is_new,
        action: if d.is_new {
            "/staff/workflows/new".into()
        } else {
            format!("/staff/workflows/{}", d.code)
        },
        code_error: err("code"),
        code: if d.is_new {
            d.form.code.clone()
        } else {
            d.code.clone()
        },
        name_zh: d.form.name_zh.clone(),
        name_zh_error: err("name_zh").or(err("name_en")),
        name_en: d.form.name_en.clone(),
        based_on: d.form.based_on.clone(),
        rows,
        stages_error: err("stages"),
        summary: summary(&d.errors, lang, |f| row_label(lang, f)),
        conflict: d.conflict,
        role_options: Role::ALL
            .iter()
            .filter(|r| r.is_staff())
            .map(|r| (r.code().to_owned(), lang.t(r.label_key()).to_owned()))
            .collect(),
        scope_options: Scope::ALL
            .iter()
            .map(|s| (s.code().to_owned(), lang.t(s.label_key()).to_owned()))
            .collect(),
        phase_options: Phase::ALL
            .iter()
            .map(|p| (p.code().to_owned(), lang.t(p.label_key()).to_owned()))
            .collect(),
        history,
    };
    Ok(html_status(d.status, page))
}

/// `GET /staff/workflows/new`.
async fn new_form(State(state): State<AppState>, OfficeCtx(ctx): OfficeCtx) -> AppResult<Response> {
    let d = Draw {
        is_new: true,
        code: String::new(),
        form: WorkflowForm::blank(),
        errors: FieldErrors::new(),
        conflict: false,
        status: StatusCode::OK,
    };
    render(&state, &ctx, d).await
}

/// `POST /staff/workflows/new`: an editing button redraws; 保存 creates version 1.
async fn create(
    State(state): State<AppState>,
    OfficeCtx(ctx): OfficeCtx,
    ClientIp(ip): ClientIp,
    body: Bytes,
) -> AppResult<Response> {
    let pairs = pairs(&body);
    let mut form = WorkflowForm::from_pairs(&pairs);
    let op = EditorOp::parse(value(&pairs, "op"));
    let mut d = Draw {
        is_new: true,
        code: String::new(),
        form: form.clone(),
        errors: FieldErrors::new(),
        conflict: false,
        status: StatusCode::OK,
    };
    if op != EditorOp::Save {
        form.apply(op);
        d.form = form;
        return render(&state, &ctx, d).await;
    }
    match admin::create_workflow(&state.db, &who(&ctx, &ip), &form).await {
        Ok(code) => Ok(redirect_flash(
            &format!("/staff/workflows/{code}"),
            "success",
            ctx.t("manage.flash.workflow_created"),
        )),
        Err(ServiceError::Invalid(errors)) => {
            d.errors = errors;
            d.status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &ctx, d).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /staff/workflows/{code}`: the newest version in the editor, and the history.
async fn edit_form(
    State(state): State<AppState>,
    OfficeCtx(ctx): OfficeCtx,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let latest = db::template_history(&state.db, &code)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let d = Draw {
        is_new: false,
        form: WorkflowForm::from_version(&latest),
        code,
        errors: FieldErrors::new(),
        conflict: false,
        status: StatusCode::OK,
    };
    render(&state, &ctx, d).await
}

/// `POST /staff/workflows/{code}`: an editing button redraws; 保存 stores a new version.
async fn save(
    State(state): State<AppState>,
    OfficeCtx(ctx): OfficeCtx,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let latest = db::template_history(&state.db, &code)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let pairs = pairs(&body);
    let mut form = WorkflowForm::from_pairs(&pairs);
    form.code = code.clone();
    let op = EditorOp::parse(value(&pairs, "op"));
    let mut d = Draw {
        is_new: false,
        code: code.clone(),
        form: form.clone(),
        errors: FieldErrors::new(),
        conflict: false,
        status: StatusCode::OK,
    };
    if op != EditorOp::Save {
        form.apply(op);
        d.form = form;
        return render(&state, &ctx, d).await;
    }
    let url = format!("/staff/workflows/{code}");
    match admin::save_workflow(&state.db, &who(&ctx, &ip), &code, &form).await {
        Ok(Saved::Version(v)) => Ok(redirect_flash(
            &url,
            "success",
            &ctx.lang.tf("manage.flash.workflow_saved", &v.to_string()),
        )),
        Ok(Saved::Unchanged) => Ok(redirect_flash(&url, "info", ctx.t("manage.err.unchanged"))),
        Err(ServiceError::Invalid(errors)) => {
            d.errors = errors;
            d.status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &ctx, d).await
        }
        Err(ServiceError::Conflict(_)) => {
            // Input kept; the form now says which version is current, so saving again is a
            // conscious overwrite.
            d.form.based_on = latest.version.to_string();
            d.conflict = true;
            d.status = StatusCode::CONFLICT;
            render(&state, &ctx, d).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_of_a_stage_row_is_labelled_with_its_number() {
        assert_eq!(
            row_label(Lang::Zh, "stage_1_scope").as_deref(),
            Some("第 2 个环节 范围")
        );
        assert_eq!(row_label(Lang::Zh, "stages"), None);
        assert_eq!(row_label(Lang::Zh, "code").as_deref(), Some("流程代码"));
    }

    #[test]
    fn stage_names_read_as_a_chain() {
        let json = r#"[{"key":"a","name_zh":"学院审核","name_en":"College","role":"college_reviewer","scope":"college","phase":"application"},{"key":"b","name_zh":"国际处审核","name_en":"","role":"international_office","scope":"all","phase":"application"}]"#;
        assert_eq!(stage_names(json, Lang::Zh), "学院审核 → 国际处审核");
        assert_eq!(stage_names(json, Lang::En), "College → 国际处审核");
        assert_eq!(stage_names("not json", Lang::Zh), "");
    }
}
