//! Sign-in, the current session, sign-out, the CSRF token and the compulsory change of the
//! initial password — the same services and cookies as the HTML sign-in.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ErrorBody, JsonBody};
use crate::auth::{csrf, role_code, session};
use crate::db::users;
use crate::services::accounts;
use crate::web::csrf::CsrfToken;
use crate::web::error::{AppError, AppResult};
use crate::web::extract::{ClientIp, Ctx};
use crate::web::pages::auth::session_cookies;
use crate::web::{AppState, cookies};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in, current, sign_out))
        .routes(routes!(csrf_token))
        .routes(routes!(change_password))
}

/// `POST /session`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignInBody {
    /// 学号 / 工号.
    pub username: String,
    pub password: String,
}

/// The signed-in person.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserInfo {
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// The session: who, with which roles, and the CSRF token to send as `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub user: UserInfo,
    /// Role codes: `student`, `college_reviewer`, `international_office`, `academic_affairs`,
    /// `foreign_affairs`, `admin`, `partner`.
    pub roles: Vec<String>,
    /// The initial password must be changed (`POST /api/v1/password`) before anything else.
    pub must_change_password: bool,
    pub csrf_token: String,
}

/// A CSRF token for the `X-CSRF-Token` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrfBody {
    pub csrf_token: String,
}

/// The value of the CSRF cookie among `Set-Cookie` headers (the token a fresh sign-in issued).
fn issued_token<'a>(
    headers: impl IntoIterator<Item = &'a (header::HeaderName, HeaderValue)>,
) -> String {
    let prefix = format!("{}=", csrf::COOKIE);
    headers
        .into_iter()
        .filter(|(name, _)| *name == header::SET_COOKIE)
        .filter_map(|(_, value)| value.to_str().ok())
        .find_map(|v| v.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

async fn session_info(
    state: &AppState,
    user_id: i64,
    csrf_token: String,
) -> AppResult<SessionInfo> {
    let row = users::by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let roles = users::roles(&state.db, user_id).await?;
    Ok(SessionInfo {
        user: UserInfo {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
        },
        roles: roles.0.iter().map(|r| role_code(*r).to_owned()).collect(),
        must_change_password: row.must_change_password,
        csrf_token,
    })
}

/// A response that opens a session: the session cookie and a new CSRF token.
async fn opened(state: &AppState, user_id: i64, token: &str) -> AppResult<Response> {
    let cookies = session_cookies(state, token);
    let csrf_token = issued_token(cookies.0.iter());
    let info = session_info(state, user_id, csrf_token).await?;
    Ok((cookies, axum::Json(info)).into_response())
}

/// 登录 / Sign in.
///
/// Sets the session cookie and returns a new CSRF token. Wrong credentials and a locked
/// account get the same 422.
#[utoipa::path(
    post,
    path = "/session",
    tag = "session",
    request_body = SignInBody,
    security(()),
    responses(
        (status = 200, description = "Signed in", body = SessionInfo),
        (status = 403, description = "Missing or wrong X-CSRF-Token", body = ErrorBody),
        (status = 422, description = "Wrong user name or password, or locked", body = ErrorBody),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(body): JsonBody<SignInBody>,
) -> AppResult<Response> {
    let signed = accounts::sign_in(&state.db, &body.username, &body.password, &ip).await?;
    opened(&state, signed.user_id, &signed.session_token).await
}

/// 当前用户 / The current session.
#[utoipa::path(
    get,
    path = "/session",
    tag = "session",
    responses(
        (status = 200, description = "Signed in", body = SessionInfo),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn current(State(state): State<AppState>, ctx: Ctx) -> AppResult<axum::Json<SessionInfo>> {
    let user = ctx.user()?;
    Ok(axum::Json(
        session_info(&state, user.id, ctx.csrf.clone()).await?,
    ))
}

/// 退出 / Sign out.
///
/// Ends the session and returns a new CSRF token.
#[utoipa::path(
    delete,
    path = "/session",
    tag = "session",
    responses((status = 200, description = "Signed out", body = CsrfBody))
)]
async fn sign_out(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    if let Some(user) = &ctx.user {
        accounts::sign_out(&state.db, &user.session_token).await?;
    }
    let token = state.csrf.issue();
    Ok((
        AppendHeaders([
            (header::SET_COOKIE, cookies::clear(session::COOKIE)),
            (
                header::SET_COOKIE,
                cookies::set(csrf::COOKIE, &token, None, state.config.secure_cookies),
            ),
            (
                header::HeaderName::from_static("x-outbound-csrf-rotated"),
                HeaderValue::from_static("1"),
            ),
        ]),
        axum::Json(CsrfBody { csrf_token: token }),
    )
        .into_response())
}

/// CSRF 令牌 / The CSRF token.
///
/// Sets the `outbound_csrf` cookie when the client has none; send the token as `X-CSRF-Token`
/// on every request other than GET.
#[utoipa::path(
    get,
    path = "/csrf",
    tag = "session",
    security(()),
    responses((status = 200, description = "The token", body = CsrfBody))
)]
async fn csrf_token(Extension(CsrfToken(token)): Extension<CsrfToken>) -> axum::Json<CsrfBody> {
    axum::Json(CsrfBody { csrf_token: token })
}

/// `POST /password`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordBody {
    pub old_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

/// 修改密码 / Change the password.
///
/// Required after the first sign-in with the initial password. Ends every other session and
/// opens a new one (new cookie, new CSRF token).
#[utoipa::path(
    post,
    path = "/password",
    tag = "session",
    request_body = PasswordBody,
    responses(
        (status = 200, description = "Changed", body = SessionInfo),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Every wrong field", body = ErrorBody),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    JsonBody(body): JsonBody<PasswordBody>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    let token = accounts::change_password(
        &state.db,
        user.id,
        &body.old_password,
        &body.new_password,
        &body.confirm_password,
    )
    .await?;
    opened(&state, user.id, &token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issued_token_is_read_from_the_csrf_cookie_header() {
        let headers = [
            (
                header::SET_COOKIE,
                HeaderValue::from_static("outbound_session=s; Path=/; HttpOnly"),
            ),
            (
                header::SET_COOKIE,
                HeaderValue::from_static("outbound_csrf=abc.def; Path=/; HttpOnly"),
            ),
        ];
        assert_eq!(issued_token(headers.iter()), "abc.def");
        assert_eq!(issued_token([].iter()), "");
    }
}
