//! Signing in and out, changing passwords, and the lockout after repeated failures.

use chrono::{Duration, Utc};
use sea_query::{Expr, ExprTrait, Query};

use super::audit::{self, Who};
use super::{ServiceError, ServiceResult};
use crate::auth::{password, session};
use crate::db::{Db, users};
use crate::domain::FieldErrors;

/// Failures in a row before the account is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_FOR: Duration = Duration::minutes(15);

/// The one message for every failed sign-in, so that it reveals nothing about the account.
pub const FAILED: &str = "err.login.failed";

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub user_id: i64,
    pub session_token: String,
    pub must_change_password: bool,
}

/// Local sign-in with user name (student or staff number) and password.
pub async fn sign_in(db: &Db, username: &str, pass: &str, ip: &str) -> ServiceResult<SignedIn> {
    let username = username.trim();
    let Some(user) = users::by_username(db, username).await?.filter(|u| u.active) else {
        // Same work and same answer as a wrong password.
        password::verify_async(pass.to_owned(), password::dummy_hash().to_owned()).await;
        return Err(ServiceError::Refused(FAILED));
    };
    let now = Utc::now();
    let locked = user.locked_until.is_some_and(|t| t > now);
    let ok = password::verify_async(pass.to_owned(), user.password_hash.clone()).await;
    let who = Who {
        id: Some(user.id),
        name: user.username.clone(),
        ip: ip.to_owned(),
    };
    if locked || !ok {
        let mut tx = db.begin().await?;
        if !locked {
            let failures = user.failed_logins + 1;
            let mut q = Query::update();
            q.table("users").and_where(Expr::col("id").eq(user.id));
            if failures >= MAX_FAILURES {
                q.value("failed_logins", 0)
                    .value("locked_until", now + LOCK_FOR);
            } else {
                q.value("failed_logins", failures);
            }
            tx.update(&q).await?;
        }
        audit::record(
            &mut tx,
            &who,
            if locked {
                "login.locked"
            } else {
                "login.failed"
            },
            "",
            "",
        )
        .await?;
        tx.commit().await?;
        return Err(ServiceError::Refused(FAILED));
    }
    sign_in_verified(db, user.id, &who).await
}

/// The end of every sign-in path (local today, SSO later): reset failures, record, open a
/// session.
pub async fn sign_in_verified(db: &Db, user_id: i64, who: &Who) -> ServiceResult<SignedIn> {
    let user = users::by_id(db, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mut tx = db.begin().await?;
    tx.update(
        Query::update()
            .table("users")
            .value("failed_logins", 0)
            .value("locked_until", Option::<chrono::DateTime<Utc>>::None)
            .value("last_login_at", Utc::now())
            .and_where(Expr::col("id").eq(user_id)),
    )
    .await?;
    audit::record(&mut tx, who, "login", "", "").await?;
    tx.commit().await?;
    let session_token = session::create(db, user_id).await?;
    Ok(SignedIn {
        user_id,
        session_token,
        must_change_password: user.must_change_password,
    })
}

/// Sign-out: ends this session.
pub async fn sign_out(db: &Db, token: &str) -> ServiceResult<()> {
    session::end(db, token).await?;
    Ok(())
}

/// Changes the password after checking the old one; ends every other session of the person
/// and returns a fresh session token.
pub async fn change_password(
    db: &Db,
    user_id: i64,
    old: &str,
    new: &str,
    confirm: &str,
) -> ServiceResult<String> {
    let user = users::by_id(db, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mut errors = FieldErrors::new();
    if !password::verify_async(old.to_owned(), user.password_hash.clone()).await {
        errors.add("old_password", "err.password.old_wrong");
    }
    if let Err(code) = password::check_new_password(new, &user.username, old) {
        errors.add("new_password", code);
    }
    if new != confirm {
        errors.add("confirm_password", "err.password.mismatch");
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let hash = password::hash_async(new.to_owned()).await;
    let mut tx = db.begin().await?;
    tx.update(
        Query::update()
            .table("users")
            .value("password_hash", hash)
            .value("must_change_password", false)
            .and_where(Expr::col("id").eq(user_id)),
    )
    .await?;
    audit::record(
        &mut tx,
        &Who::user(user_id, user.username.clone()),
        "password.change",
        "",
        "",
    )
    .await?;
    tx.commit().await?;
    session::end_all(db, user_id).await?;
    Ok(session::create(db, user_id).await?)
}
