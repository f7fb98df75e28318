//! Starting the system: check the data folder, reach the database, migrate, optionally load the
//! demo data, then listen. Every failure here is one clear line for the operator.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

use super::slow_body::{BodyRate, MinRate};
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
    db.settle_predecessors(Duration::from_secs(30))
        .await
        .context("cannot read the database's open transactions")?;
    crate::services::attachments::remove_orphans(&db, &storage)
        .await
        .context("cannot remove attachment files left by a crash")?;
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
        let office = &state.config.office;
        match crate::demo::load_for(&state.db, &state.key, &state.storage, office).await? {
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
    let reminders = tokio::spawn(send_reminders(state.clone()));
    serve_on(listener, app, Timeouts::default(), shutdown_signal()).await;
    purge.abort();
    reminders.abort();
    state.db.close().await;
    Ok(())
}

/// The limits that keep slow or idle clients from holding connections.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// A request's line and headers must arrive whole within this time. The same clock runs
    /// while a kept-alive connection waits for its next request, so it is also the idle limit.
    pub header_read: Duration,
    /// HTTP/2: the interval of PING frames and how long their answer may take before the
    /// connection is closed.
    pub keep_alive: Duration,
    /// On shutdown, how long open requests may take to finish.
    pub grace: Duration,
    /// How slowly a request body may arrive (see [`super::slow_body`]).
    pub body: BodyRate,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            header_read: Duration::from_secs(10),
            keep_alive: Duration::from_secs(20),
            grace: Duration::from_secs(30),
            body: BodyRate::default(),
        }
    }
}

/// Serves `app` on `listener` (HTTP/1.1 and HTTP/2) until `shutdown` completes, then lets open
/// requests finish for up to `timeouts.grace`. Unlike `axum::serve`, a client that sends its
/// headers too slowly, trickles its body, or keeps an idle connection open, is disconnected.
pub async fn serve_on(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(timeouts.keep_alive)
        .keep_alive_timeout(timeouts.keep_alive);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        stream.set_nodelay(true).ok();
        let body_rate = timeouts.body;
        let service = match make.call(peer).await {
            Ok(service) => {
                TowerToHyperService::new(service.map_request(move |request: Request<Incoming>| {
                    request.map(|body| Body::new(MinRate::new(body, body_rate)))
                }))
            }
            Err(never) => match never {},
        };
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(timeouts.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("open requests did not finish within the grace period");
    }
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

/// The reminder job: once at start-up (catching up on a day the server was down), then every
/// hour; each reminder is keyed by its day, so running more often than daily sends nothing twice
/// and a reminder due today goes out within the hour.
async fn send_reminders(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match crate::services::after_admission::run_reminders(&state.db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "reminders sent"),
            Err(e) => tracing::warn!(error = %e, "the reminder job failed"),
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
