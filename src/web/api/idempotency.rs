//! `Idempotency-Key` for requests a phone on a bad network may send twice (提交): the same key
//! from the same person replays the first successful answer instead of acting again.
//!
//! A key is first reserved (one transaction: insert-if-absent, or read what is there), the
//! request runs, and its answer is stored under the key. An answer that is not a success is
//! not kept — the reservation is released, so the client may fix the problem and retry with
//! the same key. A reservation whose request died half-way is taken over after
//! [`ABANDONED_AFTER`]. Keys live in `idempotency_keys` (user, key, response, created_at).

use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::invalid;
use crate::db::{Db, idempotency as keys};
use crate::web::error::{AppError, AppResult};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The answer header on a replay.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a reservation without an answer blocks its key.
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);
/// Catalogue keys of the key's own errors.
pub const KEY_INVALID: &str = "api.idempotency_key_invalid";
pub const KEY_REUSED: &str = "api.idempotency_key_reused";
pub const IN_PROGRESS: &str = "api.idempotency_in_progress";

/// An answer that can be stored and replayed: a status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> AppResult<Answer> {
        let body = serde_json::to_value(body).map_err(|e| AppError::Unexpected(e.into()))?;
        Ok(Answer { status, body })
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(self.body),
        )
            .into_response()
    }
}

/// What the `response` column holds: the request the key was first used for and, once known,
/// its answer (`status` 0 while the request runs).
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    request: String,
    status: u16,
    #[serde(default)]
    body: serde_json::Value,
    /// When a still-running request reserved the key (makes every reservation distinct).
    #[serde(default)]
    reserved_at: String,
}

/// The request's key: none, or 1–255 visible ASCII characters (else 422).
pub fn key(headers: &HeaderMap) -> AppResult<Option<String>> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_owned()))
        }
        _ => Err(invalid("Idempotency-Key", KEY_INVALID)),
    }
}

/// Runs `run` once for (`user_id`, `key`): a repeat of a request that succeeded gets the same
/// answer (with `Idempotent-Replayed: true`) without running again. `request` names the
/// request (method and path); the same key sent for another request is refused.
pub async fn once<F>(db: &Db, user_id: i64, key: &str, request: &str, run: F) -> AppResult<Response>
where
    F: Future<Output = AppResult<Answer>>,
{
    if let Some(first) = reserve(db, user_id, key, request).await? {
        let mut response = first.into_response();
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
        return Ok(response);
    }
    let outcome = run.await;
    match &outcome {
        Ok(answer) if answer.status.is_success() => {
            let stored = Stored {
                request: request.to_owned(),
                status: answer.status.as_u16(),
                body: answer.body.clone(),
                reserved_at: String::new(),
            };
            remember(db, user_id, key, &stored).await?;
        }
        _ => {
            if let Err(e) = release(db, user_id, key).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
        }
    }
    outcome.map(IntoResponse::into_response)
}

fn to_json(stored: &Stored) -> AppResult<String> {
    serde_json::to_string(stored).map_err(|e| AppError::Unexpected(e.into()))
}

/// Reserves the key for this request (`None`), or returns the answer stored under it. In one
/// transaction: insert if absent, else read it — and take it over if it was abandoned.
async fn reserve(db: &Db, user_id: i64, key: &str, request: &str) -> AppResult<Option<Answer>> {
    let now = Utc::now();
    let pending = to_json(&Stored {
        request: request.to_owned(),
        status: 0,
        body: serde_json::Value::Null,
        reserved_at: now.to_rfc3339(),
    })?;
    let mut tx = db.begin().await?;
    if keys::insert_if_absent(&mut tx, user_id, key, &pending, now).await? {
        tx.commit().await?;
        return Ok(None);
    }
    let row = keys::find(&mut tx, user_id, key)
        .await?
        .ok_or(AppError::Conflict(IN_PROGRESS))?;
    let stored: Stored =
        serde_json::from_str(&row.response).map_err(|e| AppError::Unexpected(e.into()))?;
    if stored.request != request {
        return Err(invalid("Idempotency-Key", KEY_REUSED));
    }
    if stored.status != 0 {
        let status =
            StatusCode::from_u16(stored.status).map_err(|e| AppError::Unexpected(e.into()))?;
        return Ok(Some(Answer {
            status,
            body: stored.body,
        }));
    }
    if row.created_at > now - ABANDONED_AFTER {
        return Err(AppError::Conflict(IN_PROGRESS));
    }
    // The first request never answered (the server stopped): this one takes the key over,
    // unless another retry did so a moment ago (the response no longer matches).
    let taken =
        keys::replace_if_unchanged(&mut tx, user_id, key, &row.response, &pending, now).await?;
    tx.commit().await?;
    if taken {
        Ok(None)
    } else {
        Err(AppError::Conflict(IN_PROGRESS))
    }
}

/// Stores the answer under the reserved key.
async fn remember(db: &Db, user_id: i64, key: &str, stored: &Stored) -> AppResult<()> {
    keys::store(db, user_id, key, &to_json(stored)?).await?;
    Ok(())
}

/// Frees the key after an answer that is not kept.
async fn release(db: &Db, user_id: i64, key: &str) -> AppResult<()> {
    keys::remove(db, user_id, key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_query::Query;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HEADER, HeaderValue::from_str(value).expect("header"));
        h
    }

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert_eq!(key(&HeaderMap::new()).expect("none"), None);
        assert_eq!(
            key(&headers("a1-B2_c3")).expect("ok").as_deref(),
            Some("a1-B2_c3")
        );
        assert!(key(&headers("")).is_err());
        assert!(key(&headers("with space")).is_err());
        assert!(key(&headers(&"x".repeat(256))).is_err());
    }

    async fn db() -> Db {
        let dir = std::env::temp_dir().join(format!(
            "outbound-idem-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .expect("connect");
        crate::db::migrate::run(&db).await.expect("migrate");
        db
    }

    async fn user(db: &Db) -> i64 {
        let mut tx = db.begin().await.expect("begin");
        let id = tx
            .insert_id(
                Query::insert()
                    .into_table("users")
                    .columns(["username", "display_name", "password_hash", "created_at"])
                    .values_panic(["u1".into(), "U".into(), "x".into(), Utc::now().into()]),
            )
            .await
            .expect("user");
        tx.commit().await.expect("commit");
        id
    }

    fn ok(n: i64) -> AppResult<Answer> {
        Answer::json(StatusCode::OK, &serde_json::json!({ "n": n }))
    }

    async fn body(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn a_repeated_key_replays_the_first_success_without_running_again() {
        let db = db().await;
        let u = user(&db).await;
        let first = once(&db, u, "k1", "POST /x", async { ok(1) })
            .await
            .expect("first");
        assert!(first.headers().get(REPLAYED).is_none());
        let second = once(&db, u, "k1", "POST /x", async {
            panic!("must not run again")
        })
        .await
        .expect("replay");
        assert_eq!(
            second.headers().get(REPLAYED).map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
        assert_eq!(body(second).await, serde_json::json!({ "n": 1 }));
    }

    #[tokio::test]
    async fn a_failure_is_not_kept_and_the_key_may_be_retried() {
        let db = db().await;
        let u = user(&db).await;
        let refused = once(&db, u, "k2", "POST /x", async {
            Err::<Answer, _>(AppError::Conflict("error.409"))
        })
        .await;
        assert!(matches!(refused, Err(AppError::Conflict(_))));
        let unprocessable = once(&db, u, "k2", "POST /x", async {
            Answer::json(StatusCode::UNPROCESSABLE_ENTITY, &1)
        })
        .await
        .expect("422");
        assert_eq!(unprocessable.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let retried = once(&db, u, "k2", "POST /x", async { ok(3) })
            .await
            .expect("retry");
        assert_eq!(body(retried).await, serde_json::json!({ "n": 3 }));
    }

    #[tokio::test]
    async fn a_key_used_for_another_request_or_still_running_is_refused() {
        let db = db().await;
        let u = user(&db).await;
        once(&db, u, "k3", "POST /a", async { ok(1) })
            .await
            .expect("first");
        assert!(matches!(
            once(&db, u, "k3", "POST /b", async { ok(2) }).await,
            Err(AppError::Invalid(_))
        ));

        assert_eq!(
            reserve(&db, u, "k4", "POST /a").await.expect("reserved"),
            None
        );
        assert!(matches!(
            reserve(&db, u, "k4", "POST /a").await,
            Err(AppError::Conflict(IN_PROGRESS))
        ));
        // Abandoned long ago: the next request takes the key over.
        keys::set_created_at(
            &db,
            u,
            "k4",
            Utc::now() - ABANDONED_AFTER - Duration::seconds(1),
        )
        .await
        .expect("age");
        assert_eq!(
            reserve(&db, u, "k4", "POST /a").await.expect("taken over"),
            None
        );
    }
}
