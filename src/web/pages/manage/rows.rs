//! The partner schools (院校, the 志愿 choices, each with its 推荐名额) and the attachment types
//! of a program: add, change and remove them, each on a small form of its own. A school that an
//! application chose, or a type students uploaded files for, is not removed; the refusal says
//! what to do instead.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::{CheckOption, Checks, Flag, Posted, error_of, id_of, manager, program_url, summary};
use crate::db::dicts;
use crate::db::programs::ManagedProgram;
use crate::domain::FieldErrors;
use crate::domain::files::FileFormat;
use crate::i18n::Lang;
use crate::services::ServiceError;
use crate::services::program_admin::{self as admin, Manager, ProgramAction, SchoolForm, TypeForm};
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::extract::{ClientIp, Ctx, Path, Signed, redirect_flash, who};
use crate::web::layout::{FieldKind, FormField, Layout};
use crate::web::render::html_status;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/staff/programs/{id}/schools/new",
            get(new_school).post(add_school),
        )
        .route(
            "/staff/programs/{id}/schools/{sid}",
            get(edit_school).post(update_school),
        )
        .route(
            "/staff/programs/{id}/schools/{sid}/delete",
            post(remove_school),
        )
        .route(
            "/staff/programs/{id}/types/new",
            get(new_type).post(add_type),
        )
        .route(
            "/staff/programs/{id}/types/{tid}",
            get(edit_type).post(update_type),
        )
        .route("/staff/programs/{id}/types/{tid}/delete", post(remove_type))
}

/// The small form of one school or attachment type.
#[derive(Template)]
#[template(path = "manage/row_form.html")]
struct RowPage {
    l: Layout,
    program_name: String,
    back: String,
    action: String,
    version: i64,
    fields: Vec<FormField>,
    /// The attachment type's formats and 必传 (empty for a school).
    formats: Option<Checks>,
    required: Option<Flag>,
    summary: Vec<String>,
}

fn school_label(lang: Lang, name: &str) -> Option<String> {
    Some(
        lang.t(match name {
            "name_zh" => "programs.f.school_zh",
            "name_en" => "programs.f.school_en",
            "country" => "programs.f.country",
            "quota" => "programs.f.quota",
            _ => return None,
        })
        .to_owned(),
    )
}

async fn render_school(
    state: &AppState,
    ctx: &Ctx,
    p: &ManagedProgram,
    version: i64,
    action: String,
    form: &SchoolForm,
    errors: &FieldErrors,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let countries = dicts::items(&state.db, dicts::kind::COUNTRY).await?;
    let field = |name: &'static str, kind: FieldKind, value: &str| {
        FormField::new(name, school_label(lang, name).unwrap_or_default(), kind)
            .value(value)
            .error(error_of(errors, name, lang))
    };
    let fields = vec![
        field("name_zh", FieldKind::Text, &form.name_zh).required(true),
        field("name_en", FieldKind::Text, &form.name_en),
        field("country", FieldKind::Select, &form.country)
            .options(dicts::options(&countries, lang)),
        field("quota", FieldKind::Number, &form.quota)
            .required(true)
            .hint(lang.t("manage.hint.quota")),
    ];
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(
        status,
        RowPage {
            l: ctx.layout("nav.manage", "manage.school_title"),
            program_name: lang.pick(&p.program.name_zh, &p.program.name_en).to_owned(),
            back: format!("{}#schools", program_url(p.program.id)),
            action,
            version,
            fields,
            formats: None,
            required: None,
            summary: summary(errors, lang, |f| school_label(lang, f)),
        },
    ))
}

/// Only an editable program's rows can be changed; the page says why otherwise (the same
/// rule and answer as the service's).
fn editable_or_refused(m: Manager, p: &ManagedProgram) -> Result<(), ServiceError> {
    admin::require(m, p, ProgramAction::Edit)
}

/// The outcome of a row form: back to the program, or the form again.
enum RowOutcome {
    Done(&'static str),
    Again(FieldErrors),
}

fn row_result(r: Result<(), ServiceError>, ok: &'static str) -> Result<RowOutcome, ServiceError> {
    match r {
        Ok(()) => Ok(RowOutcome::Done(ok)),
        Err(ServiceError::Invalid(errors)) => Ok(RowOutcome::Again(errors)),
        Err(e) => Err(e),
    }
}

/// Redirects back to the program's section, or refuses with the reason.
fn row_done(
    ctx: &Ctx,
    id: i64,
    anchor: &str,
    r: Result<(), ServiceError>,
    ok: &str,
) -> AppResult<Response> {
    let to = format!("{}#{anchor}", program_url(id));
    match r {
        Ok(()) => Ok(redirect_flash(&to, "success", ctx.t(ok))),
        Err(ServiceError::Refused(key)) => Ok(redirect_flash(&to, "error", ctx.t(key))),
        Err(e) => Err(e.into()),
    }
}

async fn new_school(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let p = admin::find(&state.db, m, id_of(&id)?).await?;
    if let Err(e) = editable_or_refused(m, &p) {
        return row_done(&ctx, p.program.id, "schools", Err(e), "");
    }
    let form = SchoolForm {
        country: p.program.country.clone(),
        quota: "1".into(),
        ..SchoolForm::default()
    };
    let action = format!("{}/schools/new", program_url(p.program.id));
    render_school(
        &state,
        &ctx,
        &p,
        p.version,
        action,
        &form,
        &FieldErrors::new(),
    )
    .await
}

async fn add_school(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted { m, id, seen, .. } = Posted::read(&ctx, &id, &body)?;
    let form: SchoolForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let r = admin::add_school(&state.db, &who(&ctx, &ip), m, id, seen, &form).await;
    match row_result(r, "manage.flash.school_added") {
        Ok(RowOutcome::Done(ok)) => row_done(&ctx, id, "schools", Ok(()), ok),
        Ok(RowOutcome::Again(errors)) => {
            let p = admin::find(&state.db, m, id).await?;
            let action = format!("{}/schools/new", program_url(id));
            render_school(&state, &ctx, &p, seen, action, &form, &errors).await
        }
        Err(e) => row_done(&ctx, id, "schools", Err(e), ""),
    }
}

async fn edit_school(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path((id, sid)): Path<(String, String)>,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let (p, s) = admin::school(&state.db, m, id_of(&id)?, id_of(&sid)?).await?;
    if let Err(e) = editable_or_refused(m, &p) {
        return row_done(&ctx, p.program.id, "schools", Err(e), "");
    }
    let action = format!("{}/schools/{}", program_url(p.program.id), s.id);
    render_school(
        &state,
        &ctx,
        &p,
        p.version,
        action,
        &SchoolForm::from_row(&s),
        &FieldErrors::new(),
    )
    .await
}

async fn update_school(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path((id, sid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted { m, id, seen, .. } = Posted::read(&ctx, &id, &body)?;
    let sid = id_of(&sid)?;
    let form: SchoolForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let r = admin::update_school(&state.db, &who(&ctx, &ip), m, id, sid, seen, &form).await;
    match row_result(r, "manage.flash.school_saved") {
        Ok(RowOutcome::Done(ok)) => row_done(&ctx, id, "schools", Ok(()), ok),
        Ok(RowOutcome::Again(errors)) => {
            let p = admin::find(&state.db, m, id).await?;
            let action = format!("{}/schools/{sid}", program_url(id));
            render_school(&state, &ctx, &p, seen, action, &form, &errors).await
        }
        Err(e) => row_done(&ctx, id, "schools", Err(e), ""),
    }
}

async fn remove_school(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path((id, sid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted { m, id, seen, .. } = Posted::read(&ctx, &id, &body)?;
    let sid = id_of(&sid)?;
    let r = admin::remove_school(&state.db, &who(&ctx, &ip), m, id, sid, seen).await;
    row_done(&ctx, id, "schools", r, "manage.flash.school_removed")
}

fn type_label(lang: Lang, name: &str) -> Option<String> {
    Some(
        lang.t(match name {
            "name_zh" => "manage.f.type_name_zh",
            "name_en" => "manage.f.type_name_en",
            "hint" => "manage.f.type_hint",
            "formats" => "programs.attachment.formats",
            "max_mb" => "manage.f.max_mb",
            _ => return None,
        })
        .to_owned(),
    )
}

async fn render_type(
    ctx: &Ctx,
    p: &ManagedProgram,
    version: i64,
    action: String,
    form: &TypeForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let lang = ctx.lang;
    let field = |name: &'static str, kind: FieldKind, value: &str| {
        FormField::new(name, type_label(lang, name).unwrap_or_default(), kind)
            .value(value)
            .error(error_of(errors, name, lang))
    };
    let fields = vec![
        field("name_zh", FieldKind::Text, &form.name_zh).required(true),
        field("name_en", FieldKind::Text, &form.name_en),
        field("hint", FieldKind::Text, &form.hint).hint(lang.t("manage.hint.type_hint")),
        field("max_mb", FieldKind::Number, &form.max_mb)
            .required(true)
            .hint(lang.t("manage.hint.max_mb")),
    ];
    let formats = Checks {
        name: "formats",
        label: type_label(lang, "formats").unwrap_or_default(),
        options: FileFormat::ALL
            .iter()
            .map(|f| CheckOption {
                value: f.ext().to_owned(),
                label: f.ext().to_ascii_uppercase(),
                checked: form
                    .formats
                    .iter()
                    .any(|v| FileFormat::from_ext(v) == Some(*f)),
            })
            .collect(),
        error: error_of(errors, "formats", lang),
        hint: None,
        multi_select: false,
        enabled: true,
    };
    let required = Flag {
        name: "required",
        label: lang.t("manage.f.type_required").to_owned(),
        checked: form.required,
        hint: None,
        enabled: true,
    };
    Ok(html_status(
        status,
        RowPage {
            l: ctx.layout("nav.manage", "manage.type_title"),
            program_name: lang.pick(&p.program.name_zh, &p.program.name_en).to_owned(),
            back: format!("{}#types", program_url(p.program.id)),
            action,
            version,
            fields,
            formats: Some(formats),
            required: Some(required),
            summary: summary(errors, lang, |f| type_label(lang, f)),
        },
    ))
}

async fn new_type(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let p = admin::find(&state.db, m, id_of(&id)?).await?;
    if let Err(e) = editable_or_refused(m, &p) {
        return row_done(&ctx, p.program.id, "types", Err(e), "");
    }
    let action = format!("{}/types/new", program_url(p.program.id));
    render_type(
        &ctx,
        &p,
        p.version,
        action,
        &TypeForm::blank(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn add_type(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted {
        m, id, seen, pairs, ..
    } = Posted::read(&ctx, &id, &body)?;
    let form = TypeForm::from_pairs(&pairs);
    let r = admin::add_type(&state.db, &who(&ctx, &ip), m, id, seen, &form).await;
    match row_result(r, "manage.flash.type_added") {
        Ok(RowOutcome::Done(ok)) => row_done(&ctx, id, "types", Ok(()), ok),
        Ok(RowOutcome::Again(errors)) => {
            let p = admin::find(&state.db, m, id).await?;
            let action = format!("{}/types/new", program_url(id));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_type(&ctx, &p, seen, action, &form, &errors, status).await
        }
        Err(e) => row_done(&ctx, id, "types", Err(e), ""),
    }
}

async fn edit_type(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path((id, tid)): Path<(String, String)>,
) -> AppResult<Response> {
    let m = manager(&ctx)?;
    let (p, t) = admin::attachment_type(&state.db, m, id_of(&id)?, id_of(&tid)?).await?;
    if let Err(e) = editable_or_refused(m, &p) {
        return row_done(&ctx, p.program.id, "types", Err(e), "");
    }
    let action = format!("{}/types/{}", program_url(p.program.id), t.id);
    render_type(
        &ctx,
        &p,
        p.version,
        action,
        &TypeForm::from_row(&t),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

async fn update_type(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path((id, tid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted {
        m, id, seen, pairs, ..
    } = Posted::read(&ctx, &id, &body)?;
    let tid = id_of(&tid)?;
    let form = TypeForm::from_pairs(&pairs);
    let r = admin::update_type(&state.db, &who(&ctx, &ip), m, id, tid, seen, &form).await;
    match row_result(r, "manage.flash.type_saved") {
        Ok(RowOutcome::Done(ok)) => row_done(&ctx, id, "types", Ok(()), ok),
        Ok(RowOutcome::Again(errors)) => {
            let p = admin::find(&state.db, m, id).await?;
            let action = format!("{}/types/{tid}", program_url(id));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_type(&ctx, &p, seen, action, &form, &errors, status).await
        }
        Err(e) => row_done(&ctx, id, "types", Err(e), ""),
    }
}

async fn remove_type(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    ClientIp(ip): ClientIp,
    Path((id, tid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let Posted { m, id, seen, .. } = Posted::read(&ctx, &id, &body)?;
    let tid = id_of(&tid)?;
    let r = admin::remove_type(&state.db, &who(&ctx, &ip), m, id, tid, seen).await;
    row_done(&ctx, id, "types", r, "manage.flash.type_removed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_school_and_type_field_has_a_label() {
        for name in ["name_zh", "name_en", "country", "quota"] {
            assert!(school_label(Lang::Zh, name).is_some_and(|l| !l.contains('.')));
        }
        for name in ["name_zh", "name_en", "hint", "formats", "max_mb"] {
            assert!(type_label(Lang::Zh, name).is_some_and(|l| !l.contains('.')));
        }
    }
}
