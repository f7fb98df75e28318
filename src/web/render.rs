//! Turning responses into what a person sees: error pages in the person's language (or JSON
//! under `/api`), the sign-in redirect, and HTML rendering of page templates.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::error::{AppError, ErrorInfo};
use super::extract::{FLASH_COOKIE, LANG_COOKIE};
use super::layout::Layout;
use super::{AppState, cookies};
use crate::i18n::Lang;

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub l: Layout,
    pub status: u16,
    pub heading: String,
    pub detail: String,
}

/// Renders a template as an HTML response (an unexpected render failure is logged, and the
/// person gets the generic error page).
pub fn html<T: Template>(page: T) -> Response {
    html_status(StatusCode::OK, page)
}

pub fn html_status<T: Template>(status: StatusCode, page: T) -> Response {
    match page.render() {
        Ok(body) => (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response(),
        Err(e) => AppError::Unexpected(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

#[derive(serde::Serialize)]
struct JsonError<'a> {
    error: &'a str,
    message: &'a str,
    fields: Vec<JsonFieldError<'a>>,
}

#[derive(serde::Serialize)]
struct JsonFieldError<'a> {
    field: &'a str,
    code: &'a str,
    message: &'a str,
}

/// The outermost middleware: draws error responses and clears a shown flash message.
pub async fn errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = cookies::get(req.headers(), LANG_COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_default();
    let is_api = req.uri().path().starts_with("/api/");
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let had_flash = cookies::get(req.headers(), FLASH_COOKIE).is_some();
    let get = req.method() == axum::http::Method::GET;
    // Only the cookies are kept for the error page's header (who is signed in).
    let cookie = req.headers().get(header::COOKIE).cloned();
    let csrf = cookies::get(req.headers(), crate::auth::csrf::COOKIE)
        .unwrap_or_default()
        .to_owned();
    let response = next.run(req).await;

    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        let mut response = response;
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if had_flash && is_html && response.status().is_success() {
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookies::clear(FLASH_COOKIE));
        }
        return response;
    };
    let keep_cookies: Vec<_> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    let mut out = if is_api {
        let fields = info
            .fields
            .as_ref()
            .map(|f| {
                f.0.iter()
                    .map(|e| JsonFieldError {
                        field: &e.field,
                        code: e.code,
                        message: lang.t(e.code),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = JsonError {
            error: info.key,
            message: lang.t(info.key),
            fields,
        };
        (info.status, axum::Json(body)).into_response()
    } else if info.status == StatusCode::UNAUTHORIZED {
        if get && path != "/login" {
            let next =
                percent_encoding::utf8_percent_encode(&path, percent_encoding::NON_ALPHANUMERIC);
            Redirect::to(&format!("/login?next={next}")).into_response()
        } else {
            Redirect::to("/login").into_response()
        }
    } else {
        let mut headers = axum::http::HeaderMap::new();
        if let Some(c) = cookie {
            headers.insert(header::COOKIE, c);
        }
        let user = super::extract::badge_for(&headers, &state).await;
        let page = ErrorPage {
            l: Layout {
                lang,
                user,
                csrf,
                path: path.clone(),
                nav: "",
                flash: None,
                title: lang.t("error.title").to_owned(),
                office: state.config.office.pick(lang).to_owned(),
            },
            status: info.status.as_u16(),
            heading: lang.t(info.key).to_owned(),
            detail: match info.status {
                StatusCode::CONFLICT => lang.t("error.409_detail").to_owned(),
                StatusCode::INTERNAL_SERVER_ERROR => lang.t("error.500_detail").to_owned(),
                _ => String::new(),
            },
        };
        html_status(info.status, page)
    };
    for c in keep_cookies {
        out.headers_mut().append(header::SET_COOKIE, c);
    }
    out
}
