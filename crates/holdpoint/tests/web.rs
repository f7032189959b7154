//! The web inbox in a real browser (headless Chromium over WebDriver), signing in
//! through a real OpenID Connect provider (npm's `oidc-provider`, started here on
//! loopback): an agent waits on a hold, a reviewer signs in, sees it arrive live, and
//! approves it with a comment; the agent proceeds. A member of another group sees no
//! buttons. Screenshots of the inbox and an action page are saved at 1280 and 390
//! pixels wide into `target/screenshots/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use support::{Gateway, act_id, text};

const POLICIES: &str = r#"
@id("ddl") @hold("Schema change in production") @approvers("dba") @expires("1h")
permit (principal, action in Action::"db.ddl", resource);
"#;

/// The provider, killed with the test.
struct Idp {
    child: Child,
    issuer: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_idp(redirect_uri: &str) -> Idp {
    let users = r#"{"alice":{"groups":["dba"],"email":"alice@example.com","name":"Alice Example"},
                    "bob":{"groups":["web"],"email":"bob@example.com"}}"#;
    let mut child = Command::new("node")
        .arg(support::peers::oidc_provider_script())
        .env("OIDC_PORT", "0")
        .env("OIDC_CLIENT_ID", "holdpoint")
        .env("OIDC_CLIENT_SECRET", "test-client-secret")
        .env("OIDC_REDIRECT_URI", redirect_uri)
        .env("OIDC_USERS", users)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the OIDC provider (node)");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let issuer = line
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("the OIDC provider did not start: {line:?}"))
        .trim()
        .to_string();
    Idp { child, issuer }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

struct Setup {
    gateway: Gateway,
    agent: String,
    _idp: Idp,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let idp = start_idp(&format!("{public}/signin/oidc/callback"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/p.cedar"), POLICIES).unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
public_url = "{public}"
[policy]
dir = "policies"
[web.oidc]
issuer = "{issuer}"
client_id = "holdpoint"
client_secret_env = "TEST_OIDC_SECRET"
label = "Test IdP"
"#,
            issuer = idp.issuer
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{port}");
    let gateway = Gateway::start_logged(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap(), "--listen", &listen],
        &[("TEST_OIDC_SECRET", "test-client-secret")],
        &dir.path().join("serve.log"),
    );
    assert_eq!(gateway.base, public);
    let agent = gateway.create_token("ci-bot", "agent", &[]);
    Setup {
        gateway,
        agent,
        _idp: idp,
        _dir: dir,
    }
}

/// Signs in at the provider's own pages: its login form, then its consent form.
async fn sign_in_at_idp(browser: &Browser, login: &str) {
    browser.wait_for("#oidc").await;
    browser.click("#oidc").await;
    browser.wait_for("input[name=login]").await;
    browser.fill("input[name=login]", login).await;
    browser.fill("input[name=password]", "any password").await;
    browser.click("button[type=submit]").await;
    browser.wait_for("input[name=prompt][value=consent]").await;
    browser.click("button[type=submit]").await;
}

/// The agent's first pending action, once its waiting submission has been held.
fn pending_of(setup: &Setup) -> String {
    for _ in 0..400 {
        let out = Command::new("curl")
            .args(["-sf", "-H"])
            .arg(format!("Authorization: Bearer {}", setup.agent))
            .arg(format!("{}/v1/actions?status=pending", setup.gateway.base))
            .output()
            .unwrap();
        let body = text(&out.stdout);
        if body.contains("act_") {
            return act_id(&body);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the agent's submission was never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_signs_in_with_oidc_and_approves_a_waiting_agent_in_the_browser() {
    let setup = setup();
    let base = setup.gateway.base.clone();

    // The agent waits on its hold, in the background.
    let (agent_url, agent_token) = (base.clone(), setup.agent.clone());
    let waiting = std::thread::spawn(move || {
        Command::new(support::BIN)
            .args([
                "submit",
                "--kind",
                "db.ddl",
                "--resource",
                "postgres/prod/customers",
                "--env",
                "prod",
                "--param",
                "sql=CREATE INDEX CONCURRENTLY orders_by_customer ON orders (customer_id)",
                "--why",
                "the monthly report scans orders by customer",
                "--wait",
                "5m",
            ])
            .env("HOLDPOINT_URL", agent_url)
            .env("HOLDPOINT_TOKEN", agent_token)
            .output()
            .unwrap()
    });
    let first = pending_of(&setup);

    let browser = Browser::start(1280, 900).await;
    browser.goto(&format!("{base}/inbox")).await;
    assert!(
        browser
            .current_url()
            .await
            .contains("/signin?next=%2Finbox")
    );
    sign_in_at_idp(&browser, "alice").await;
    browser.wait_for(&format!(".hold[data-id='{first}']")).await;
    assert!(browser.text(".who").await.contains("alice"));

    // A second hold arrives while the inbox is open: it appears without a reload.
    browser.wait_for("body[data-live=open]").await;
    let second = setup.gateway.submit_ddl(
        &setup.agent,
        "postgres/prod/customers",
        &["sql=ALTER TABLE customers ADD COLUMN tier text"],
        "tiers for the pricing change",
    );
    browser
        .wait_for(&format!(".hold[data-id='{second}']"))
        .await;
    let dir = screenshots();
    browser.screenshot(&dir.join("inbox-1280.png")).await;

    browser.click(&format!(".hold[data-id='{first}'] a")).await;
    browser.wait_for("#approve").await;
    assert!(browser.text("#why").await.contains("monthly report"));
    browser.screenshot(&dir.join("action-1280.png")).await;
    browser
        .fill("#comment", "fine, CONCURRENTLY keeps it online")
        .await;
    browser.click("#approve").await;
    browser.wait_for(".review").await;
    let status = browser.text("#status").await;
    assert!(status.to_lowercase().contains("approved"), "{status}");
    assert!(
        browser
            .text(".reviews")
            .await
            .contains("CONCURRENTLY keeps it online")
    );
    browser.close().await;

    let agent = waiting.join().unwrap();
    assert_eq!(
        agent.status.code(),
        Some(0),
        "the agent proceeds: {}",
        text(&agent.stderr)
    );
    let record = setup.gateway.admin_get(&format!("/v1/actions/{first}"));
    assert!(
        record.contains("\"channel\":\"web\"") && record.contains("\"name\":\"alice\""),
        "{record}"
    );

    // On a phone.
    let phone = Browser::start(390, 844).await;
    phone.goto(&format!("{base}/inbox")).await;
    sign_in_at_idp(&phone, "alice").await;
    phone.wait_for(&format!(".hold[data-id='{second}']")).await;
    assert_eq!(
        phone.execute("return window.innerWidth").await,
        serde_json::json!(390)
    );
    assert_eq!(
        phone
            .execute("return document.documentElement.scrollWidth")
            .await,
        serde_json::json!(390),
        "nothing overflows the phone's width"
    );
    phone.screenshot(&dir.join("inbox-390.png")).await;
    phone.goto(&format!("{base}/actions/{second}")).await;
    phone.wait_for("#approve").await;
    phone.screenshot(&dir.join("action-390.png")).await;
    // Under a dark color scheme the page follows it.
    phone
        .cdp(
            "Emulation.setEmulatedMedia",
            serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )
        .await;
    let background = phone
        .execute("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(background, serde_json::json!("rgb(13, 17, 23)"));
    phone.screenshot(&dir.join("action-390-dark.png")).await;
    phone.close().await;

    // Another group: no buttons, and the reason instead.
    let bob = Browser::start(1280, 900).await;
    bob.goto(&format!("{base}/actions/{second}")).await;
    sign_in_at_idp(&bob, "bob").await;
    bob.wait_for("main h1").await;
    assert!(!bob.exists("#approve").await && !bob.exists("#reject").await);
    assert!(
        bob.text("main").await.contains("may see"),
        "{}",
        bob.text("main").await
    );
    bob.close().await;

    for name in ["inbox-1280", "action-1280", "inbox-390", "action-390"] {
        let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(
            width,
            if name.ends_with("390") { 390 } else { 1280 },
            "{name}"
        );
    }
}

#[test]
fn a_careless_web_config_stops_the_start_with_its_reason() {
    support::serve_refuses(
        "[web.oidc]\nissuer = \"https://idp.example.test\"\nclient_id = \"holdpoint\"\nclient_secret_env = \"HOLDPOINT_TEST_UNSET_SECRET\"\n",
        "HOLDPOINT_TEST_UNSET_SECRET",
    );
    support::serve_refuses("[web]\nidle_timeout = \"0s\"\n", "idle_timeout");
    support::serve_refuses("[web]\nabsolute_timeout = \"soon\"\n", "absolute_timeout");
    support::serve_refuses(
        "[server]\npublic_url = \"ftp://example.test\"\n",
        "public_url",
    );
    support::serve_refuses("[web]\nsession = \"forever\"\n", "unknown field");
    support::serve_refuses("[web]\nabsolute_timeout = \"300000y\"\n", "at most 30d");
    support::serve_refuses(
        "[web]\nidle_timeout = \"2h\"\nabsolute_timeout = \"1h\"\n",
        "longer than absolute_timeout",
    );
}
