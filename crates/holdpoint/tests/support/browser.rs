//! A real headless Chromium driven over WebDriver (chromedriver + fantoccini), for tests of
//! what a person sees in a browser.
//!
//! Self-contained: a test file includes it with
//! `#[path = "support/browser.rs"] mod browser;`.
//!
//! Chromium and its driver come from Debian (`apt-get install chromium chromium-driver`;
//! `.ci/run` installs them). `/usr/bin/chromium` is a shell wrapper that refuses to start
//! on some machines, so the real binary, `/usr/lib/chromium/chromium`, is launched. The
//! viewport is set with chromedriver's mobile emulation (device metrics), since a headless
//! window cannot be narrower than 500 px and its size includes the frame: a browser
//! started at 390 × 844 has `window.innerWidth == 390`, and its screenshots are 390 px wide.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use holdpoint_core::env::{Env, ProcessEnv};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The Chromium binary itself (not Debian's `/usr/bin/chromium` wrapper).
pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";
/// How long [`Browser::wait_for`] waits for an element.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long chromedriver has to answer on its port.
const DRIVER_READY: Duration = Duration::from_secs(30);

pub struct Browser {
    pub client: Client,
    pub width: u32,
    pub height: u32,
    driver: Child,
    /// chromedriver's process group, which Chromium's processes are in too: killed when
    /// the browser is closed or dropped (a failing test), so no Chromium outlives its test.
    group: rustix::process::Pid,
    /// Chromium's profile, and chromedriver's log (`chromedriver.log`).
    profile: tempfile::TempDir,
}

impl Browser {
    /// A headless Chromium whose viewport is `width` × `height` CSS pixels at a device pixel
    /// ratio of 1, behind a chromedriver of its own on a free port of 127.0.0.1.
    pub async fn start(width: u32, height: u32) -> Browser {
        let chromedriver = require_installed();
        let profile = tempfile::tempdir().expect("browser profile dir");
        let (driver, port) = spawn_driver(&chromedriver, profile.path()).await;
        let group = driver
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(i32::try_from(id).ok()?))
            .expect("chromedriver's pid");
        let mut builder = ClientBuilder::rustls().expect("rustls connector");
        builder.capabilities(capabilities(width, height, &profile.path().join("chrome")));
        let client = match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => client,
            Err(e) => panic!(
                "starting a Chromium session failed: {e}\nchromedriver log:\n{}",
                log_tail(profile.path())
            ),
        };
        Browser {
            client,
            width,
            height,
            driver,
            group,
            profile,
        }
    }

    /// Ends the WebDriver session (Chromium quits) and then chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill();
        let _ = self.driver.wait().await;
    }

    /// Kills chromedriver and every Chromium process it started. chromedriver is reaped only
    /// after this, so its pid (the group's id) cannot have been reused.
    fn kill(&self) {
        let _ = rustix::process::kill_process_group(self.group, rustix::process::Signal::KILL);
    }

    /// chromedriver's log so far, for a failing test's message.
    pub fn driver_log(&self) -> String {
        log_tail(self.profile.path())
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("current url").into()
    }

    /// The first element matching `css`, waiting up to [`WAIT`] for it to appear.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Whether an element matches `css` now (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .is_empty()
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// The rendered text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Runs `js` as a function body in the page (`return …` gives the value).
    pub async fn execute(&self, js: &str) -> Value {
        self.client
            .execute(js, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("execute {js}: {e}"))
    }

    /// Sets a cookie on the current page's site (navigate there first).
    pub async fn set_cookie(&self, name: &str, value: &str) {
        let url = self.client.current_url().await.expect("current url");
        // chromedriver refuses a cookie without a domain ("invalid 'domain'"), and one with
        // SameSite=None (fantoccini's default) but not Secure.
        let mut cookie =
            fantoccini::cookies::Cookie::parse(format!("{name}={value}; Path=/; SameSite=Lax"))
                .unwrap_or_else(|e| panic!("cookie {name}: {e}"));
        cookie.set_domain(url.host_str().expect("a page with a host").to_owned());
        self.client
            .add_cookie(cookie)
            .await
            .unwrap_or_else(|e| panic!("set cookie {name}: {e}"));
    }

    /// The current page's cookies, as (name, value).
    pub async fn cookies(&self) -> Vec<(String, String)> {
        self.client
            .get_all_cookies()
            .await
            .expect("cookies")
            .iter()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect()
    }

    /// A PNG of the viewport (`width` px wide) at `path`, creating its folder.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        write_png(path, &png);
    }

    /// A PNG of the whole page, `width` px wide and as tall as the page (at least the
    /// viewport), at `path`, creating its folder.
    pub async fn screenshot_full_page(&self, path: &Path) {
        let height = self
            .execute(
                "return Math.ceil(Math.max(document.documentElement.scrollHeight, \
                 document.body ? document.body.scrollHeight : 0, window.innerHeight));",
            )
            .await
            .as_u64()
            .expect("page height");
        let params = json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1},
        });
        let answer = self.cdp("Page.captureScreenshot", params).await;
        let data = answer["data"].as_str().expect("screenshot data");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("screenshot base64");
        write_png(path, &png);
    }

    /// A Chrome DevTools Protocol command, through chromedriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp {
                cmd: cmd.to_owned(),
                params,
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The capabilities for a headless Chromium with a `width` × `height` viewport.
pub fn capabilities(width: u32, height: u32, user_data_dir: &Path) -> Capabilities {
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--hide-scrollbars",
                "--disable-crash-reporter",
                "--disable-breakpad",
                "--no-first-run",
                "--no-default-browser-check",
                format!("--user-data-dir={}", user_data_dir.display()),
                format!("--window-size={},{}", width.max(500), height),
            ],
            "mobileEmulation": {
                "deviceMetrics": {
                    "width": width,
                    "height": height,
                    "pixelRatio": 1.0,
                    // A desktop page at that width: no 980 px layout viewport for pages
                    // without a viewport meta tag, no touch events.
                    "mobile": false,
                    "touch": false,
                },
            },
        },
    });
    match caps {
        Value::Object(map) => map,
        other => panic!("capabilities are an object: {other}"),
    }
}

/// chromedriver's path; panics (a failing test) when it or Chromium is missing.
fn require_installed() -> PathBuf {
    let driver = ProcessEnv
        .var("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("chromedriver"))
        .find(|path| path.is_file());
    let chromium = Path::new(CHROMIUM).is_file();
    match driver {
        Some(driver) if chromium => driver,
        _ => {
            let missing = match (driver.is_some(), chromium) {
                (false, false) => format!("chromedriver and {CHROMIUM}"),
                (false, true) => "chromedriver".to_owned(),
                _ => CHROMIUM.to_owned(),
            };
            if ProcessEnv.var("CI").is_some_and(|v| v == "true") {
                panic!(
                    "browser tests need {missing}, which is not installed: .ci/run should have \
                     installed Debian's chromium and chromium-driver"
                );
            }
            panic!(
                "browser tests need {missing}, which is not installed; install it with \
                 `apt-get update && apt-get install -y chromium chromium-driver`"
            );
        }
    }
}

/// Starts chromedriver on a free port and waits until its /status says it is ready.
async fn spawn_driver(chromedriver: &Path, dir: &Path) -> (Child, u16) {
    let log = dir.join("chromedriver.log");
    // The port is free when picked but could be taken before chromedriver binds it: then
    // chromedriver exits, and another port is tried.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", chromedriver.display()));
        let deadline = Instant::now() + DRIVER_READY;
        loop {
            if driver.try_wait().expect("chromedriver status").is_some() {
                break;
            }
            if ready(port).await {
                return (driver, port);
            }
            if Instant::now() > deadline {
                let _ = driver.kill().await;
                panic!(
                    "chromedriver did not answer on port {port} within {DRIVER_READY:?}; log:\n{}",
                    log_tail(dir)
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    panic!("chromedriver could not start; log:\n{}", log_tail(dir));
}

/// Whether chromedriver on `port` answers its /status with `"ready": true`.
async fn ready(port: u16) -> bool {
    let answer = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/status"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    match answer {
        Ok(answer) => answer
            .json::<Value>()
            .await
            .is_ok_and(|v| v.pointer("/value/ready") == Some(&json!(true))),
        Err(_) => false,
    }
}

fn log_tail(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("chromedriver.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn write_png(path: &Path, png: &[u8]) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "screenshot is not a PNG"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// chromedriver's `POST /session/{id}/goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params}).to_string();
        (axum::http::Method::POST, Some(body))
    }
}
