//! SQL of system administration (SPEC §11): accounts with their roles and reviewed colleges,
//! the college and major registry, dictionary items (active or not), and the audit log.
//!
//! Readers take the pool; writers take the caller's [`Tx`] so that the service can put the
//! change and its audit row in one transaction. Searches are filtered, counted and paginated in
//! SQL, the same statement on both backends.

use chrono::{DateTime, Utc};
use sea_query::{Cond, Condition, Expr, ExprTrait, Func, Order, Query, SelectStatement};

use super::programs::column_contains;
use super::{Db, DbResult, Tx};
use crate::auth::{Role, role_code};

/// The largest page served by any admin list.
pub const MAX_PER_PAGE: u64 = 200;

/// (LIMIT, OFFSET) of a 1-based page.
fn window(page: u64, per_page: u64) -> (u64, u64) {
    let per_page = Ord::clamp(per_page, 1, MAX_PER_PAGE);
    let page = Ord::max(page, 1);
    (per_page, super::page_offset(page, per_page))
}

/// `SELECT key, COUNT(*) FROM table [WHERE key IS NOT NULL] GROUP BY key`.
fn counts_by(table: &'static str, key: &'static str) -> SelectStatement {
    Query::select()
        .column(key)
        .expr(Expr::col(key).count())
        .from(table)
        .and_where(Expr::col(key).is_not_null())
        .group_by_col(key)
        .to_owned()
}

fn count_where(table: &'static str, column: &'static str, id: i64) -> SelectStatement {
    Query::select()
        .expr(Expr::col(column).count())
        .from(table)
        .and_where(Expr::col(column).eq(id))
        .to_owned()
}

/// True when a write was refused because another row still points at this one.
pub fn is_foreign_key_violation(e: &super::DbError) -> bool {
    match e {
        super::DbError::Sqlx(sqlx::Error::Database(d)) => d.is_foreign_key_violation(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts

/// An account as the administration pages show it (never the password hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserAdminRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    pub must_change_password: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

const USER_COLUMNS: [&str; 8] = [
    "id",
    "username",
    "display_name",
    "active",
    "must_change_password",
    "locked_until",
    "created_at",
    "last_login_at",
];

/// The account search: text in the user name or name, a role code, active or not.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub text: String,
    pub role: Option<String>,
    pub active: Option<bool>,
    pub page: u64,
    pub per_page: u64,
}

fn user_condition(f: &UserFilter) -> Condition {
    let mut c = Cond::all();
    if !f.text.trim().is_empty() {
        c = c.add(
            Cond::any()
                .add(column_contains("users", "username", &f.text))
                .add(column_contains("users", "display_name", &f.text)),
        );
    }
    if let Some(role) = &f.role {
        c = c.add(
            Expr::col(("users", "id")).in_subquery(
                Query::select()
                    .column("user_id")
                    .from("user_roles")
                    .and_where(Expr::col("role").eq(role.as_str()))
                    .to_owned(),
            ),
        );
    }
    if let Some(active) = f.active {
        c = c.add(Expr::col(("users", "active")).eq(active));
    }
    c
}

/// One page of accounts matching `f`, by user name, and the number of all matches.
pub async fn list_users(db: &Db, f: &UserFilter) -> DbResult<(Vec<UserAdminRow>, i64)> {
    let (limit, offset) = window(f.page, f.per_page);
    let cond = user_condition(f);
    let rows = db
        .all(
            &Query::select()
                .columns(USER_COLUMNS.map(|c| ("users", c)))
                .from("users")
                .cond_where(cond.clone())
                .order_by(("users", "username"), Order::Asc)
                .limit(limit)
                .offset(offset)
                .to_owned(),
        )
        .await?;
    let total = db
        .count(
            &Query::select()
                .expr(Expr::col(("users", "id")).count())
                .from("users")
                .cond_where(cond)
                .to_owned(),
        )
        .await?;
    Ok((rows, total))
}

/// (user id, role code) of the given accounts.
pub async fn roles_of(db: &Db, user_ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    db.all(
        &Query::select()
            .columns(["user_id", "role"])
            .from("user_roles")
            .and_where(Expr::col("user_id").is_in(user_ids.iter().copied()))
            .to_owned(),
    )
    .await
}

/// (user id, college id) of the colleges the given accounts review.
pub async fn reviewed_colleges_of(db: &Db, user_ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    db.all(
        &Query::select()
            .columns(["user_id", "college_id"])
            .from("reviewer_colleges")
            .and_where(Expr::col("user_id").is_in(user_ids.iter().copied()))
            .to_owned(),
    )
    .await
}

pub async fn user(db: &Db, id: i64) -> DbResult<Option<UserAdminRow>> {
    db.optional(
        &Query::select()
            .columns(USER_COLUMNS)
            .from("users")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

pub async fn user_tx(tx: &mut Tx, id: i64) -> DbResult<Option<UserAdminRow>> {
    tx.optional(
        &Query::select()
            .columns(USER_COLUMNS)
            .from("users")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// The role codes of one account, inside the transaction.
pub async fn role_codes_tx(tx: &mut Tx, user_id: i64) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = tx
        .all(
            &Query::select()
                .column("role")
                .from("user_roles")
                .and_where(Expr::col("user_id").eq(user_id))
                .order_by("role", Order::Asc)
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

/// The colleges one account reviews, inside the transaction.
pub async fn reviewed_colleges_tx(tx: &mut Tx, user_id: i64) -> DbResult<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .all(
            &Query::select()
                .column("college_id")
                .from("reviewer_colleges")
                .and_where(Expr::col("user_id").eq(user_id))
                .order_by("college_id", Order::Asc)
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

pub async fn username_taken_tx(tx: &mut Tx, username: &str) -> DbResult<bool> {
    let n = tx
        .count(
            &Query::select()
                .expr(Expr::col("id").count())
                .from("users")
                .and_where(Expr::col("username").eq(username))
                .to_owned(),
        )
        .await?;
    Ok(n > 0)
}

/// Inserts an account; returns its id.
pub async fn insert_user_tx(
    tx: &mut Tx,
    username: &str,
    display_name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("users")
            .columns([
                "username",
                "display_name",
                "password_hash",
                "must_change_password",
                "created_at",
            ])
            .values_panic([
                username.into(),
                display_name.into(),
                password_hash.into(),
                true.into(),
                now.into(),
            ]),
    )
    .await
}

/// Replaces the roles of an account by `roles`; the student role (which comes with a registry
/// record) is kept as it is and never written here.
pub async fn replace_roles_tx(tx: &mut Tx, user_id: i64, roles: &[Role]) -> DbResult<()> {
    tx.delete(
        Query::delete()
            .from_table("user_roles")
            .and_where(Expr::col("user_id").eq(user_id))
            .and_where(Expr::col("role").ne(role_code(Role::Student))),
    )
    .await?;
    for role in roles.iter().filter(|r| **r != Role::Student) {
        tx.insert(
            Query::insert()
                .into_table("user_roles")
                .columns(["user_id", "role"])
                .values_panic([user_id.into(), role_code(*role).into()]),
        )
        .await?;
    }
    Ok(())
}

/// Replaces the colleges an account reviews.
pub async fn replace_reviewed_colleges_tx(
    tx: &mut Tx,
    user_id: i64,
    college_ids: &[i64],
) -> DbResult<()> {
    tx.delete(
        Query::delete()
            .from_table("reviewer_colleges")
            .and_where(Expr::col("user_id").eq(user_id)),
    )
    .await?;
    for college_id in college_ids {
        tx.insert(
            Query::insert()
                .into_table("reviewer_colleges")
                .columns(["user_id", "college_id"])
                .values_panic([user_id.into(), (*college_id).into()]),
        )
        .await?;
    }
    Ok(())
}

pub async fn set_display_name_tx(tx: &mut Tx, user_id: i64, name: &str) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("users")
            .value("display_name", name)
            .and_where(Expr::col("id").eq(user_id)),
    )
    .await
}

/// Deactivates or reactivates an account; reactivating also clears a sign-in lock.
pub async fn set_user_active_tx(tx: &mut Tx, user_id: i64, active: bool) -> DbResult<u64> {
    let mut q = Query::update();
    q.table("users")
        .value("active", active)
        .and_where(Expr::col("id").eq(user_id));
    if active {
        q.value("failed_logins", 0)
            .value("locked_until", Option::<DateTime<Utc>>::None);
    }
    tx.update(&q).await
}

/// Sets a new password that must be changed at the next sign-in, and lifts a sign-in lock.
pub async fn reset_password_tx(tx: &mut Tx, user_id: i64, password_hash: &str) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("users")
            .value("password_hash", password_hash)
            .value("must_change_password", true)
            .value("failed_logins", 0)
            .value("locked_until", Option::<DateTime<Utc>>::None)
            .and_where(Expr::col("id").eq(user_id)),
    )
    .await
}

/// Ends every session of an account inside the transaction (so that a deactivation or a role
/// change takes effect at once, and together with the change).
pub async fn end_sessions_tx(tx: &mut Tx, user_id: i64) -> DbResult<u64> {
    tx.delete(
        Query::delete()
            .from_table("sessions")
            .and_where(Expr::col("user_id").eq(user_id)),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Colleges and majors

/// A college, active or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollegeRow {
    pub id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub active: bool,
}

/// A major, active or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MajorRow {
    pub id: i64,
    pub college_id: i64,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub active: bool,
}

const COLLEGE_COLUMNS: [&str; 5] = ["id", "code", "name_zh", "name_en", "active"];
const MAJOR_COLUMNS: [&str; 6] = ["id", "college_id", "code", "name_zh", "name_en", "active"];

/// Every college, active first, by code.
pub async fn colleges(db: &Db) -> DbResult<Vec<CollegeRow>> {
    db.all(
        &Query::select()
            .columns(COLLEGE_COLUMNS)
            .from("colleges")
            .order_by("active", Order::Desc)
            .order_by("code", Order::Asc)
            .to_owned(),
    )
    .await
}

pub async fn college(db: &Db, id: i64) -> DbResult<Option<CollegeRow>> {
    db.optional(
        &Query::select()
            .columns(COLLEGE_COLUMNS)
            .from("colleges")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// The ids of the active colleges, inside the transaction.
pub async fn active_college_ids_tx(tx: &mut Tx) -> DbResult<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .all(
            &Query::select()
                .column("id")
                .from("colleges")
                .and_where(Expr::col("active").eq(true))
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// (college id, number of students) for every college with students.
pub async fn students_per_college(db: &Db) -> DbResult<Vec<(i64, i64)>> {
    db.all(&counts_by("students", "college_id")).await
}

/// (college id, number of majors) for every college with majors.
pub async fn majors_per_college(db: &Db) -> DbResult<Vec<(i64, i64)>> {
    db.all(&counts_by("majors", "college_id")).await
}

/// (major id, number of students) for every major with students.
pub async fn students_per_major(db: &Db) -> DbResult<Vec<(i64, i64)>> {
    db.all(&counts_by("students", "major_id")).await
}

/// Is `code` used by another row of `table` (`colleges` or `majors`)?
pub async fn code_taken_tx(
    tx: &mut Tx,
    table: &'static str,
    code: &str,
    except: Option<i64>,
) -> DbResult<bool> {
    let mut q = Query::select();
    q.expr(Expr::col("id").count())
        .from(table)
        .and_where(Expr::col("code").eq(code));
    if let Some(id) = except {
        q.and_where(Expr::col("id").ne(id));
    }
    Ok(tx.count(&q).await? > 0)
}

/// Code and both names of a college or a major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeNames {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

pub async fn insert_college_tx(tx: &mut Tx, v: &CodeNames) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("colleges")
            .columns(["code", "name_zh", "name_en"])
            .values_panic([
                v.code.as_str().into(),
                v.name_zh.as_str().into(),
                v.name_en.as_str().into(),
            ]),
    )
    .await
}

/// Writes code and names of `table` row `id` (`colleges` or `majors`).
pub async fn update_code_names_tx(
    tx: &mut Tx,
    table: &'static str,
    id: i64,
    v: &CodeNames,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table(table)
            .value("code", v.code.as_str())
            .value("name_zh", v.name_zh.as_str())
            .value("name_en", v.name_en.as_str())
            .and_where(Expr::col("id").eq(id)),
    )
    .await
}

/// Sets `active` on row `id` of `table` (`colleges`, `majors` or `dictionary_items`).
pub async fn set_active_tx(
    tx: &mut Tx,
    table: &'static str,
    id: i64,
    active: bool,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table(table)
            .value("active", active)
            .and_where(Expr::col("id").eq(id)),
    )
    .await
}

/// Removes row `id` of `table` (`colleges` or `majors`).
pub async fn delete_row_tx(tx: &mut Tx, table: &'static str, id: i64) -> DbResult<u64> {
    tx.delete(
        Query::delete()
            .from_table(table)
            .and_where(Expr::col("id").eq(id)),
    )
    .await
}

pub async fn college_tx(tx: &mut Tx, id: i64) -> DbResult<Option<CollegeRow>> {
    tx.optional(
        &Query::select()
            .columns(COLLEGE_COLUMNS)
            .from("colleges")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// What still points at a college or a major, so that it cannot be deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct References {
    pub students: i64,
    pub majors: i64,
    pub reviewers: i64,
    pub programs: i64,
}

impl References {
    pub fn is_empty(&self) -> bool {
        *self == References::default()
    }
}

pub async fn college_references_tx(tx: &mut Tx, id: i64) -> DbResult<References> {
    Ok(References {
        students: tx.count(&count_where("students", "college_id", id)).await?,
        majors: tx.count(&count_where("majors", "college_id", id)).await?,
        reviewers: tx
            .count(&count_where("reviewer_colleges", "college_id", id))
            .await?,
        programs: 0,
    })
}

pub async fn major_references_tx(tx: &mut Tx, id: i64) -> DbResult<References> {
    // 招生专业 is a JSON list of major ids on the program.
    let lists: Vec<(String,)> = tx
        .all(
            &Query::select()
                .column("major_ids")
                .from("programs")
                .and_where(Expr::col("major_ids").ne("[]"))
                .to_owned(),
        )
        .await?;
    let programs = lists
        .iter()
        .filter(|(raw,)| serde_json::from_str::<Vec<i64>>(raw).is_ok_and(|ids| ids.contains(&id)))
        .count() as i64;
    Ok(References {
        students: tx.count(&count_where("students", "major_id", id)).await?,
        majors: 0,
        reviewers: 0,
        programs,
    })
}

/// The majors of one college, active first, by code.
pub async fn majors_of(db: &Db, college_id: i64) -> DbResult<Vec<MajorRow>> {
    db.all(
        &Query::select()
            .columns(MAJOR_COLUMNS)
            .from("majors")
            .and_where(Expr::col("college_id").eq(college_id))
            .order_by("active", Order::Desc)
            .order_by("code", Order::Asc)
            .to_owned(),
    )
    .await
}

pub async fn major(db: &Db, id: i64) -> DbResult<Option<MajorRow>> {
    db.optional(
        &Query::select()
            .columns(MAJOR_COLUMNS)
            .from("majors")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

pub async fn major_tx(tx: &mut Tx, id: i64) -> DbResult<Option<MajorRow>> {
    tx.optional(
        &Query::select()
            .columns(MAJOR_COLUMNS)
            .from("majors")
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

pub async fn insert_major_tx(tx: &mut Tx, college_id: i64, v: &CodeNames) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("majors")
            .columns(["college_id", "code", "name_zh", "name_en"])
            .values_panic([
                college_id.into(),
                v.code.as_str().into(),
                v.name_zh.as_str().into(),
                v.name_en.as_str().into(),
            ]),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

/// A dictionary item, active or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DictRow {
    pub id: i64,
    pub kind: String,
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub sort_order: i64,
    pub active: bool,
}

const DICT_COLUMNS: [&str; 7] = [
    "id",
    "kind",
    "code",
    "label_zh",
    "label_en",
    "sort_order",
    "active",
];

fn dict_items_query(kind: &str) -> SelectStatement {
    Query::select()
        .columns(DICT_COLUMNS)
        .from("dictionary_items")
        .and_where(Expr::col("kind").eq(kind))
        .order_by("sort_order", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned()
}

/// Every item of one kind, active or not, in display order.
pub async fn dict_items(db: &Db, kind: &str) -> DbResult<Vec<DictRow>> {
    db.all(&dict_items_query(kind)).await
}

pub async fn dict_items_tx(tx: &mut Tx, kind: &str) -> DbResult<Vec<DictRow>> {
    tx.all(&dict_items_query(kind)).await
}

/// One item of `kind` (an id of another kind is not found).
pub async fn dict_item(db: &Db, kind: &str, id: i64) -> DbResult<Option<DictRow>> {
    db.optional(
        &Query::select()
            .columns(DICT_COLUMNS)
            .from("dictionary_items")
            .and_where(Expr::col("kind").eq(kind))
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

pub async fn dict_item_tx(tx: &mut Tx, kind: &str, id: i64) -> DbResult<Option<DictRow>> {
    tx.optional(
        &Query::select()
            .columns(DICT_COLUMNS)
            .from("dictionary_items")
            .and_where(Expr::col("kind").eq(kind))
            .and_where(Expr::col("id").eq(id))
            .to_owned(),
    )
    .await
}

/// (kind, number of items) of every kind that has items.
pub async fn dict_counts(db: &Db) -> DbResult<Vec<(String, i64)>> {
    db.all(&counts_by("dictionary_items", "kind")).await
}

pub async fn dict_code_taken_tx(tx: &mut Tx, kind: &str, code: &str) -> DbResult<bool> {
    let n = tx
        .count(
            &Query::select()
                .expr(Expr::col("id").count())
                .from("dictionary_items")
                .and_where(Expr::col("kind").eq(kind))
                .and_where(Expr::col("code").eq(code))
                .to_owned(),
        )
        .await?;
    Ok(n > 0)
}

/// The sort order after the last item of `kind` (steps of 10).
pub async fn next_sort_order_tx(tx: &mut Tx, kind: &str) -> DbResult<i64> {
    let max = tx
        .scalar::<i64>(
            &Query::select()
                .expr(Func::coalesce([
                    Expr::col("sort_order").max(),
                    Expr::val(0i64),
                ]))
                .from("dictionary_items")
                .and_where(Expr::col("kind").eq(kind))
                .to_owned(),
        )
        .await?
        .unwrap_or(0);
    Ok(max.saturating_add(10))
}

pub async fn insert_dict_item_tx(
    tx: &mut Tx,
    kind: &str,
    code: &str,
    label_zh: &str,
    label_en: &str,
    sort_order: i64,
) -> DbResult<i64> {
    tx.insert_id(
        Query::insert()
            .into_table("dictionary_items")
            .columns(["kind", "code", "label_zh", "label_en", "sort_order"])
            .values_panic([
                kind.into(),
                code.into(),
                label_zh.into(),
                label_en.into(),
                sort_order.into(),
            ]),
    )
    .await
}

/// Writes the labels and the sort order of an item (its code never changes: records store it).
pub async fn update_dict_item_tx(
    tx: &mut Tx,
    id: i64,
    label_zh: &str,
    label_en: &str,
    sort_order: i64,
) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("dictionary_items")
            .value("label_zh", label_zh)
            .value("label_en", label_en)
            .value("sort_order", sort_order)
            .and_where(Expr::col("id").eq(id)),
    )
    .await
}

pub async fn set_dict_sort_order_tx(tx: &mut Tx, id: i64, sort_order: i64) -> DbResult<u64> {
    tx.update(
        Query::update()
            .table("dictionary_items")
            .value("sort_order", sort_order)
            .and_where(Expr::col("id").eq(id)),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Audit log

/// The audit-log search: a person (user name or name), an action, a time window
/// `[from, until)`, and the page.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub person: String,
    pub action: String,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    /// The acting account's current user name (none for the system or a removed account).
    pub actor_username: Option<String>,
}

fn audit_condition(f: &AuditFilter) -> Condition {
    let mut c = Cond::all();
    if !f.person.trim().is_empty() {
        // The name kept on the row, or the account's current user name or name.
        c = c.add(
            Cond::any()
                .add(column_contains("audit_log", "actor_name", &f.person))
                .add(
                    Expr::col(("audit_log", "actor_id")).in_subquery(
                        Query::select()
                            .column(("users", "id"))
                            .from("users")
                            .cond_where(
                                Cond::any()
                                    .add(column_contains("users", "username", &f.person))
                                    .add(column_contains("users", "display_name", &f.person)),
                            )
                            .to_owned(),
                    ),
                ),
        );
    }
    if !f.action.is_empty() {
        c = c.add(Expr::col(("audit_log", "action")).eq(f.action.as_str()));
    }
    if let Some(from) = f.from {
        c = c.add(Expr::col(("audit_log", "created_at")).gte(from));
    }
    if let Some(until) = f.until {
        c = c.add(Expr::col(("audit_log", "created_at")).lt(until));
    }
    c
}

/// One page of the audit log matching `f`, newest first, and the number of all matches.
pub async fn audit_page(db: &Db, f: &AuditFilter) -> DbResult<(Vec<AuditRow>, i64)> {
    let (limit, offset) = window(f.page, f.per_page);
    let cond = audit_condition(f);
    let rows = db
        .all(
            &Query::select()
                .columns(
                    [
                        "id",
                        "actor_id",
                        "actor_name",
                        "action",
                        "target",
                        "detail",
                        "ip",
                        "created_at",
                    ]
                    .map(|c| ("audit_log", c)),
                )
                .expr_as(Expr::col(("users", "username")), "actor_username")
                .from("audit_log")
                .left_join(
                    "users",
                    Expr::col(("users", "id")).equals(("audit_log", "actor_id")),
                )
                .cond_where(cond.clone())
                .order_by(("audit_log", "created_at"), Order::Desc)
                .order_by(("audit_log", "id"), Order::Desc)
                .limit(limit)
                .offset(offset)
                .to_owned(),
        )
        .await?;
    let total = db
        .count(
            &Query::select()
                .expr(Expr::col(("audit_log", "id")).count())
                .from("audit_log")
                .cond_where(cond)
                .to_owned(),
        )
        .await?;
    Ok((rows, total))
}

/// Every action code the log holds, for the action filter.
pub async fn audit_actions(db: &Db) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = db
        .all(
            &Query::select()
                .distinct()
                .column("action")
                .from("audit_log")
                .order_by("action", Order::Asc)
                .to_owned(),
        )
        .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}
