//! 自联项目 (SPEC §9): a student's proposal and the office's decision on it.

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
