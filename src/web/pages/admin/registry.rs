//! 学院与专业: the college list, each college's majors, and their add / edit / deactivate /
//! delete. A college or major that students (or programs, reviewers, majors) still point at is
//! never deleted: the refusal says what points at it, and it can be deactivated instead.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::{flash, layout, pairs, summary, tabs, wants_active};
use crate::db::admin::{self as q, CollegeRow, References};
use crate::domain::FieldErrors;
use crate::services::ServiceError;
use crate::services::admin::{self, CodeNameForm, Deletion};
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{AdminCtx, ClientIp, Ctx, Form, Path, redirect_flash, who};
use crate::web::forms::error_of;
use crate::web::layout::{FieldKind, FormField, Layout};
use crate::web::render::{html, html_status};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/colleges", get(colleges))
        .route("/admin/colleges/new", get(new_college).post(create_college))
        .route(
            "/admin/colleges/{id}",
            get(edit_college).post(update_college),
        )
        .route("/admin/colleges/{id}/active", post(college_active))
        .route("/admin/colleges/{id}/delete", post(delete_college))
        .route("/admin/colleges/{id}/majors", get(majors))
        .route(
            "/admin/colleges/{id}/majors/new",
            get(new_major).post(create_major),
        )
        .route("/admin/majors/{id}", get(edit_major).post(update_major))
        .route("/admin/majors/{id}/active", post(major_active))
        .route("/admin/majors/{id}/delete", post(delete_major))
}

/// The posted code-and-names form; an undecodable body keeps nothing.
fn posted(form: Result<Form<CodeNameForm>, AppError>) -> AppResult<CodeNameForm> {
    form.map(|Form(f)| f)
        .map_err(|_| AppError::Refused("err.admin.bad_form"))
}

/// Why a delete was refused, in the person's language: "12 名学生、3 个专业".
fn references_text(ctx: &Ctx, r: &References) -> String {
    let parts: Vec<String> = [
        (r.students, "admin.ref.students"),
        (r.majors, "admin.ref.majors"),
        (r.reviewers, "admin.ref.reviewers"),
        (r.programs, "admin.ref.programs"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, key)| ctx.lang.tf(key, &n.to_string()))
    .collect();
    if parts.is_empty() {
        ctx.t("admin.ref.other").to_owned()
    } else {
        parts.join(ctx.t("admin.list_sep"))
    }
}

/// The flash after a delete: done, or refused with the reason.
fn deletion_flash(ctx: &Ctx, to: &str, outcome: Deletion) -> Response {
    match outcome {
        Deletion::Deleted => flash(ctx, to, "success", "admin.deleted"),
        Deletion::InUse(refs) => redirect_flash(
            to,
            "error",
            &ctx.lang
                .tf("err.admin.in_use", &references_text(ctx, &refs)),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Lists

struct CollegeView {
    row: CollegeRow,
    name: String,
    majors: i64,
    students: i64,
}

#[derive(Template)]
#[template(path = "admin/colleges.html")]
struct CollegesPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    rows: Vec<CollegeView>,
}

async fn colleges(State(state): State<AppState>, AdminCtx(ctx): AdminCtx) -> AppResult<Response> {
    let students: HashMap<i64, i64> = q::students_per_college(&state.db)
        .await?
        .into_iter()
        .collect();
    let majors: HashMap<i64, i64> = q::majors_per_college(&state.db)
        .await?
        .into_iter()
        .collect();
    let rows = q::colleges(&state.db)
        .await?
        .into_iter()
        .map(|row| CollegeView {
            name: ctx.lang.pick(&row.name_zh, &row.name_en).to_owned(),
            majors: majors.get(&row.id).copied().unwrap_or(0),
            students: students.get(&row.id).copied().unwrap_or(0),
            row,
        })
        .collect();
    Ok(html(CollegesPage {
        l: layout(&ctx, "admin.colleges.title"),
        tabs: tabs(&ctx, "colleges"),
        rows,
    }))
}

struct MajorView {
    id: i64,
    code: String,
    name_zh: String,
    name_en: String,
    active: bool,
    students: i64,
}

#[derive(Template)]
#[template(path = "admin/majors.html")]
struct MajorsPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    college: CollegeRow,
    rows: Vec<MajorView>,
    new_href: String,
}

async fn majors(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let college = q::college(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let students: HashMap<i64, i64> = q::students_per_major(&state.db)
        .await?
        .into_iter()
        .collect();
    let rows = q::majors_of(&state.db, id)
        .await?
        .into_iter()
        .map(|m| MajorView {
            students: students.get(&m.id).copied().unwrap_or(0),
            id: m.id,
            code: m.code,
            name_zh: m.name_zh,
            name_en: m.name_en,
            active: m.active,
        })
        .collect();
    let title = format!(
        "{} · {}",
        ctx.lang.pick(&college.name_zh, &college.name_en),
        ctx.t("admin.majors.title")
    );
    Ok(html(MajorsPage {
        l: ctx.layout_titled("nav.admin", title),
        tabs: tabs(&ctx, "colleges"),
        new_href: format!("/admin/colleges/{}/majors/new", college.id),
        college,
        rows,
    }))
}

// ---------------------------------------------------------------------------------------------
// The code-and-names form (colleges and majors)

#[derive(Template)]
#[template(path = "admin/code_names.html")]
struct FormPage {
    l: Layout,
    tabs: Vec<(&'static str, String, bool)>,
    fields: Vec<FormField>,
    summary: Vec<String>,
    action: String,
    back: String,
    /// A note under the title (which college a major belongs to).
    note: String,
}

fn form_page(
    ctx: &Ctx,
    title: String,
    action: String,
    back: String,
    note: String,
    form: &CodeNameForm,
    errors: &FieldErrors,
) -> FormPage {
    let field = |name: &str, key: &str, value: &str| {
        FormField::new(name, ctx.t(key), FieldKind::Text)
            .value(value)
            .required(true)
            .error(error_of(errors, name, ctx.lang))
    };
    let fields = vec![
        field("code", "admin.code", &form.code).hint(ctx.t("admin.code_hint")),
        field("name_zh", "admin.name_zh", &form.name_zh),
        field("name_en", "admin.name_en", &form.name_en),
    ];
    let labels: Vec<(&str, String)> = fields
        .iter()
        .map(|f| (f.name.as_str(), f.label.clone()))
        .collect();
    FormPage {
        l: ctx.layout_titled("nav.admin", title),
        tabs: tabs(ctx, "colleges"),
        summary: summary(errors, ctx.lang, &labels),
        fields,
        action,
        back,
        note,
    }
}

fn stored_form(code: &str, name_zh: &str, name_en: &str) -> CodeNameForm {
    CodeNameForm {
        code: code.to_owned(),
        name_zh: name_zh.to_owned(),
        name_en: name_en.to_owned(),
    }
}

fn college_form_page(
    ctx: &Ctx,
    id: Option<i64>,
    form: &CodeNameForm,
    errors: &FieldErrors,
) -> FormPage {
    let (title, action) = match id {
        None => ("admin.college.new", "/admin/colleges/new".to_owned()),
        Some(id) => ("admin.college.edit", format!("/admin/colleges/{id}")),
    };
    form_page(
        ctx,
        ctx.t(title).to_owned(),
        action,
        "/admin/colleges".to_owned(),
        String::new(),
        form,
        errors,
    )
}

fn major_form_page(
    ctx: &Ctx,
    college: &CollegeRow,
    id: Option<i64>,
    form: &CodeNameForm,
    errors: &FieldErrors,
) -> FormPage {
    let (title, action) = match id {
        None => (
            "admin.major.new",
            format!("/admin/colleges/{}/majors/new", college.id),
        ),
        Some(id) => ("admin.major.edit", format!("/admin/majors/{id}")),
    };
    form_page(
        ctx,
        ctx.t(title).to_owned(),
        action,
        format!("/admin/colleges/{}/majors", college.id),
        format!(
            "{}{}",
            ctx.t("admin.major.college"),
            ctx.lang.pick(&college.name_zh, &college.name_en)
        ),
        form,
        errors,
    )
}

/// 422 with the form kept, or the error page.
fn refused(e: ServiceError, page: impl FnOnce(&FieldErrors) -> FormPage) -> AppResult<Response> {
    match e {
        ServiceError::Invalid(errors) => {
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page(&errors)))
        }
        e => Err(e.into()),
    }
}

async fn new_college(AdminCtx(ctx): AdminCtx) -> AppResult<Response> {
    let none = FieldErrors::new();
    Ok(html(college_form_page(
        &ctx,
        None,
        &CodeNameForm::default(),
        &none,
    )))
}

async fn create_college(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    form: Result<Form<CodeNameForm>, AppError>,
) -> AppResult<Response> {
    let form = posted(form)?;
    match admin::create_college(&state.db, &who(&ctx, &ip.0), &form).await {
        Ok(_) => Ok(flash(&ctx, "/admin/colleges", "success", "admin.saved")),
        Err(e) => refused(e, |errors| college_form_page(&ctx, None, &form, errors)),
    }
}

async fn edit_college(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let c = q::college(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let none = FieldErrors::new();
    let form = stored_form(&c.code, &c.name_zh, &c.name_en);
    Ok(html(college_form_page(&ctx, Some(id), &form, &none)))
}

async fn update_college(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    form: Result<Form<CodeNameForm>, AppError>,
) -> AppResult<Response> {
    let form = posted(form)?;
    match admin::update_college(&state.db, &who(&ctx, &ip.0), id, &form).await {
        Ok(()) => Ok(flash(&ctx, "/admin/colleges", "success", "admin.saved")),
        Err(e) => refused(e, |errors| college_form_page(&ctx, Some(id), &form, errors)),
    }
}

async fn college_active(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let active = wants_active(&pairs(&body)?)?;
    admin::set_college_active(&state.db, &who(&ctx, &ip.0), id, active).await?;
    Ok(active_flash(&ctx, "/admin/colleges", active))
}

async fn delete_college(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let outcome = admin::delete_college(&state.db, &who(&ctx, &ip.0), id).await?;
    Ok(deletion_flash(&ctx, "/admin/colleges", outcome))
}

fn active_flash(ctx: &Ctx, to: &str, active: bool) -> Response {
    flash(
        ctx,
        to,
        "success",
        if active {
            "admin.reactivated"
        } else {
            "admin.deactivated"
        },
    )
}

async fn college_of(state: &AppState, id: i64) -> AppResult<CollegeRow> {
    q::college(&state.db, id).await?.ok_or(AppError::NotFound)
}

async fn new_major(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path(college_id): Path<i64>,
) -> AppResult<Response> {
    let college = college_of(&state, college_id).await?;
    let none = FieldErrors::new();
    Ok(html(major_form_page(
        &ctx,
        &college,
        None,
        &CodeNameForm::default(),
        &none,
    )))
}

async fn create_major(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(college_id): Path<i64>,
    form: Result<Form<CodeNameForm>, AppError>,
) -> AppResult<Response> {
    let form = posted(form)?;
    let college = college_of(&state, college_id).await?;
    let to = format!("/admin/colleges/{college_id}/majors");
    match admin::create_major(&state.db, &who(&ctx, &ip.0), college_id, &form).await {
        Ok(_) => Ok(flash(&ctx, &to, "success", "admin.saved")),
        Err(e) => refused(e, |errors| {
            major_form_page(&ctx, &college, None, &form, errors)
        }),
    }
}

async fn edit_major(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let m = q::major(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let college = college_of(&state, m.college_id).await?;
    let none = FieldErrors::new();
    let form = stored_form(&m.code, &m.name_zh, &m.name_en);
    Ok(html(major_form_page(
        &ctx,
        &college,
        Some(id),
        &form,
        &none,
    )))
}

async fn update_major(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    form: Result<Form<CodeNameForm>, AppError>,
) -> AppResult<Response> {
    let form = posted(form)?;
    let m = q::major(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let college = college_of(&state, m.college_id).await?;
    let to = format!("/admin/colleges/{}/majors", college.id);
    match admin::update_major(&state.db, &who(&ctx, &ip.0), id, &form).await {
        Ok(()) => Ok(flash(&ctx, &to, "success", "admin.saved")),
        Err(e) => refused(e, |errors| {
            major_form_page(&ctx, &college, Some(id), &form, errors)
        }),
    }
}

async fn major_active(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let active = wants_active(&pairs(&body)?)?;
    let m = q::major(&state.db, id).await?.ok_or(AppError::NotFound)?;
    admin::set_major_active(&state.db, &who(&ctx, &ip.0), id, active).await?;
    Ok(active_flash(
        &ctx,
        &format!("/admin/colleges/{}/majors", m.college_id),
        active,
    ))
}

async fn delete_major(
    State(state): State<AppState>,
    AdminCtx(ctx): AdminCtx,
    ip: ClientIp,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let m = q::major(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let outcome = admin::delete_major(&state.db, &who(&ctx, &ip.0), id).await?;
    Ok(deletion_flash(
        &ctx,
        &format!("/admin/colleges/{}/majors", m.college_id),
        outcome,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn ctx(lang: Lang) -> Ctx {
        Ctx {
            lang,
            csrf: String::new(),
            path: "/".into(),
            user: None,
            unread: 0,
            flash: None,
            wants_json: false,
            office: String::new(),
        }
    }

    #[test]
    fn a_refused_delete_says_what_still_points_at_the_record() {
        let refs = References {
            students: 12,
            majors: 3,
            reviewers: 0,
            programs: 0,
        };
        assert_eq!(
            references_text(&ctx(Lang::Zh), &refs),
            "12 名学生、3 个专业"
        );
        assert_eq!(
            references_text(&ctx(Lang::En), &refs),
            "12 student(s), 3 major(s)"
        );
        assert_eq!(
            references_text(&ctx(Lang::Zh), &References::default()),
            Lang::Zh.t("admin.ref.other")
        );
    }
}
