//! Server-side sessions stored in the database.
//!
//! The cookie holds a random token; the table holds only its SHA-256, so a copy of the
//! database cannot be replayed as a session. The idle timeout is 30 minutes; the expiry is
//! pushed forward at most once a minute, so that reading pages does not turn into a write per
//! request under the deadline rush. (Why not tower-sessions: its inactivity expiry saves the
//! session on every request.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_query::{Expr, ExprTrait, Query};
use sha2::{Digest, Sha256};

use crate::db::{Db, DbResult};

pub const COOKIE: &str = "outbound_session";
/// Idle time after which a session ends.
pub const IDLE: Duration = Duration::minutes(30);
/// How stale the stored expiry may get before a request refreshes it.
const TOUCH_EVERY: Duration = Duration::minutes(1);

fn id_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    user_id: Option<i64>,
    expires_at: DateTime<Utc>,
}

/// Starts a session for `user_id`; returns the cookie token.
pub async fn create(db: &Db, user_id: i64) -> DbResult<String> {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = B64.encode(raw);
    let mut tx = db.begin().await?;
    tx.insert(
        Query::insert()
            .into_table("sessions")
            .columns(["id", "user_id", "data", "expires_at"])
            .values_panic([
                id_of(&token).into(),
                user_id.into(),
                "{}".into(),
                (Utc::now() + IDLE).into(),
            ]),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The user of a live session, refreshing its idle expiry when due.
pub async fn resolve(db: &Db, token: &str) -> DbResult<Option<i64>> {
    let id = id_of(token);
    let row: Option<Row> = db
        .optional(
            &Query::select()
                .columns(["user_id", "expires_at"])
                .from("sessions")
                .and_where(Expr::col("id").eq(id.clone()))
                .to_owned(),
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let now = Utc::now();
    if row.expires_at <= now {
        end(db, token).await?;
        return Ok(None);
    }
    if row.expires_at - now < IDLE - TOUCH_EVERY {
        let mut tx = db.begin().await?;
        tx.update(
            Query::update()
                .table("sessions")
                .value("expires_at", now + IDLE)
                .and_where(Expr::col("id").eq(id)),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(row.user_id)
}

/// Ends one session (sign-out).
pub async fn end(db: &Db, token: &str) -> DbResult<()> {
    let mut tx = db.begin().await?;
    tx.delete(
        Query::delete()
            .from_table("sessions")
            .and_where(Expr::col("id").eq(id_of(token))),
    )
    .await?;
    tx.commit().await
}

/// Ends every session of a person (sign-out everywhere, password change, lock).
pub async fn end_all(db: &Db, user_id: i64) -> DbResult<()> {
    let mut tx = db.begin().await?;
    tx.delete(
        Query::delete()
            .from_table("sessions")
            .and_where(Expr::col("user_id").eq(user_id)),
    )
    .await?;
    tx.commit().await
}

/// Removes expired sessions (run now and then).
pub async fn purge_expired(db: &Db) -> DbResult<u64> {
    let mut tx = db.begin().await?;
    let n = tx
        .delete(
            Query::delete()
                .from_table("sessions")
                .and_where(Expr::col("expires_at").lt(Utc::now())),
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}
