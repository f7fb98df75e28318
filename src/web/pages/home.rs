//! 首页: announcements, and what the person should do next.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;

use crate::db::announcements::{self, Announcement};
use crate::db::applications::{self, ListRow};
use crate::db::reports::{self, Criteria};
use crate::domain::status::Status;
use crate::services::reports::scope_for;
use crate::web::AppState;
use crate::web::error::AppResult;
use crate::web::extract::Signed;
use crate::web::layout::Layout;
use crate::web::render::html;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
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
    let announcements = announcements::latest(&state.db, Utc::now(), 10).await?;
    let is_student = user.roles.is_student();
    let my_applications = if is_student {
        applications::list_for_student(&state.db, user.id).await?
    } else {
        Vec::new()
    };
    // The same applications as 统计分析 counts: within the person's scope (a college
    // reviewer's colleges), drafts never.
    let mut status_counts = Vec::new();
    if user.roles.is_staff()
        && let Some(scope) = scope_for(&user.roles, &user.college_ids)
    {
        let rows = reports::status_counts(&state.db, &Criteria::default(), &scope).await?;
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
