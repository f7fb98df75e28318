//! The web layer: thin handlers that parse input, call one service and render a page.
//!
//! Each feature module owns its `router()`; [`router`] merges them and adds the layers every
//! request passes: security headers, the CSRF check, body limits and error rendering.

pub mod api;
pub mod assets;
pub mod bench;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod forms;
pub mod layout;
pub mod markdown;
pub mod pages;
pub mod render;
pub mod server;
pub mod slow_body;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::csrf::CsrfKey;
use crate::config::Config;
use crate::crypto::DataKey;
use crate::db::Db;
use crate::storage::Storage;

/// Everything a handler may reach, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub storage: Storage,
    pub key: DataKey,
    pub csrf: CsrfKey,
    pub config: Config,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, storage: Storage, key: DataKey, csrf: CsrfKey, config: Config) -> AppState {
        AppState(Arc::new(Inner {
            db,
            storage,
            key,
            csrf,
            config,
        }))
    }
}

/// The largest request body accepted anywhere (uploads are checked per type below that).
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// The whole application.
pub fn router(state: AppState) -> Router {
    let security = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    Router::new()
        .merge(pages::router())
        .merge(bench::router())
        .nest("/api/v1", api::router())
        .fallback(|| async { error::AppError::NotFound })
        .route("/static/{name}", axum::routing::get(assets::serve))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::layer))
        .layer(middleware::from_fn_with_state(state.clone(), render::errors))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(security(
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .layer(security("x-content-type-options", "nosniff"))
        .layer(security("referrer-policy", "same-origin"))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}
