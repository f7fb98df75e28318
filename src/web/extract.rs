//! Extractors: the language, the CSRF token, the signed-in person and the page context that
//! every page template needs; and the one place where an address, a query string or a form
//! body that cannot be read becomes the site's own answer ([`Path`], [`Query`], [`Form`]).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::csrf::CsrfToken;
use super::error::AppError;
use super::layout::{Flash, Layout, UserBadge};
use super::{AppState, cookies};
use crate::auth::{Roles, role_key, session};
use crate::db::users;
use crate::i18n::Lang;

/// Path parameters. One that does not parse (`/staff/applications/abc`, `/programs/%FF`) names
/// nothing: the site's 404 page in the person's language (JSON under `/api`), never axum's
/// plain-text 400.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(AppError::NotFound),
        }
    }
}

/// A typed query string. One that cannot be read (a field given twice, a number that is not
/// one) is the site's 400 page in the person's language.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(_) => Err(AppError::BadRequest),
        }
    }
}

/// A url-encoded form body. One that cannot be read is the site's 400 page; a body over the
/// limit keeps its 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::TooLarge)
            }
            Err(_) => Err(AppError::BadRequest),
        }
    }
}

pub const LANG_COOKIE: &str = "outbound_lang";
pub const FLASH_COOKIE: &str = "outbound_flash";

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Roles,
    pub must_change_password: bool,
    /// Colleges this person reviews for (college reviewers).
    pub college_ids: Vec<i64>,
    pub session_token: String,
}

impl CurrentUser {
    pub fn badge(&self, unread: i64) -> UserBadge {
        UserBadge {
            display_name: self.display_name.clone(),
            role_key: self
                .roles
                .0
                .first()
                .map(|r| role_key(*r))
                .unwrap_or("role.student"),
            unread,
            is_student: self.roles.is_student(),
            is_staff: self.roles.is_staff(),
            is_office: self.roles.is_office(),
            is_admin: self.roles.has(crate::auth::Role::Admin),
            is_partner: self.roles.has(crate::auth::Role::Partner),
            must_change_password: self.must_change_password,
        }
    }
}

/// Everything a page needs about the request: language, token, path, flash and the person.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    pub user: Option<CurrentUser>,
    pub unread: i64,
    pub flash: Option<Flash>,
    /// The client wants JSON (API calls).
    pub wants_json: bool,
    /// The office's configured name in this language (the footer's).
    pub office: String,
}

impl Ctx {
    /// The page frame, with a translated title.
    pub fn layout(&self, nav: &'static str, title_key: &str) -> Layout {
        self.layout_titled(nav, self.lang.t(title_key).to_owned())
    }

    pub fn layout_titled(&self, nav: &'static str, title: String) -> Layout {
        Layout {
            lang: self.lang,
            user: self.user.as_ref().map(|u| u.badge(self.unread)),
            csrf: self.csrf.clone(),
            path: self.path.clone(),
            nav,
            flash: self.flash.clone(),
            title,
            office: self.office.clone(),
        }
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.lang.t(key)
    }

    /// The signed-in person, or the sign-in page.
    pub fn user(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthenticated)
    }
}

fn lang_of(parts: &Parts) -> Lang {
    cookies::get(&parts.headers, LANG_COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(lang_of(parts))
    }
}

async fn load_user(
    headers: &axum::http::HeaderMap,
    state: &AppState,
) -> Result<Option<CurrentUser>, AppError> {
    let Some(token) = cookies::get(headers, session::COOKIE) else {
        return Ok(None);
    };
    let Some(user_id) = session::resolve(&state.db, token).await? else {
        return Ok(None);
    };
    let Some(row) = users::by_id(&state.db, user_id).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    let roles = users::roles(&state.db, user_id).await?;
    let college_ids = if roles.has(crate::auth::Role::CollegeReviewer) {
        users::reviewer_colleges(&state.db, user_id).await?
    } else {
        Vec::new()
    };
    Ok(Some(CurrentUser {
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        roles,
        must_change_password: row.must_change_password,
        college_ids,
        session_token: token.to_owned(),
    }))
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(ctx) = parts.extensions.get::<Ctx>() {
            return Ok(ctx.clone());
        }
        let user = load_user(&parts.headers, state).await?;
        let unread = match &user {
            Some(u) => users::unread_count(&state.db, u.id).await?,
            None => 0,
        };
        let flash = cookies::get(&parts.headers, FLASH_COOKIE)
            .and_then(|v| percent_encoding::percent_decode_str(v).decode_utf8().ok())
            .and_then(|v| serde_json::from_str::<Flash>(&v).ok());
        // Nested routers see a shortened path; the original one says whether this is the API.
        let wants_json = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(parts.uri.path(), |u| u.0.path())
            .starts_with("/api/");
        let lang = lang_of(parts);
        let ctx = Ctx {
            lang,
            office: state.config.office.pick(lang).to_owned(),
            csrf: parts
                .extensions
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into()),
            user,
            unread,
            flash,
            wants_json,
        };
        parts.extensions.insert(ctx.clone());
        Ok(ctx)
    }
}

/// A signed-in person (any role) who has changed the initial password.
#[derive(Debug, Clone)]
pub struct Signed(pub Ctx);

/// What stops a signed-in extractor: sign in first, change the initial password first, or
/// not allowed here.
pub enum Gate {
    Error(AppError),
    ChangePassword,
}

impl IntoResponse for Gate {
    fn into_response(self) -> Response {
        match self {
            Gate::Error(e) => e.into_response(),
            Gate::ChangePassword => Redirect::to("/password").into_response(),
        }
    }
}

impl From<AppError> for Gate {
    fn from(e: AppError) -> Self {
        Gate::Error(e)
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Gate;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Gate> {
        let ctx = Ctx::from_request_parts(parts, state).await?;
        let user = ctx.user()?;
        if user.must_change_password {
            return Err(if parts.method == Method::GET && !ctx.wants_json {
                Gate::ChangePassword
            } else {
                Gate::Error(AppError::Refused("err.password.change_required"))
            });
        }
        Ok(Signed(ctx))
    }
}

/// A signed-in student.
#[derive(Debug, Clone)]
pub struct StudentCtx(pub Ctx);

impl StudentCtx {
    pub fn user(&self) -> &CurrentUser {
        self.0.user.as_ref().expect("checked by the extractor")
    }
}

impl FromRequestParts<AppState> for StudentCtx {
    type Rejection = Gate;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Gate> {
        let Signed(ctx) = Signed::from_request_parts(parts, state).await?;
        if !ctx.user()?.roles.is_student() {
            return Err(Gate::Error(AppError::Forbidden));
        }
        Ok(StudentCtx(ctx))
    }
}

/// A signed-in member of staff: any role of the university side (SPEC §1). Handlers narrow
/// further with [`StaffCtx::require`] or use [`OfficeCtx`] / [`AdminCtx`].
#[derive(Debug, Clone)]
pub struct StaffCtx(pub Ctx);

impl StaffCtx {
    pub fn user(&self) -> &CurrentUser {
        self.0.user.as_ref().expect("checked by the extractor")
    }

    /// Refuses (403) unless the person holds one of `roles`.
    pub fn require(&self, roles: &[crate::auth::Role]) -> Result<(), AppError> {
        if roles.iter().any(|r| self.user().roles.has(*r)) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for StaffCtx {
    type Rejection = Gate;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Gate> {
        let Signed(ctx) = Signed::from_request_parts(parts, state).await?;
        if !ctx.user()?.roles.is_staff() {
            return Err(Gate::Error(AppError::Forbidden));
        }
        Ok(StaffCtx(ctx))
    }
}

/// A signed-in member of the international office, or an admin (who has every office right).
#[derive(Debug, Clone)]
pub struct OfficeCtx(pub Ctx);

impl OfficeCtx {
    pub fn user(&self) -> &CurrentUser {
        self.0.user.as_ref().expect("checked by the extractor")
    }
}

impl FromRequestParts<AppState> for OfficeCtx {
    type Rejection = Gate;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Gate> {
        let Signed(ctx) = Signed::from_request_parts(parts, state).await?;
        if !ctx.user()?.roles.is_office() {
            return Err(Gate::Error(AppError::Forbidden));
        }
        Ok(OfficeCtx(ctx))
    }
}

/// A signed-in system administrator.
#[derive(Debug, Clone)]
pub struct AdminCtx(pub Ctx);

impl AdminCtx {
    pub fn user(&self) -> &CurrentUser {
        self.0.user.as_ref().expect("checked by the extractor")
    }
}

impl FromRequestParts<AppState> for AdminCtx {
    type Rejection = Gate;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Gate> {
        let Signed(ctx) = Signed::from_request_parts(parts, state).await?;
        if !ctx.user()?.roles.has(crate::auth::Role::Admin) {
            return Err(Gate::Error(AppError::Forbidden));
        }
        Ok(AdminCtx(ctx))
    }
}

/// A `Set-Cookie` header value carrying a flash message to the next page.
pub fn flash_cookie(kind: &str, text: &str) -> axum::http::HeaderValue {
    let json = serde_json::to_string(&Flash {
        kind: kind.into(),
        text: text.into(),
    })
    .unwrap_or_default();
    let encoded = percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    cookies::set(FLASH_COOKIE, &encoded, Some(60), false)
}

/// The client's address for the audit log: the peer address, or the first `X-Forwarded-For`
/// hop when the peer is a reverse proxy on this machine.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned());
        let ip = match (peer, forwarded) {
            (Some(p), Some(f)) if p.is_loopback() => f,
            (Some(p), _) => p.to_string(),
            (None, f) => f.unwrap_or_default(),
        };
        Ok(ClientIp(ip))
    }
}

/// The header badge of whoever sent these headers, for pages drawn outside a handler (error
/// pages); `None` when signed out or when anything fails.
pub async fn badge_for(headers: &axum::http::HeaderMap, state: &AppState) -> Option<UserBadge> {
    let user = load_user(headers, state).await.ok()??;
    let unread = users::unread_count(&state.db, user.id).await.unwrap_or(0);
    Some(user.badge(unread))
}

/// The person acting, for history and audit rows (display name and client address).
pub fn who(ctx: &Ctx, ip: &str) -> crate::services::audit::Who {
    let u = ctx.user.as_ref();
    crate::services::audit::Who {
        id: u.map(|u| u.id),
        name: u.map(|u| u.display_name.clone()).unwrap_or_default(),
        ip: ip.to_owned(),
    }
}

/// A 303 to `to` carrying a one-time message (already translated).
pub fn redirect_flash(to: &str, kind: &str, text: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::SET_COOKIE, flash_cookie(kind, text))],
        Redirect::to(to),
    )
        .into_response()
}
