//! Starting the system: check the data folder, reach the database, migrate, optionally load the
//! demo data, then listen. Every failure here is one clear line for the operator.

use std::path::Path;

use anyhow::{Context, bail};
use tokio::net::TcpListener;

use super::{AppState, router};
use crate::auth::csrf::CsrfKey;
use crate::config::{Config, ServeArgs};
use crate::crypto::DataKey;
use crate::db::{Db, migrate};
use crate::storage::Storage;

/// Makes sure `dir` exists and is writable.
fn check_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok")
        .with_context(|| format!("the data folder {} is not writable", dir.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
}

/// The CSRF signing secret: derived from the data key so that it survives restarts.
fn csrf_key(key: &DataKey) -> CsrfKey {
    let digest = key.lookup_hash("outbound csrf secret v1");
    let mut secret = [0u8; 32];
    if let Ok(bytes) = hex::decode(digest) {
        secret.copy_from_slice(&bytes[..32]);
    }
    CsrfKey::new(secret)
}

/// Connects, migrates and assembles the application state for `config`.
pub async fn open(config: &Config) -> anyhow::Result<AppState> {
    check_data_dir(&config.data_dir)?;
    let key = match &config.data_key {
        Some(k) => DataKey::from_base64(k).context("OUTBOUND_DATA_KEY")?,
        None => DataKey::load_or_create(&config.data_dir)?,
    };
    let db = Db::connect(&config.database_url).await.with_context(|| {
        format!(
            "cannot reach the database at {}",
            redact(&config.database_url)
        )
    })?;
    migrate::run(&db)
        .await
        .context("cannot migrate the database")?;
    let storage = Storage::local(config.attachments_dir())?;
    storage.clean_temporaries()?;
    Ok(AppState::new(
        db,
        storage,
        key.clone(),
        csrf_key(&key),
        config.clone(),
    ))
}

/// Hides a password in a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `outbound migrate`.
pub async fn migrate_only(config: &Config) -> anyhow::Result<()> {
    check_data_dir(&config.data_dir)?;
    let db = Db::connect(&config.database_url).await.with_context(|| {
        format!(
            "cannot reach the database at {}",
            redact(&config.database_url)
        )
    })?;
    let ran = migrate::run(&db)
        .await
        .context("cannot migrate the database")?;
    println!(
        "database at schema version {} ({ran} migration(s) applied)",
        migrate::LATEST
    );
    Ok(())
}

/// `outbound serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_storage(&args.storage);
    let state = open(&config).await?;
    if args.demo {
        match crate::demo::load(&state.db, &state.key, &state.storage).await? {
            crate::demo::Outcome::Loaded => println!("demo data loaded (accounts: see README)"),
            crate::demo::Outcome::AlreadyLoaded => println!("demo data already loaded"),
            crate::demo::Outcome::Refused => bail!(
                "--demo refuses to load into a database that already holds other data; use an empty --data-dir"
            ),
        }
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is the port in use?)", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Outbound is running at http://{addr}/");
    let app = router(state.clone());
    let purge = tokio::spawn(purge_sessions(state.clone()));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    purge.abort();
    state.db.close().await;
    Ok(())
}

async fn purge_sessions(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        every.tick().await;
        if let Err(e) = crate::auth::session::purge_expired(&state.db).await {
            tracing::warn!(error = %e, "session purge failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_password_is_never_printed() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("sqlite://data/outbound.db"),
            "sqlite://data/outbound.db"
        );
    }
}
