//! 首页: announcements, and what the person should do next.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Order, Query};

use crate::db::applications::{self, ListRow};
use crate::domain::status::Status;
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::extract::Signed;
use crate::web::layout::Layout;
use crate::web::render::html;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Announcement {
    pub id: i64,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    announcements: Vec<Announcement>,
    is_student: bool,
    my_applications: Vec<ListRow>,
    status_counts: Vec<(Status, i64)>,
}

async fn home(State(state): State<AppState>, Signed(ctx): Signed) -> AppResult<Response> {
    let user = ctx.user()?;
    let announcements: Vec<Announcement> = state
        .db
        .all(
            &Query::select()
                .columns([
                    "id",
                    "title_zh",
                    "title_en",
                    "body_zh",
                    "body_en",
                    "published_at",
                ])
                .from("announcements")
                .and_where(Expr::col("published_at").lte(Utc::now()))
                .order_by("published_at", Order::Desc)
                .limit(10)
                .to_owned(),
        )
        .await?;
    let is_student = user.roles.is_student();
    let my_applications = if is_student {
        applications::list_for_student(&state.db, user.id).await?
    } else {
        Vec::new()
    };
    let mut status_counts = Vec::new();
    if user.roles.is_staff() {
        let rows: Vec<(String, i64)> = state
            .db
            .all(
                &Query::select()
                    .column("status")
                    .expr(Expr::col("id").count())
                    .from("applications")
                    .group_by_col("status")
                    .to_owned(),
            )
            .await?;
        for s in Status::ALL {
            if let Some((_, n)) = rows.iter().find(|(c, _)| c == s.code()) {
                status_counts.push((s, *n));
            }
        }
    }
    Ok(html(HomePage {
        l: ctx.layout("nav.home", "nav.home"),
        announcements,
        is_student,
        my_applications,
        status_counts,
    }))
}
