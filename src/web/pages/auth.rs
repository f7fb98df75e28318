//! Sign-in, sign-out, the compulsory change of the initial password, the language switch and
//! the health check.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::auth::{csrf, session};
use crate::db::migrate;
use crate::domain::FieldErrors;
use crate::i18n::Lang;
use crate::services::{ServiceError, accounts};
use crate::web::error::AppResult;
use crate::web::extract::{ClientIp, Ctx, Form, LANG_COOKIE, Path, Query, flash_cookie};
use crate::web::forms::{error_of, safe_back};
use crate::web::layout::Layout;
use crate::web::render::{html, html_status};
use crate::web::{AppState, cookies};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(change_password))
        .route("/lang/{code}", get(switch_lang))
        .route("/healthz", get(healthz))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextQuery {
    next: String,
}

async fn login_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.user.is_some() {
        return Redirect::to("/").into_response();
    }
    html(LoginPage {
        l: ctx.layout("", "auth.sign_in"),
        username: String::new(),
        next: q.next,
        error: None,
    })
}

/// The cookies a fresh sign-in sets: the session, and a new CSRF token.
pub fn session_cookies(
    state: &AppState,
    token: &str,
) -> AppendHeaders<[(header::HeaderName, axum::http::HeaderValue); 3]> {
    let secure = state.config.secure_cookies;
    AppendHeaders([
        (
            header::SET_COOKIE,
            cookies::set(session::COOKIE, token, None, secure),
        ),
        (
            header::SET_COOKIE,
            cookies::set(csrf::COOKIE, &state.csrf.issue(), None, secure),
        ),
        (
            header::HeaderName::from_static("x-outbound-csrf-rotated"),
            axum::http::HeaderValue::from_static("1"),
        ),
    ])
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    match accounts::sign_in(&state.db, &form.username, &form.password, &ip).await {
        Ok(signed) => {
            let target = if signed.must_change_password {
                "/password".to_owned()
            } else {
                safe_back(&form.next).unwrap_or("/").to_owned()
            };
            Ok((
                session_cookies(&state, &signed.session_token),
                Redirect::to(&target),
            )
                .into_response())
        }
        Err(ServiceError::Refused(key)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            LoginPage {
                l: ctx.layout("", "auth.sign_in"),
                username: form.username,
                next: form.next,
                error: Some(ctx.t(key).to_owned()),
            },
        )),
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(user) = &ctx.user {
        accounts::sign_out(&state.db, &user.session_token).await?;
    }
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, cookies::clear(session::COOKIE)),
            (
                header::SET_COOKIE,
                cookies::set(
                    csrf::COOKIE,
                    &state.csrf.issue(),
                    None,
                    state.config.secure_cookies,
                ),
            ),
            (
                header::HeaderName::from_static("x-outbound-csrf-rotated"),
                axum::http::HeaderValue::from_static("1"),
            ),
        ]),
        Redirect::to("/login"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    l: Layout,
    first_time: bool,
    errors_old: Option<String>,
    errors_new: Option<String>,
    errors_confirm: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub old_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

fn password_page_with(ctx: &Ctx, errors: &FieldErrors) -> PasswordPage {
    PasswordPage {
        l: ctx.layout("", "auth.change_password"),
        first_time: ctx.user.as_ref().is_some_and(|u| u.must_change_password),
        errors_old: error_of(errors, "old_password", ctx.lang),
        errors_new: error_of(errors, "new_password", ctx.lang),
        errors_confirm: error_of(errors, "confirm_password", ctx.lang),
    }
}

async fn password_page(ctx: Ctx) -> AppResult<Response> {
    ctx.user()?;
    Ok(html(password_page_with(&ctx, &FieldErrors::new())))
}

async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    match accounts::change_password(
        &state.db,
        user.id,
        &form.old_password,
        &form.new_password,
        &form.confirm_password,
    )
    .await
    {
        Ok(token) => {
            let mut response = (session_cookies(&state, &token), Redirect::to("/")).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                flash_cookie("success", ctx.t("auth.password_changed")),
            );
            Ok(response)
        }
        Err(ServiceError::Invalid(errors)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page_with(&ctx, &errors),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BackQuery {
    back: String,
}

async fn switch_lang(Path(code): Path<String>, Query(q): Query<BackQuery>) -> Response {
    let lang = Lang::from_code(&code).unwrap_or_default();
    let back = safe_back(&q.back).unwrap_or("/").to_owned();
    (
        [(
            header::SET_COOKIE,
            cookies::set(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600), false),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

/// 200 once the database is reachable and at the latest schema version.
async fn healthz(
    State(state): State<AppState>,
) -> Result<&'static str, (StatusCode, &'static str)> {
    match migrate::current_version(&state.db).await {
        Ok(v) if v == migrate::LATEST => Ok("ok"),
        Ok(_) => Err((StatusCode::SERVICE_UNAVAILABLE, "database not migrated")),
        Err(_) => Err((StatusCode::SERVICE_UNAVAILABLE, "database unreachable")),
    }
}
