//! Command line and environment configuration of the `outbound` binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Outbound — the student outbound-exchange system (出国（境）交流管理系统).
#[derive(Debug, Parser)]
#[command(name = "outbound", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(StorageArgs),
    /// Copy the database, the attachment files and the data key into a new folder.
    Backup(BackupArgs),
    /// Put a backup into an empty data folder (and an empty PostgreSQL database).
    Restore(RestoreArgs),
    /// Benchmark data and the storage ceiling (bench/run).
    #[command(hide = true)]
    Generate(crate::generate::GenerateArgs),
}

/// Where the data lives; shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Folder for the SQLite database, attachments and the data key.
    #[arg(long, env = "OUTBOUND_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// A `postgres://` URL switches from the embedded SQLite to PostgreSQL.
    #[arg(long, env = "OUTBOUND_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "OUTBOUND_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Load the demo data set into an empty database.
    #[arg(long, env = "OUTBOUND_DEMO", default_value_t = false)]
    pub demo: bool,
}

/// `outbound backup --to DIR`: the data to copy, and where.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// A new or empty folder for the backup.
    #[arg(long)]
    pub to: PathBuf,
}

/// `outbound restore --from DIR`: the backup, and the empty data folder (and database) to fill.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// A folder written by `outbound backup`.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// The resolved configuration the application runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Send cookies with `Secure` (behind HTTPS in production).
    pub secure_cookies: bool,
    /// Base64 of the 32-byte personal-data key, when given by `OUTBOUND_DATA_KEY`.
    pub data_key: Option<String>,
}

impl Config {
    /// Resolves storage arguments: the default database is `data_dir/outbound.db`.
    pub fn from_storage(args: &StorageArgs) -> Config {
        let database_url = match &args.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => format!("sqlite://{}", args.data_dir.join("outbound.db").display()),
        };
        Config {
            data_dir: args.data_dir.clone(),
            database_url,
            secure_cookies: std::env::var("OUTBOUND_SECURE_COOKIES")
                .is_ok_and(|v| v == "1" || v == "true"),
            data_key: std::env::var("OUTBOUND_DATA_KEY")
                .ok()
                .filter(|k| !k.trim().is_empty()),
        }
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }
}
