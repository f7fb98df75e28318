//! The office's side after admission: decisions on requests and 在外学生 (SPEC §10).

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
