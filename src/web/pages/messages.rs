//! 消息中心: the person's messages, unread first in the header count.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::services::messages::{self, MessageRow};
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::extract::{Path, Signed};
use crate::web::forms::safe_back;
use crate::web::layout::Layout;
use crate::web::render::html;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", get(list))
        .route("/messages/read-all", post(read_all))
        .route("/messages/{id}/open", post(open))
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    l: Layout,
    rows: Vec<MessageRow>,
}

async fn list(State(state): State<AppState>, Signed(ctx): Signed) -> AppResult<Response> {
    let user = ctx.user()?;
    let rows = messages::inbox(&state.db, user.id, ctx.lang).await?;
    Ok(html(MessagesPage {
        l: ctx.layout("nav.messages", "nav.messages"),
        rows,
    }))
}

/// Marks a message read and follows its link.
async fn open(
    State(state): State<AppState>,
    Signed(ctx): Signed,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let user = ctx.user()?;
    messages::mark_read(&state.db, user.id, id).await?;
    let link = messages::list(&state.db, user.id)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .map(|m| m.link)
        .unwrap_or_default();
    Ok(Redirect::to(safe_back(&link).unwrap_or("/messages")).into_response())
}

async fn read_all(State(state): State<AppState>, Signed(ctx): Signed) -> AppResult<Response> {
    messages::mark_all_read(&state.db, ctx.user()?.id).await?;
    Ok(Redirect::to("/messages").into_response())
}
