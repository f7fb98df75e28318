//! The one data-access path for SQLite and PostgreSQL.
//!
//! Queries are built once with sea-query and run on whichever backend the [`Db`] holds; row
//! structs derive `sqlx::FromRow` and so decode from both. Reading goes through the pool;
//! writing goes through a [`Tx`] that, on SQLite, begins `IMMEDIATE` so that concurrent
//! writers queue on the busy timeout instead of failing with `SQLITE_BUSY`.

pub mod admin;
pub mod admission;
pub mod after_admission;
pub mod announcements;
pub mod applications;
pub mod dicts;
pub mod idempotency;
pub mod migrate;
pub mod programs;
pub mod reports;
pub mod review;
pub mod students;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sea_query::{
    DeleteStatement, InsertStatement, PostgresQueryBuilder, SelectStatement, SqliteQueryBuilder,
    UpdateStatement,
};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// What can go wrong below the services.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
}

impl DbError {
    /// True when a unique constraint refused the write (a double submit, a taken name …).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Which database engine is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A row type that decodes from both backends (any `#[derive(sqlx::FromRow)]` struct whose
/// field types exist on both).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A single scalar that decodes from both backends (`i64`, `String`, `bool`, `f64` …).
pub trait Scalar:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

/// The connection pool of either backend.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction of either backend; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Connects to `url`: `postgres://…` for PostgreSQL, `sqlite://path` (or a bare path) for
    /// SQLite, which is created when missing and runs in WAL mode with `synchronous=FULL`.
    pub async fn connect(url: &str) -> DbResult<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| DbError::Connect(e.to_string()))?
                .application_name(APPLICATION_NAME);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(|e| DbError::Connect(e.to_string()))?;
            Ok(Db::Postgres(pool))
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
                .map_err(|e| DbError::Connect(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(|e| DbError::Connect(e.to_string()))?;
            Ok(Db::Sqlite(pool))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Closes every connection (tests and shutdown).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// Runs plain SQL with no parameters (maintenance only: migrations, pragmas).
    pub async fn execute_raw(&self, sql: &str) -> DbResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
            Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await?.rows_affected(),
        })
    }

    /// PostgreSQL: waits (up to `within`) until the transactions that other Outbound
    /// connections to this database have open now are over. After a crash the server's
    /// last COMMITs may still be running in their backends; start-up clean-up must see their
    /// outcome. Returns how many were waited for. SQLite needs nothing: a new process recovers
    /// the journal before it reads.
    pub async fn settle_predecessors(&self, within: Duration) -> DbResult<usize> {
        let Db::Postgres(pool) = self else {
            return Ok(0);
        };
        let open = || async {
            sqlx::query_as::<_, (i32, String)>(
                "SELECT pid, CAST(xact_start AS TEXT) FROM pg_stat_activity \
                 WHERE datname = current_database() AND application_name = $1 \
                 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
            )
            .bind(APPLICATION_NAME)
            .fetch_all(pool)
            .await
        };
        let first = open().await?;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let now = open().await?;
            if !first.iter().any(|t| now.contains(t)) {
                return Ok(first.len());
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("transactions of other connections are still open; going on");
                return Ok(first.len());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The `application_name` of Outbound's PostgreSQL connections.
pub const APPLICATION_NAME: &str = "outbound";

impl Tx {
    pub async fn commit(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs plain SQL with no parameters inside the transaction (migrations).
    pub async fn execute_raw(&mut self, sql: &str) -> DbResult<u64> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Tx::Sqlite(t) => sqlx::raw_sql(sql).execute(&mut **t).await?.rows_affected(),
            Tx::Postgres(t) => sqlx::raw_sql(sql).execute(&mut **t).await?.rows_affected(),
        })
    }
}

/// A borrowed connection of either backend: the one place that runs a built statement.
enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl Conn<'_> {
    async fn all<T: Record, S: SqlxBinder>(self, q: &S) -> DbResult<Vec<T>> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (sql, v) = q.build_sqlx(SqliteQueryBuilder);
                sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(sql), v)
                    .fetch_all(c)
                    .await?
            }
            Conn::Postgres(c) => {
                let (sql, v) = q.build_sqlx(PostgresQueryBuilder);
                sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(sql), v)
                    .fetch_all(c)
                    .await?
            }
        })
    }

    async fn optional<T: Record, S: SqlxBinder>(self, q: &S) -> DbResult<Option<T>> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (sql, v) = q.build_sqlx(SqliteQueryBuilder);
                sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(sql), v)
                    .fetch_optional(c)
                    .await?
            }
            Conn::Postgres(c) => {
                let (sql, v) = q.build_sqlx(PostgresQueryBuilder);
                sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(sql), v)
                    .fetch_optional(c)
                    .await?
            }
        })
    }

    async fn scalar<T: Scalar, S: SqlxBinder>(self, q: &S) -> DbResult<Option<T>> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (sql, v) = q.build_sqlx(SqliteQueryBuilder);
                sqlx::query_scalar_with::<_, T, _>(sqlx::AssertSqlSafe(sql), v)
                    .fetch_optional(c)
                    .await?
            }
            Conn::Postgres(c) => {
                let (sql, v) = q.build_sqlx(PostgresQueryBuilder);
                sqlx::query_scalar_with::<_, T, _>(sqlx::AssertSqlSafe(sql), v)
                    .fetch_optional(c)
                    .await?
            }
        })
    }

    async fn execute<S: SqlxBinder>(self, q: &S) -> DbResult<u64> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (sql, v) = q.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(sqlx::AssertSqlSafe(sql), v)
                    .execute(c)
                    .await?
                    .rows_affected()
            }
            Conn::Postgres(c) => {
                let (sql, v) = q.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(sqlx::AssertSqlSafe(sql), v)
                    .execute(c)
                    .await?
                    .rows_affected()
            }
        })
    }
}

/// Reads straight from the pool, outside any transaction.
impl Db {
    /// All rows of a select.
    pub async fn all<T: Record>(&self, q: &SelectStatement) -> DbResult<Vec<T>> {
        match self {
            Db::Sqlite(p) => Conn::Sqlite(&mut *p.acquire().await?).all(q).await,
            Db::Postgres(p) => Conn::Postgres(&mut *p.acquire().await?).all(q).await,
        }
    }

    /// The first row of a select, if any.
    pub async fn optional<T: Record>(&self, q: &SelectStatement) -> DbResult<Option<T>> {
        match self {
            Db::Sqlite(p) => Conn::Sqlite(&mut *p.acquire().await?).optional(q).await,
            Db::Postgres(p) => Conn::Postgres(&mut *p.acquire().await?).optional(q).await,
        }
    }

    /// One scalar (a count, an id …) from the first row; `None` when there is no row.
    pub async fn scalar<T: Scalar>(&self, q: &SelectStatement) -> DbResult<Option<T>> {
        match self {
            Db::Sqlite(p) => Conn::Sqlite(&mut *p.acquire().await?).scalar(q).await,
            Db::Postgres(p) => Conn::Postgres(&mut *p.acquire().await?).scalar(q).await,
        }
    }

    /// A `COUNT(*)`-like select as a plain number (0 when there is no row).
    pub async fn count(&self, q: &SelectStatement) -> DbResult<i64> {
        Ok(self.scalar::<i64>(q).await?.unwrap_or(0))
    }
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    /// All rows of a select, inside the transaction.
    pub async fn all<T: Record>(&mut self, q: &SelectStatement) -> DbResult<Vec<T>> {
        self.conn().all(q).await
    }

    /// The first row of a select, if any, inside the transaction.
    pub async fn optional<T: Record>(&mut self, q: &SelectStatement) -> DbResult<Option<T>> {
        self.conn().optional(q).await
    }

    /// One scalar from the first row, inside the transaction.
    pub async fn scalar<T: Scalar>(&mut self, q: &SelectStatement) -> DbResult<Option<T>> {
        self.conn().scalar(q).await
    }

    /// A `COUNT(*)`-like select as a plain number, inside the transaction.
    pub async fn count(&mut self, q: &SelectStatement) -> DbResult<i64> {
        Ok(self.scalar::<i64>(q).await?.unwrap_or(0))
    }

    /// Runs an insert; returns the number of rows written.
    pub async fn insert(&mut self, q: &InsertStatement) -> DbResult<u64> {
        self.conn().execute(q).await
    }

    /// Runs an update; returns the number of rows it changed (0 = the guard did not match).
    pub async fn update(&mut self, q: &UpdateStatement) -> DbResult<u64> {
        self.conn().execute(q).await
    }

    /// Runs a delete; returns the number of rows removed.
    pub async fn delete(&mut self, q: &DeleteStatement) -> DbResult<u64> {
        self.conn().execute(q).await
    }

    /// Inserts one row and returns its generated `id`.
    pub async fn insert_id(&mut self, q: &InsertStatement) -> DbResult<i64> {
        let mut q = q.clone();
        q.returning_col("id");
        let id = self.conn().scalar::<i64, _>(&q).await?;
        id.ok_or(DbError::Sqlx(sqlx::Error::RowNotFound))
    }
}

/// The OFFSET of a 1-based page, kept within what the databases accept (a huge page number
/// from a URL must not overflow into a panic).
pub fn page_offset(page: u64, per_page: u64) -> u64 {
    std::cmp::min(
        page.max(1).saturating_sub(1).saturating_mul(per_page),
        i64::MAX.unsigned_abs(),
    )
}

#[cfg(test)]
mod page_tests {
    use super::page_offset;

    #[test]
    fn a_page_number_becomes_an_offset_that_never_overflows() {
        assert_eq!(page_offset(1, 20), 0);
        assert_eq!(page_offset(0, 20), 0, "page 0 reads as the first page");
        assert_eq!(page_offset(3, 20), 40);
        assert_eq!(page_offset(u64::MAX, 100), i64::MAX.unsigned_abs());
    }
}
