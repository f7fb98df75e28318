//! The site's own pages where a person used to meet something else: the review tabs, malformed
//! addresses, the audit log's words, the home counts and the embedded static files.

use axum::http::StatusCode;

use crate::both;

const STAFF_PASSWORD: &str = "Staff@2026";

both!(
    each_review_tab_links_its_status_once_and_opens,
    with_demo,
    |app| {
        let mut c = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        // From a page already filtered by a status, as a reviewer arrives after a first click.
        let page = c.get("/staff/reviews?status=under_review&q=").await;
        assert_eq!(page.status, StatusCode::OK);
        let sel = scraper::Selector::parse(".status-tabs a").unwrap();
        let tabs: Vec<String> = page
            .html()
            .select(&sel)
            .filter_map(|a| a.value().attr("href").map(str::to_owned))
            .collect();
        assert!(tabs.len() > 1, "{tabs:?}");
        for href in tabs {
            assert_eq!(href.matches("status=").count(), 1, "{href}");
            let tab = c.get(&href).await;
            assert_eq!(tab.status, StatusCode::OK, "{href}: {}", tab.text());
        }
    }
);

/// The page's frame and language: the site's header and `<main>`, `<html lang>`.
fn assert_site_page(r: &crate::support::Resp, lang: &str) {
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("text/html"), "{ct}: {}", r.text());
    assert_eq!(
        r.select("header.site-header a.brand").len(),
        1,
        "{}",
        r.text()
    );
    assert_eq!(r.select("main#main").len(), 1);
    let html = r.html();
    let root = html.root_element();
    assert_eq!(root.value().attr("lang"), Some(lang));
}

both!(
    a_malformed_id_in_an_address_answers_the_sites_404_page_in_the_persons_language,
    with_demo,
    |app| {
        let mut c = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        c.cookies.insert(
            outbound::web::extract::LANG_COOKIE.to_owned(),
            "en".to_owned(),
        );
        for path in [
            "/staff/applications/abc",
            "/programs/%FF",
            "/staff/programs/12abc",
            "/staff/workflows/%FF",
        ] {
            let r = c.get(path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
            assert_site_page(&r, "en");
            assert!(
                r.text().contains(outbound::i18n::Lang::En.t("error.404")),
                "{path}"
            );
        }
        // The JSON API answers JSON, as for every other error.
        let mut api = app.signed_in("2023010101", "Demo@2026").await;
        let r = api.get("/api/v1/applications/abc").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json()["error"], "error.404");
    }
);

both!(
    a_query_string_that_cannot_be_read_answers_the_sites_400_page,
    with_demo,
    |app| {
        let mut signed_out = app.client();
        let r = signed_out.get("/login?next=%2F&next=%2Fprograms").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_site_page(&r, "zh-CN");
        assert!(r.text().contains(outbound::i18n::Lang::Zh.t("error.400")));
        let mut staff = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        let r = staff.get("/staff/reviews?status=submitted&status=").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_site_page(&r, "zh-CN");
    }
);

both!(
    the_audit_log_names_actions_and_writes_details_in_words,
    with_demo,
    |app| {
        let mut office = app.signed_in("gjc_officer", STAFF_PASSWORD).await;
        let export = office
            .get("/staff/applications/export.xlsx?status=under_review&col=student_no&col=name")
            .await;
        assert_eq!(export.status, StatusCode::OK);
        let mut admin = app.signed_in("admin", STAFF_PASSWORD).await;
        let log = admin.get("/admin/audit?action=report.export").await;
        assert_eq!(log.status, StatusCode::OK);
        let actions = log.select(".audit-table td.action");
        assert_eq!(actions, vec!["导出申请名单".to_owned()]);
        let details = log.select(".audit-table td.detail");
        let detail = &details[0];
        for words in ["行", "学号、姓名", "状态：申请中", "范围：全部学院"] {
            assert!(detail.contains(words), "{words} in {detail}");
        }
        for raw in ["Criteria", "None", "Some(", "program_id", "student_no"] {
            assert!(!detail.contains(raw), "{raw} in {detail}");
        }
        // The action's name follows the viewer's language.
        admin.cookies.insert(
            outbound::web::extract::LANG_COOKIE.to_owned(),
            "en".to_owned(),
        );
        let log = admin.get("/admin/audit?action=report.export").await;
        assert_eq!(
            log.select(".audit-table td.action"),
            vec!["Applications exported".to_owned()]
        );
    }
);

both!(
    a_college_reviewers_home_counts_what_their_statistics_count,
    with_demo,
    |app| {
        let mut c = app.signed_in("wxy_reviewer", STAFF_PASSWORD).await;
        let home = c.get("/").await;
        assert_eq!(home.status, StatusCode::OK);
        let on_home: i64 = home
            .select("dl.kv dd")
            .iter()
            .map(|n| n.parse::<i64>().expect("a count"))
            .sum();
        let theirs = crate::support::ids(
            &app,
            "SELECT COUNT(*) FROM applications a JOIN students s ON s.user_id = a.student_id \
             WHERE a.status <> 'draft' AND s.college_id IN (SELECT r.college_id FROM \
             reviewer_colleges r JOIN users u ON u.id = r.user_id WHERE u.username = 'wxy_reviewer')",
        )
        .await[0];
        let everyone = crate::support::ids(&app, "SELECT COUNT(*) FROM applications").await[0];
        assert!(theirs > 0 && theirs < everyone, "{theirs} of {everyone}");
        assert_eq!(on_home, theirs);
    }
);

/// A plain HTTP/1.1 GET on a real socket: the status line and headers, and the body.
async fn raw_get(addr: &str, path: &str, extra: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("send");
    let mut all = Vec::new();
    s.read_to_end(&mut all).await.expect("read");
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&all[..split]).to_lowercase();
    (head, all[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_carries_the_static_files_and_serves_them_from_any_folder() {
    use std::io::BufRead;
    let css = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.css")).unwrap();
    let js = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.js")).unwrap();
    // The files are inside the executable, not looked up beside the source tree.
    let exe = std::fs::read(env!("CARGO_BIN_EXE_outbound")).expect("the binary");
    for file in [&css, &js] {
        assert!(exe.windows(file.len()).any(|w| w == file.as_slice()));
    }
    // Started from an empty folder elsewhere, it serves them.
    let dir = std::env::temp_dir().join(format!(
        "outbound-static-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_outbound"))
        .current_dir(&dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .env_remove("OUTBOUND_DATA_KEY")
        .env_remove("OUTBOUND_DATABASE_URL")
        .env("RUST_LOG", "outbound=warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the binary");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("running at http://").nth(1) {
                tx.send(rest.trim_end_matches('/').to_owned()).ok();
            }
        }
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the server starts");
    let (head, body) = raw_get(&addr, "/static/app.css", "").await;
    let (missing, _) = raw_get(&addr, "/static/nothing.css", "").await;
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .map(str::to_owned);
    let (again, _) = match &etag {
        Some(e) => raw_get(&addr, "/static/app.css", &format!("If-None-Match: {e}\r\n")).await,
        None => (String::new(), Vec::new()),
    };
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/css"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert_eq!(body, css);
    assert!(etag.is_some(), "{head}");
    assert!(again.starts_with("http/1.1 304"), "{again}");
    assert!(missing.starts_with("http/1.1 404"), "{missing}");
}
