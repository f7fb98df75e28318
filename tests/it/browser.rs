//! A person's journey in real headless Chromium: a new student signs in with the initial
//! password, changes it, completes the profile, applies for the UK semester exchange step by
//! step (uploading a PDF with a Chinese file name) and submits — on a desktop window and on a
//! phone-sized one, where no page may scroll sideways.
//!
//! The browser tests run on SQLite only (the HTTP suite covers PostgreSQL). They need
//! `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`; `scripts/test`
//! installs them): outside CI a missing browser skips them loudly, in CI it fails them.
//! A screenshot of the end of each journey is left in `target/screenshots/` for people to look
//! at (and one named `…-failure.png` when a journey fails).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use chrono::{Days, Utc};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, pdf_bytes};

/// The new undergraduate of the demo set: minimal profile, must change the initial password.
const STUDENT: &str = "2025010109";
const INITIAL_PASSWORD: &str = "20250109";
const NEW_PASSWORD: &str = "Newpass#2026";
/// The open semester exchange with required attachments, picked by its visible name.
const PROGRAM_SEARCH: &str = "英国";
const PROGRAM_TEXT: &str = "英国校际学期制交换生项目";
const FILE_NAME: &str = "张三护照.pdf";
/// How long any one page may take to show what we wait for.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), rand::random::<u32>())
}

/// The first executable called `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// chromedriver and the Chromium binary to hand it (`/usr/bin/chromium` when it exists).
fn tools() -> Option<(PathBuf, PathBuf)> {
    let driver = on_path("chromedriver");
    let chromium = [PathBuf::from("/usr/bin/chromium")]
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| {
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .find_map(|n| on_path(n))
        });
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        (d, c) => {
            let missing = [
                d.is_none().then_some("chromedriver"),
                c.is_none().then_some("chromium"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
            if in_ci() {
                panic!(
                    "the browser tests need {missing} in CI (apt-get install chromium chromium-driver; scripts/test does it)"
                );
            }
            eprintln!(
                "\n!!! SKIPPED a browser test: {missing} not found (run scripts/test, which installs chromium and chromium-driver) !!!\n"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One plain HTTP/1.1 request to chromedriver without the async client (used when dropping);
/// waits for the answer to begin, which chromedriver sends once it has done the work.
fn raw_request(port: u16, method: &str, path: &str) {
    if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        if s.write_all(req.as_bytes()).is_ok() {
            let mut first = [0u8; 12]; // "HTTP/1.1 200"
            s.read_exact(&mut first).ok();
        }
    }
}

/// Starts chromedriver under a small shell that watches this test process: the shell,
/// chromedriver and every Chromium process it starts share one process group, which the
/// shell ends (and removes the browser profile) as soon as this process is gone — even when a
/// test aborts without unwinding.
const WATCHDOG: &str = r#"
"$1" --port="$2" </dev/null >/dev/null 2>&1 &
driver=$!
trap '' TERM
while kill -0 "$3" 2>/dev/null && kill -0 "$driver" 2>/dev/null; do sleep 1; done
kill -s TERM -- "-$$" 2>/dev/null
sleep 1
rm -rf "$4"
kill -s KILL -- "-$$" 2>/dev/null
"#;

/// chromedriver (in its own process group), its port, its browser session and the browser's
/// profile folder. Dropping it (also after a failed assertion) closes the browser, ends the
/// whole process group and removes the profile.
struct Driver {
    child: Child,
    port: u16,
    session: Option<String>,
    profile: PathBuf,
}

impl Driver {
    fn spawn(driver_bin: &Path, port: u16) -> Driver {
        use std::os::unix::process::CommandExt;
        let profile = std::env::temp_dir().join(unique("outbound-chromium"));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("outbound-chromedriver")
            .arg(driver_bin)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .arg(&profile)
            .process_group(0)
            .stdin(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Driver {
            child,
            port,
            session: None,
            profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            raw_request(self.port, "DELETE", &format!("/session/{id}"));
        }
        // The group's id is the shell's process id.
        Command::new("sh")
            .arg("-c")
            .arg(format!("kill -s KILL -- -{}", self.child.id()))
            .stderr(Stdio::null())
            .status()
            .ok();
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.profile).ok();
    }
}

/// One headless Chromium with a fresh profile, driven through its own chromedriver.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Driver,
    name: String,
    /// The emulated phone viewport (width, height), if any.
    phone: Option<(u32, u32)>,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a window of `width`×`height`.
    /// `None` when the browser is missing outside CI.
    pub(crate) async fn start(name: &str, width: u32, height: u32) -> Option<Browser> {
        let (driver_bin, chromium) = tools()?;
        let port = free_port();
        let mut driver = Driver::spawn(&driver_bin, port);

        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let mut options = json!({
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", driver.profile.display()),
                format!("--window-size={width},{height}"),
                "--lang=zh-CN",
            ],
        });
        options["binary"] = json!(chromium.display().to_string());
        if width < 500 {
            // A desktop window is never narrower than 500 px: a phone's viewport is emulated.
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "touch": true },
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("goog:chromeOptions".into(), options);
        // An unexpected dialog makes the next command fail instead of being dismissed.
        caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session through chromedriver");
        driver.session = client.session_id().await.ok().flatten();
        Some(Browser {
            client,
            driver,
            name: name.to_owned(),
            phone: (width < 500).then_some((width, height)),
        })
    }

    /// Closes the browser; dropping then ends chromedriver.
    pub(crate) async fn quit(mut self) {
        if self.client.clone().close().await.is_ok() {
            self.driver.session = None;
        }
    }

    /// Sends a DevTools command through chromedriver's `goog/cdp/execute` (which fantoccini
    /// does not wrap) and returns its result.
    async fn cdp(&self, cmd: &str, params: Value) -> anyhow::Result<Value> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let session = self
            .driver
            .session
            .as_deref()
            .ok_or_else(|| anyhow!("no session"))?;
        let body = json!({ "cmd": cmd, "params": params }).to_string();
        let port = self.driver.port;
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let request = format!(
            "POST /session/{session}/goog/cdp/execute HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        // chromedriver keeps the connection open: read exactly one answer.
        let read = async {
            let mut raw = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = stream.read(&mut buf).await?;
                raw.extend_from_slice(&buf[..n]);
                if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
                    let body = &raw[split + 4..];
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok());
                    match length {
                        Some(len) if body.len() >= len => return Ok(body[..len].to_vec()),
                        None if head.contains("transfer-encoding: chunked")
                            && body.ends_with(b"0\r\n\r\n") =>
                        {
                            return unchunk(body);
                        }
                        _ => {}
                    }
                }
                if n == 0 {
                    bail!("chromedriver closed the connection mid-answer");
                }
            }
        };
        let payload = tokio::time::timeout(Duration::from_secs(30), read).await??;
        let answer: Value = serde_json::from_slice(&payload)?;
        if answer["value"]["error"].is_string() {
            bail!("{cmd}: {}", answer["value"]);
        }
        Ok(answer["value"].clone())
    }

    /// A PNG of the whole page, not only of what fits in the window.
    async fn full_page_png(&self) -> anyhow::Result<Vec<u8>> {
        use base64::Engine;
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await?;
        let width = metrics["cssLayoutViewport"]["clientWidth"]
            .as_f64()
            .unwrap_or(0.0);
        let height = metrics["cssContentSize"]["height"].as_f64().unwrap_or(0.0);
        if width < 1.0 || height < 1.0 {
            bail!("no page size in {metrics}");
        }
        // A window as tall as the page, so that bars kept at the bottom of the screen
        // (position: sticky) are drawn where they end up, not halfway down the picture.
        let (phone_width, scale) = match self.phone {
            Some((w, _)) => (f64::from(w), 2.0),
            None => (0.0, 0.0),
        };
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": phone_width,
                "height": height.ceil().min(16000.0),
                "deviceScaleFactor": scale,
                "mobile": self.phone.is_some(),
            }),
        )
        .await?;
        let shot = self
            .cdp("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        // Back to the window the journey runs in.
        match self.phone {
            Some((w, h)) => {
                self.cdp(
                    "Emulation.setDeviceMetricsOverride",
                    json!({ "width": w, "height": h, "deviceScaleFactor": 2.0, "mobile": true }),
                )
                .await?
            }
            None => {
                self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
                    .await?
            }
        };
        let shot = shot?;
        let data = shot["data"]
            .as_str()
            .ok_or_else(|| anyhow!("no image in the answer"))?;
        Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
    }

    /// Saves a picture of the whole page as `target/screenshots/<name><suffix>.png`.
    pub(crate) async fn screenshot(&self, suffix: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{}{suffix}.png", self.name));
        let png = match self.full_page_png().await {
            Ok(png) => Ok(png),
            Err(_) => self.client.screenshot().await,
        };
        match png {
            Ok(png) => {
                std::fs::write(&path, png).ok();
            }
            Err(e) => eprintln!("no screenshot {}: {e}", path.display()),
        }
        path
    }
}

/// Decodes an HTTP/1.1 chunked body.
fn unchunk(mut body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("a broken chunk"))?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            bail!("a chunk cut short");
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

// ---------------------------------------------------------------------------------------------
// Small steps a person takes

/// Waits for an element matching the CSS selector.
pub(crate) async fn find(c: &Client, css: &str) -> anyhow::Result<Element> {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(el) => Ok(el),
        Err(e) => Err(anyhow!(e).context(format!("waiting for `{css}` on {}", url_of(c).await))),
    }
}

pub(crate) async fn url_of(c: &Client) -> String {
    c.current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default()
}

/// Waits until the address contains `part`; fails early with the page's error summary when
/// the page shows one instead.
pub(crate) async fn wait_for_url(c: &Client, part: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = url_of(c).await;
        if url.contains(part) {
            return Ok(());
        }
        if let Ok(summary) = c
            .find(Locator::Css(
                ".error-summary, .field-error:not(:empty), .alert-error",
            ))
            .await
            && let Ok(text) = summary.text().await
            && !text.trim().is_empty()
        {
            bail!(
                "expected to reach `{part}`, but {url} says: {}",
                text.trim()
            );
        }
        if Instant::now() > deadline {
            bail!("expected to reach `{part}`, still on {url}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the element matching `css` shows `text`.
pub(crate) async fn wait_for_text(c: &Client, css: &str, text: &str) -> anyhow::Result<Element> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(shown) = el.text().await
            && shown.contains(text)
        {
            return Ok(el);
        }
        if Instant::now() > deadline {
            let shown = match c.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => "(no such element)".into(),
            };
            bail!(
                "`{css}` never showed “{text}” on {}: {shown}",
                url_of(c).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clears a text input and types `value`.
pub(crate) async fn type_into(c: &Client, css: &str, value: &str) -> anyhow::Result<()> {
    let el = find(c, css).await?;
    el.clear()
        .await
        .with_context(|| format!("clearing {css}"))?;
    el.send_keys(value)
        .await
        .with_context(|| format!("typing into {css}"))?;
    Ok(())
}

/// Sets a date input: typing into `<input type=date>` depends on the browser's locale, so the
/// value is set as the date picker would, with the same input and change events.
async fn set_date(c: &Client, css: &str, ymd: &str) -> anyhow::Result<()> {
    find(c, css).await?;
    let done = c
        .execute(
            "const el = document.querySelector(arguments[0]);
             el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));
             el.dispatchEvent(new Event('change', { bubbles: true }));
             return el.value;",
            vec![json!(css), json!(ymd)],
        )
        .await?;
    if done != json!(ymd) {
        bail!("{css} did not take the date {ymd}: {done}");
    }
    Ok(())
}

pub(crate) async fn choose(c: &Client, css: &str, value: &str) -> anyhow::Result<()> {
    find(c, css)
        .await?
        .select_by_value(value)
        .await
        .with_context(|| format!("choosing {value} in {css}"))
}

/// Chooses the first real option (after 请选择) of a select.
async fn choose_first(c: &Client, css: &str) -> anyhow::Result<()> {
    find(c, css)
        .await?
        .select_by_index(1)
        .await
        .with_context(|| format!("choosing the first option of {css}"))
}

pub(crate) async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    let el = find(c, css).await?;
    // Bring it to the middle of the screen: the sticky button bar at the bottom of long forms
    // would otherwise sit on top of a field scrolled only just into view.
    let arg = serde_json::to_value(&el)?;
    c.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
        .await?;
    match el.click().await {
        Ok(()) => Ok(()),
        Err(e) => Err(anyhow!(e).context(format!("clicking {css} on {}", url_of(c).await))),
    }
}

/// On a phone the page must not scroll sideways (tables scroll inside their own box).
async fn assert_fits(c: &Client, width: u32, page: &str) -> anyhow::Result<()> {
    if width >= 500 {
        return Ok(());
    }
    let v = c
        .execute(
            "const d = document.documentElement;
             const wide = Array.from(document.querySelectorAll('body *'))
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                         && !e.closest('.table-wrap, .tabs, .nav-list, .steps'))
               .slice(0, 5)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                         + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
             return [d.scrollWidth, window.innerWidth, wide];",
            vec![],
        )
        .await?;
    let scroll = v[0].as_f64().unwrap_or(0.0);
    let inner = v[1].as_f64().unwrap_or(0.0);
    if (inner - f64::from(width)).abs() > 0.5 {
        bail!("the viewport is {inner} px wide instead of {width} px on {page}");
    }
    if scroll > inner + 1.0 {
        bail!(
            "{page} ({}) scrolls sideways at {width}px: scrollWidth {scroll} > innerWidth {inner}; too wide: {}",
            url_of(c).await,
            v[2]
        );
    }
    Ok(())
}

/// A valid 18-digit resident ID number (GB 11643): 6-digit region, birth date, 3-digit
/// sequence (odd for a man), check character.
fn resident_id(region: &str, birth_ymd: &str, sequence: &str) -> String {
    let body = format!("{region}{}{sequence}", birth_ymd.replace('-', ""));
    assert_eq!(body.len(), 17, "17 digits before the check character");
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(d, w)| d.to_digit(10).expect("digit") * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

#[test]
fn a_resident_id_number_gets_the_check_character_of_gb_11643() {
    // Numbers the profile form accepts (from the demo data set).
    assert_eq!(
        resident_id("330106", "2005-03-16", "013"),
        "330106200503160134"
    );
    assert_eq!(
        resident_id("320102", "2001-11-08", "024"),
        "320102200111080242"
    );
}

// ---------------------------------------------------------------------------------------------
// The journey

struct Journey<'a> {
    browser: &'a Browser,
    c: &'a Client,
    base: String,
    width: u32,
    pdf: PathBuf,
}

impl Journey<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every page on the way: it fits the phone's width, and a picture of it is kept as
    /// `target/screenshots/<journey>-<step>.png`.
    async fn page(&self, step: &str, page: &str) -> anyhow::Result<()> {
        assert_fits(self.c, self.width, page).await?;
        self.browser.screenshot(&format!("-{step}")).await;
        Ok(())
    }

    async fn run(&self) -> anyhow::Result<()> {
        let c = self.c;
        let today = Utc::now().date_naive();
        let day = |n: u64| {
            today
                .checked_add_days(Days::new(n))
                .expect("a date")
                .format("%Y-%m-%d")
                .to_string()
        };

        // 1. Sign in with the initial password: sent to 修改密码 first.
        c.goto(&self.url("/login")).await?;
        let viewport = c.execute("return window.innerWidth", vec![]).await?;
        if viewport != json!(self.width) {
            bail!("the page is {viewport} px wide, not {} px", self.width);
        }
        type_into(c, "#f-username", STUDENT).await?;
        type_into(c, "#f-password", INITIAL_PASSWORD).await?;
        click(c, "form.login-card button[type=submit]").await?;
        wait_for_url(c, "/password").await?;
        wait_for_text(c, "h1.page-title", "修改密码").await?;
        self.page("01-password", "修改密码").await?;

        // 2. Change it.
        type_into(c, "#f-old_password", INITIAL_PASSWORD).await?;
        type_into(c, "#f-new_password", NEW_PASSWORD).await?;
        type_into(c, "#f-confirm_password", NEW_PASSWORD).await?;
        click(c, "form.login-card button[type=submit]").await?;
        let deadline = Instant::now() + WAIT;
        while url_of(c).await.contains("/password") {
            if let Ok(e) = c.find(Locator::Css(".field-error")).await {
                bail!("changing the password was refused: {}", e.text().await?);
            }
            if Instant::now() > deadline {
                bail!("still on the password page after saving");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The new session stays signed in, back on the home page.
        if url_of(c).await.contains("/login") {
            bail!("changing the password signed the student out (the new session cookie was lost)");
        }
        wait_for_text(c, "main .flash", "密码已修改").await?;
        find(c, "nav.site-nav").await?;
        self.page("02-home", "首页").await?;

        // 3. Complete the profile (only 姓名 and 性别 are there).
        click(c, "nav.site-nav a[href='/profile']").await?;
        wait_for_url(c, "/profile").await?;
        find(c, "#missing").await?;
        self.page("03-profile", "个人资料").await?;
        let birth = "2006-05-12";
        let id_number = resident_id("110101", birth, "135");
        type_into(c, "#f-pinyin_surname", "zhao").await?;
        type_into(c, "#f-pinyin_given", "yiming").await?;
        click(c, "input[name=gender][value=male]").await?;
        choose(c, "#f-nationality", "CN").await?;
        choose(c, "#f-ethnicity", "01").await?;
        set_date(c, "#f-birth_date", birth).await?;
        choose(c, "#f-id_type", "resident_id").await?;
        type_into(c, "#f-id_number", &id_number).await?;
        choose(c, "#f-political_status", "cyl_member").await?;
        choose(c, "#f-marital_status", "single").await?;
        type_into(c, "#f-mobile", "13912345678").await?;
        type_into(c, "#f-email", "zhaoyiming@stu.example.edu.cn").await?;
        type_into(c, "#f-gpa", "3.45").await?;
        type_into(c, "#f-emergency_name", "赵建国").await?;
        type_into(c, "#f-emergency_mobile", "13912345679").await?;
        type_into(c, "#f-emergency_relation", "父亲").await?;
        click(c, "form.profile-form .form-actions button[type=submit]").await?;
        let saved = find(c, "main .flash, .error-summary").await?;
        let class = saved.attr("class").await?.unwrap_or_default();
        if !class.contains("alert-success") {
            bail!("saving the profile was refused: {}", saved.text().await?);
        }
        if c.find(Locator::Css("#missing")).await.is_ok() {
            bail!("the profile still misses fields after saving");
        }
        self.page("04-profile-saved", "个人资料（已保存）").await?;

        // 4. 交流项目: find the UK semester exchange and click 报名.
        click(c, "nav.site-nav a[href='/programs']").await?;
        wait_for_url(c, "/programs").await?;
        type_into(c, "#q-keyword", PROGRAM_SEARCH).await?;
        click(c, "form.filters .filter-actions button[type=submit]").await?;
        wait_for_url(c, "keyword=").await?;
        self.page("05-programs", "交流项目").await?;
        let apply = c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&format!(
                "//table[contains(@class,'programs-table')]//tr[.//a[contains(normalize-space(.),'{PROGRAM_TEXT}')]]//a[contains(@href,'/apply')]"
            )))
            .await
            .context("the UK semester exchange with a 报名 button in the list")?;
        apply.click().await?;

        // 5. 申报须知: 开始填报 waits two seconds and needs 本人承诺.
        let start = find(c, "#start-button").await?;
        let state = c
            .execute(
                "const b = document.getElementById('start-button');
                 return [b.disabled, performance.now()];",
                vec![],
            )
            .await?;
        if state[1].as_f64().unwrap_or(f64::MAX) < 1500.0 {
            assert_eq!(
                state[0],
                json!(true),
                "开始填报 is disabled while the notice is read"
            );
        } else {
            eprintln!("(the notice page took long to load: the disabled button was not checked)");
        }
        self.page("06-notice", "申报须知").await?;
        click(c, "input[name=promise]").await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !start.is_enabled().await? {
            if Instant::now() > deadline {
                bail!("开始填报 never became clickable");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        start.click().await?;

        // 6. 基本信息: the profile just completed, saved as it is.
        wait_for_url(c, "/step/basic").await?;
        let app_url = url_of(c).await;
        let app_path = app_url
            .split("/step/")
            .next()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no application in {app_url}"))?;
        self.page("07-basic", "基本信息").await?;
        click(c, "button[name=action][value=next]").await?;

        // 7. 申请信息.
        wait_for_url(c, "/step/info").await?;
        choose_first(c, "#f-choice_1").await?;
        set_date(c, "#f-exchange_from", &day(120)).await?;
        set_date(c, "#f-exchange_to", &day(240)).await?;
        type_into(c, "#f-exchange_duration", "一学期").await?;
        set_date(c, "#f-depart_date", &day(115)).await?;
        set_date(c, "#f-return_date", &day(245)).await?;
        type_into(c, "#f-gpa", "3.45").await?;
        type_into(c, "#f-weighted_avg", "86.5").await?;
        click(c, "input[name=one_china_issue][value=no]").await?;
        click(c, "input[name=has_passport][value=no]").await?;
        type_into(c, "#f-emergency_relation", "父亲").await?;
        type_into(c, "#f-emergency_name", "赵建国").await?;
        type_into(c, "#f-emergency_phone", "13912345679").await?;
        for item in [
            "round_trip",
            "accommodation",
            "meals",
            "intercity",
            "registration",
            "tuition",
        ] {
            choose_first(c, &format!("#f-funding_{item}")).await?;
        }
        self.page("08-info", "申请信息").await?;
        click(c, "button[name=action][value=next]").await?;

        // 8. 外语水平: add one row, then go on.
        wait_for_url(c, "/step/languages").await?;
        choose_first(c, "#f-language").await?;
        choose_first(c, "#f-exam_type").await?;
        type_into(c, "#f-score", "6.5").await?;
        set_date(c, "#f-exam_date", &{
            let d = today.checked_sub_days(Days::new(60)).expect("a date");
            d.format("%Y-%m-%d").to_string()
        })
        .await?;
        click(c, "button[name=action][value=save]").await?;
        wait_for_text(c, "#language-rows table tbody", "6.5").await?;
        self.page("09-languages", "外语水平").await?;
        click(c, "button[name=action][value=next]").await?;

        // 9. 附件信息: a PDF for every required type.
        wait_for_url(c, "/step/attachments").await?;
        find(c, ".attachment-type").await?;
        let mut required = Vec::new();
        for block in c
            .find_all(Locator::XPath(
                "//div[contains(@class,'attachment-type')][.//h3//span[contains(@class,'req')]]",
            ))
            .await?
        {
            let id = block.attr("id").await?.unwrap_or_default();
            required.push(id.trim_start_matches("type-").to_owned());
        }
        if required.is_empty() {
            bail!("the UK semester exchange should ask for required attachments");
        }
        let pdf = self.pdf.display().to_string();
        for id in &required {
            find(c, &format!("#file-{id}"))
                .await?
                .send_keys(&pdf)
                .await?;
            click(
                c,
                &format!("#type-{id} form[data-upload] button[type=submit]"),
            )
            .await?;
            wait_for_text(c, &format!("#type-{id} .file-name"), FILE_NAME).await?;
            let shown = find(c, &format!("#type-{id} .file-name"))
                .await?
                .text()
                .await?;
            assert_eq!(shown.trim(), FILE_NAME, "the file keeps its Chinese name");
        }
        self.page("10-attachments", "附件信息").await?;
        click(c, ".form-actions a.btn-primary").await?;

        // 10. 提交: nothing missing; confirm the dialog.
        wait_for_url(c, "/submit").await?;
        if let Ok(problems) = c.find(Locator::Css("#problems")).await {
            bail!("the submit page lists problems: {}", problems.text().await?);
        }
        self.page("11-submit", "提交").await?;
        click(c, "#submit-button").await?;
        let deadline = Instant::now() + WAIT;
        loop {
            match c.get_alert_text().await {
                Ok(_) => break,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => bail!("no confirm dialog after 提交: {e}"),
            }
        }
        c.accept_alert().await?;

        // 11. The application: 申请中, and the submit step in its history.
        let deadline = Instant::now() + WAIT;
        loop {
            let url = url_of(c).await;
            if url.contains(&app_path) && !url.contains("/submit") {
                break;
            }
            if Instant::now() > deadline {
                bail!("after 提交 still on {url}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_for_text(c, ".page-head .badge", "申请中").await?;
        wait_for_text(c, ".timeline", "提交").await?;
        self.page("12-progress", "申请查看 · 进度").await?;
        click(c, "nav.tabs a[href$='tab=history']").await?;
        wait_for_url(c, "tab=history").await?;
        let history = wait_for_text(c, "#history tbody", "提交").await?;
        assert!(history.text().await?.contains("申请中"));
        self.page("13-history", "申请查看 · 历史记录").await?;
        Ok(())
    }
}

/// Runs the whole journey in a window of `width`×`height`; leaves a screenshot.
async fn journey(name: &str, width: u32, height: u32) {
    let Some(browser) = Browser::start(name, width, height).await else {
        return;
    };
    let Some(app) = TestApp::with_demo(Backend::Sqlite).await else {
        return;
    };
    let addr = app.serve().await;
    let dir = app.dir.join("upload");
    std::fs::create_dir_all(&dir).expect("upload dir");
    let pdf = dir.join(FILE_NAME);
    std::fs::write(&pdf, pdf_bytes()).expect("the PDF to upload");

    // Boxed: the whole journey is one large future.
    let outcome = Box::pin(
        Journey {
            browser: &browser,
            c: &browser.client,
            base: format!("http://{addr}"),
            width,
            pdf,
        }
        .run(),
    )
    .await;
    match outcome {
        Ok(()) => {
            let shot = browser.screenshot("").await;
            eprintln!("screenshot: {}", shot.display());
            browser.quit().await;
            app.finish().await;
        }
        Err(e) => {
            let shot = browser.screenshot("-failure").await;
            let page: Value = browser
                .client
                .execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await
                .unwrap_or_default();
            let text: String = page
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(3000)
                .collect();
            browser.quit().await;
            app.finish().await;
            panic!(
                "the journey at {width}x{height} failed: {e:#}\nscreenshot: {}\npage text:\n{text}",
                shot.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_student_changes_the_password_completes_the_profile_and_submits_an_application_on_a_desktop()
 {
    journey("journey-1280x900", 1280, 900).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_student_completes_the_same_journey_on_a_phone_without_sideways_scrolling() {
    journey("journey-375x812", 375, 812).await;
}
