//! Every student page on a 375 px phone, in Chinese and in English: no page scrolls sideways
//! (tables, tabs, the step bar and the menu scroll inside their own box), every button, link
//! and field in the content is at least 40 px tall unless it is a link inside running text,
//! every field's text is at least 16 px (so that phones do not zoom in), the tab and step bars
//! never scroll up and down and show their current item, and the sticky button bar under a long
//! form never covers the field that has focus.
//!
//! The data: the demo set on SQLite, with one submitted application (a pending language score,
//! so that 补录分数 shows) and one draft that still misses a required file, both made through
//! the HTTP client before the browser signs in. A picture of every page is kept as
//! `target/screenshots/phone-<lang>-<page>.png` for people to look at.

use std::time::Duration;

use anyhow::{anyhow, bail};
use axum::http::StatusCode;
use fantoccini::{Client, Locator};
use sea_query::{Expr, ExprTrait, Query};
use serde_json::json;

use crate::browser::{Browser, click, find, type_into, url_of, wait_for_url};
use crate::journey::{attr, fill, start};
use crate::support::{Backend, TestApp};

const WIDTH: u32 = 375;
const HEIGHT: u32 = 812;
const PASSWORD: &str = "Demo@2026";
/// 王晓明: undergraduate with a complete profile.
const STUDENT: &str = "2023010101";
/// 陈子涵: undergraduate whose profile misses fields.
const INCOMPLETE: &str = "2022030301";
/// 赵一鸣: has never signed in; must change the initial password (= campus card number).
const NEW_STUDENT: &str = "2025010109";
const NEW_STUDENT_PASSWORD: &str = "20250109";

/// What the test needs to find again: the ids of the programs and applications it visits.
struct Fixture {
    /// The UK semester exchange: open, with required attachments (the submitted application).
    submitted_program: i64,
    /// The Hong Kong semester exchange: open (the draft).
    draft_program: i64,
    /// The UCLA summer program: open, not applied to (its 申报须知 is shown).
    notice_program: i64,
    /// The Waseda winter program: closed.
    closed_program: i64,
    /// The Delft research training: graduate students only, so not for the undergraduate.
    ineligible_program: i64,
    submitted: i64,
    draft: i64,
    language_row: i64,
}

/// The id of the one program whose Chinese name contains `part`.
async fn program_named(app: &TestApp, part: &str) -> i64 {
    let rows: Vec<(i64,)> = app
        .state
        .db
        .all(
            &Query::select()
                .column("id")
                .from("programs")
                .and_where(Expr::col("name_zh").like(format!("%{part}%")))
                .to_owned(),
        )
        .await
        .expect("programs");
    assert_eq!(rows.len(), 1, "one demo program named like “{part}”");
    rows[0].0
}

/// The demo set plus a submitted application and a draft of the complete student.
async fn fixture(app: &TestApp) -> Fixture {
    let submitted_program = program_named(app, "英国校际学期制交换生").await;
    let draft_program = program_named(app, "香港地区高校交换生").await;
    let mut c = app.signed_in(STUDENT, PASSWORD).await;

    let submitted = start(&mut c, submitted_program).await;
    // Both started before the first is submitted: at the per-round limit 报名 is not offered.
    let draft = start(&mut c, draft_program).await;
    fill(&mut c, submitted, "", usize::MAX).await;
    let check = c.get(&format!("/applications/{submitted}/submit")).await;
    assert!(
        check.select("#problems").is_empty(),
        "the first application is complete: {:?}",
        check.select("#problems")
    );
    let r = c
        .post(
            &format!("/applications/{submitted}/submit"),
            &[("version", &attr(&check, "input[name=version]", "value"))],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    fill(&mut c, draft, "7.0", 1).await;
    let langs = c
        .get(&format!("/applications/{draft}/step/languages"))
        .await;
    let language_row = attr(&langs, "#language-rows a[href*='/languages/']", "href")
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the draft's language row");

    Fixture {
        submitted_program,
        draft_program,
        notice_program: program_named(app, "加州大学洛杉矶分校").await,
        closed_program: program_named(app, "早稻田大学").await,
        ineligible_program: program_named(app, "代尔夫特理工大学").await,
        submitted,
        draft,
        language_row,
    }
}

// ---------------------------------------------------------------------------------------------
// What every page must do on a phone

/// Measures the page: sideways overflow, small tap targets, small field text, bars that
/// scroll up and down. Returns one line per problem.
const CHECK: &str = r#"
const W = arguments[0];
const doc = document.documentElement;
const own = '.table-wrap, .tabs, .steps, .nav-list, nav.site-nav';
const name = e => {
  let n = e.tagName.toLowerCase();
  if (e.id) n += '#' + e.id;
  if (typeof e.className === 'string' && e.className.trim()) n += '.' + e.className.trim().split(/\s+/).join('.');
  if (e.name) n += '[name=' + e.name + ']';
  const text = (e.innerText || e.value || '').trim().replace(/\s+/g, ' ').slice(0, 24);
  return text ? n + ' “' + text + '”' : n;
};
const shown = e => {
  const r = e.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) return false;
  const s = getComputedStyle(e);
  return s.visibility !== 'hidden' && s.display !== 'none' && !e.closest('.sr-only');
};
// Inside a box that scrolls sideways on purpose (and clips what it holds) wide is fine.
const clipped = e => {
  for (let p = e.parentElement; p; p = p.parentElement) {
    if (p.matches(own) && getComputedStyle(p).overflowX !== 'visible') return true;
  }
  return false;
};
const problems = [];
if (doc.scrollWidth > W + 1 || window.innerWidth > W + 1) {
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(e => shown(e) && !clipped(e))
    .filter(e => { const r = e.getBoundingClientRect(); return r.right > W + 1 || r.left < -1; })
    .slice(0, 6).map(name);
  problems.push('scrolls sideways (the phone zooms out to ' + window.innerWidth + ' px): scrollWidth ' + doc.scrollWidth + ' > ' + W + '; too wide: ' + wide.join(', '));
}
for (const bar of document.querySelectorAll('.tabs, .steps, .nav-list')) {
  const y = getComputedStyle(bar).overflowY;
  if (shown(bar) && (y === 'auto' || y === 'scroll') && bar.scrollHeight > bar.clientHeight + 1) {
    problems.push('scrolls up and down (' + bar.scrollHeight + ' > ' + bar.clientHeight + '): ' + name(bar));
  }
}
for (const current of document.querySelectorAll('.steps [aria-current], .tabs [aria-current], .nav-list [aria-current]')) {
  const bar = current.closest('.steps, .tabs, .nav-list');
  const box = bar.getBoundingClientRect();
  const r = current.getBoundingClientRect();
  if (r.left < box.left - 1 || r.right > box.right + 1) {
    problems.push('the current item is scrolled out of its bar: ' + name(current));
  }
}
const main = document.querySelector('main');
const controls = main ? main.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary') : [];
for (const e of controls) {
  if (!shown(e)) continue;
  const closed = e.closest('details:not([open])');
  if (closed && !e.closest('summary')) continue;
  const box = e.matches('input[type=checkbox], input[type=radio]') ? (e.closest('label') || e) : e;
  const h = box.getBoundingClientRect().height;
  const inlineLink = e.tagName === 'A' && getComputedStyle(e).display === 'inline';
  if (h < 39.5 && !inlineLink) problems.push('tap target ' + h.toFixed(0) + ' px high: ' + name(e));
  if (e.matches('input:not([type=checkbox]):not([type=radio]), select, textarea')) {
    const size = parseFloat(getComputedStyle(e).fontSize);
    if (size < 16) problems.push('text ' + size + ' px in a field (phones zoom in): ' + name(e));
  }
}
return problems;
"#;

/// For every field of the long form on this page: scrolls until the field has just come into
/// the window behind the sticky button bar (as a person scrolling down leaves it), focuses it
/// as Tab or the keyboard's "next" key would, and checks that it now shows above the bar.
const FOCUS_CHECK: &str = r#"
const bar = document.querySelector('.form-actions');
const form = bar && bar.closest('form');
if (!form) return 'no form with a sticky button bar';
const fields = Array.from(form.querySelectorAll('input:not([type=hidden]), select, textarea'))
  .filter(e => e.getBoundingClientRect().height > 0);
const covered = [];
let tried = 0;
for (const f of fields) {
  window.scrollTo(0, 0);
  const barHeight = bar.getBoundingClientRect().height;
  const r0 = f.getBoundingClientRect();
  window.scrollBy(0, r0.top - (window.innerHeight - barHeight + 4));
  const r1 = f.getBoundingClientRect();
  if (r1.top < bar.getBoundingClientRect().top) continue; // the bar is at its own place
  tried += 1;
  f.focus();
  const r = f.getBoundingClientRect();
  const b = bar.getBoundingClientRect();
  if (r.bottom > b.top + 1) covered.push((f.id || f.name) + ' (field bottom ' + r.bottom.toFixed(0) + ' > bar top ' + b.top.toFixed(0) + ')');
  f.blur();
}
window.scrollTo(0, 0);
return [tried, covered.slice(0, 5).join(', ')];
"#;

struct Tour<'a> {
    browser: &'a Browser,
    c: &'a Client,
    base: String,
    lang: &'static str,
    failures: Vec<String>,
    pages: usize,
}

impl Tour<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path`, checks it and keeps a picture as `phone-<lang>-<page>.png`.
    async fn visit(&mut self, page: &str, path: &str) -> anyhow::Result<()> {
        self.c.goto(&self.url(path)).await?;
        self.check(page).await
    }

    /// Checks the page now shown.
    async fn check(&mut self, page: &str) -> anyhow::Result<()> {
        find(self.c, "main").await?;
        let state = self
            .c
            .execute(
                "return [document.documentElement.lang, document.title];",
                vec![],
            )
            .await?;
        let html_lang = state[0].as_str().unwrap_or_default();
        if !html_lang.starts_with(self.lang) {
            bail!("{page} is in “{html_lang}”, not in {}", self.lang);
        }
        let here = url_of(self.c).await;
        let problems = self.c.execute(CHECK, vec![json!(WIDTH)]).await?;
        let problems: Vec<String> = serde_json::from_value(problems)?;
        if !problems.is_empty() {
            self.failures
                .push(format!("{page} ({here}):\n    {}", problems.join("\n    ")));
        }
        self.browser
            .screenshot(&format!("-{}-{page}", self.lang))
            .await;
        self.pages += 1;
        Ok(())
    }

    /// On a page with a form that has the sticky button bar: focusing a field that sits behind
    /// the bar brings it above the bar. `long`: the form is longer than the screen, so some
    /// field must have been tried.
    async fn check_focus(&mut self, page: &str, long: bool) -> anyhow::Result<()> {
        let outcome = self.c.execute(FOCUS_CHECK, vec![]).await?;
        let tried = outcome[0].as_u64().unwrap_or(0);
        let covered = outcome[1].as_str().unwrap_or_default();
        if !covered.is_empty() {
            self.failures.push(format!(
                "{page}: the sticky button bar hides the focused field: {covered}"
            ));
        } else if long && tried == 0 {
            self.failures.push(format!(
                "{page}: no field was ever behind the sticky button bar ({outcome}): the focus check did not run"
            ));
        }
        Ok(())
    }

    async fn sign_in(&mut self, username: &str, password: &str) -> anyhow::Result<()> {
        self.c.goto(&self.url("/login")).await?;
        type_into(self.c, "#f-username", username).await?;
        type_into(self.c, "#f-password", password).await?;
        click(self.c, "form.login-card button[type=submit]").await?;
        let deadline = std::time::Instant::now() + crate::browser::WAIT;
        while url_of(self.c).await.contains("/login") {
            if std::time::Instant::now() > deadline {
                bail!("signing in as {username} failed");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    async fn sign_out(&mut self) -> anyhow::Result<()> {
        self.c.goto(&self.url("/")).await?;
        click(self.c, "form.logout-form button[type=submit]").await?;
        wait_for_url(self.c, "/login").await
    }

    async fn run(&mut self, f: &Fixture) -> anyhow::Result<()> {
        // The language is chosen before signing in and kept in a cookie.
        self.c
            .goto(&self.url(&format!("/lang/{}?back=/login", self.lang)))
            .await?;
        self.check("login").await?;
        // A refused sign-in shows its error on the same card.
        type_into(self.c, "#f-username", STUDENT).await?;
        type_into(self.c, "#f-password", "wrong-password").await?;
        click(self.c, "form.login-card button[type=submit]").await?;
        find(self.c, "#login-error").await?;
        self.check("login-refused").await?;

        self.sign_in(STUDENT, PASSWORD).await?;
        self.check("home").await?;
        self.visit("programs", "/programs").await?;
        self.visit(
            "programs-filtered",
            "/programs?keyword=%E4%BA%A4%E6%8D%A2&level=undergraduate&open_only=1",
        )
        .await?;
        let p = f.submitted_program;
        self.visit("program-open", &format!("/programs/{p}"))
            .await?;
        let p = f.draft_program;
        self.visit("program-applied", &format!("/programs/{p}"))
            .await?;
        let p = f.closed_program;
        self.visit("program-closed", &format!("/programs/{p}"))
            .await?;
        let p = f.ineligible_program;
        self.visit("program-ineligible", &format!("/programs/{p}"))
            .await?;
        let p = f.notice_program;
        self.visit("notice", &format!("/programs/{p}/apply"))
            .await?;
        self.visit("applications", "/applications").await?;
        // The 操作 menu of a row, opened.
        click(self.c, "#my-applications details.menu-dropdown > summary").await?;
        self.check("applications-menu").await?;

        let id = f.submitted;
        for tab in [
            "progress",
            "basic",
            "detail",
            "funding",
            "attachments",
            "history",
        ] {
            self.visit(
                &format!("application-{tab}"),
                &format!("/applications/{id}?tab={tab}"),
            )
            .await?;
        }

        let id = f.draft;
        for step in ["basic", "info", "languages", "attachments"] {
            self.visit(
                &format!("step-{step}"),
                &format!("/applications/{id}/step/{step}"),
            )
            .await?;
            if step != "attachments" {
                self.check_focus(&format!("step-{step}"), step != "languages")
                    .await?;
            }
        }
        // A refused save: errors beside the fields and in the summary.
        self.c
            .goto(&self.url(&format!("/applications/{id}/step/info")))
            .await?;
        type_into(self.c, "#f-gpa", "9.99").await?;
        type_into(self.c, "#f-emergency_phone", "12").await?;
        click(self.c, "button[name=action][value=save]").await?;
        find(self.c, ".error-summary").await?;
        self.check("step-info-errors").await?;
        self.visit("submit-problems", &format!("/applications/{id}/submit"))
            .await?;
        if self.c.find(Locator::Css("#problems")).await.is_err() {
            bail!("the draft's submit page lists no problems");
        }
        let row = f.language_row;
        self.visit(
            "language-edit",
            &format!("/applications/{id}/languages/{row}"),
        )
        .await?;
        self.check_focus("language-edit", false).await?;

        self.visit("profile", "/profile").await?;
        self.check_focus("profile", true).await?;
        self.visit("profile-study", "/profile/study").await?;
        self.visit("messages", "/messages").await?;
        self.visit("password", "/password").await?;
        self.visit("not-found", "/programs/999999").await?;
        self.visit("not-found-path", "/no/such/page").await?;
        self.sign_out().await?;

        // A profile that misses fields: sent to complete it before applying.
        self.sign_in(INCOMPLETE, PASSWORD).await?;
        let p = f.notice_program;
        self.visit("profile-missing", &format!("/programs/{p}/apply"))
            .await?;
        if !url_of(self.c).await.contains("missing=1") {
            bail!("the student with a missing profile was not sent to /profile?missing=1");
        }
        self.sign_out().await?;

        // The first sign-in: 修改密码 first.
        self.sign_in(NEW_STUDENT, NEW_STUDENT_PASSWORD).await?;
        wait_for_url(self.c, "/password").await?;
        self.check("password-first").await?;
        Ok(())
    }
}

async fn tour(lang: &'static str) {
    let Some(browser) = Browser::start("phone", WIDTH, HEIGHT).await else {
        return;
    };
    let Some(app) = TestApp::with_demo(Backend::Sqlite).await else {
        return;
    };
    let f = fixture(&app).await;
    let addr = app.serve().await;
    let mut t = Tour {
        browser: &browser,
        c: &browser.client,
        base: format!("http://{addr}"),
        lang,
        failures: Vec::new(),
        pages: 0,
    };
    let outcome = Box::pin(t.run(&f)).await;
    let failures = std::mem::take(&mut t.failures);
    let pages = t.pages;
    let stuck = match outcome {
        Ok(()) => None,
        Err(e) => {
            let shot = browser.screenshot(&format!("-{lang}-failure")).await;
            let at = url_of(&browser.client).await;
            Some(anyhow!(e).context(format!("at {at}, screenshot {}", shot.display())))
        }
    };
    browser.quit().await;
    app.finish().await;
    if let Some(e) = stuck {
        panic!(
            "the phone tour in {lang} stopped after {pages} pages: {e:#}\nproblems found before:\n  {}",
            failures.join("\n  ")
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {pages} pages do not work on a {WIDTH} px phone in {lang} (pictures in target/screenshots/phone-{lang}-*.png):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    eprintln!("{pages} pages checked at {WIDTH} px in {lang}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_student_page_works_on_a_375_px_phone_in_chinese() {
    tour("zh").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_student_page_works_on_a_375_px_phone_in_english() {
    tour("en").await;
}
