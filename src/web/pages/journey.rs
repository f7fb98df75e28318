//! The student's forms after admission (SPEC §9): 行前材料, 派出确认, 派出前变更, 经费预算申请, 境外打卡, 变更交流计划, 返校手续, 资助申请.

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
