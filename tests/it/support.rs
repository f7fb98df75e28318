//! The test harness: a real application on a fresh database of either backend, an in-process
//! client that keeps cookies and posts the CSRF token like a browser, and parsed responses.
//!
//! PostgreSQL tests create a database of their own on 127.0.0.1:5432 and drop it afterwards.
//! Outside CI a missing PostgreSQL skips those tests loudly; in CI it fails them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use outbound::config::{Config, OfficeName};
use outbound::web::{self, AppState};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The office's name in [`TestApp::with_demo_office`]: like no default.
pub static TEST_OFFICE: std::sync::LazyLock<OfficeName> = std::sync::LazyLock::new(|| {
    OfficeName::new(
        Some("测试大学全球合作办公室".into()),
        Some("Test University Global Engagement Office".into()),
    )
});

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A running application on a fresh database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub dir: PathBuf,
    pg_db: Option<String>,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>())
}

/// Drops test databases left by earlier runs that died before `finish` (their process is gone).
async fn drop_orphans(admin: &sqlx::PgPool) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let names: Vec<(String,)> =
            sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'outbound_t_%'")
                .fetch_all(admin)
                .await
                .unwrap_or_default();
        for (name,) in names {
            let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| {
                p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
            }) {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(admin)
                .await
                .ok();
            }
        }
    })
    .await;
}

async fn pg_admin() -> Option<sqlx::PgPool> {
    match sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(PG_ADMIN)
        .await
    {
        Ok(pool) => Some(pool),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("PostgreSQL at 127.0.0.1:5432 is required in CI: {e}");
            }
            eprintln!(
                "\n!!! SKIPPED a PostgreSQL test: no PostgreSQL at 127.0.0.1:5432 ({e}) !!!\n"
            );
            None
        }
    }
}

impl TestApp {
    /// A fresh, migrated, empty database (reference data only). `None` = PostgreSQL skipped.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, OfficeName::default()).await
    }

    /// The same, with the office configured as `office` (`OUTBOUND_OFFICE_NAME[_EN]`).
    pub async fn spawn_with(backend: Backend, office: OfficeName) -> Option<TestApp> {
        let dir = std::env::temp_dir().join(unique("outbound-test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (url, pg_db) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.join("outbound.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = pg_admin().await?;
                drop_orphans(&admin).await;
                let name = unique("outbound_t");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                (
                    format!("postgres://postgres@127.0.0.1:5432/{name}"),
                    Some(name),
                )
            }
        };
        let config = Config {
            data_dir: dir.clone(),
            database_url: url,
            secure_cookies: false,
            data_key: None,
            office,
        };
        let state = web::server::open(&config)
            .await
            .expect("open the application");
        let router = web::router(state.clone());
        Some(TestApp {
            state,
            router,
            dir,
            pg_db,
        })
    }

    /// The same with the demo data set loaded.
    pub async fn with_demo(backend: Backend) -> Option<TestApp> {
        let app = TestApp::spawn(backend).await?;
        outbound::demo::load(&app.state.db, &app.state.key, &app.state.storage)
            .await
            .expect("demo data loads");
        Some(app)
    }

    /// The demo data set on an application whose office is configured as [`TEST_OFFICE`].
    pub async fn with_demo_office(backend: Backend) -> Option<TestApp> {
        let app = TestApp::spawn_with(backend, TEST_OFFICE.clone()).await?;
        let office = &app.state.config.office;
        outbound::demo::load_for(&app.state.db, &app.state.key, &app.state.storage, office)
            .await
            .expect("demo data loads");
        Some(app)
    }

    /// A browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            peer: "127.0.0.1:40000".parse().unwrap(),
        }
    }

    /// A client signed in as `username` (who has changed the initial password).
    pub async fn signed_in(&self, username: &str, password: &str) -> Client {
        let mut c = self.client();
        c.login(username, password).await;
        c
    }

    /// Serves the app on a real socket (port 0); returns its address.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(outbound::web::server::serve_on(
            listener,
            self.router.clone(),
            outbound::web::server::Timeouts::default(),
            std::future::pending(),
        ));
        addr
    }

    /// Drops the database and the data folder.
    pub async fn finish(mut self) {
        self.state.db.close().await;
        if let Some(name) = self.pg_db.take()
            && let Some(admin) = pg_admin().await
        {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await
            .ok();
            admin.close().await;
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

impl Drop for TestApp {
    /// A test that panicked never reaches `finish`: at least its folder goes (its PostgreSQL
    /// database is dropped by the next run, see `drop_orphans`).
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// Runs the body against SQLite and against PostgreSQL, as two tests named `sqlite` and
/// `postgres` inside a module named after the rule.
#[macro_export]
macro_rules! both {
    ($name:ident, $setup:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some($app) = $crate::support::TestApp::$setup($crate::support::Backend::Sqlite).await else { return };
                $body
                $app.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = $crate::support::TestApp::$setup($crate::support::Backend::Postgres).await else { return };
                $body
                $app.finish().await;
            }
        }
    };
}

/// The integer column of every row `sql` returns.
pub async fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    let q = sqlx::AssertSqlSafe(sql.to_owned());
    let rows: Vec<(i64,)> = match &app.state.db {
        outbound::db::Db::Sqlite(pool) => sqlx::query_as(q).fetch_all(pool).await,
        outbound::db::Db::Postgres(pool) => sqlx::query_as(q).fetch_all(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|(i,)| i).collect()
}

/// An in-process client that keeps cookies and sends the CSRF token with every form.
#[derive(Clone)]
pub struct Client {
    router: Router,
    pub cookies: HashMap<String, String>,
    peer: SocketAddr,
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.text())
    }
    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
    /// Texts of the elements matching a CSS selector.
    pub fn select(&self, css: &str) -> Vec<String> {
        let sel = scraper::Selector::parse(css).expect("valid selector");
        self.html()
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

impl Client {
    pub fn csrf(&self) -> String {
        self.cookies
            .get(outbound::auth::csrf::COOKIE)
            .cloned()
            .unwrap_or_default()
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: Request<Body>) -> Resp {
        let mut req = req;
        req.headers_mut()
            .insert(header::HOST, "localhost".parse().unwrap());
        if !self.cookies.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, self.cookie_header().parse().unwrap());
        }
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap_or_default();
            let pair = v.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), val.to_owned());
                }
            }
        }
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        if self.csrf().is_empty() {
            // Like a browser, pick up the CSRF cookie from a first page.
            let req = Request::get("/login").body(Body::empty()).unwrap();
            self.send(req).await;
        }
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    /// Posts a form with the CSRF token added.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        if self.csrf().is_empty() {
            self.get("/login").await;
        }
        let token = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).unwrap();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Posts a form without any CSRF token (attack tests).
    pub async fn post_without_token(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Uploads files as `multipart/form-data` (field `file`), token in the header.
    pub async fn upload(&mut self, path: &str, files: &[(&str, &[u8])]) -> Resp {
        let boundary = "----outboundtestboundary7MA4YWxk";
        let mut body = Vec::new();
        for (name, bytes) in files {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("x-csrf-token", self.csrf())
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Signs in through the sign-in form; panics when it fails.
    pub async fn login(&mut self, username: &str, password: &str) {
        let r = self
            .post("/login", &[("username", username), ("password", password)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in as {username} failed: {}",
            r.text()
        );
    }
}

/// A small valid PDF.
pub fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}
