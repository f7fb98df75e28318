//! The JSON API under `/api/v1` (being written).

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
