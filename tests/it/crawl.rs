//! The crawler: every demo role, signed out too, in Chinese and in English, follows every
//! same-site link and every GET form (with its default values) from the home page, and collects
//! what a person must never meet:
//! - an answer other than 2xx/3xx;
//! - an HTML page without the site's frame (header, menu area, `<main>`), or in the wrong
//!   language, or a plain-text answer in place of a page;
//! - a raw code in the visible text: an untranslated catalogue key (`err.xxx`), a dotted or
//!   snake_case code (`admission.record`, `cyl_member`), or Rust debug output (`Criteria {`,
//!   `Some(`, `None`).
//!
//! Besides the links it finds, it asks each kind of page once more with a malformed id
//! (`/staff/applications/abc`) and with a repeated query field, which must both answer the
//! site's own page.
//!
//! Every finding is collected and reported at the end, each with the page that linked to it.
//! `OUTBOUND_CRAWL_KNOWN=cyl_member,…` names findings known and being fixed elsewhere: they
//! are still printed, and only the others fail the run.
//! The crawl is bounded: a page budget per role and language, and a few pages per kind of
//! address (the same path with other ids, the same query with other free-text values).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;

use axum::http::header;
use scraper::{ElementRef, Html, Node, Selector};

use crate::support::{Client, TestApp};

/// The people the crawler signs in as: the README's demo accounts (`None` = signed out).
const ROLES: &[(&str, Option<(&str, &str)>)] = &[
    ("signed out", None),
    ("student", Some(("2023010101", "Demo@2026"))),
    ("master's student", Some(("2024210201", "Demo@2026"))),
    (
        "student with an incomplete profile",
        Some(("2022030301", "Demo@2026")),
    ),
    ("student at first sign-in", Some(("2025010109", "20250109"))),
    ("student under review", Some(("2023020105", "Demo@2026"))),
    ("student with a draft", Some(("2023030112", "Demo@2026"))),
    ("nominated student", Some(("2023019101", "Demo@2026"))),
    ("college reviewer", Some(("wxy_reviewer", "Staff@2026"))),
    ("two-college reviewer", Some(("xx_reviewer", "Staff@2026"))),
    ("gjc_officer", Some(("gjc_officer", "Staff@2026"))),
    ("jwc_officer", Some(("jwc_officer", "Staff@2026"))),
    ("wsb_officer", Some(("wsb_officer", "Staff@2026"))),
    ("admin", Some(("admin", "Staff@2026"))),
    ("partner_demo", Some(("partner_demo", "Staff@2026"))),
];

/// Pages fetched per role and language, at most.
const BUDGET: usize = 160;
/// Addresses fetched per kind of address (see [`shape`]), at most.
const PER_SHAPE: usize = 2;

/// One thing a person would have met.
#[derive(Debug, Clone)]
struct Finding {
    who: String,
    url: String,
    from: String,
    problem: String,
}

/// Where the crawl stands for one role and language.
struct Crawl<'a> {
    who: String,
    lang: &'a str,
    /// Names people chose as identifiers (see [`identifiers`]).
    names: &'a HashSet<String>,
    client: Client,
    queue: VecDeque<(String, String)>,
    seen: HashSet<String>,
    shapes: HashMap<String, usize>,
    probed: HashSet<String>,
    fetched: usize,
    findings: Vec<Finding>,
}

impl Crawl<'_> {
    fn note(&mut self, url: &str, from: &str, problem: String) {
        self.findings.push(Finding {
            who: format!("{} ({})", self.who, self.lang),
            url: url.to_owned(),
            from: from.to_owned(),
            problem,
        });
    }

    /// Queues a link unless it was seen, is not to be followed, or its kind is used up.
    fn push(&mut self, url: String, from: &str) {
        if skipped(&url) || self.seen.contains(&url) {
            return;
        }
        let n = self.shapes.entry(shape(&url)).or_default();
        if *n >= PER_SHAPE {
            return;
        }
        *n += 1;
        self.seen.insert(url.clone());
        self.queue.push_back((url, from.to_owned()));
    }

    async fn run(&mut self) {
        self.push("/".to_owned(), "(start)");
        while let Some((url, from)) = self.queue.pop_front() {
            if self.fetched >= BUDGET {
                break;
            }
            self.fetched += 1;
            self.visit(&url, &from).await;
            self.probe(&url).await;
        }
    }

    async fn visit(&mut self, url: &str, from: &str) {
        let r = self.client.get(url).await;
        if r.status.is_redirection() {
            let to = r.location();
            if let Some(next) = resolve(url, &to) {
                self.push(next, url);
            }
            return;
        }
        if !r.status.is_success() {
            let detail = excerpt(&r.text());
            self.note(
                url,
                from,
                format!("answered {} {detail}", r.status.as_u16()),
            );
            return;
        }
        let kind = content_type(&r.headers);
        if !kind.starts_with("text/html") {
            if kind.starts_with("text/plain") || kind.is_empty() {
                self.note(
                    url,
                    from,
                    format!(
                        "answered {kind:?} instead of a page: {}",
                        excerpt(&r.text())
                    ),
                );
            }
            return;
        }
        let doc = r.html();
        for problem in page_problems(&doc, self.lang, self.names) {
            self.note(url, from, problem);
        }
        for link in links(&doc, url) {
            self.push(link, url);
        }
    }

    /// Asks a kind of page once with a malformed id and once with a repeated query field: each
    /// must answer the site's own page (an error page is fine, a bare text is not).
    async fn probe(&mut self, url: &str) {
        let key = shape(url);
        if !self.probed.insert(key) {
            return;
        }
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let mut probes = Vec::new();
        if let Some(last) = path.rsplit('/').find(|s| is_id(s)) {
            let at = path
                .rfind(&format!("/{last}"))
                .expect("a segment of the path");
            let bad = format!("{}/abc{}", &path[..at], &path[at + 1 + last.len()..]);
            probes.push(if query.is_empty() {
                bad
            } else {
                format!("{bad}?{query}")
            });
        }
        if let Some(first) = query.split('&').find(|p| !p.is_empty()) {
            probes.push(format!("{url}&{first}"));
        }
        for p in probes {
            if skipped(&p) {
                continue;
            }
            let r = self.client.get(&p).await;
            if r.status.is_redirection() || r.status.is_success() && !is_html(&r.headers) {
                continue;
            }
            if r.status.is_server_error() || !is_html(&r.headers) {
                let detail = excerpt(&r.text());
                self.note(
                    &p,
                    url,
                    format!(
                        "a malformed address answered {} {:?} instead of the site's page: {detail}",
                        r.status.as_u16(),
                        content_type(&r.headers)
                    ),
                );
                continue;
            }
            for problem in page_problems(&r.html(), self.lang, self.names) {
                self.note(&p, url, problem);
            }
        }
    }
}

fn content_type(h: &axum::http::HeaderMap) -> String {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn is_html(h: &axum::http::HeaderMap) -> bool {
    content_type(h).starts_with("text/html")
}

fn excerpt(text: &str) -> String {
    let t: String = text.chars().take(120).collect();
    format!("{:?}", t.trim())
}

/// Links the crawler leaves alone: signing out, switching the language (the crawl keeps one),
/// static files, and the 申请表 PDF (it needs a Chinese font the test machine may lack;
/// tests/it/pdf.rs covers it).
fn skipped(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or_default();
    path.starts_with("/logout")
        || path.starts_with("/lang/")
        || path.starts_with("/static/")
        || path.ends_with(".pdf")
}

fn is_id(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit())
}

/// The kind of an address: numbers in the path become `{n}`; the query keeps its field names
/// and its short, non-numeric values (tabs, statuses), so that each tab is its own kind while
/// other ids and free texts are not.
fn shape(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut out: String = path
        .split('/')
        .map(|s| if is_id(s) { "{n}" } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            if v.is_empty() || is_id(v) || v.len() > 20 || v.contains('%') {
                format!("{k}=*")
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    pairs.sort();
    if !pairs.is_empty() {
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// A link as the crawler fetches it: same-site, absolute path, no fragment; `None` for other
/// sites and for what is not a page address.
fn resolve(base: &str, href: &str) -> Option<String> {
    let href = href.trim();
    let href = href.split('#').next().unwrap_or_default();
    if href.is_empty() {
        return None;
    }
    let href = href
        .strip_prefix("http://localhost")
        .or_else(|| href.strip_prefix("https://localhost"))
        .unwrap_or(href);
    if href.starts_with("//") || href.contains("://") || href.contains(':') && !href.contains('/') {
        return None;
    }
    let lower = href.to_ascii_lowercase();
    if ["mailto:", "tel:", "javascript:", "data:"]
        .iter()
        .any(|s| lower.starts_with(s))
    {
        return None;
    }
    let base_path = base.split('?').next().unwrap_or("/");
    Some(if href.starts_with('/') {
        href.to_owned()
    } else if href.starts_with('?') {
        format!("{base_path}{href}")
    } else {
        let dir = &base_path[..=base_path.rfind('/').unwrap_or(0)];
        format!("{dir}{href}")
    })
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// The same-site links of a page, and its GET forms submitted with their default values.
fn links(doc: &Html, base: &str) -> Vec<String> {
    let mut out: Vec<String> = doc
        .select(&sel("a[href]"))
        .filter_map(|a| resolve(base, a.value().attr("href")?))
        .collect();
    for form in doc.select(&sel("form")) {
        let method = form.value().attr("method").unwrap_or("get");
        if !method.eq_ignore_ascii_case("get") {
            continue;
        }
        let action = form.value().attr("action").unwrap_or_default();
        let action = if action.is_empty() {
            base.split('?').next().unwrap_or("/").to_owned()
        } else {
            match resolve(base, action) {
                Some(a) => a.split('?').next().unwrap_or_default().to_owned(),
                None => continue,
            }
        };
        let query = serde_urlencoded::to_string(form_defaults(form)).expect("encodable");
        out.push(if query.is_empty() {
            action
        } else {
            format!("{action}?{query}")
        });
    }
    out
}

/// What a browser sends for a form nobody touched: each named field's default value, checked
/// boxes only, each select's selected (or first) option, and the first named submit button.
fn form_defaults(form: ElementRef<'_>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut submitter = false;
    for field in form.select(&sel(
        "input[name], select[name], textarea[name], button[name]",
    )) {
        let el = field.value();
        let name = el.attr("name").unwrap_or_default().to_owned();
        if el.attr("disabled").is_some() {
            continue;
        }
        match el.name() {
            "input" => {
                let kind = el.attr("type").unwrap_or("text").to_ascii_lowercase();
                let value = el.attr("value").unwrap_or_default().to_owned();
                match kind.as_str() {
                    "checkbox" | "radio" => {
                        if el.attr("checked").is_some() {
                            let v = if value.is_empty() { "on".into() } else { value };
                            pairs.push((name, v));
                        }
                    }
                    "submit" | "image" => {
                        if !submitter {
                            submitter = true;
                            pairs.push((name, value));
                        }
                    }
                    "file" | "reset" | "button" => {}
                    _ => pairs.push((name, value)),
                }
            }
            "select" => {
                let options: Vec<ElementRef<'_>> = field.select(&sel("option")).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                if let Some(o) = chosen {
                    let v = o
                        .value()
                        .attr("value")
                        .map(str::to_owned)
                        .unwrap_or_else(|| o.text().collect::<String>().trim().to_owned());
                    pairs.push((name, v));
                }
            }
            "textarea" => pairs.push((name, field.text().collect())),
            "button" => {
                let kind = el.attr("type").unwrap_or("submit");
                if kind.eq_ignore_ascii_case("submit") && !submitter {
                    submitter = true;
                    pairs.push((name, el.attr("value").unwrap_or_default().to_owned()));
                }
            }
            _ => {}
        }
    }
    pairs
}

/// What is wrong with a page a person sees: the frame and the language, then its texts.
fn page_problems(doc: &Html, lang: &str, names: &HashSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let html_lang = doc
        .select(&sel("html"))
        .next()
        .and_then(|h| h.value().attr("lang"))
        .unwrap_or_default();
    let want = if lang == "en" { "en" } else { "zh-CN" };
    let framed = doc
        .select(&sel("header.site-header a.brand"))
        .next()
        .is_some()
        && doc.select(&sel("main#main")).next().is_some()
        && doc.select(&sel("footer")).next().is_some();
    if !framed {
        problems.push("a page without the site layout".to_owned());
    } else if html_lang != want {
        problems.push(format!("a page in {html_lang:?}, not {want:?}"));
    }
    let Some(body) = doc.select(&sel("body")).next() else {
        return problems;
    };
    let mut texts = Vec::new();
    visible_texts(body, &mut texts);
    let mut seen = HashSet::new();
    for text in texts {
        for p in raw_in(&text, names) {
            if seen.insert(p.clone()) {
                problems.push(p);
            }
        }
    }
    problems
}

/// Elements whose text is never shown as words, or that show an identifier on purpose (a
/// code column, the read-only value of a `code` field, a user name, a generated password) or
/// what a person typed (a text area).
fn hidden_or_identifier(el: &scraper::node::Element) -> bool {
    matches!(
        el.name(),
        "script" | "style" | "template" | "code" | "kbd" | "samp" | "textarea" | "noscript"
    ) || el.id() == Some("f-code")
        || el
            .classes()
            .any(|c| matches!(c, "code" | "username" | "actor-username"))
}

/// The page's texts as a person meets them: text nodes, and the labels carried by attributes
/// (`title`, `placeholder`, `aria-label`, `alt`).
fn visible_texts(el: ElementRef<'_>, out: &mut Vec<String>) {
    if hidden_or_identifier(el.value()) {
        return;
    }
    for attr in ["title", "placeholder", "aria-label", "alt"] {
        if let Some(v) = el.value().attr(attr) {
            out.push(v.to_owned());
        }
    }
    for child in el.children() {
        match child.value() {
            Node::Text(t) => out.push(t.to_string()),
            Node::Element(_) => visible_texts(ElementRef::wrap(child).expect("an element"), out),
            _ => {}
        }
    }
}

/// File-name endings: `transcript.pdf` is a file, not a code.
const FILE_ENDINGS: &[&str] = &[
    "pdf", "jpg", "jpeg", "png", "gif", "webp", "doc", "docx", "xls", "xlsx", "csv", "txt", "zip",
    "rar", "ppt", "pptx", "json", "md", "html", "htm", "typ", "tsv",
];
/// Domain endings: `ox.ac.uk` or `example.edu` are addresses, not codes.
const DOMAIN_PARTS: &[&str] = &[
    "com", "cn", "edu", "org", "net", "gov", "ac", "uk", "jp", "kr", "hk", "mo", "tw", "de", "fr",
    "au", "us", "ca", "sg", "io", "nl", "it", "es", "ch", "se", "nz", "www",
];

/// The raw codes in one text: catalogue keys, dotted or snake_case codes, Rust debug output.
fn raw_in(text: &str, names: &HashSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    // Rust debug output: `Some(…)`, `Ok(…)`, `Err(…)`, `None`, `Name { field: …`.
    for marker in ["Some(", "Ok(", "Err("] {
        if let Some(at) = text.find(marker)
            && text[..at]
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            found.push(format!("Rust debug output {:?}", around(text, at)));
        }
    }
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || "_.@/:-%+~=?&#'".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    if words.contains(&"None") {
        found.push(format!("Rust debug output \"None\" in {:?}", clip(text)));
    }
    // A struct's debug form: `Criteria { program_id: …`.
    for (at, _) in text.match_indices(" { ") {
        let name: String = text[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let field: String = text[at + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.ends_with(|c: char| c.is_ascii_uppercase())
            && !field.is_empty()
            && text[at + 3 + field.len()..].starts_with(':')
        {
            found.push(format!(
                "Rust debug output {:?}",
                around(text, at - name.len())
            ));
        }
    }
    for w in words {
        if w.contains('@') || w.contains("://") || w.starts_with('/') || w.starts_with("www.") {
            continue;
        }
        let w = w.trim_matches(|c: char| ".:-'?&=#%+~/".contains(c));
        if w.is_empty() || names.contains(w) {
            continue;
        }
        if outbound::i18n::has_key(w) {
            found.push(format!("untranslated catalogue key {w:?}"));
            continue;
        }
        let lower_code = w
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !lower_code || !w.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        let parts: Vec<&str> = w.split('.').collect();
        if parts.len() > 1 {
            let is_file = FILE_ENDINGS.contains(parts.last().expect("two parts"));
            let is_domain = parts.iter().any(|p| DOMAIN_PARTS.contains(p));
            let words_like = parts
                .iter()
                .all(|p| p.len() >= 2 && p.starts_with(|c: char| c.is_ascii_lowercase()));
            if !is_file && !is_domain && words_like {
                found.push(format!("raw code {w:?} in {:?}", clip(text)));
            }
        } else if w.contains('_') && !w.starts_with('_') && !w.ends_with('_') {
            found.push(format!("raw code {w:?} in {:?}", clip(text)));
        }
    }
    found
}

fn clip(text: &str) -> String {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    t.chars().take(100).collect()
}

fn around(text: &str, at: usize) -> String {
    clip(&text[at..])
}

/// Identifiers people chose and the pages show as such wherever they appear: user names
/// (`wxy_reviewer`, also in the audit log's details) and workflow codes (流程代码); and the
/// words the catalogue's own texts use (a hint's example `如 summer_school` is written text).
async fn identifiers(app: &TestApp) -> HashSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("i18n"))
        .expect("the catalogue folder")
        .map(|e| e.expect("a catalogue file").path())
        .collect();
    files.push(root.join("src/domain/messages.tsv"));
    let mut names: HashSet<String> = HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable catalogue file");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            for value in line.split('\t').skip(1) {
                names.extend(
                    value
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                        .filter(|w| w.contains('_'))
                        .map(str::to_owned),
                );
            }
        }
    }
    let sql = "SELECT username FROM users UNION SELECT code FROM workflow_templates";
    let rows: Vec<(String,)> = match &app.state.db {
        outbound::db::Db::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        outbound::db::Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("user names and workflow codes");
    names.extend(rows.into_iter().map(|(n,)| n));
    names
}

/// Crawls as every role in both languages on one database; returns every finding.
async fn crawl_all(app: &TestApp) -> (Vec<Finding>, usize) {
    let names = identifiers(app).await;
    let mut findings = Vec::new();
    let mut pages = 0;
    for (who, login) in ROLES {
        for lang in ["zh", "en"] {
            let mut client = match login {
                Some((user, password)) => app.signed_in(user, password).await,
                None => app.client(),
            };
            client.cookies.insert(
                outbound::web::extract::LANG_COOKIE.to_owned(),
                lang.to_owned(),
            );
            let mut crawl = Crawl {
                who: (*who).to_owned(),
                lang,
                names: &names,
                client,
                queue: VecDeque::new(),
                seen: HashSet::new(),
                shapes: HashMap::new(),
                probed: HashSet::new(),
                fetched: 0,
                findings: Vec::new(),
            };
            crawl.run().await;
            pages += crawl.fetched;
            findings.append(&mut crawl.findings);
        }
    }
    (findings, pages)
}

/// The findings, one line per problem and kind of page, with who met it and where from.
fn report(findings: &[Finding]) -> String {
    let mut groups: Vec<((String, String), Vec<&Finding>)> = Vec::new();
    for f in findings {
        let problem = f.problem.split(" in \"").next().unwrap_or_default();
        let key = (problem.to_owned(), shape(&f.url));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(f),
            None => groups.push((key, vec![f])),
        }
    }
    let mut out = format!(
        "{} finding(s) on {} kind(s) of page:\n",
        findings.len(),
        groups.len()
    );
    for (_, list) in &groups {
        let first = list[0];
        let problem = &first.problem;
        let mut who: Vec<&str> = list.iter().map(|f| f.who.as_str()).collect();
        who.dedup();
        writeln!(
            out,
            "- {problem}\n    at {} (linked from {})\n    as {}",
            first.url,
            first.from,
            who.join(", ")
        )
        .expect("writing to a string");
    }
    out
}

crate::both!(
    every_page_every_role_reaches_in_both_languages_is_whole_and_translated,
    with_demo,
    |app| {
        let started = std::time::Instant::now();
        let (findings, pages) = crawl_all(&app).await;
        eprintln!(
            "crawled {pages} pages in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert!(
            pages > ROLES.len() * 2 * 5,
            "the crawl reached only {pages} pages"
        );
        // `OUTBOUND_CRAWL_KNOWN=cyl_member,…` lists findings that are known and being fixed
        // elsewhere: they are still shown, but only the others fail the test.
        let known: Vec<String> = std::env::var("OUTBOUND_CRAWL_KNOWN")
            .unwrap_or_default()
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        let (known_findings, open): (Vec<Finding>, Vec<Finding>) = findings
            .into_iter()
            .partition(|f| known.iter().any(|k| f.problem.contains(k.as_str())));
        if !known_findings.is_empty() {
            eprintln!(
                "known (OUTBOUND_CRAWL_KNOWN), not failing: {}",
                report(&known_findings)
            );
        }
        assert!(open.is_empty(), "{}", report(&open));
    }
);

#[test]
fn the_text_check_flags_codes_and_debug_output_but_not_addresses_or_file_names() {
    let names: HashSet<String> = ["wxy_reviewer".to_owned()].into();
    for bad in [
        "政治面貌：cyl_member",
        "操作 admission.record",
        "filter=Criteria { program_id: None, college_id: Some(3) }",
        "err.not_found",
        "状态 None",
        "filter=Criteria { program_id: 3 }",
    ] {
        assert!(!raw_in(bad, &names).is_empty(), "{bad} should be flagged");
    }
    for good in [
        "联系邮箱 intl_office@example.edu.cn",
        "成绩单 transcript_2025.pdf 已上传",
        "见 https://www.ox.ac.uk/admissions 或 www.example.com",
        "GPA 3.5 · IELTS 6.5 · TOEFL iBT 90",
        "Summer School (Oxford), e.g. 2026",
        "No application yet. Some programs open in May.",
        "/staff/applications?status=submitted",
        "登录失败：wxy_reviewer",
    ] {
        assert!(
            raw_in(good, &names).is_empty(),
            "{good}: {:?}",
            raw_in(good, &names)
        );
    }
    assert_eq!(
        shape("/staff/applications/12?tab=history"),
        "/staff/applications/{n}?tab=history"
    );
    assert_eq!(
        resolve("/staff/reviews?status=x", "?page=2").as_deref(),
        Some("/staff/reviews?page=2")
    );
    assert_eq!(resolve("/", "https://example.com/x"), None);
    assert_eq!(resolve("/", "mailto:a@b.cn"), None);
}
