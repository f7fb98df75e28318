//! A program's after-admission settings in 项目管理 (SPEC §9): 行前材料 and 返校材料 types, the
//! 经费预算 and 资助 offers, and the 境外打卡 rule.

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
