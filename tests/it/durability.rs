//! Durability: backup and restore compared row by row and byte by byte, fifty reviewers
//! deciding one application at once, and the real binary killed with SIGKILL while students
//! submit — every acknowledged submission and upload must be there, whole, after a restart.
//!
//! The crash test is short in the suite (2 cycles of 20 clients); the full run is
//! `OUTBOUND_CRASH_CYCLES=100 OUTBOUND_CRASH_CLIENTS=200 cargo nextest run --test it crash`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use outbound::config::Config;
use outbound::db::Db;
use outbound::db::applications as apps;
use outbound::services::ServiceError;
use outbound::services::audit::Who;
use outbound::services::review::{self, Decision, Reviewer};
use sea_query::{Expr, ExprTrait, Query};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Column, Row};

use crate::both;
use crate::support::pdf_bytes;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_STUDENT: &str = "2023010101";
const PASSWORD: &str = "Demo@2026";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn temp_dir(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

/// A fresh PostgreSQL database; `None` when PostgreSQL is not reachable outside CI.
async fn pg_create() -> Option<(String, String)> {
    let admin = match sqlx::PgPool::connect(PG_ADMIN).await {
        Ok(a) => a,
        Err(e) => {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                "PostgreSQL is required in CI: {e}"
            );
            eprintln!("\n!!! SKIPPED a PostgreSQL test: {e} !!!\n");
            return None;
        }
    };
    let name = format!(
        "outbound_t_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    Some((format!("postgres://postgres@127.0.0.1:5432/{name}"), name))
}

async fn pg_drop(name: &str) {
    if let Ok(admin) = sqlx::PgPool::connect(PG_ADMIN).await {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .ok();
        admin.close().await;
    }
}

// ---------------------------------------------------------------------------------------------
// A real HTTP client (the crash test talks to a separate process).

/// A JSON/multipart client over a real socket, with its own cookie jar and CSRF token.
#[derive(Clone)]
struct Net {
    base: String,
    http: HyperClient<HttpConnector, Body>,
    cookies: HashMap<String, String>,
    csrf: String,
}

/// A response read whole.
struct NetResp {
    status: StatusCode,
    body: Vec<u8>,
}

impl NetResp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Net {
    fn new(addr: SocketAddr) -> Net {
        Net {
            base: format!("http://{addr}"),
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    /// Sends one request; `Err` when the server is gone (killed) or the exchange broke.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        extra: &[(&str, &str)],
    ) -> Result<NetResp, String> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(header::COOKIE, jar);
        }
        if method != Method::GET {
            req = req.header("x-csrf-token", self.csrf.clone());
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some((content_type, bytes)) => req
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(bytes)),
            None => req.body(Body::empty()),
        }
        .map_err(|e| e.to_string())?;
        let res = tokio::time::timeout(Duration::from_secs(120), self.http.request(req))
            .await
            .map_err(|_| "timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap_or_default();
            if let Some((k, val)) = v.split(';').next().unwrap_or_default().split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), val.to_owned());
                }
            }
        }
        // Signing in renews the token: like a phone app, always send the cookie's.
        if let Some(token) = self.cookies.get(outbound::auth::csrf::COOKIE) {
            self.csrf = token.clone();
        }
        let status = res.status();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        Ok(NetResp { status, body })
    }

    async fn get(&mut self, path: &str) -> Result<NetResp, String> {
        self.send(Method::GET, path, None, &[]).await
    }

    async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: Value,
        extra: &[(&str, &str)],
    ) -> Result<NetResp, String> {
        let bytes = body.to_string().into_bytes();
        self.send(
            method,
            path,
            Some(("application/json".into(), bytes)),
            extra,
        )
        .await
    }

    async fn upload(&mut self, path: &str, name: &str, bytes: &[u8]) -> Result<NetResp, String> {
        let boundary = "----outbounddurability0b7c";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send(
            Method::POST,
            path,
            Some((format!("multipart/form-data; boundary={boundary}"), body)),
            &[],
        )
        .await
    }

    /// Takes a CSRF token and signs in through the API.
    async fn sign_in(&mut self, username: &str) -> Result<(), String> {
        let r = self.get("/api/v1/csrf").await?;
        self.csrf = r.json()["csrf_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let r = self
            .json(
                Method::POST,
                "/api/v1/session",
                json!({ "username": username, "password": PASSWORD }),
                &[],
            )
            .await?;
        if r.status != StatusCode::OK {
            return Err(format!("sign-in as {username}: {} {}", r.status, r.text()));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Backup and restore.

/// Every base table of the database.
async fn tables(db: &Db) -> Vec<String> {
    let names: Vec<(String,)> = match db {
        Db::Sqlite(p) => sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Db::Postgres(p) => sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    names.into_iter().map(|(n,)| n).collect()
}

async fn row_counts(db: &Db) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for t in tables(db).await {
        let n = db
            .count(
                &Query::select()
                    .expr(Expr::cust("COUNT(*)"))
                    .from(t.clone())
                    .to_owned(),
            )
            .await
            .unwrap();
        counts.insert(t, n);
    }
    counts
}

/// Every application row, in id order, as text.
async fn application_rows(db: &Db) -> Vec<String> {
    let ids: Vec<(i64,)> = db
        .all(
            &Query::select()
                .column("id")
                .from("applications")
                .order_by("id", sea_query::Order::Asc)
                .to_owned(),
        )
        .await
        .unwrap();
    let mut rows = Vec::new();
    for (id,) in ids {
        rows.push(format!("{:?}", apps::by_id(db, id).await.unwrap().unwrap()));
    }
    rows
}

/// Every attachment: (application, attachment id, storage key, recorded sha256).
async fn attachment_rows(db: &Db) -> Vec<(i64, i64, String, String)> {
    db.all(
        &Query::select()
            .columns(["application_id", "id", "storage_key", "sha256"])
            .from("attachments")
            .order_by("id", sea_query::Order::Asc)
            .to_owned(),
    )
    .await
    .unwrap()
}

both!(
    a_restored_backup_has_every_row_and_every_file_byte_identical,
    with_demo,
    |app| {
        // Arrange: a student with uploaded files (the demo set stores none), one of them unique.
        let mut c = app.signed_in(TEMPLATE_STUDENT, PASSWORD).await;
        let program = crate::journey::open_program(&app).await;
        let id = crate::journey::start(&mut c, program).await;
        crate::journey::fill(&mut c, id, "560", usize::MAX).await;
        let mut unique = pdf_bytes();
        unique.extend_from_slice(format!("% backup {}\n", rand::random::<u64>()).as_bytes());
        let first_type = attachment_rows(&app.state.db).await[0].clone();
        let own: Option<(i64,)> = app
            .state
            .db
            .all(
                &Query::select()
                    .column("attachment_type_id")
                    .from("attachments")
                    .and_where(Expr::col("id").eq(first_type.1))
                    .to_owned(),
            )
            .await
            .unwrap()
            .into_iter()
            .next();
        let r = c
            .upload(
                &format!("/applications/{id}/attachments?type={}", own.unwrap().0),
                &[("成绩单.pdf", &unique)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        crate::journey::submit(&mut c, id).await;
        let source = &app.state.config;

        // Act: back up, then restore into a new folder (and a new PostgreSQL database).
        let backup_dir = temp_dir("outbound-backup");
        let summary = outbound::backup::backup(source, &backup_dir)
            .await
            .expect("backup");
        let files = attachment_rows(&app.state.db).await;
        assert_eq!(summary.files, files.len());
        assert!(files.len() >= 3, "{files:?}");
        // A second backup into the same folder is refused, with one clear line.
        let again = outbound::backup::backup(source, &backup_dir)
            .await
            .unwrap_err()
            .to_string();
        assert!(again.contains("not empty"), "{again}");

        let target_dir = temp_dir("outbound-restored");
        let pg = if source.database_url.starts_with("postgres") {
            Some(pg_create().await.expect("PostgreSQL for the restore"))
        } else {
            None
        };
        let target = Config {
            data_dir: target_dir.clone(),
            database_url: pg.as_ref().map_or_else(
                || format!("sqlite://{}", target_dir.join("outbound.db").display()),
                |(url, _)| url.clone(),
            ),
            secure_cookies: false,
            data_key: None,
            office: Default::default(),
        };
        outbound::backup::restore(&backup_dir, &target)
            .await
            .expect("restore");
        // The filled target is now refused.
        let refused = outbound::backup::restore(&backup_dir, &target)
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("not empty"), "{refused}");

        // Assert: the same rows, the same files, and a server that works on them.
        let restored = outbound::web::server::open(&target)
            .await
            .expect("open the restored data");
        assert_eq!(
            row_counts(&restored.db).await,
            row_counts(&app.state.db).await
        );
        assert_eq!(
            application_rows(&restored.db).await,
            application_rows(&app.state.db).await
        );
        assert_eq!(attachment_rows(&restored.db).await, files);
        for (_, _, key, recorded) in &files {
            let original = app.state.storage.get(key).await.unwrap();
            let copy = restored.storage.get(key).await.unwrap();
            assert_eq!(sha256(&copy), *recorded);
            assert_eq!(copy, original);
        }
        assert_eq!(restored.storage.keys().unwrap().len(), files.len());

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = outbound::web::router(restored.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, router).await.ok() });
        let mut net = Net::new(addr);
        net.sign_in(TEMPLATE_STUDENT).await.expect("sign-in");
        let listed = net
            .get(&format!("/api/v1/applications/{id}"))
            .await
            .unwrap();
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
        assert_eq!(listed.json()["status"], "under_review");
        let (_, unique_id, _, _) = files
            .iter()
            .find(|f| f.3 == sha256(&unique))
            .expect("the unique upload")
            .clone();
        let download = net
            .get(&format!(
                "/api/v1/applications/{id}/attachments/{unique_id}"
            ))
            .await
            .unwrap();
        assert_eq!(download.status, StatusCode::OK);
        assert_eq!(download.body, unique, "downloaded byte-identical");

        server.abort();
        restored.db.close().await;
        if let Some((_, name)) = pg {
            pg_drop(&name).await;
        }
        std::fs::remove_dir_all(&backup_dir).ok();
        std::fs::remove_dir_all(&target_dir).ok();
    }
);

// ---------------------------------------------------------------------------------------------
// Fifty reviewers at once.

async fn reviewer_of(db: &Db, username: &str) -> (Reviewer, Who) {
    let user = outbound::db::users::by_username(db, username)
        .await
        .unwrap()
        .unwrap();
    let roles = outbound::db::users::roles(db, user.id).await.unwrap();
    let colleges = outbound::db::users::reviewer_colleges(db, user.id)
        .await
        .unwrap();
    (
        Reviewer {
            user_id: user.id,
            roles: roles.0,
            college_ids: colleges,
        },
        Who::user(user.id, user.display_name),
    )
}

both!(
    fifty_simultaneous_decisions_change_the_state_once_and_the_rest_get_409,
    with_demo,
    |app| {
        let db = &app.state.db;
        let ids: Vec<(i64,)> = db
            .all(
                &Query::select()
                    .column(("a", "id"))
                    .from_as("applications", "a")
                    .inner_join(
                        "users",
                        Expr::col(("users", "id")).equals(("a", "student_id")),
                    )
                    .and_where(Expr::col(("users", "username")).eq("2024010207"))
                    .order_by(("a", "id"), sea_query::Order::Desc)
                    .to_owned(),
            )
            .await
            .unwrap();
        let id = ids[0].0;
        let before = apps::by_id(db, id).await.unwrap().unwrap();
        let history_before = apps::history(db, id).await.unwrap().len();
        let (reviewer, who) = reviewer_of(db, "wxy_reviewer").await;

        let start = Arc::new(tokio::sync::Barrier::new(50));
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (db, reviewer, who, start) =
                (db.clone(), reviewer.clone(), who.clone(), start.clone());
            let decision = if i % 2 == 0 {
                Decision::Approve
            } else {
                Decision::Reject
            };
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                review::decide(
                    &db,
                    &who,
                    &reviewer,
                    id,
                    before.version,
                    decision,
                    "同时审核",
                )
                .await
            }));
        }
        let (mut won, mut conflicts) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => won += 1,
                Err(ServiceError::Conflict(k)) => {
                    assert_eq!(k, "error.409");
                    conflicts += 1;
                }
                Err(e) => panic!("a loser gets 409, not {e:?}"),
            }
        }
        assert_eq!((won, conflicts), (1, 49));
        let after = apps::by_id(db, id).await.unwrap().unwrap();
        assert_eq!(after.version, before.version + 1, "one state change");
        let history = apps::history(db, id).await.unwrap();
        assert_eq!(history.len(), history_before + 1, "one history row");
        assert_eq!(
            history
                .iter()
                .filter(|h| h.action == "approve" || h.action == "reject")
                .count(),
            1
        );
    }
);

// ---------------------------------------------------------------------------------------------
// kill -9 while students submit.

/// The real binary, serving on a port the system chose.
struct Server {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_outbound"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--demo")
            .env_remove("OUTBOUND_DATA_KEY")
            .env_remove("OUTBOUND_DATABASE_URL")
            .env("RUST_LOG", "outbound=warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        if let Some(url) = database_url {
            cmd.arg("--database-url").arg(url);
        }
        let mut child = cmd.spawn().expect("start the outbound binary");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the address, then keeps draining so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("running at http://").nth(1) {
                    tx.send(rest.trim_end_matches('/').to_owned()).ok();
                } else if line.contains("WARN") || line.contains("ERROR") {
                    eprintln!("server: {line}");
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a.parse().expect("an address"),
            Err(_) => {
                child.kill().ok();
                panic!("the server did not start within 120 s");
            }
        };
        Server { child, addr }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    fn kill_9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Copies the demo student with a complete profile into `count` new students.
async fn generate_students(db: &Db, prefix: &str, count: usize) -> Vec<String> {
    let template = outbound::db::users::by_username(db, TEMPLATE_STUDENT)
        .await
        .unwrap()
        .expect("the demo student");
    let sample = match db {
        Db::Sqlite(p) => sqlx::query("SELECT * FROM students LIMIT 1")
            .fetch_one(p)
            .await
            .unwrap()
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect::<Vec<_>>(),
        Db::Postgres(p) => sqlx::query("SELECT * FROM students LIMIT 1")
            .fetch_one(p)
            .await
            .unwrap()
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect::<Vec<_>>(),
    };
    let copied: Vec<&str> = sample
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "user_id" && *c != "student_no")
        .collect();
    let mut names = Vec::with_capacity(count);
    let mut tx = db.begin().await.unwrap();
    for i in 0..count {
        let no = format!("{prefix}{i:05}");
        let new_id = format!("(SELECT id FROM users WHERE username = '{no}')");
        let t = template.id;
        let sql = format!(
            "INSERT INTO users (username, display_name, password_hash, must_change_password, failed_logins, active, created_at) \
             SELECT '{no}', display_name, password_hash, FALSE, 0, active, created_at FROM users WHERE id = {t};\n\
             INSERT INTO user_roles (user_id, role) SELECT {new_id}, role FROM user_roles WHERE user_id = {t};\n\
             INSERT INTO students (user_id, student_no, {cols}) SELECT {new_id}, '{no}', {cols} FROM students WHERE user_id = {t};\n\
             INSERT INTO study_records (user_id, start_date, end_date, school, address, degree) \
             SELECT {new_id}, start_date, end_date, school, address, degree FROM study_records WHERE user_id = {t};",
            cols = copied.join(", ")
        );
        tx.execute_raw(&sql).await.unwrap();
        names.push(no);
    }
    tx.commit().await.unwrap();
    names
}

/// What every client needs to fill an application: found once through the API.
#[derive(Debug, Clone)]
struct Plan {
    program: i64,
    schools: Vec<i64>,
    funding: String,
    language: String,
    exam: String,
    /// The attachment types of the two uploads.
    uploads: [i64; 2],
}

async fn plan(net: &mut Net) -> Plan {
    let page = net
        .get("/api/v1/programs?open_only=true&per_page=100")
        .await
        .unwrap()
        .json();
    let first = |r: NetResp| {
        r.json()["items"][0]["code"]
            .as_str()
            .expect("a code")
            .to_owned()
    };
    let funding = first(
        net.get("/api/v1/dictionaries/funding_source")
            .await
            .unwrap(),
    );
    let language = first(net.get("/api/v1/dictionaries/language").await.unwrap());
    let exam = first(net.get("/api/v1/dictionaries/exam_type").await.unwrap());
    for item in page["items"].as_array().expect("items") {
        if item["eligibility"]["can_apply"] != json!(true) {
            continue;
        }
        let id = item["id"].as_i64().expect("id");
        let detail = net
            .get(&format!("/api/v1/programs/{id}"))
            .await
            .unwrap()
            .json();
        let required: Vec<i64> = detail["attachment_types"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter(|t| t["required"] == json!(true))
                    .filter_map(|t| t["id"].as_i64())
                    .collect()
            })
            .unwrap_or_default();
        let schools: Vec<i64> = detail["schools"]
            .as_array()
            .map(|s| s.iter().filter_map(|s| s["id"].as_i64()).collect())
            .unwrap_or_default();
        if required.len() == 2 && schools.len() >= 2 {
            return Plan {
                program: id,
                schools,
                funding,
                language,
                exam,
                uploads: [required[0], required[1]],
            };
        }
    }
    panic!("the demo set has an open program with two required attachments: {page}");
}

/// What the server acknowledged.
#[derive(Debug, Default, Clone)]
struct Acks {
    /// application id → (student, sha256 of its two uploads), for each 200 to a submit.
    submitted: BTreeMap<i64, (String, Vec<String>)>,
    /// attachment id → sha256, for each 201 to an upload.
    uploads: BTreeMap<i64, String>,
    /// Requests that got a response other than the one expected (must stay empty).
    unexpected: Vec<String>,
}

/// A PDF of random size with a unique body.
fn random_pdf(tag: &str) -> Vec<u8> {
    let mut bytes = pdf_bytes();
    let filler = (rand::random::<u32>() % 192 + 8) as usize * 1024;
    bytes.extend_from_slice(format!("% {tag}\n% ").as_bytes());
    let mut noise = vec![0u8; filler / 2];
    rand::Rng::fill(&mut rand::thread_rng(), &mut noise[..]);
    bytes.extend_from_slice(hex::encode(noise).as_bytes());
    bytes.extend_from_slice(b"\n");
    bytes
}

/// One student's whole application; stops quietly at the first broken connection.
/// `r` if the server answered `want`; `None` if it is gone (killed) or answered otherwise,
/// which is recorded as unexpected with `what`.
fn answered(
    acks: &Mutex<Acks>,
    what: &str,
    want: StatusCode,
    r: Result<NetResp, String>,
) -> Option<NetResp> {
    let r = r.ok()?;
    if r.status != want {
        acks.lock()
            .unwrap()
            .unexpected
            .push(format!("{what}: {} {}", r.status, r.text()));
        return None;
    }
    Some(r)
}

async fn apply_once(addr: SocketAddr, student: &str, plan: &Plan, acks: &Mutex<Acks>) -> bool {
    let mut net = Net::new(addr);
    if net.sign_in(student).await.is_err() {
        return false;
    }
    let Some(r) = answered(
        acks,
        &format!("start {student}"),
        StatusCode::CREATED,
        net.json(
            Method::POST,
            &format!("/api/v1/programs/{}/applications", plan.program),
            json!({ "commitment": true }),
            &[],
        )
        .await,
    ) else {
        return false;
    };
    let id = r.json()["id"].as_i64().expect("id");
    let Ok(r) = net.get(&format!("/api/v1/applications/{id}")).await else {
        return false;
    };
    let version = r.json()["version"].as_i64().unwrap_or_default();
    let info = json!({
        "version": version,
        "choice_1": plan.schools[0],
        "choice_2": plan.schools[1].to_string(),
        "exchange_from": "2027-02-15",
        "exchange_to": "2027-06-30",
        "exchange_duration": "一学期",
        "depart_date": "2027-02-10",
        "return_date": "2027-07-05",
        "gpa": 3.6,
        "weighted_avg": "88.5",
        "one_china_issue": "no",
        "has_passport": "no",
        "emergency_relation": "母亲",
        "emergency_name": "王丽",
        "emergency_phone": "13700001111",
        "funding_round_trip": plan.funding,
        "funding_accommodation": plan.funding,
        "funding_meals": plan.funding,
        "funding_intercity": plan.funding,
        "funding_registration": plan.funding,
        "funding_tuition": plan.funding,
    });
    let Some(_) = answered(
        acks,
        &format!("info {student}"),
        StatusCode::OK,
        net.json(
            Method::PUT,
            &format!("/api/v1/applications/{id}/info"),
            info,
            &[],
        )
        .await,
    ) else {
        return false;
    };
    let Some(_) = answered(
        acks,
        &format!("languages {student}"),
        StatusCode::CREATED,
        net
            .json(
                Method::POST,
                &format!("/api/v1/applications/{id}/languages"),
                json!({ "language": plan.language, "exam_type": plan.exam, "score": "560", "exam_date": "2026-06-15" }),
                &[],
            )
            .await,
    ) else {
        return false;
    };
    let mut hashes = Vec::new();
    for (n, type_id) in plan.uploads.iter().enumerate() {
        let bytes = random_pdf(&format!("{student} {n}"));
        let Some(r) = answered(
            acks,
            &format!("upload {student}"),
            StatusCode::CREATED,
            net.upload(
                &format!("/api/v1/applications/{id}/attachments?type={type_id}"),
                "成绩单.pdf",
                &bytes,
            )
            .await,
        ) else {
            return false;
        };
        let file = r.json()["id"].as_i64().expect("attachment id");
        acks.lock().unwrap().uploads.insert(file, sha256(&bytes));
        hashes.push(sha256(&bytes));
    }
    let Ok(r) = net.get(&format!("/api/v1/applications/{id}")).await else {
        return false;
    };
    let version = r.json()["version"].as_i64().unwrap_or_default();
    let key = format!("crash-{student}");
    let Some(_) = answered(
        acks,
        &format!("submit {student}"),
        StatusCode::OK,
        net.json(
            Method::POST,
            &format!("/api/v1/applications/{id}/submit"),
            json!({ "version": version }),
            &[("idempotency-key", &key)],
        )
        .await,
    ) else {
        return false;
    };
    hashes.sort();
    acks.lock()
        .unwrap()
        .submitted
        .insert(id, (student.to_owned(), hashes));
    true
}

/// Checks the data after a restart against everything acknowledged so far.
async fn verify(db: &Db, files_root: &Path, acks: &Acks, cycle: usize) {
    if let Db::Sqlite(p) = db {
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(p)
            .await
            .unwrap();
        assert_eq!(check, "ok", "cycle {cycle}: integrity_check");
    }
    assert!(
        acks.unexpected.is_empty(),
        "cycle {cycle}: unexpected answers: {:?}",
        acks.unexpected
    );
    let rows = attachment_rows(db).await;
    let by_id: HashMap<i64, &(i64, i64, String, String)> = rows.iter().map(|r| (r.1, r)).collect();

    // Every acknowledged upload and submission is there, whole.
    for (file, sha) in &acks.uploads {
        let row = by_id
            .get(file)
            .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged upload {file} is lost"));
        assert_eq!(&row.3, sha, "cycle {cycle}: upload {file} changed");
    }
    for (id, (student, hashes)) in &acks.submitted {
        let app = apps::by_id(db, *id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged application {id} is lost"));
        assert_eq!(
            app.status().code(),
            "under_review",
            "cycle {cycle}: application {id} of {student}"
        );
        let mut stored: Vec<String> = rows
            .iter()
            .filter(|r| r.0 == *id)
            .map(|r| r.3.clone())
            .collect();
        stored.sort();
        assert_eq!(&stored, hashes, "cycle {cycle}: files of application {id}");
    }

    // Nothing half-written: every submitted application has its one submit in the history.
    let submitted: Vec<(i64, i64)> = db
        .all(
            &Query::select()
                .column(("a", "id"))
                .expr(Expr::cust(
                    "(SELECT COUNT(*) FROM application_history h WHERE h.application_id = a.id AND h.action = 'submit')",
                ))
                .from_as("applications", "a")
                .and_where(Expr::col(("a", "status")).eq("under_review"))
                .to_owned(),
        )
        .await
        .unwrap();
    for (id, submits) in submitted {
        assert!(
            submits >= 1,
            "cycle {cycle}: application {id} is under review without its submit"
        );
    }

    // Every row has its file with the recorded hash, and every file has its row.
    let mut referenced = BTreeSet::new();
    for (_, file, key, sha) in &rows {
        let path = files_root.join(&key[..2]).join(key);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("cycle {cycle}: attachment {file} has no file {key}: {e}"));
        assert_eq!(&sha256(&bytes), sha, "cycle {cycle}: file {key} is damaged");
        referenced.insert(key.clone());
    }
    let photos: Vec<(String,)> = db
        .all(
            &Query::select()
                .column("photo_key")
                .from("students")
                .and_where(Expr::col("photo_key").is_not_null())
                .to_owned(),
        )
        .await
        .unwrap();
    referenced.extend(photos.into_iter().map(|(k,)| k));
    let storage = outbound::storage::Storage::local(files_root).unwrap();
    let orphans: Vec<String> = storage
        .keys()
        .unwrap()
        .into_iter()
        .filter(|k| !referenced.contains(k))
        .collect();
    let described: Vec<String> = orphans
        .iter()
        .map(|k| {
            let meta = std::fs::metadata(files_root.join(&k[..2]).join(k));
            let uploaded = meta.as_ref().ok().and_then(|_| {
                let bytes = std::fs::read(files_root.join(&k[..2]).join(k)).ok()?;
                let sha = sha256(&bytes);
                Some(acks.uploads.values().any(|s| *s == sha))
            });
            let modified = meta
                .as_ref()
                .ok()
                .and_then(|m| m.modified().ok())
                .map(chrono::DateTime::<chrono::Utc>::from);
            format!(
                "{k} ({:?} bytes, written {modified:?}, acknowledged upload: {uploaded:?})",
                meta.map(|m| m.len()).ok()
            )
        })
        .collect();
    assert!(
        orphans.is_empty(),
        "cycle {cycle}: files without a row: {described:?}"
    );
    let temporaries = std::fs::read_dir(files_root.join("tmp")).unwrap().count();
    assert_eq!(temporaries, 0, "cycle {cycle}: half-written temporaries");
}

async fn crash_cycles(database_url: Option<&str>) {
    let cycles = env_number("OUTBOUND_CRASH_CYCLES", 2);
    let clients = env_number("OUTBOUND_CRASH_CLIENTS", 20);
    let dir = temp_dir("outbound-crash");
    std::fs::create_dir_all(&dir).unwrap();
    let url = database_url.map_or_else(
        || format!("sqlite://{}", dir.join("outbound.db").display()),
        str::to_owned,
    );
    let files_root = dir.join("files");
    let acks = Arc::new(Mutex::new(Acks::default()));
    let mut plan_cache: Option<Plan> = None;
    let mut server = Server::start(&dir, database_url);
    for cycle in 1..=cycles {
        let db = Db::connect(&url).await.expect("connect beside the server");
        let snapshot = acks.lock().unwrap().clone();
        verify(&db, &files_root, &snapshot, cycle - 1).await;
        // Each client gets three fresh students per cycle, so work is still going on when
        // the kill comes.
        let students = generate_students(&db, &format!("c{cycle:03}s"), clients * 3).await;
        db.close().await;
        let plan = match &plan_cache {
            Some(p) => p.clone(),
            None => {
                let mut net = Net::new(server.addr);
                net.sign_in(&students[0]).await.expect("sign-in");
                let p = plan(&mut net).await;
                plan_cache = Some(p.clone());
                p
            }
        };
        let queue = Arc::new(Mutex::new(students));
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (queue, acks, plan, addr) =
                (queue.clone(), acks.clone(), plan.clone(), server.addr);
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(student) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if !apply_once(addr, &student, &plan, &acks).await {
                        break;
                    }
                }
            }));
        }
        let delay = Duration::from_millis(500 + u64::from(rand::random::<u32>() % 7500));
        tokio::time::sleep(delay).await;
        let before = acks.lock().unwrap().submitted.len();
        server.kill_9();
        eprintln!("killed at {}", chrono::Utc::now());
        for t in tasks {
            t.await.expect("a client task");
        }
        eprintln!(
            "crash cycle {cycle}/{cycles}: killed after {delay:?}, {} submissions acknowledged in all ({before} before the kill)",
            acks.lock().unwrap().submitted.len()
        );
        server = Server::start(&dir, database_url);
        eprintln!("restarted at {}", chrono::Utc::now());
    }
    let db = Db::connect(&url).await.expect("connect");
    let acks = acks.lock().unwrap().clone();
    verify(&db, &files_root, &acks, cycles).await;
    assert!(
        !acks.submitted.is_empty(),
        "no submission was acknowledged: the test proved nothing"
    );
    db.close().await;
    server.kill_9();
    std::fs::remove_dir_all(&dir).ok();
}

mod crash_kill_9_loses_no_acknowledged_submission {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        crash_cycles(None).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        let Some((url, name)) = pg_create().await else {
            return;
        };
        crash_cycles(Some(&url)).await;
        pg_drop(&name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_the_commits_a_killed_predecessor_left_running_on_postgresql() {
    let Some((url, name)) = pg_create().await else {
        return;
    };
    // The predecessor: an Outbound connection with a transaction still open.
    let predecessor = Db::connect(&url).await.expect("connect");
    outbound::db::migrate::run(&predecessor).await.unwrap();
    let mut tx = predecessor.begin().await.unwrap();
    tx.execute_raw("UPDATE users SET failed_logins = failed_logins WHERE id = -1")
        .await
        .unwrap();
    let successor = Db::connect(&url).await.expect("connect");
    let started = std::time::Instant::now();
    let waiting = tokio::spawn(async move {
        let waited = successor
            .settle_predecessors(Duration::from_secs(20))
            .await
            .unwrap();
        successor.close().await;
        waited
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !waiting.is_finished(),
        "did not wait for the open transaction"
    );
    tx.commit().await.unwrap();
    let waited = waiting.await.unwrap();
    assert_eq!(waited, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
    // With nothing open it returns at once.
    let again = Db::connect(&url).await.unwrap();
    assert_eq!(
        again
            .settle_predecessors(Duration::from_secs(20))
            .await
            .unwrap(),
        0
    );
    again.close().await;
    predecessor.close().await;
    pg_drop(&name).await;
}
