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
    /// The office's name, as the footer, the announcements and the programs write it.
    pub office: OfficeName,
}

/// The name of the office that runs outbound exchanges, in Chinese and English: one name,
/// set by `OUTBOUND_OFFICE_NAME` and `OUTBOUND_OFFICE_NAME_EN`, written the same way on every
/// page (the footer), in the demo announcements and as the programs' 主办单位.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeName {
    pub zh: String,
    pub en: String,
}

impl OfficeName {
    /// The Chinese name when `OUTBOUND_OFFICE_NAME` is not set.
    pub const DEFAULT_ZH: &str = "国际交流与合作处";
    /// The English name when `OUTBOUND_OFFICE_NAME_EN` is not set.
    pub const DEFAULT_EN: &str = "Office of International Exchange and Cooperation";

    /// The names from the environment; an unset or blank variable keeps the default.
    pub fn from_env() -> OfficeName {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        OfficeName::new(var("OUTBOUND_OFFICE_NAME"), var("OUTBOUND_OFFICE_NAME_EN"))
    }

    /// The given names, each falling back to its default.
    pub fn new(zh: Option<String>, en: Option<String>) -> OfficeName {
        OfficeName {
            zh: zh.unwrap_or_else(|| Self::DEFAULT_ZH.to_owned()),
            en: en.unwrap_or_else(|| Self::DEFAULT_EN.to_owned()),
        }
    }

    /// The name in `lang`.
    pub fn pick(&self, lang: crate::i18n::Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl Default for OfficeName {
    fn default() -> Self {
        OfficeName::new(None, None)
    }
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
            office: OfficeName::from_env(),
        }
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }
}

#[cfg(test)]
mod tests {
    use super::OfficeName;
    use crate::i18n::Lang;

    #[test]
    fn the_office_name_falls_back_to_its_default_per_language() {
        let name = OfficeName::new(Some("某某大学国际处".into()), None);
        assert_eq!(name.pick(Lang::Zh), "某某大学国际处");
        assert_eq!(name.pick(Lang::En), OfficeName::DEFAULT_EN);
        assert_eq!(OfficeName::default().pick(Lang::Zh), OfficeName::DEFAULT_ZH);
    }

    /// Every file that could spell the office's full name, read from the source tree.
    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut todo = vec![
            root.join("i18n"),
            root.join("templates"),
            root.join("src"),
            root.join("static"),
            root.join("migrations"),
        ];
        let mut out = Vec::new();
        while let Some(path) = todo.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("readable folder") {
                    todo.push(entry.expect("folder entry").path());
                }
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((path, text));
            }
        }
        out
    }

    #[test]
    fn no_other_spelling_of_the_offices_name_remains() {
        // The full name, in every order the two words were written in; the short 国际处 is
        // the seed manuals' own word for the office as a role and stays.
        const SPELLINGS: [&str; 4] = [
            "国际交流合作处",
            "国际交流与合作处",
            "国际合作交流处",
            "国际合作与交流处",
        ];
        let this_file = std::path::Path::new(file!());
        let found: Vec<String> = sources()
            .into_iter()
            .filter(|(path, _)| !path.ends_with(this_file))
            .flat_map(|(path, text)| {
                SPELLINGS
                    .iter()
                    .filter(|s| text.contains(**s))
                    .map(|s| format!("{}: {s}", path.display()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(found.is_empty(), "spell it through OfficeName: {found:?}");
        assert!(
            crate::i18n::has_key("app.footer")
                && Lang::Zh.t("app.footer").starts_with("{}")
                && Lang::En.t("app.footer").starts_with("{}"),
            "the footer takes the configured name"
        );
    }
}
