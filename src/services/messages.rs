//! The in-app message centre. Every notification goes through [`Notifier`], so that e-mail can
//! plug in later without touching the callers.

use chrono::Utc;
use sea_query::{Expr, ExprTrait, Order, Query};

use super::ServiceResult;
use crate::db::{Db, DbResult, Tx};
use crate::i18n::{Lang, Phrase, Text};

/// One message to one person, written in both languages so that each reader sees it in
/// their own (stored as JSON; rows from before hold Chinese text and still show).
#[derive(Debug, Clone)]
pub struct Note {
    pub user_id: i64,
    pub title: Text,
    pub body: Text,
    pub link: String,
}

/// Writes notifications inside the transaction that caused them, so a rolled-back change sends
/// nothing.
pub struct Notifier;

impl Notifier {
    pub async fn send(tx: &mut Tx, note: &Note) -> DbResult<()> {
        tx.insert(
            Query::insert()
                .into_table("messages")
                .columns(["user_id", "title", "body", "link", "created_at"])
                .values_panic([
                    note.user_id.into(),
                    note.title.store().into(),
                    note.body.store().into(),
                    note.link.clone().into(),
                    Utc::now().into(),
                ]),
        )
        .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct MessageRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: String,
    pub read_at: Option<chrono::DateTime<Utc>>,
    pub created_at: chrono::DateTime<Utc>,
}

/// A person's messages, newest first.
pub async fn list(db: &Db, user_id: i64) -> DbResult<Vec<MessageRow>> {
    db.all(
        &Query::select()
            .columns(["id", "title", "body", "link", "read_at", "created_at"])
            .from("messages")
            .and_where(Expr::col("user_id").eq(user_id))
            .order_by("id", Order::Desc)
            .limit(200)
            .to_owned(),
    )
    .await
}

/// A person's messages, newest first, with title and body in `lang`.
pub async fn inbox(db: &Db, user_id: i64, lang: Lang) -> DbResult<Vec<MessageRow>> {
    let mut rows = list(db, user_id).await?;
    for row in &mut rows {
        row.title = Phrase::read(&row.title).get(lang).to_owned();
        row.body = Phrase::read(&row.body).get(lang).to_owned();
    }
    Ok(rows)
}

/// Marks one of the person's messages read (someone else's id changes nothing).
pub async fn mark_read(db: &Db, user_id: i64, id: i64) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    tx.update(
        Query::update()
            .table("messages")
            .value("read_at", Utc::now())
            .and_where(Expr::col("id").eq(id))
            .and_where(Expr::col("user_id").eq(user_id))
            .and_where(Expr::col("read_at").is_null()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks all of the person's messages read.
pub async fn mark_all_read(db: &Db, user_id: i64) -> ServiceResult<()> {
    let mut tx = db.begin().await?;
    tx.update(
        Query::update()
            .table("messages")
            .value("read_at", Utc::now())
            .and_where(Expr::col("user_id").eq(user_id))
            .and_where(Expr::col("read_at").is_null()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
