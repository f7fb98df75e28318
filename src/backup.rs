//! `outbound backup` and `outbound restore`: a consistent copy of the database, of the
//! attachment files it refers to and of the personal-data key, and the way back.
//!
//! A backup folder holds:
//! - `database.sqlite` (SQLite, written by `VACUUM INTO`, a consistent copy taken while the
//!   server runs) or `database.pgdump` (PostgreSQL, `pg_dump --format=custom`);
//! - `files/<2 hex>/<key>`: every attachment file the copied database refers to;
//! - `data.key`: the personal-data key, unless it is given by `OUTBOUND_DATA_KEY`;
//! - `manifest.json`, written last: the database file's hash and every file's key, size and
//!   sha256. A folder without a manifest is an unfinished backup and is never restored.
//!
//! The file list comes from the copied database itself (for PostgreSQL, `pg_dump` runs on a
//! snapshot exported by the transaction that reads the keys), so the backup holds exactly the
//! files its rows name: no orphans, nothing missing. Restore checks every hash before it writes
//! anything, refuses a target that holds data, and checks the restored rows against the files.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::config::Config;

/// The columns that hold storage keys of attachment files.
pub const FILE_COLUMNS: [(&str, &str); 3] = [
    ("attachments", "storage_key"),
    ("students", "photo_key"),
    ("self_arranged_proposals", "proof_key"),
];

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "database.sqlite";
const PG_FILE: &str = "database.pgdump";
const KEY_FILE: &str = "data.key";
const FORMAT: u32 = 1;

/// The backup's table of contents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The schema version of the binary that wrote the backup.
    pub schema_version: i64,
    pub database: FileEntry,
    /// Whether `data.key` is in the backup (false when the key came from the environment).
    pub data_key_file: bool,
    pub files: Vec<FileEntry>,
}

/// One file of the backup: its key (or name), size and sha256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

/// What a backup or a restore did, for the operator's one line.
#[derive(Debug, Clone)]
pub struct Summary {
    pub backend: String,
    pub files: usize,
    pub bytes: u64,
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file of a SQLite URL, read the way [`crate::db::Db::connect`] reads it.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// Whether `dir` is missing or empty.
fn is_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

fn sha256_of(path: &Path) -> anyhow::Result<FileEntry> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(FileEntry {
        key: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Copies `from` to `to` through a temporary name, fsyncing the file and its folder.
fn copy_durably(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = to.with_extension("partial");
    std::fs::copy(from, &tmp)
        .with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", tmp.display()))?;
    std::fs::rename(&tmp, to).with_context(|| format!("cannot rename {}", tmp.display()))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

fn key_path(root: &Path, key: &str) -> anyhow::Result<PathBuf> {
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("malformed storage key {key:?} in the database");
    }
    Ok(root.join(&key[..2]).join(key))
}

fn keys_query() -> String {
    FILE_COLUMNS
        .iter()
        .map(|(t, c)| format!("SELECT {c} FROM {t} WHERE {c} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" UNION ")
}

async fn sqlite_keys(conn: &mut SqliteConnection) -> anyhow::Result<BTreeSet<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(keys_query()))
        .fetch_all(conn)
        .await
        .context("cannot read the file keys from the database")?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

async fn open_sqlite(path: &Path) -> anyhow::Result<SqliteConnection> {
    if !path.is_file() {
        bail!("no SQLite database at {}", path.display());
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .with_context(|| format!("bad SQLite path {}", path.display()))?
        .busy_timeout(std::time::Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))
}

/// Runs an external tool; its stderr becomes the error.
fn run_tool(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let output = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!("{what} is not installed (Debian: apt-get install postgresql-client)")
        } else {
            anyhow!("cannot run {what}: {e}")
        }
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        bail!("{what} failed ({}): {first}", output.status);
    }
    Ok(())
}

/// `outbound backup`: copies the database of `config`, its files and its key into `to`,
/// which must be missing or empty.
pub async fn backup(config: &Config, to: &Path) -> anyhow::Result<Summary> {
    if !is_empty_dir(to)? {
        bail!(
            "the backup folder {} is not empty; choose a new folder",
            to.display()
        );
    }
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let (backend, db_file, keys) = if is_postgres(&config.database_url) {
        let file = to.join(PG_FILE);
        let keys = pg_dump(&config.database_url, &file).await?;
        ("postgres", file, keys)
    } else {
        let source = sqlite_path(&config.database_url);
        let file = to.join(SQLITE_FILE);
        let mut conn = open_sqlite(&source).await?;
        let target = file.display().to_string().replace('\'', "''");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM INTO '{target}'")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot copy the database {}", source.display()))?;
        conn.close().await.ok();
        std::fs::File::open(&file)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", file.display()))?;
        let mut copy = open_sqlite(&file).await?;
        // A self-contained file: no -wal beside it, whatever the source's journal mode.
        sqlx::raw_sql("PRAGMA journal_mode=DELETE")
            .execute(&mut copy)
            .await
            .context("cannot finish the database copy")?;
        let keys = sqlite_keys(&mut copy).await?;
        copy.close().await.ok();
        ("sqlite", file, keys)
    };
    let database = sha256_of(&db_file)?;

    // The rows are fixed now; copy exactly the files they name and hash what was copied.
    let source_root = config.attachments_dir();
    let target_root = to.join("files");
    let mut files = Vec::with_capacity(keys.len());
    let mut bytes = 0;
    for key in &keys {
        let from = key_path(&source_root, key)?;
        if !from.is_file() {
            bail!(
                "the file {key} named by the database is missing from {} (removed while the backup ran? run it again)",
                source_root.display()
            );
        }
        let dest = key_path(&target_root, key)?;
        copy_durably(&from, &dest)?;
        let entry = sha256_of(&dest)?;
        bytes += entry.size;
        files.push(entry);
    }

    let key_file = config.data_dir.join(KEY_FILE);
    let data_key_file = config.data_key.is_none() && key_file.is_file();
    if data_key_file {
        copy_durably(&key_file, &to.join(KEY_FILE))?;
    }

    let manifest = Manifest {
        format: FORMAT,
        created_at: chrono::Utc::now(),
        backend: backend.to_owned(),
        schema_version: crate::db::migrate::LATEST,
        database,
        data_key_file,
        files,
    };
    write_manifest(to, &manifest)?;
    Ok(Summary {
        backend: backend.to_owned(),
        files: manifest.files.len(),
        bytes,
    })
}

fn write_manifest(to: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let tmp = to.join("manifest.json.partial");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(&serde_json::to_vec_pretty(manifest)?)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(file);
    std::fs::rename(&tmp, to.join(MANIFEST))
        .with_context(|| format!("cannot write the manifest in {}", to.display()))?;
    sync_dir(to)
}

/// Reads the file keys and runs `pg_dump` on one snapshot, so both see the same rows.
async fn pg_dump(url: &str, file: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("cannot reach the PostgreSQL database")?;
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut conn)
        .await
        .context("cannot start the backup transaction")?;
    let (snapshot,): (String,) = sqlx::query_as("SELECT pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await
        .context("cannot export a snapshot")?;
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(keys_query()))
        .fetch_all(&mut conn)
        .await
        .context("cannot read the file keys from the database")?;
    let mut cmd = Command::new("pg_dump");
    cmd.arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(file)
        .arg("--dbname")
        .arg(url);
    // The snapshot lives as long as this transaction: pg_dump runs while it is open.
    let dumped = tokio::task::spawn_blocking(move || run_tool(cmd, "pg_dump"))
        .await
        .map_err(|e| anyhow!("pg_dump did not finish: {e}"))?;
    sqlx::raw_sql("COMMIT").execute(&mut conn).await.ok();
    conn.close().await.ok();
    dumped?;
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", file.display()))?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// Reads and checks a backup folder's manifest.
pub fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow!(
                "{} is not a finished backup (no {MANIFEST})",
                from.display()
            )
        } else {
            anyhow!("cannot read {}: {e}", path.display())
        }
    })?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a valid manifest", path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "{} has backup format {}, this binary reads format {FORMAT}",
            path.display(),
            manifest.format
        );
    }
    if manifest.schema_version > crate::db::migrate::LATEST {
        bail!(
            "the backup is of schema version {}, newer than this binary's {}; use a newer outbound",
            manifest.schema_version,
            crate::db::migrate::LATEST
        );
    }
    Ok(manifest)
}

/// Checks every file of the backup against the manifest before anything is written.
fn verify_backup(from: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let db_name = if manifest.backend == "postgres" {
        PG_FILE
    } else {
        SQLITE_FILE
    };
    let db = sha256_of(&from.join(db_name))?;
    if db.size != manifest.database.size || db.sha256 != manifest.database.sha256 {
        bail!("{db_name} in the backup does not match its manifest (damaged backup)");
    }
    for entry in &manifest.files {
        let found = sha256_of(&key_path(&from.join("files"), &entry.key)?)?;
        if found.size != entry.size || found.sha256 != entry.sha256 {
            bail!(
                "the file {} in the backup does not match its manifest (damaged backup)",
                entry.key
            );
        }
    }
    if manifest.data_key_file && !from.join(KEY_FILE).is_file() {
        bail!("the backup lists {KEY_FILE} but it is missing");
    }
    Ok(())
}

/// `outbound restore`: puts the backup in `from` into the empty data folder and database of
/// `config`.
pub async fn restore(from: &Path, config: &Config) -> anyhow::Result<Summary> {
    let manifest = read_manifest(from)?;
    let to_postgres = is_postgres(&config.database_url);
    match (manifest.backend.as_str(), to_postgres) {
        ("sqlite", true) => {
            bail!("this backup is of a SQLite database; restore it without --database-url")
        }
        ("postgres", false) => bail!(
            "this backup is of a PostgreSQL database; give the target with --database-url postgres://…"
        ),
        ("sqlite" | "postgres", _) => {}
        (other, _) => bail!("unknown database kind {other:?} in the manifest"),
    }
    if !is_empty_dir(&config.data_dir)? {
        bail!(
            "the data folder {} is not empty; restore into a new folder",
            config.data_dir.display()
        );
    }
    if manifest.data_key_file && config.data_key.is_some() {
        bail!(
            "the backup carries its own data key; unset OUTBOUND_DATA_KEY to restore it, or the restored personal data could not be read"
        );
    }
    if to_postgres {
        pg_check_empty(&config.database_url).await?;
    } else {
        let target = sqlite_path(&config.database_url);
        if target.exists() {
            bail!(
                "a database already exists at {}; restore into a new one",
                target.display()
            );
        }
    }
    verify_backup(from, &manifest)?;

    // Files and key first: a database that names a file is only put in place once it is there.
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let root = config.attachments_dir();
    let mut bytes = 0;
    for entry in &manifest.files {
        copy_durably(
            &key_path(&from.join("files"), &entry.key)?,
            &key_path(&root, &entry.key)?,
        )?;
        bytes += entry.size;
    }
    if manifest.data_key_file {
        let dest = config.data_dir.join(KEY_FILE);
        copy_durably(&from.join(KEY_FILE), &dest)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot protect {}", dest.display()))?;
        }
    }

    let keys = if to_postgres {
        let url = config.database_url.clone();
        let dump = from.join(PG_FILE);
        let mut cmd = Command::new("pg_restore");
        cmd.arg("--no-owner")
            .arg("--no-privileges")
            .arg("--exit-on-error")
            .arg("--single-transaction")
            .arg("--dbname")
            .arg(&url)
            .arg(&dump);
        tokio::task::spawn_blocking(move || run_tool(cmd, "pg_restore"))
            .await
            .map_err(|e| anyhow!("pg_restore did not finish: {e}"))??;
        let mut conn = sqlx::PgConnection::connect(&config.database_url)
            .await
            .context("cannot reach the restored PostgreSQL database")?;
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(keys_query()))
            .fetch_all(&mut conn)
            .await
            .context("cannot read the file keys from the restored database")?;
        conn.close().await.ok();
        rows.into_iter().map(|(k,)| k).collect::<BTreeSet<_>>()
    } else {
        let target = sqlite_path(&config.database_url);
        copy_durably(&from.join(SQLITE_FILE), &target)?;
        let mut conn = open_sqlite(&target).await?;
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .context("cannot check the restored database")?;
        if check != "ok" {
            bail!("the restored database fails its integrity check: {check}");
        }
        let keys = sqlite_keys(&mut conn).await?;
        conn.close().await.ok();
        keys
    };
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.key.as_str()).collect();
    if let Some(missing) = keys.iter().find(|k| !listed.contains(k.as_str())) {
        bail!("the restored database names the file {missing}, which the backup does not hold");
    }
    Ok(Summary {
        backend: manifest.backend,
        files: manifest.files.len(),
        bytes,
    })
}

/// Refuses a PostgreSQL database that already has tables.
async fn pg_check_empty(url: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("cannot reach the target PostgreSQL database (create it first: createdb)")?;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn)
    .await
    .context("cannot inspect the target database")?;
    conn.close().await.ok();
    if tables > 0 {
        bail!("the target database is not empty ({tables} tables); restore into a new database");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file_with_or_without_the_scheme() {
        assert_eq!(
            sqlite_path("sqlite:///srv/data/outbound.db"),
            PathBuf::from("/srv/data/outbound.db")
        );
        assert_eq!(
            sqlite_path("sqlite:data/outbound.db?mode=rwc"),
            PathBuf::from("data/outbound.db")
        );
        assert_eq!(sqlite_path("outbound.db"), PathBuf::from("outbound.db"));
    }

    #[test]
    fn a_storage_key_from_the_database_cannot_leave_the_files_folder() {
        assert!(key_path(Path::new("/x"), "../../etc/passwd").is_err());
        assert_eq!(
            key_path(Path::new("/x"), "0123456789abcdef0123456789abcdef").unwrap(),
            PathBuf::from("/x/01/0123456789abcdef0123456789abcdef")
        );
    }

    #[tokio::test]
    async fn a_folder_without_a_manifest_is_never_restored() {
        let dir = std::env::temp_dir().join(format!("outbound-backup-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = read_manifest(&dir).unwrap_err().to_string();
        assert!(err.contains("not a finished backup"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }
}
