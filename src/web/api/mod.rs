//! The JSON API under `/api/v1`: what the student pages offer (sign-in, profile, programs,
//! applications, attachments, submit, withdraw, history) for the phone app and integrations.
//!
//! Handlers are as thin as the HTML ones and call the same services and readers; errors are
//! [`AppError`]s, which the outer middleware ([`crate::web::render::errors`]) turns into
//! `{error, message, fields}` in the caller's language. Every route is registered through
//! utoipa-axum's [`OpenApiRouter`], so the OpenAPI document served at
//! `/api/v1/openapi.json` is built from the very routes that answer — it cannot drift.

mod applications;
mod attachments;
mod auth;
mod dicts;
mod idempotency;
mod profile;
mod programs;
mod schemas;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::domain::FieldErrors;
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::error::AppError;

pub use schemas::{ErrorBody, ErrorField};

/// Where the API is mounted (see [`crate::web::router`]).
pub const BASE: &str = "/api/v1";

/// The API's routes, with `GET /openapi.json` serving their document.
pub fn router() -> Router<AppState> {
    let (routes, document) = routes().split_for_parts();
    let json: Arc<str> = document_with(document)
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
        .into();
    routes
        .route("/openapi.json", get(move || openapi_json(json.clone())))
        .layer(middleware::from_fn(original_uri))
}

/// The OpenAPI 3 document of the API, as served at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    document_with(routes().into_openapi())
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(profile::router())
        .merge(programs::router())
        .merge(applications::router())
        .merge(attachments::router())
        .merge(dicts::router())
}

/// The document's frame (title, description, security schemes) around the routes' paths,
/// which are nested under [`BASE`] as the application mounts them.
fn document_with(routes: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi().nest(BASE, routes);
    require_csrf(&mut doc);
    doc
}

/// Every operation other than GET needs the CSRF header as well (what [`crate::web::csrf`]
/// enforces): the session and the token together, or the token alone where no session is
/// needed (`security(())`, i.e. sign-in).
fn require_csrf(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let public = op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
            let csrf = SecurityRequirement::new("csrf", Vec::<String>::new());
            op.security = Some(vec![if public {
                csrf
            } else {
                csrf.add("session", Vec::<String>::new())
            }]);
        }
    }
}

async fn openapi_json(json: Arc<str>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        json.to_string(),
    )
        .into_response()
}

/// Handlers see the URI as the client sent it (`/api/v1/…`), not the one `nest` stripped, so
/// that [`crate::web::extract::Ctx`] knows the caller wants JSON.
async fn original_uri(mut req: Request, next: Next) -> Response {
    if let Some(OriginalUri(uri)) = req.extensions().get::<OriginalUri>().cloned() {
        *req.uri_mut() = uri;
    }
    next.run(req).await
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Outbound API",
        version = "1",
        description = "出国（境）交流管理系统的 JSON 接口：登录、个人资料、交流项目、项目申请、附件、提交、撤回修改与进度跟踪，供手机应用和其他系统使用。\n\n\
The JSON interface of the outbound-exchange system: sign-in, profile, programs, applications, attachments, submit, withdraw and history, for the phone app and integrations.\n\n\
会话 / Session: `POST /api/v1/session` sets the `outbound_session` cookie. Every request other than GET must carry the `X-CSRF-Token` header equal to the `outbound_csrf` cookie: `GET /api/v1/csrf` first (it sets the cookie and returns the token); sign-in and sign-out return a new token.\n\n\
错误 / Errors: `{error, message, fields: [{field, code, message}]}`, with `message` in the language of the `outbound_lang` cookie (`zh` or `en`). 401 sign-in required, 403 not allowed or CSRF check failed, 404 not found or not yours, 409 changed by someone else first (reload and retry), 422 refused or invalid, with every field at once.\n\n\
表单 / Forms: profile, application and language forms are objects of strings (numbers are accepted and read as their text); dates are `YYYY-MM-DD`."
    ),
    modifiers(&Security),
    tags(
        (name = "session", description = "登录与会话 / Sign-in and session"),
        (name = "profile", description = "个人资料 / Profile"),
        (name = "programs", description = "交流项目 / Programs"),
        (name = "applications", description = "项目申请 / Applications"),
        (name = "attachments", description = "附件 / Attachments"),
        (name = "dictionaries", description = "字典（表单选项）/ Code lists (form choices)"),
    ),
    components(schemas(ErrorBody, ErrorField)),
    security(("session" = []))
)]
struct ApiDoc;

/// The session cookie and the CSRF header, as security schemes.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::COOKIE,
                "The session cookie set by POST /api/v1/session.",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "Required on every request other than GET: the value of the outbound_csrf cookie (GET /api/v1/csrf).",
            ))),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies and queries that fail as API errors

/// A field error list with one entry.
fn invalid(field: &str, code: &'static str) -> AppError {
    let mut e = FieldErrors::new();
    e.add(field, code);
    AppError::Invalid(e)
}

/// A typed JSON body; a missing, malformed or mistyped one is a 422 on the field `body`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state)
            .await
            .map_err(|_| invalid("body", "api.bad_body"))?;
        Ok(JsonBody(value))
    }
}

/// A form as a JSON object: the form structs hold raw strings (so that a refused value comes
/// back as typed), and a number or `null` sent for one of them is read as its text or as empty.
pub struct FormJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let JsonBody(value) = JsonBody::<serde_json::Value>::from_request(req, state).await?;
        let serde_json::Value::Object(map) = value else {
            return Err(invalid("body", "api.bad_body"));
        };
        let map = map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::Number(n) => serde_json::Value::String(n.to_string()),
                    serde_json::Value::Null => serde_json::Value::String(String::new()),
                    other => other,
                };
                (k, v)
            })
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
            .map(FormJson)
            .map_err(|_| invalid("body", "api.bad_body"))
    }
}

/// Path parameters; one that does not parse (`/applications/abc`) names nothing: 404.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        Ok(ApiPath(value))
    }
}

/// A typed query string; a malformed one is a 422 on the field `query`.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|_| invalid("query", "api.bad_query"))?;
        Ok(QueryParams(value))
    }
}

/// An integer sent as a JSON number or as text (a form's `version`).
fn int_or_text<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Int(n) => Ok(n),
        Raw::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// `{"version": n}`: the version of the record the client last read (optimistic locking).
#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionBody {
    /// The `version` the client last read; a stale one gets 409.
    #[serde(deserialize_with = "int_or_text")]
    pub version: i64,
}

/// `{"id": n}`: what a creating request made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// An error answer drawn here rather than by the middleware (it carries more than
/// [`FieldErrors`] can: the step of each missing field).
pub fn error_response(
    lang: Lang,
    status: StatusCode,
    key: &'static str,
    fields: Vec<ErrorField>,
) -> Response {
    let body = ErrorBody {
        error: key.to_owned(),
        message: lang.t(key).to_owned(),
        fields,
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// A catalogue label and its code, as the API lists actions and reasons.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Coded {
    pub code: String,
    /// In the caller's language.
    pub label: String,
}

impl Coded {
    pub fn new(lang: Lang, code: &str, key: &str) -> Coded {
        Coded {
            code: code.to_owned(),
            label: lang.t(key).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_every_route_under_the_api_base() {
        let doc = openapi();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        assert!(paths.iter().all(|p| p.starts_with("/api/v1/")), "{paths:?}");
        for p in [
            "/api/v1/session",
            "/api/v1/csrf",
            "/api/v1/profile",
            "/api/v1/programs",
            "/api/v1/programs/{id}",
            "/api/v1/programs/{id}/applications",
            "/api/v1/applications",
            "/api/v1/applications/{id}",
            "/api/v1/applications/{id}/info",
            "/api/v1/applications/{id}/languages",
            "/api/v1/applications/{id}/languages/{row}",
            "/api/v1/applications/{id}/languages/{row}/backfill",
            "/api/v1/applications/{id}/attachments",
            "/api/v1/applications/{id}/attachments/{file}",
            "/api/v1/applications/{id}/submit",
            "/api/v1/applications/{id}/withdraw",
            "/api/v1/applications/{id}/history",
            "/api/v1/dictionaries/{kind}",
            "/api/v1/password",
        ] {
            assert!(
                doc.paths.paths.contains_key(p),
                "{p} missing from {paths:?}"
            );
        }
        assert_eq!(doc.info.title, "Outbound API");
        let json = serde_json::to_value(&doc).expect("serialisable");
        let security = |path: &str, method: &str| json["paths"][path][method]["security"].clone();
        assert_eq!(
            security("/api/v1/session", "post"),
            serde_json::json!([{ "csrf": [] }])
        );
        assert_eq!(
            security("/api/v1/applications/{id}/submit", "post"),
            serde_json::json!([{ "csrf": [], "session": [] }])
        );
        assert_eq!(
            security("/api/v1/csrf", "get"),
            serde_json::json!([{}]),
            "GET needs no token"
        );
    }

    #[test]
    fn the_form_schemas_name_every_field_of_the_domain_forms() {
        let json = serde_json::to_value(openapi()).expect("serialisable");
        let schemas = &json["components"]["schemas"];
        for name in crate::domain::ProfileForm::FIELDS {
            assert!(
                schemas["ProfileForm"]["properties"][name].is_object(),
                "ProfileForm.{name}"
            );
        }
        for name in crate::domain::application::ApplicationInfoForm::FIELDS {
            assert!(
                schemas["ApplicationInfoForm"]["properties"][name].is_object(),
                "ApplicationInfoForm.{name}"
            );
        }
        assert!(schemas["ErrorBody"].is_object());
    }

    /// The API's own catalogue keys (`"api.…"` literals in this folder) all have their texts
    /// (`i18n/api.tsv`).
    #[test]
    fn every_api_error_key_is_in_the_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/api");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).expect("src/web/api").flatten() {
            let text = std::fs::read_to_string(entry.path()).expect("readable");
            for part in text.split("\"api.").skip(1) {
                let name = part.split('"').next().unwrap_or_default();
                let key = format!("api.{name}");
                let is_key = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                if is_key && !crate::i18n::has_key(&key) {
                    missing.push(key);
                }
            }
        }
        assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
    }

    #[test]
    fn a_form_version_may_come_as_a_number_or_as_text() {
        let a: VersionBody = serde_json::from_str(r#"{"version": 3}"#).expect("number");
        let b: VersionBody = serde_json::from_str(r#"{"version": " 4 "}"#).expect("text");
        assert_eq!((a.version, b.version), (3, 4));
        assert!(serde_json::from_str::<VersionBody>(r#"{"version": "x"}"#).is_err());
    }
}
