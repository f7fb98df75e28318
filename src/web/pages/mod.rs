//! The HTML pages, one module per feature, each with its own `router()`.

pub mod abroad;
pub mod admin;
pub mod admission;
pub mod applications;
pub mod attachments;
pub mod auth;
pub mod forms;
pub mod home;
pub mod journey;
pub mod manage;
pub mod messages;
pub mod profile;
pub mod programs;
pub mod reports;
pub mod self_arranged;
pub mod staff;

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(home::router())
        .merge(profile::router())
        .merge(programs::router())
        .merge(applications::router())
        .merge(attachments::router())
        .merge(forms::router())
        .merge(messages::router())
        .merge(staff::router())
        .merge(manage::router())
        .merge(admission::router())
        .merge(reports::router())
        .merge(admin::router())
        .merge(journey::router())
        .merge(abroad::router())
        .merge(self_arranged::router())
}

/// A moment as shown to people: China time (UTC+8), to the minute.
pub fn cn_time(t: impl std::borrow::Borrow<chrono::DateTime<chrono::Utc>>) -> String {
    let t = *t.borrow();
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Today's date in China.
pub fn cn_today() -> chrono::NaiveDate {
    crate::domain::values::china_today()
}
