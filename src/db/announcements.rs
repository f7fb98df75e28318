//! 通知公告: the announcements the home page lists.

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Order, Query};

use super::{Db, DbResult};

/// One announcement, in both languages.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Announcement {
    pub id: i64,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub published_at: DateTime<Utc>,
}

/// The `limit` latest announcements published by `now`, newest first.
pub async fn latest(db: &Db, now: DateTime<Utc>, limit: u64) -> DbResult<Vec<Announcement>> {
    db.all(
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
            .and_where(Expr::col("published_at").lte(now))
            .order_by("published_at", Order::Desc)
            .limit(limit)
            .to_owned(),
    )
    .await
}
