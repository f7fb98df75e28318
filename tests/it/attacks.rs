//! The attack suite: what a curious student, a careless reviewer or an outside attacker tries —
//! other people's ids (IDOR), forged forms (CSRF), stored script (XSS), hostile uploads, slow
//! clients and password guessing. Each case names what it tries; every one must be refused or
//! neutralised. sqlmap and slowhttptest run from `scripts/attack-sqlmap` and
//! `scripts/attack-slow` against a real server.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::both;
use crate::journey::{attr, fill, open_program, start};
use crate::support::{Client, Resp, TestApp, ids, pdf_bytes};

const STUDENT: &str = "2023010101";
const OTHER_STUDENT: &str = "2024210201";
const PASSWORD: &str = "Demo@2026";
const STAFF_PASSWORD: &str = "Staff@2026";

// ---------------------------------------------------------------------------------------------
// Helpers

/// The integers a raw SQL query returns in its first column (SQL written for both backends).
/// The request `what` was refused, and its answer names none of `secrets`.
fn refused_without_leak(r: &Resp, what: &str, secrets: &[String]) {
    assert!(!is_2xx_or_redirect(r.status), "{what}: {}", r.status);
    let body = r.text();
    for secret in secrets {
        assert!(!body.contains(secret.as_str()), "{what} leaks {secret:?}");
    }
}

async fn texts(app: &TestApp, sql: &str) -> Vec<String> {
    match &app.state.db {
        outbound::db::Db::Sqlite(pool) => {
            sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(|(s,)| s)
                .collect()
        }
        outbound::db::Db::Postgres(pool) => {
            sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(|(s,)| s)
                .collect()
        }
    }
}

async fn exec(app: &TestApp, sql: &str) {
    app.state
        .db
        .execute_raw(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A fingerprint of everything a request could change: row counts and version sums of the
/// tables people write to (sessions and the audit log are left out: reading is logged).
async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM users",
        "SELECT CAST(COALESCE(SUM(failed_logins), 0) AS BIGINT) FROM users",
        "SELECT COUNT(*) FROM students",
        "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM students",
        "SELECT COUNT(*) FROM study_records",
        "SELECT COUNT(*) FROM applications",
        "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM applications",
        "SELECT COUNT(*) FROM language_scores",
        "SELECT COUNT(*) FROM supplement_requests",
        "SELECT COUNT(*) FROM attachments",
        "SELECT COUNT(*) FROM application_history",
        "SELECT COUNT(*) FROM application_notes",
        "SELECT COUNT(*) FROM messages",
        "SELECT COUNT(*) FROM messages WHERE read_at IS NULL",
        "SELECT COUNT(*) FROM programs",
    ] {
        out.push(*ids(app, sql).await.first().unwrap_or(&-1));
    }
    out
}

fn is_2xx_or_redirect(s: StatusCode) -> bool {
    s.is_success() || s.is_redirection()
}

/// A request with the session of `c` and the given extra headers, body as a form.
async fn raw_post(
    c: &mut Client,
    path: &str,
    body: &str,
    content_type: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, content_type);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    c.send(req.body(Body::from(body.to_owned())).unwrap()).await
}

async fn api(c: &mut Client, method: Method, path: &str, body: &str) -> Resp {
    let token = c.csrf();
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", token)
        .body(Body::from(body.to_owned()))
        .unwrap();
    c.send(req).await
}

// ---------------------------------------------------------------------------------------------
// IDOR: other students' applications, files, language rows, supplement requests, study records

both!(
    idor_a_student_sweeping_other_students_ids_gets_404_and_no_personal_data,
    with_demo,
    |app| {
        // Every demo application gets a supplement request, so that its id can be tried too.
        let reviewer = ids(&app, "SELECT id FROM users WHERE username = 'gjc_officer'").await[0];
        for a in ids(&app, "SELECT id FROM applications").await {
            exec(
                &app,
                &format!(
                    "INSERT INTO supplement_requests (application_id, name, note, requested_by, created_at) \
                     VALUES ({a}, '补充材料', '', {reviewer}, CURRENT_TIMESTAMP)"
                ),
            )
            .await;
        }
        for attacker in [STUDENT, OTHER_STUDENT] {
            let mut c = app.signed_in(attacker, PASSWORD).await;
            let me = ids(
                &app,
                &format!("SELECT id FROM users WHERE username = '{attacker}'"),
            )
            .await[0];
            let targets = ids(
                &app,
                &format!("SELECT id FROM applications WHERE student_id <> {me}"),
            )
            .await;
            assert!(
                targets.len() >= 4,
                "the demo set has other students' applications"
            );
            let before = fingerprint(&app).await;
            for a in &targets {
                let owner = ids(
                    &app,
                    &format!("SELECT student_id AS id FROM applications WHERE id = {a}"),
                )
                .await[0];
                let mut secrets = texts(
                    &app,
                    &format!("SELECT name_zh FROM students WHERE user_id = {owner} UNION ALL SELECT student_no FROM students WHERE user_id = {owner} UNION ALL SELECT mobile FROM students WHERE user_id = {owner} UNION ALL SELECT original_name FROM attachments WHERE application_id = {a}"),
                )
                .await;
                // The unmasked ends of the ID number (e.g. 3301********0134).
                for masked in texts(
                    &app,
                    &format!("SELECT id_number_masked FROM students WHERE user_id = {owner}"),
                )
                .await
                {
                    secrets.extend(
                        masked
                            .split('*')
                            .filter(|p| p.len() >= 4)
                            .map(str::to_owned),
                    );
                }
                secrets.retain(|s| !s.is_empty());
                let files = ids(
                    &app,
                    &format!("SELECT id FROM attachments WHERE application_id = {a}"),
                )
                .await;
                let langs = ids(
                    &app,
                    &format!("SELECT id FROM language_scores WHERE application_id = {a}"),
                )
                .await;
                let sups = ids(
                    &app,
                    &format!("SELECT id FROM supplement_requests WHERE application_id = {a}"),
                )
                .await;
                let types = ids(&app, &format!("SELECT t.id FROM attachment_types t JOIN applications p ON p.program_id = t.program_id WHERE p.id = {a}")).await;
                let f = files.first().copied().unwrap_or(1);
                let l = langs.first().copied().unwrap_or(1);
                let s = sups[0];
                let t = types.first().copied().unwrap_or(1);
                let gets = [
                    format!("/applications/{a}"),
                    format!("/applications/{a}?tab=history"),
                    format!("/applications/{a}?tab=attachments"),
                    format!("/applications/{a}/step/basic"),
                    format!("/applications/{a}/step/info"),
                    format!("/applications/{a}/step/languages"),
                    format!("/applications/{a}/step/attachments"),
                    format!("/applications/{a}/submit"),
                    format!("/applications/{a}/form.pdf"),
                    format!("/applications/{a}/languages/{l}"),
                    format!("/applications/{a}/attachments/{f}"),
                    format!("/applications/{a}/attachments/{f}/view"),
                    format!("/api/v1/applications/{a}"),
                    format!("/api/v1/applications/{a}/history"),
                    format!("/api/v1/applications/{a}/attachments/{f}"),
                    format!("/staff/applications/{a}"),
                    format!("/staff/applications/{a}/attachments/{f}"),
                ];
                for path in &gets {
                    let r = c.get(path).await;
                    refused_without_leak(&r, &format!("GET {path} as {attacker}"), &secrets);
                }
                let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
                    (
                        format!("/applications/{a}/step/info"),
                        vec![("version", "1")],
                    ),
                    (
                        format!("/applications/{a}/languages"),
                        vec![
                            ("version", "1"),
                            ("language", "en"),
                            ("exam_type", "cet6"),
                            ("score", "600"),
                        ],
                    ),
                    (
                        format!("/applications/{a}/languages/{l}"),
                        vec![("version", "1"), ("score", "600")],
                    ),
                    (
                        format!("/applications/{a}/languages/{l}/delete"),
                        vec![("version", "1")],
                    ),
                    (
                        format!("/applications/{a}/languages/{l}/backfill"),
                        vec![("version", "1"), ("score", "600")],
                    ),
                    (format!("/applications/{a}/submit"), vec![("version", "1")]),
                    (
                        format!("/applications/{a}/withdraw"),
                        vec![("version", "1")],
                    ),
                    (format!("/applications/{a}/delete"), vec![("version", "1")]),
                    (format!("/applications/{a}/attachments/{f}/delete"), vec![]),
                    (
                        format!("/staff/applications/{a}/decide"),
                        vec![("version", "1"), ("decision", "approve")],
                    ),
                    (
                        format!("/staff/applications/{a}/notes"),
                        vec![("body", "x")],
                    ),
                ];
                for (path, fields) in &posts {
                    let r = c.post(path, fields).await;
                    refused_without_leak(&r, &format!("POST {path} as {attacker}"), &secrets);
                }
                for (path, name) in [
                    (format!("/applications/{a}/attachments?type={t}"), "a.pdf"),
                    (format!("/applications/{a}/supplements/{s}"), "b.pdf"),
                ] {
                    let r = c.upload(&path, &[(name, &pdf_bytes())]).await;
                    assert!(
                        !is_2xx_or_redirect(r.status),
                        "upload {path} as {attacker}: {}",
                        r.status
                    );
                }
                for (method, path, body) in [
                    (
                        Method::PUT,
                        format!("/api/v1/applications/{a}/info"),
                        "{\"version\":1}",
                    ),
                    (
                        Method::POST,
                        format!("/api/v1/applications/{a}/languages"),
                        "{\"version\":1,\"language\":\"en\",\"exam_type\":\"cet6\",\"score\":\"600\"}",
                    ),
                    (
                        Method::PUT,
                        format!("/api/v1/applications/{a}/languages/{l}"),
                        "{\"version\":1,\"score\":\"600\"}",
                    ),
                    (
                        Method::DELETE,
                        format!("/api/v1/applications/{a}/languages/{l}"),
                        "",
                    ),
                    (
                        Method::POST,
                        format!("/api/v1/applications/{a}/languages/{l}/backfill"),
                        "{\"version\":1,\"score\":\"600\"}",
                    ),
                    (
                        Method::POST,
                        format!("/api/v1/applications/{a}/submit"),
                        "{\"version\":1}",
                    ),
                    (
                        Method::POST,
                        format!("/api/v1/applications/{a}/withdraw"),
                        "{\"version\":1}",
                    ),
                    (Method::DELETE, format!("/api/v1/applications/{a}"), ""),
                    (
                        Method::DELETE,
                        format!("/api/v1/applications/{a}/attachments/{f}"),
                        "",
                    ),
                ] {
                    let r = api(&mut c, method.clone(), &path, body).await;
                    refused_without_leak(&r, &format!("{method} {path} as {attacker}"), &secrets);
                }
            }
            // Other students' study records (学习经历).
            for rec in ids(
                &app,
                &format!("SELECT id FROM study_records WHERE user_id <> {me}"),
            )
            .await
            .into_iter()
            .take(5)
            {
                let r = c.get(&format!("/profile/study/{rec}")).await;
                assert!(
                    !is_2xx_or_redirect(r.status),
                    "GET study record {rec}: {}",
                    r.status
                );
                let r = c.post(&format!("/profile/study/{rec}/delete"), &[]).await;
                assert!(
                    !is_2xx_or_redirect(r.status),
                    "delete study record {rec}: {}",
                    r.status
                );
            }
            assert_eq!(
                fingerprint(&app).await,
                before,
                "the sweep of {attacker} changed nothing"
            );
        }
    }
);

both!(
    idor_a_college_reviewer_cannot_open_another_colleges_application_or_its_files,
    with_demo,
    |app| {
        let mut c = app.signed_in("xx_reviewer", STAFF_PASSWORD).await;
        let me = ids(&app, "SELECT id FROM users WHERE username = 'xx_reviewer'").await[0];
        let foreign = ids(
            &app,
            &format!(
                "SELECT a.id FROM applications a JOIN students s ON s.user_id = a.student_id \
                 WHERE s.college_id NOT IN (SELECT college_id FROM reviewer_colleges WHERE user_id = {me})"
            ),
        )
        .await;
        assert!(
            !foreign.is_empty(),
            "the demo set has other colleges' applications"
        );
        for a in foreign {
            let files = ids(
                &app,
                &format!("SELECT id FROM attachments WHERE application_id = {a}"),
            )
            .await;
            let f = files.first().copied().unwrap_or(1);
            for path in [
                format!("/staff/applications/{a}"),
                format!("/staff/applications/{a}/attachments/{f}"),
                format!("/staff/applications/{a}/attachments/{f}/view"),
                format!("/staff/applications/{a}/form.pdf"),
            ] {
                let r = c.get(&path).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}");
            }
            let r = c
                .post(&format!("/staff/applications/{a}/notes"), &[("body", "x")])
                .await;
            assert!(!is_2xx_or_redirect(r.status), "note on {a}: {}", r.status);
        }
    }
);

// ---------------------------------------------------------------------------------------------
// CSRF

/// Every state-changing route of the student side, a few staff ones and the JSON API.
const POST_ROUTES: [&str; 24] = [
    "/logout",
    "/password",
    "/profile",
    "/profile/study",
    "/profile/study/1",
    "/profile/study/1/delete",
    "/profile/photo",
    "/programs/1/apply",
    "/applications/1/step/info",
    "/applications/1/languages",
    "/applications/1/languages/1",
    "/applications/1/languages/1/delete",
    "/applications/1/languages/1/backfill",
    "/applications/1/submit",
    "/applications/1/withdraw",
    "/applications/1/delete",
    "/applications/1/attachments?type=1",
    "/applications/1/attachments/1/delete",
    "/applications/1/supplements/1",
    "/messages/read-all",
    "/messages/1/open",
    "/staff/reviews/batch",
    "/staff/applications/1/decide",
    "/staff/applications/1/notes",
];

const API_WRITES: [(&str, &str); 10] = [
    ("POST", "/api/v1/session"),
    ("DELETE", "/api/v1/session"),
    ("POST", "/api/v1/password"),
    ("PUT", "/api/v1/profile"),
    ("POST", "/api/v1/programs/1/applications"),
    ("PUT", "/api/v1/applications/1/info"),
    ("POST", "/api/v1/applications/1/submit"),
    ("POST", "/api/v1/applications/1/withdraw"),
    ("DELETE", "/api/v1/applications/1"),
    ("POST", "/api/v1/applications/1/attachments"),
];

/// (what it tries, form body, extra headers).
type CsrfCase<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);

both!(
    csrf_every_write_without_token_with_a_wrong_token_or_from_another_site_is_403,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let good = c.csrf();
        let before = fingerprint(&app).await;
        let form = "application/x-www-form-urlencoded";
        for path in POST_ROUTES {
            let with_good = format!("_csrf={good}&version=1");
            let cases: [CsrfCase; 6] = [
                ("no token", "version=1".to_owned(), vec![]),
                (
                    "wrong token",
                    "_csrf=forged.token&version=1".to_owned(),
                    vec![],
                ),
                (
                    "another visitor's token",
                    format!("_csrf={}&version=1", app.state.csrf.issue()),
                    vec![],
                ),
                (
                    "cross-site Origin",
                    with_good.clone(),
                    vec![("origin", "https://evil.example")],
                ),
                ("null Origin", with_good.clone(), vec![("origin", "null")]),
                (
                    "Sec-Fetch-Site cross-site",
                    with_good.clone(),
                    vec![("sec-fetch-site", "cross-site")],
                ),
            ];
            for (what, body, headers) in cases {
                let r = raw_post(&mut c, path, &body, form, &headers).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} with {what}");
            }
            // A multipart form with no token anywhere.
            let r = raw_post(
                &mut c,
                path,
                "--x--\r\n",
                "multipart/form-data; boundary=x",
                &[],
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "multipart POST {path} without token"
            );
            // A text/plain "form" (what a cross-site <form enctype=text/plain> sends).
            let r = raw_post(&mut c, path, &format!("_csrf={good}"), "text/plain", &[]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "text/plain POST {path}");
        }
        for (method, path) in API_WRITES {
            for (what, headers) in [
                ("no header", vec![]),
                ("wrong header", vec![("x-csrf-token", "forged.token")]),
                (
                    "cross-site Origin",
                    vec![
                        ("x-csrf-token", good.as_str()),
                        ("origin", "https://evil.example"),
                    ],
                ),
            ] {
                let mut req = Request::builder()
                    .method(method)
                    .uri(path)
                    .header(header::CONTENT_TYPE, "application/json");
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let r = c.send(req.body(Body::from("{}")).unwrap()).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} with {what}"
                );
            }
        }
        assert_eq!(
            fingerprint(&app).await,
            before,
            "no refused write changed anything"
        );
        // Still signed in: /logout was refused every time.
        assert_eq!(c.get("/applications").await.status, StatusCode::OK);
    }
);

both!(csrf_no_get_changes_state_for_any_role, with_demo, |app| {
    let apps = ids(&app, "SELECT id FROM applications").await;
    let files = ids(&app, "SELECT id FROM attachments").await;
    let msgs = ids(&app, "SELECT id FROM messages").await;
    let programs = ids(&app, "SELECT id FROM programs").await;
    let mut paths: Vec<String> = [
        "/",
        "/profile",
        "/profile/study",
        "/profile/photo",
        "/programs",
        "/applications",
        "/messages",
        "/password",
        "/staff/reviews",
        "/staff/applications",
        "/staff/statistics",
        "/staff/admissions",
        "/api/v1/session",
        "/api/v1/profile",
        "/api/v1/applications",
        "/api/v1/programs",
        "/api/v1/openapi.json",
        "/lang/en",
        "/lang/zh",
        "/logout",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for p in programs.iter().take(5) {
        paths.push(format!("/programs/{p}"));
        paths.push(format!("/programs/{p}/apply"));
        paths.push(format!("/api/v1/programs/{p}"));
        paths.push(format!("/staff/admissions/programs/{p}/allocation"));
    }
    for a in &apps {
        for suffix in [
            "",
            "/step/info",
            "/submit",
            "/withdraw",
            "/delete",
            "/form.pdf",
        ] {
            paths.push(format!("/applications/{a}{suffix}"));
        }
        for suffix in ["", "/edit", "/delete", "/decide", "/form.pdf"] {
            paths.push(format!("/staff/applications/{a}{suffix}"));
        }
        for f in &files {
            paths.push(format!("/applications/{a}/attachments/{f}/delete"));
        }
    }
    for m in &msgs {
        paths.push(format!("/messages/{m}/open"));
    }
    paths.push("/messages/read-all".to_owned());
    let before = fingerprint(&app).await;
    for (user, pass) in [
        ("2023020105", PASSWORD),
        (STUDENT, PASSWORD),
        ("xx_reviewer", STAFF_PASSWORD),
        ("gjc_officer", STAFF_PASSWORD),
        ("admin", STAFF_PASSWORD),
    ] {
        let mut c = app.client();
        let r = c
            .post("/login", &[("username", user), ("password", pass)])
            .await;
        if r.status != StatusCode::SEE_OTHER {
            continue; // an account that must change its password first
        }
        let signed_in = fingerprint(&app).await;
        for p in &paths {
            let r = c.get(p).await;
            assert!(
                r.status != StatusCode::INTERNAL_SERVER_ERROR,
                "GET {p} as {user}"
            );
        }
        assert_eq!(
            fingerprint(&app).await,
            signed_in,
            "GETs as {user} changed nothing"
        );
        // Still signed in: GET /logout did not sign out.
        assert_eq!(
            c.get("/api/v1/session").await.status,
            StatusCode::OK,
            "{user}"
        );
    }
    let _ = before;
});

// ---------------------------------------------------------------------------------------------
// XSS and the security headers

/// The payloads: each carries the marker `xq7` so that a created element can be traced.
const XSS: [&str; 24] = [
    "<script>xq7()</script>",
    "<SCRIPT SRC=//evil.example/xq7.js></SCRIPT>",
    "\"><script>xq7()</script>",
    "'><script>xq7()</script>",
    "\" onmouseover=\"xq7()\" x=\"",
    "' onfocus='xq7()' autofocus x='",
    "<img src=x onerror=xq7()>",
    "<svg onload=xq7()>",
    "<svg><script>xq7()</script></svg>",
    "<iframe src=javascript:xq7()>",
    "javascript:xq7()",
    "JaVaScRiPt:xq7()",
    "<a href=\"javascript:xq7()\">xq7</a>",
    "<body onload=xq7()>",
    "<details open ontoggle=xq7()>",
    "</textarea><script>xq7()</script>",
    "</title><script>xq7()</script>",
    "</style><script>xq7()</script>",
    "<!--<script>xq7()</script>-->",
    "{{7*7}}xq7",
    "${7*7}xq7",
    "{% raw %}xq7",
    "<math><mi xlink:href=javascript:xq7()>x</mi></math>",
    "\u{202e}xq7<b>bold</b>",
];

/// Fails when a page holds anything a payload created: an element or attribute carrying the
/// marker that is not plain text, an event handler, a `javascript:` URL, or an evaluated
/// template expression.
fn assert_no_injection(page: &str, what: &str) {
    let doc = scraper::Html::parse_document(page);
    let all = scraper::Selector::parse("*").unwrap();
    for el in doc.select(&all) {
        let name = el.value().name();
        for (attr, value) in el.value().attrs() {
            assert!(
                !attr.to_ascii_lowercase().starts_with("on"),
                "{what}: an event handler attribute {attr}={value:?} on <{name}>"
            );
            // A value attribute holding the text "javascript:…" is harmless; a URL is not.
            let v = value.trim().to_ascii_lowercase();
            if matches!(
                attr,
                "src"
                    | "href"
                    | "action"
                    | "formaction"
                    | "xlink:href"
                    | "data"
                    | "srcdoc"
                    | "poster"
            ) {
                assert!(
                    !v.starts_with("javascript:"),
                    "{what}: a javascript: URL in <{name} {attr}>"
                );
                // A payload may travel percent-encoded inside a same-site link; never raw.
                assert!(
                    !(v.contains("xq7") && v.contains(['<', '>', '"', '\'', ' '])),
                    "{what}: <{name} {attr}={value:?}>"
                );
            }
        }
        if matches!(
            name,
            "script" | "iframe" | "svg" | "math" | "details" | "object" | "embed"
        ) {
            let text: String = el.text().collect();
            assert!(
                !text.contains("xq7"),
                "{what}: a <{name}> made by a payload"
            );
            assert!(
                el.value().attrs().all(|(_, v)| !v.contains("xq7")),
                "{what}: a <{name}> made by a payload"
            );
        }
        if name == "img" || name == "b" || name == "body" {
            assert!(
                el.value().attrs().all(|(_, v)| !v.contains("xq7")),
                "{what}: a <{name}> made by a payload"
            );
        }
        if name == "b" {
            let text: String = el.text().collect();
            assert!(text != "bold", "{what}: a <b> made by a payload");
        }
    }
    assert!(
        !page.contains("49xq7"),
        "{what}: a template expression was evaluated"
    );
}

fn assert_security_headers(r: &Resp, what: &str) {
    let h = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = h("content-security-policy");
    let script = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .or_else(|| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("default-src"))
        })
        .unwrap_or_else(|| panic!("{what}: no script-src in the CSP {csp:?}"));
    assert!(
        !script.contains("'unsafe-inline'")
            && !script.contains("'unsafe-eval'")
            && !script.contains('*'),
        "{what}: {script}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert!(
        csp.contains("frame-ancestors 'none'") || h("x-frame-options").eq_ignore_ascii_case("deny"),
        "{what}: may be framed ({csp:?}, X-Frame-Options {:?})",
        h("x-frame-options")
    );
}

both!(
    xss_every_stored_payload_is_shown_escaped_on_every_page,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        fill(&mut c, id, "560", usize::MAX).await;
        let me = ids(
            &app,
            &format!("SELECT id FROM users WHERE username = '{STUDENT}'"),
        )
        .await[0];
        let officer = ids(&app, "SELECT id FROM users WHERE username = 'gjc_officer'").await[0];
        // Upload file names through the real upload form.
        let page = c.get(&format!("/applications/{id}/step/attachments")).await;
        let type_id = attr(&page, ".attachment-type", "id")
            .trim_start_matches("type-")
            .to_owned();
        for (i, p) in XSS.iter().enumerate().take(12) {
            let name = format!("{p}{i}.pdf");
            let r = c
                .upload(
                    &format!("/applications/{id}/attachments?type={type_id}"),
                    &[(&name, &pdf_bytes())],
                )
                .await;
            assert!(
                r.status.is_redirection() || r.status == StatusCode::UNPROCESSABLE_ENTITY,
                "{name}: {}",
                r.status
            );
        }
        // Every free-text column a page shows, written as a form would have saved it.
        let q = |s: &str| s.replace('\'', "''");
        let columns = [
            "name_zh",
            "pinyin_surname",
            "pinyin_given",
            "hukou",
            "birthplace",
            "native_place",
            "home_address",
            "home_phone",
            "mobile",
            "email",
            "qq",
            "wechat",
            "gpa",
            "major_rank",
            "rewards",
            "remarks",
            "supervisor_name",
            "supervisor_phone",
            "emergency_name",
            "emergency_mobile",
            "emergency_relation",
            "ethnicity",
            "nationality",
        ];
        for (i, col) in columns.iter().enumerate() {
            let p = XSS[i % XSS.len()];
            exec(
                &app,
                &format!(
                    "UPDATE students SET {col} = '{}' WHERE user_id = {me}",
                    q(p)
                ),
            )
            .await;
        }
        exec(
            &app,
            &format!(
                "UPDATE users SET display_name = '{}' WHERE id = {me}",
                q(XSS[0])
            ),
        )
        .await;
        for (i, p) in XSS.iter().enumerate() {
            exec(&app, &format!("INSERT INTO language_scores (application_id, language, exam_type, score, exam_date, sort_order) VALUES ({id}, '{}', '{}', '{}', '{}', {})", q(p), q(p), q(p), q(p), 100 + i)).await;
            exec(&app, &format!("INSERT INTO application_notes (application_id, author_id, author_name, body, created_at) VALUES ({id}, {officer}, '{}', '{}', CURRENT_TIMESTAMP)", q(p), q(p))).await;
            exec(&app, &format!("INSERT INTO supplement_requests (application_id, name, note, requested_by, created_at) VALUES ({id}, '{}', '{}', {officer}, CURRENT_TIMESTAMP)", q(p), q(p))).await;
            exec(&app, &format!("INSERT INTO messages (user_id, title, body, link, created_at) VALUES ({me}, '{}', '{}', '{}', CURRENT_TIMESTAMP)", q(p), q(p), q(p))).await;
        }
        // 申请信息 is JSON: every string value becomes a payload.
        let info = texts(
            &app,
            &format!("SELECT info FROM applications WHERE id = {id}"),
        )
        .await
        .remove(0);
        let mut info: serde_json::Value = serde_json::from_str(&info).unwrap();
        if let Some(obj) = info.as_object_mut() {
            for (i, (_, v)) in obj.iter_mut().enumerate() {
                if v.is_string() {
                    *v = serde_json::Value::String(XSS[i % XSS.len()].to_owned());
                }
            }
        }
        exec(
            &app,
            &format!(
                "UPDATE applications SET info = '{}' WHERE id = {id}",
                q(&info.to_string())
            ),
        )
        .await;
        let mut pages = vec![
            "/".to_owned(),
            "/profile".to_owned(),
            "/applications".to_owned(),
            "/messages".to_owned(),
        ];
        for suffix in [
            "",
            "?tab=history",
            "?tab=attachments",
            "/step/basic",
            "/step/info",
            "/step/languages",
            "/step/attachments",
            "/submit",
        ] {
            pages.push(format!("/applications/{id}{suffix}"));
        }
        for l in ids(
            &app,
            &format!("SELECT id FROM language_scores WHERE application_id = {id}"),
        )
        .await
        .into_iter()
        .take(3)
        {
            pages.push(format!("/applications/{id}/languages/{l}"));
        }
        for p in &pages {
            let r = c.get(p).await;
            assert!(r.status != StatusCode::INTERNAL_SERVER_ERROR, "GET {p}");
            assert_no_injection(&r.text(), &format!("student GET {p}"));
            assert_security_headers(&r, &format!("student GET {p}"));
        }
        // The same application as the office sees it (detail, queue, list).
        let mut staff = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        for p in [
            format!("/staff/applications/{id}"),
            format!("/staff/applications/{id}/edit"),
            "/staff/reviews".to_owned(),
            "/staff/applications".to_owned(),
            "/staff/applications?q=%3Cscript%3Exq7()%3C/script%3E".to_owned(),
            "/programs?q=%22%3E%3Csvg%20onload=xq7()%3E".to_owned(),
        ] {
            let r = staff.get(&p).await;
            assert!(r.status != StatusCode::INTERNAL_SERVER_ERROR, "GET {p}");
            assert_no_injection(&r.text(), &format!("office GET {p}"));
            assert_security_headers(&r, &format!("office GET {p}"));
        }
        // Error pages and the sign-in page echo nothing raw either.
        let mut anon = app.client();
        for p in [
            "/login?next=javascript:xq7()",
            "/no/such/%3Cscript%3Exq7()%3C/script%3E",
            "/login?next=%22%3E%3Csvg%20onload%3Dxq7()%3E",
        ] {
            let r = anon.get(p).await;
            assert_no_injection(&r.text(), &format!("GET {p}"));
            assert_security_headers(&r, &format!("GET {p}"));
        }
    }
);

// ---------------------------------------------------------------------------------------------
// Uploads

/// A multipart body with one part whose Content-Disposition is written exactly as given.
fn multipart(disposition: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----attackboundary0x5f3759df";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_raw(c: &mut Client, path: &str, disposition: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(disposition, bytes);
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, ct)
        .header("x-csrf-token", c.csrf())
        .body(Body::from(body))
        .unwrap();
    c.send(req).await
}

/// A zip with the given entries (stored, no compression), each with a declared size that may
/// lie: (name, data, declared uncompressed size).
fn zip(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, declared) in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let n = u16::try_from(name.len()).unwrap();
        let size = u32::try_from(data.len()).unwrap();
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&0u32.to_le_bytes()); // crc (wrong on purpose)
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&declared.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&declared.to_le_bytes());
        central.extend_from_slice(&n.to_le_bytes());
        central.extend_from_slice(&[0u8; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let at = u32::try_from(out.len()).unwrap();
    let count = u16::try_from(entries.len()).unwrap();
    let csize = u32::try_from(central.len()).unwrap();
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&csize.to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn walk(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.insert(p);
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Refused with a message (never stored).
    Refused,
    /// Stored, with its name made harmless.
    Neutralised,
    /// Either, as long as what is stored is harmless.
    Either,
}

fn jpeg_with_html() -> Vec<u8> {
    let mut v = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    v.extend_from_slice(b"\xFF\xFE\x00\x40<html><script>alert(document.cookie)</script></html>");
    v.extend_from_slice(&[0u8; 64]);
    v.extend_from_slice(b"\xFF\xD9");
    v
}

fn png() -> Vec<u8> {
    let mut v =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
            .to_vec();
    v.extend_from_slice(&[0u8; 32]);
    v
}

/// The hostile uploads: (what it tries, Content-Disposition, bytes, expected outcome).
fn hostile_uploads(max_bytes: usize) -> Vec<(String, String, Vec<u8>, Expect)> {
    let pdf = pdf_bytes();
    let pdf_js = b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert\\(1\\))>>>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec();
    let docx = zip(&[("word/document.xml", b"<w:document/>", 13)]);
    let bomb = zip(&[
        ("word/document.xml", &[b'A'; 1024], u32::MAX),
        ("a.xml", &[0u8; 1024], u32::MAX),
    ]);
    let slip = zip(&[
        ("word/document.xml", b"<w:document/>", 13),
        ("../../../../tmp/outbound-zipslip", b"pwned", 5),
    ]);
    let slip_win = zip(&[
        ("word/document.xml", b"<w:document/>", 13),
        ("..\\..\\evil.dll", b"MZ", 2),
    ]);
    let many_entries: Vec<(String, Vec<u8>)> =
        (0..2000).map(|i| (format!("f{i}.xml"), vec![])).collect();
    let mut entries: Vec<(&str, &[u8], u32)> = vec![("word/document.xml", b"<w:document/>", 13)];
    entries.extend(
        many_entries
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice(), 0)),
    );
    let many = zip(&entries);
    let exe = b"MZ\x90\x00\x03\x00\x00\x00PE\x00\x00 this program cannot be run".to_vec();
    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
    let mut over = pdf.clone();
    over.resize(max_bytes + 1, b' ');
    let mut exact = pdf.clone();
    exact.resize(max_bytes, b' ');
    let fd = |name: &str| format!("form-data; name=\"file\"; filename=\"{name}\"");
    let mut v: Vec<(String, String, Vec<u8>, Expect)> = vec![
        (
            "over the type's limit by one byte".into(),
            fd("big.pdf"),
            over,
            Expect::Refused,
        ),
        (
            "exactly the type's limit".into(),
            fd("limit.pdf"),
            exact,
            Expect::Neutralised,
        ),
        (
            "empty file".into(),
            fd("empty.pdf"),
            vec![],
            Expect::Refused,
        ),
        (
            "an .exe renamed .pdf".into(),
            fd("setup.pdf"),
            exe.clone(),
            Expect::Refused,
        ),
        (
            "an .exe with its own name".into(),
            fd("setup.exe"),
            exe.clone(),
            Expect::Refused,
        ),
        (
            "a.pdf.html".into(),
            fd("a.pdf.html"),
            html.clone(),
            Expect::Refused,
        ),
        (
            "HTML named .pdf".into(),
            fd("page.pdf"),
            html.clone(),
            Expect::Refused,
        ),
        (
            "HTML named .jpg".into(),
            fd("page.jpg"),
            html.clone(),
            Expect::Refused,
        ),
        (
            "SVG with script named .png".into(),
            fd("x.png"),
            svg.clone(),
            Expect::Refused,
        ),
        (
            "SVG with its own name".into(),
            fd("x.svg"),
            svg,
            Expect::Refused,
        ),
        (
            "a PDF named .exe".into(),
            fd("doc.exe"),
            pdf.clone(),
            Expect::Refused,
        ),
        (
            "a PDF with no extension".into(),
            fd("document"),
            pdf.clone(),
            Expect::Refused,
        ),
        (
            "a PDF named .pdf.exe".into(),
            fd("doc.pdf.exe"),
            pdf.clone(),
            Expect::Refused,
        ),
        (
            "a PDF named .html".into(),
            fd("doc.html"),
            pdf.clone(),
            Expect::Refused,
        ),
        (
            "NUL inside the name".into(),
            fd("evil.exe\0.pdf"),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "NUL inside the name, exe content".into(),
            fd("evil.pdf\0.exe"),
            exe.clone(),
            Expect::Refused,
        ),
        (
            "HTML in a JPEG (polyglot)".into(),
            fd("photo.jpg"),
            jpeg_with_html(),
            Expect::Either,
        ),
        (
            "a PDF with JavaScript".into(),
            fd("js.pdf"),
            pdf_js,
            Expect::Either,
        ),
        (
            "a genuine small DOCX".into(),
            fd("ok.docx"),
            docx.clone(),
            Expect::Neutralised,
        ),
        (
            "a DOCX zip bomb (entry sizes claim 4 GB)".into(),
            fd("bomb.docx"),
            bomb,
            Expect::Either,
        ),
        (
            "a DOCX zip slip (../ entry)".into(),
            fd("slip.docx"),
            slip,
            Expect::Either,
        ),
        (
            "a DOCX zip slip (..\\ entry)".into(),
            fd("slipwin.docx"),
            slip_win,
            Expect::Either,
        ),
        (
            "a DOCX with 2,000 entries".into(),
            fd("many.docx"),
            many,
            Expect::Either,
        ),
        (
            "a zip without word/document.xml named .docx".into(),
            fd("plain.docx"),
            zip(&[("a.txt", b"a", 1)]),
            Expect::Refused,
        ),
        (
            "a truncated zip named .docx".into(),
            fd("trunc.docx"),
            b"PK\x03\x04\x14\x00".to_vec(),
            Expect::Refused,
        ),
        (
            "a PNG named .jpg".into(),
            fd("img.jpg"),
            png(),
            Expect::Refused,
        ),
        (
            "a genuine PNG".into(),
            fd("img.png"),
            png(),
            Expect::Neutralised,
        ),
        (
            "a JPEG named .pdf".into(),
            fd("scan.pdf"),
            jpeg_with_html(),
            Expect::Refused,
        ),
        (
            "only filename*= (RFC 5987)".into(),
            "form-data; name=\"file\"; filename*=UTF-8''%E6%8A%A4%E7%85%A7.pdf".into(),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "filename*= pointing at ../".into(),
            "form-data; name=\"file\"; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd.pdf".into(),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "no filename at all".into(),
            "form-data; name=\"file\"".into(),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "an empty filename".into(),
            fd(""),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "a part that is not named file".into(),
            "form-data; name=\"other\"; filename=\"x.pdf\"".into(),
            pdf.clone(),
            Expect::Refused,
        ),
        (
            "percent-encoded traversal in the name".into(),
            fd("..%2f..%2fx.pdf"),
            pdf.clone(),
            Expect::Neutralised,
        ),
        (
            "quote breaking the header".into(),
            "form-data; name=\"file\"; filename=\"a\\\"; name=\\\"x.pdf\"".into(),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "HTML in the name".into(),
            fd("<img src=x onerror=alert(1)>.pdf"),
            pdf.clone(),
            Expect::Neutralised,
        ),
        (
            "CRLF in the name".into(),
            fd("a\r\nContent-Type: text/html\r\n.pdf"),
            pdf.clone(),
            Expect::Either,
        ),
        (
            "a huge declared part Content-Length".into(),
            fd("cl.pdf"),
            pdf.clone(),
            Expect::Neutralised,
        ),
    ];
    // Hostile names on a genuine PDF: every one must be stored under a harmless name.
    let names: [&str; 26] = [
        "../evil.pdf",
        "../../../../../../tmp/outbound-traversal.pdf",
        "..\\..\\evil.pdf",
        "..\\..\\..\\Windows\\System32\\evil.pdf",
        "C:\\Windows\\evil.pdf",
        "C:evil.pdf",
        "/etc/passwd.pdf",
        "\\\\server\\share\\evil.pdf",
        "CON.pdf",
        "con.pdf",
        "NUL.pdf",
        "COM1.pdf",
        "LPT9.pdf",
        "AUX.pdf",
        "report\u{202E}fdp.exe",
        "\u{202E}exe.pdf",
        "\u{2066}invoice\u{2069}.pdf",
        "cafe\u{0301}.pdf",
        "e\u{0301}\u{0301}\u{0301}.pdf",
        ".htaccess.pdf",
        "...pdf",
        "  spaces  .pdf   ",
        "name.pdf.",
        "tab\there.pdf",
        "a:b*c?d|e<f>g.pdf",
        "\u{FEFF}bom.pdf",
    ];
    for n in names {
        // A name that really ends in something other than .pdf is refused for its format.
        let expect = if n == "...pdf" {
            Expect::Either // cleaned to "pdf": no extension left
        } else if n.trim_end_matches(['.', ' ']).ends_with(".pdf") {
            Expect::Neutralised
        } else {
            Expect::Refused
        };
        v.push((format!("hostile name {n:?}"), fd(n), pdf.clone(), expect));
    }
    let long = format!("{}.pdf", "长".repeat(100)); // 300 bytes of UTF-8 before the extension
    v.push((
        "a 300-byte name".into(),
        fd(&long),
        pdf.clone(),
        Expect::Neutralised,
    ));
    let longer = format!("{}.pdf", "a".repeat(1000));
    v.push((
        "a 1,000-character name".into(),
        fd(&longer),
        pdf.clone(),
        Expect::Neutralised,
    ));
    v.push(("only dots".into(), fd(".."), pdf.clone(), Expect::Either));
    v
}

fn name_is_harmless(name: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    !name.is_empty()
        && name.chars().count() <= 120
        && !name.contains(['/', '\\', ':', '<', '>', '"', '|', '?', '*'])
        && !name.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name.nfc().collect::<String>() == name
        && !["CON", "PRN", "AUX", "NUL", "COM1", "LPT9"]
            .iter()
            .any(|d| {
                name.split('.')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(d)
            })
}

both!(
    uploads_sixty_hostile_files_are_refused_or_neutralised_and_stay_inside_storage,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let page = c.get(&format!("/applications/{id}/step/attachments")).await;
        let type_id: i64 = attr(&page, ".attachment-type", "id")
            .trim_start_matches("type-")
            .parse()
            .unwrap();
        // A small limit for this type, so that "one byte over" stays cheap.
        exec(&app, &format!("UPDATE attachment_types SET max_bytes = 65536, formats = '[\"pdf\",\"png\",\"jpg\",\"tiff\",\"doc\",\"docx\"]' WHERE id = {type_id}")).await;
        let storage_root = app.state.config.attachments_dir();
        let before_files = walk(&app.dir);
        let tmp_before: BTreeSet<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        let cases = hostile_uploads(65536);
        assert!(cases.len() >= 60, "{} cases", cases.len());
        let path = format!("/applications/{id}/attachments?type={type_id}");
        for (what, disposition, bytes, expect) in &cases {
            let count = ids(
                &app,
                &format!("SELECT COUNT(*) FROM attachments WHERE application_id = {id}"),
            )
            .await[0];
            let r = upload_raw(&mut c, &path, disposition, bytes).await;
            assert!(r.status != StatusCode::INTERNAL_SERVER_ERROR, "{what}: 500");
            let after = ids(
                &app,
                &format!("SELECT COUNT(*) FROM attachments WHERE application_id = {id}"),
            )
            .await[0];
            let stored = after > count;
            match expect {
                Expect::Refused => {
                    assert!(!stored, "{what}: stored");
                    assert!(
                        !r.status.is_success() && !r.status.is_redirection(),
                        "{what}: {}",
                        r.status
                    );
                }
                Expect::Neutralised => assert!(
                    stored,
                    "{what}: refused ({}) {}",
                    r.status,
                    r.select(".error, .field-error").join(" ")
                ),
                Expect::Either => {}
            }
            if what.starts_with("over the type's limit") {
                assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{what}");
                assert!(
                    !r.select(".error, .field-error").is_empty(),
                    "{what}: no message"
                );
            }
            assert_eq!(
                stored,
                r.status.is_redirection(),
                "{what}: the answer says what happened ({})",
                r.status
            );
        }
        // Every stored name is harmless, every download is an attachment with nosniff.
        let names = texts(
            &app,
            &format!("SELECT original_name FROM attachments WHERE application_id = {id}"),
        )
        .await;
        for n in &names {
            assert!(name_is_harmless(n), "stored name {n:?}");
        }
        for f in ids(
            &app,
            &format!("SELECT id FROM attachments WHERE application_id = {id}"),
        )
        .await
        {
            let r = c.get(&format!("/applications/{id}/attachments/{f}")).await;
            assert_eq!(r.status, StatusCode::OK);
            let cd = r
                .headers
                .get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap();
            assert!(cd.starts_with("attachment;"), "{cd}");
            assert!(cd.contains("filename*=UTF-8''"), "{cd}");
            assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
            assert_eq!(
                r.headers.get("content-type").unwrap(),
                "application/octet-stream"
            );
            // The inline view never serves anything a browser would run.
            let v = c
                .get(&format!("/applications/{id}/attachments/{f}/view"))
                .await;
            let ct = v
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(
                [
                    "application/pdf",
                    "image/png",
                    "image/jpeg",
                    "application/octet-stream"
                ]
                .contains(&ct.as_str()),
                "{ct}"
            );
            assert_eq!(v.headers.get("x-content-type-options").unwrap(), "nosniff");
        }
        // Nothing was written outside the storage folder.
        let after_files = walk(&app.dir);
        for p in after_files.difference(&before_files) {
            assert!(
                p.starts_with(&storage_root)
                    || p.extension()
                        .is_some_and(|e| e == "db-wal" || e == "db-shm")
                    || p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("outbound.db")),
                "written outside storage: {}",
                p.display()
            );
        }
        let tmp_after: BTreeSet<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        for n in tmp_after.difference(&tmp_before) {
            let n = n.to_string_lossy();
            assert!(
                !n.contains("outbound-traversal")
                    && !n.contains("outbound-zipslip")
                    && !n.contains("evil"),
                "written to the temp folder: {n}"
            );
        }
        // The Chinese name round-trips: listed as uploaded, content byte-identical, and a
        // correct RFC 5987 name.
        let cn = "张三护照.pdf";
        let body = {
            let mut b = pdf_bytes();
            b.extend_from_slice(b"% \xE5\xBC\xA0\xE4\xB8\x89 unique tail\n");
            b
        };
        let r = upload_raw(
            &mut c,
            &path,
            &format!("form-data; name=\"file\"; filename=\"{cn}\""),
            &body,
        )
        .await;
        assert!(r.status.is_redirection(), "{}", r.status);
        let f = ids(
            &app,
            &format!(
                "SELECT id FROM attachments WHERE application_id = {id} AND original_name = '{cn}'"
            ),
        )
        .await;
        assert_eq!(f.len(), 1, "stored under its own name");
        let dl = c
            .get(&format!("/applications/{id}/attachments/{}", f[0]))
            .await;
        assert_eq!(dl.body, body, "byte-identical");
        let cd = dl
            .headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let star = cd
            .split("filename*=UTF-8''")
            .nth(1)
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default();
        let decoded = percent_encoding::percent_decode_str(star)
            .decode_utf8()
            .expect("valid UTF-8");
        assert!(
            decoded.ends_with(".pdf") && !decoded.contains(['/', '\\', '"']),
            "{cd}"
        );
        assert!(
            star.chars()
                .all(|c| c.is_ascii_alphanumeric() || "%-._~()".contains(c)),
            "{cd}"
        );
        let list = c.get(&format!("/applications/{id}/step/attachments")).await;
        assert!(list.text().contains(cn));
    }
);

both!(
    uploads_ten_thousand_parts_in_one_request_are_refused_or_bounded,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let page = c.get(&format!("/applications/{id}/step/attachments")).await;
        let type_id = attr(&page, ".attachment-type", "id")
            .trim_start_matches("type-")
            .to_owned();
        let boundary = "b10k";
        let mut body = Vec::new();
        let pdf = pdf_bytes();
        for i in 0..10_000 {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p{i}.pdf\"\r\n\r\n").as_bytes());
            body.extend_from_slice(&pdf);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let started = Instant::now();
        let req = Request::post(format!("/applications/{id}/attachments?type={type_id}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("x-csrf-token", c.csrf())
            .body(Body::from(body))
            .unwrap();
        let r = c.send(req).await;
        assert!(r.status != StatusCode::INTERNAL_SERVER_ERROR);
        let stored = ids(
            &app,
            &format!("SELECT COUNT(*) FROM attachments WHERE application_id = {id}"),
        )
        .await[0];
        assert_eq!(stored, 0, "10,000 parts stored {stored} files");
        assert!(
            !r.status.is_success() && !r.status.is_redirection(),
            "{}",
            r.status
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
    }
);

/// The resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn read_answer(s: &mut TcpStream, within: Duration) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

both!(
    uploads_dropped_half_way_leave_no_file_without_its_row,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let type_id = ids(
            &app,
            &format!("SELECT MIN(id) FROM attachment_types WHERE program_id = {program}"),
        )
        .await[0];
        let student = ids(
            &app,
            &format!("SELECT student_id FROM applications WHERE id = {id}"),
        )
        .await[0];
        let who = outbound::services::audit::Who::user(student, STUDENT);
        // A client that gives up at every moment of the upload: before the file is written,
        // while it is, and while its row commits.
        for n in 0..40u64 {
            let upload = outbound::services::attachments::upload(
                &app.state.db,
                &app.state.storage,
                &who,
                student,
                id,
                outbound::services::attachments::Slot::Type(type_id),
                "护照.pdf",
                pdf_bytes(),
            );
            tokio::time::timeout(Duration::from_micros(50 * n), upload)
                .await
                .ok();
        }
        // What was started finishes on its own; then every file has its row and vice versa.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mine = texts(
            &app,
            &format!("SELECT storage_key FROM attachments WHERE application_id = {id}"),
        )
        .await;
        let mut named: BTreeSet<String> = texts(&app, "SELECT storage_key FROM attachments")
            .await
            .into_iter()
            .collect();
        named.extend(
            texts(
                &app,
                "SELECT photo_key FROM students WHERE photo_key IS NOT NULL",
            )
            .await,
        );
        let files: BTreeSet<String> = app.state.storage.keys().unwrap().into_iter().collect();
        let orphans: Vec<_> = files.difference(&named).collect();
        assert!(orphans.is_empty(), "files without a row: {orphans:?}");
        assert!(
            mine.iter().all(|k| files.contains(k)),
            "rows without a file"
        );
        assert!(!mine.is_empty(), "no upload got as far as its row");
    }
);

both!(
    uploads_a_gigabyte_body_and_a_lying_content_length_get_413_fast_with_flat_memory,
    with_demo,
    |app| {
        let mut c = app.signed_in(STUDENT, PASSWORD).await;
        let program = open_program(&app).await;
        let id = start(&mut c, program).await;
        let addr = app.serve().await;
        let cookie = c
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let rss = rss_kib();
        // 1 GB declared and streamed: the answer must come long before the end.
        let mut s = TcpStream::connect(addr).await.unwrap();
        let gb: u64 = 1 << 30;
        s.write_all(format!("POST /applications/{id}/attachments?type=1 HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {gb}\r\n\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n%PDF-1.4\n", c.csrf()).as_bytes()).await.unwrap();
        let started = Instant::now();
        let chunk = vec![b'A'; 1 << 20];
        let mut sent: u64 = 0;
        while sent < gb && started.elapsed() < Duration::from_secs(30) {
            match tokio::time::timeout(Duration::from_secs(5), s.write_all(&chunk)).await {
                Ok(Ok(())) => sent += chunk.len() as u64,
                _ => break, // the server stopped reading or closed
            }
        }
        let answer = read_answer(&mut s, Duration::from_secs(5)).await;
        // 413: the attachments step again, with the "too large" message beside the type.
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "after {sent} bytes: {answer:?}"
        );
        assert!(
            sent < 200 << 20,
            "the server read {sent} bytes before refusing"
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        let grown = rss_kib().saturating_sub(rss);
        assert!(grown < 150 * 1024, "memory grew by {grown} KiB");
        // A Content-Length that promises more than is sent, then silence: no success, and the
        // server is still answering others.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("POST /applications/{id}/attachments?type=1 HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 5000\r\n\r\n--x\r\n", c.csrf()).as_bytes()).await.unwrap();
        s.shutdown().await.ok();
        let answer = read_answer(&mut s, Duration::from_secs(5)).await;
        assert!(
            !answer.starts_with("HTTP/1.1 2") && !answer.starts_with("HTTP/1.1 3"),
            "{answer:?}"
        );
        // A Content-Length smaller than the body: the rest is a second, garbage request.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("POST /applications/{id}/attachments?type=1 HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRF-Token: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 10\r\n\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\r\n--x--\r\n", c.csrf()).as_bytes()).await.unwrap();
        let answer = read_answer(&mut s, Duration::from_secs(5)).await;
        assert!(
            !answer.starts_with("HTTP/1.1 2")
                && !answer.starts_with("HTTP/1.1 3")
                && !answer.starts_with("HTTP/1.1 500"),
            "{answer:?}"
        );
        let stored = ids(
            &app,
            &format!("SELECT COUNT(*) FROM attachments WHERE application_id = {id}"),
        )
        .await[0];
        assert_eq!(stored, 0);
        assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    }
);

// ---------------------------------------------------------------------------------------------
// Slow clients

/// Serves the app on a fresh port with `timeouts`: (address, stop switch, server task).
async fn serve_with(
    app: &TestApp,
    timeouts: outbound::web::server::Timeouts,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(outbound::web::server::serve_on(
        listener,
        app.router.clone(),
        timeouts,
        async {
            stopped.await.ok();
        },
    ));
    (addr, stop, server)
}

/// A normal request on its own connection is answered within a second.
async fn answers_at_once(addr: std::net::SocketAddr) {
    let mut normal = TcpStream::connect(addr).await.unwrap();
    let t = Instant::now();
    normal
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut normal, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_disconnected_within_the_timeout_while_others_are_served() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Sqlite).await else {
        return;
    };
    let timeouts = outbound::web::server::Timeouts {
        header_read: Duration::from_secs(2),
        ..Default::default()
    };
    let (addr, stop, server) = serve_with(&app, timeouts).await;
    // A slowloris: half a request line, one byte a second, never the end of the headers.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let slow_task = tokio::spawn(async move {
        for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: b".iter() {
            if slow.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut probe = [0u8; 64];
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(1), slow.read(&mut probe)).await
            {
                return Instant::now();
            }
        }
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest))
            .await
            .ok();
        Instant::now()
    });
    // Meanwhile, a normal request answers at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    answers_at_once(addr).await;
    let closed_at = slow_task.await.unwrap();
    let took = closed_at - started;
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
    // An idle kept-alive connection is closed by the same clock.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let first = read_answer(&mut idle, Duration::from_secs(2)).await;
    assert!(first.starts_with("HTTP/1.1 200"));
    let t = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut rest))
        .await
        .expect("the idle connection is closed")
        .ok();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "idle for {:?}",
        t.elapsed()
    );
    stop.send(()).ok();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown")
        .ok();
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_once_below_the_minimum_rate_while_others_are_served() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Sqlite).await else {
        return;
    };
    let timeouts = outbound::web::server::Timeouts {
        body: outbound::web::slow_body::BodyRate {
            grace: Duration::from_secs(2),
            min_bytes_per_second: 1024,
            idle: Duration::from_secs(5),
        },
        ..Default::default()
    };
    let (addr, stop, server) = serve_with(&app, timeouts).await;
    // R.U.D.Y.: whole headers promising 64 KB, then ten bytes every 300 ms.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 65536\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let slow_task = tokio::spawn(async move {
        let mut answer = Vec::new();
        let mut probe = [0u8; 4096];
        while started.elapsed() < Duration::from_secs(20) {
            if slow.write_all(b"username=a").await.is_err() {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(300), slow.read(&mut probe)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => answer.extend_from_slice(&probe[..n]),
                Err(_) => {}
            }
        }
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest))
            .await
            .ok();
        answer.extend_from_slice(&rest);
        (
            Instant::now(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    });
    // Meanwhile, a normal request answers at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    answers_at_once(addr).await;
    let (closed_at, answer) = slow_task.await.unwrap();
    let took = closed_at - started;
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(8),
        "closed after {took:?}"
    );
    assert!(
        !answer.starts_with("HTTP/1.1 2")
            && !answer.starts_with("HTTP/1.1 3")
            && !answer.starts_with("HTTP/1.1 500"),
        "{answer:?}"
    );
    stop.send(()).ok();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown")
        .ok();
    app.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Brute force

both!(
    brute_force_five_failures_lock_for_fifteen_minutes_and_unknown_accounts_look_the_same,
    with_demo,
    |app| {
        let mut c = app.client();
        let mut unknown = Vec::new();
        for _ in 0..6 {
            let r = c
                .post(
                    "/login",
                    &[("username", "no-such-user-x"), ("password", "wrong")],
                )
                .await;
            unknown.push((
                r.status,
                r.select("#login-error"),
                r.select("main").join(" ").len(),
            ));
        }
        let mut known = Vec::new();
        for _ in 0..6 {
            let r = c
                .post(
                    "/login",
                    &[("username", OTHER_STUDENT), ("password", "wrong")],
                )
                .await;
            known.push((
                r.status,
                r.select("#login-error"),
                r.select("main").join(" ").len(),
            ));
        }
        assert_eq!(
            known, unknown,
            "a known account answers exactly like an unknown one"
        );
        // Locked: even the right password is refused, with the same answer.
        let r = c
            .post(
                "/login",
                &[("username", OTHER_STUDENT), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            (r.status, r.select("#login-error")),
            (unknown[0].0, unknown[0].1.clone())
        );
        let sql = format!("SELECT locked_until FROM users WHERE username = '{OTHER_STUDENT}'");
        let q = sqlx::AssertSqlSafe(sql);
        let until: (Option<chrono::DateTime<chrono::Utc>>,) = match &app.state.db {
            outbound::db::Db::Sqlite(pool) => sqlx::query_as(q).fetch_one(pool).await.unwrap(),
            outbound::db::Db::Postgres(pool) => sqlx::query_as(q).fetch_one(pool).await.unwrap(),
        };
        let left = until.0.expect("locked_until is set") - chrono::Utc::now();
        assert!(
            left > chrono::Duration::minutes(14) && left <= chrono::Duration::minutes(15),
            "locked for {left}"
        );
        // The API answers the same way.
        let mut a = app.client();
        a.get("/api/v1/csrf").await;
        let r1 = api(
            &mut a,
            Method::POST,
            "/api/v1/session",
            &format!("{{\"username\":\"{OTHER_STUDENT}\",\"password\":\"{PASSWORD}\"}}"),
        )
        .await;
        let r2 = api(
            &mut a,
            Method::POST,
            "/api/v1/session",
            "{\"username\":\"no-such-user-x\",\"password\":\"x\"}",
        )
        .await;
        assert_eq!(r1.status, r2.status);
        assert!(!r1.status.is_success());
        assert_eq!(r1.text(), r2.text());
        // Still locked 14 minutes later, open again after 15.
        let at = |minutes: i64| {
            let t = chrono::Utc::now() + chrono::Duration::minutes(minutes);
            t.format("%Y-%m-%d %H:%M:%S+00:00").to_string()
        };
        exec(
            &app,
            &format!(
                "UPDATE users SET locked_until = '{}' WHERE username = '{OTHER_STUDENT}'",
                at(1)
            ),
        )
        .await;
        let r = c
            .post(
                "/login",
                &[("username", OTHER_STUDENT), ("password", PASSWORD)],
            )
            .await;
        assert_ne!(r.status, StatusCode::SEE_OTHER, "still locked");
        exec(
            &app,
            &format!(
                "UPDATE users SET locked_until = '{}' WHERE username = '{OTHER_STUDENT}'",
                at(-1)
            ),
        )
        .await;
        let r = c
            .post(
                "/login",
                &[("username", OTHER_STUDENT), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "open again: {}", r.text());
    }
);
