//! Reading people: accounts, their roles and the colleges a reviewer covers.

use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Query};

use super::{Db, DbResult};
use crate::auth::{Roles, role_from_code};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub active: bool,
}

const USER_COLUMNS: [&str; 8] = [
    "id",
    "username",
    "display_name",
    "password_hash",
    "must_change_password",
    "failed_logins",
    "locked_until",
    "active",
];

pub async fn by_username(db: &Db, username: &str) -> DbResult<Option<UserRow>> {
    db.optional(
        &Query::select()
            .columns(USER_COLUMNS)
            .from("users")
            .and_where(Expr::col("username").eq(username))
            .to_owned(),
    )
    .await
}

pub async fn by_id(db: &Db, id: i64) -> DbResult<Option<UserRow>> {
    db.optional(
        &Query::select()
            .columns(USER_COLUMNS)
            .from("users")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

pub async fn roles(db: &Db, user_id: i64) -> DbResult<Roles> {
    let codes: Vec<(String,)> = db
        .all(
            &Query::select()
                .column("role")
                .from("user_roles")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await?;
    let mut roles: Vec<_> = codes.iter().filter_map(|(c,)| role_from_code(c)).collect();
    roles.sort_by_key(|r| crate::auth::role_code(*r));
    Ok(Roles(roles))
}

pub async fn reviewer_colleges(db: &Db, user_id: i64) -> DbResult<Vec<i64>> {
    let rows: Vec<(i64,)> = db
        .all(
            &Query::select()
                .column("college_id")
                .from("reviewer_colleges")
                .and_where(Expr::col("user_id").eq(user_id))
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// Unread messages in the person's message centre.
pub async fn unread_count(db: &Db, user_id: i64) -> DbResult<i64> {
    db.count(
        &Query::select()
            .expr(Expr::col("id").count())
            .from("messages")
            .and_where(Expr::col("user_id").eq(user_id))
            .and_where(Expr::col("read_at").is_null())
            .to_owned(),
    )
    .await
}
