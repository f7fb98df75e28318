//! `idempotency_keys`: the answers the JSON API keeps per (user, `Idempotency-Key`) so that a
//! repeated request replays the first answer (see `web::api::idempotency`, which decides).

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};

use super::{Db, DbResult, Tx};

/// A key's row: the stored response (JSON text) and when it was reserved.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub response: String,
    pub created_at: DateTime<Utc>,
}

fn this_key(user_id: i64, key: &str) -> [SimpleExpr; 2] {
    [Expr::col("user_id").eq(user_id), Expr::col("key").eq(key)]
}

/// Inserts the key with `response` unless it exists; whether it was inserted.
pub async fn insert_if_absent(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    response: &str,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let inserted = tx
        .insert(
            Query::insert()
                .into_table("idempotency_keys")
                .columns(["user_id", "key", "response", "created_at"])
                .values_panic([user_id.into(), key.into(), response.into(), now.into()])
                .on_conflict(
                    OnConflict::columns(["user_id", "key"])
                        .do_nothing()
                        .to_owned(),
                ),
        )
        .await?;
    Ok(inserted == 1)
}

/// The key's row, if any.
pub async fn find(tx: &mut Tx, user_id: i64, key: &str) -> DbResult<Option<KeyRow>> {
    let [by_user, by_key] = this_key(user_id, key);
    tx.optional(
        &Query::select()
            .columns(["response", "created_at"])
            .from("idempotency_keys")
            .and_where(by_user)
            .and_where(by_key)
            .to_owned(),
    )
    .await
}

/// Replaces the response and the time, only if the response is still `seen` (a guarded
/// take-over); whether it was replaced.
pub async fn replace_if_unchanged(
    tx: &mut Tx,
    user_id: i64,
    key: &str,
    seen: &str,
    response: &str,
    now: DateTime<Utc>,
) -> DbResult<bool> {
    let [by_user, by_key] = this_key(user_id, key);
    let taken = tx
        .update(
            Query::update()
                .table("idempotency_keys")
                .value("response", response)
                .value("created_at", now)
                .and_where(by_user)
                .and_where(by_key)
                .and_where(Expr::col("response").eq(seen)),
        )
        .await?;
    Ok(taken == 1)
}

/// Stores the response under the key.
pub async fn store(db: &Db, user_id: i64, key: &str, response: &str) -> DbResult<()> {
    let [by_user, by_key] = this_key(user_id, key);
    let mut tx = db.begin().await?;
    tx.update(
        Query::update()
            .table("idempotency_keys")
            .value("response", response)
            .and_where(by_user)
            .and_where(by_key),
    )
    .await?;
    tx.commit().await
}

/// Removes the key.
pub async fn remove(db: &Db, user_id: i64, key: &str) -> DbResult<()> {
    let [by_user, by_key] = this_key(user_id, key);
    let mut tx = db.begin().await?;
    tx.delete(
        Query::delete()
            .from_table("idempotency_keys")
            .and_where(by_user)
            .and_where(by_key),
    )
    .await?;
    tx.commit().await
}

/// Moves the key's reservation time (tests: a reservation abandoned long ago).
#[cfg(test)]
pub async fn set_created_at(db: &Db, user_id: i64, key: &str, at: DateTime<Utc>) -> DbResult<()> {
    let [by_user, by_key] = this_key(user_id, key);
    let mut tx = db.begin().await?;
    tx.update(
        Query::update()
            .table("idempotency_keys")
            .value("created_at", at)
            .and_where(by_user)
            .and_where(by_key),
    )
    .await?;
    tx.commit().await
}
