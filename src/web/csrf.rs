//! The CSRF layer: every visitor holds a signed token cookie; every state-changing request must
//! echo it and must come from this site. See [`crate::auth::csrf`].

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, cookies, error::AppError};
use crate::auth::csrf::{COOKIE, FIELD, HEADER};

/// The CSRF token of this request, for forms to post back.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Form bodies larger than this are not searched for the token (uploads use the header).
const FORM_LIMIT: usize = 2 * 1024 * 1024;

fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // no Origin: not a browser cross-site form (browsers send it on POST)
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split("://").nth(1).unwrap_or("");
    origin != "null" && !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

fn from_query(req: &Request) -> Option<String> {
    let q = req.uri().query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

/// The middleware.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let existing = cookies::get(req.headers(), COOKIE)
        .filter(|t| state.csrf.is_genuine(t))
        .map(str::to_owned);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = req;
    if !safe {
        if !same_origin(req.headers()) {
            return AppError::Csrf.into_response();
        }
        let mut sent = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("multipart/form-data"));
        if sent.is_none() && is_form {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
                return AppError::TooLarge.into_response();
            };
            sent = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
            req = Request::from_parts(parts, Body::from(bytes));
        } else if sent.is_none() && is_multipart {
            sent = from_query(&req);
        }
        if !state.csrf.check(existing.as_deref(), sent.as_deref()) {
            return AppError::Csrf.into_response();
        }
    }
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (state.csrf.issue(), true),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(req).await;
    if fresh && !response.headers().contains_key("x-outbound-csrf-rotated") {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(COOKIE, &token, None, state.config.secure_cookies),
        );
    }
    response.headers_mut().remove("x-outbound-csrf-rotated");
    response
}
