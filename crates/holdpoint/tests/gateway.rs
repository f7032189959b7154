//! The `holdpoint` binary end to end: first start, CLI exit codes, a crash with a waiting
//! agent, policy reloads, and start-up refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Gateway, holdpoint, stdout_json, text};

async fn post(base: &str, token: &str, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn get(base: &str, token: &str, path: &str) -> Result<Value, reqwest::Error> {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await
}

#[tokio::test]
async fn first_start_writes_a_private_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &[]);
    let token = gw.admin_token();
    assert!(token.starts_with("hp_"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let listed = gw.cli(&token, &["token", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(text(&listed.stdout).contains("admin"));
    gw.stop();
    let again = Gateway::start(&data, &[]);
    assert_eq!(
        again.admin_token(),
        token,
        "a second start keeps the first token"
    );
    again.stop();
}

#[tokio::test]
async fn submit_exits_0_to_proceed_3_when_denied_4_when_pending() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let agent = gw.create_token("ci-bot", "agent", &[]);

    let ok = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "db.read",
            "--resource",
            "postgres/prod/customers",
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(stdout_json(&ok)["status"], "allowed");

    let denied = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "db.privilege",
            "--resource",
            "postgres/prod",
            "--param",
            "sql=GRANT ALL",
        ],
    );
    assert_eq!(denied.status.code(), Some(3), "{}", text(&denied.stderr));
    assert_eq!(stdout_json(&denied)["status"], "denied");

    let held = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "db.ddl",
            "--resource",
            "postgres/prod",
            "--env",
            "prod",
            "--params-json",
            r#"{"sql": "ALTER TABLE t ADD c int"}"#,
            "--why",
            "add a column",
            "--wait",
            "0s",
        ],
    );
    assert_eq!(held.status.code(), Some(4), "{}", text(&held.stderr));
    let action = stdout_json(&held);
    assert_eq!(action["status"], "pending");
    let id = action["id"].as_str().unwrap();

    let pending = gw.cli(&gw.admin_token(), &["pending"]);
    assert!(
        text(&pending.stdout).contains(id),
        "{}",
        text(&pending.stdout)
    );
    let rejected = gw.cli(
        &gw.admin_token(),
        &["reject", id, "--comment", "not during the freeze"],
    );
    assert!(rejected.status.success(), "{}", text(&rejected.stderr));
    assert!(text(&rejected.stdout).contains("rejected"));

    let usage = gw.cli(&agent, &["submit", "--kind", "db.read"]);
    assert_eq!(
        usage.status.code(),
        Some(2),
        "missing --resource is bad usage"
    );
    let no_server = std::process::Command::new(support::BIN)
        .args(["submit", "--kind", "db.read", "--resource", "x"])
        .env("HOLDPOINT_URL", "http://127.0.0.1:9")
        .env("HOLDPOINT_TOKEN", &agent)
        .output()
        .unwrap();
    assert_eq!(no_server.status.code(), Some(1));
    assert!(text(&no_server.stderr).contains("cannot reach holdpoint"));
    gw.stop();
}

#[tokio::test]
async fn a_pending_hold_survives_kill_9_and_the_waiting_agent_sees_the_approval() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &[]);
    let admin = gw.admin_token();
    let agent = gw.create_token("ci-bot", "agent", &[]);
    let action = post(
        &gw.base,
        &agent,
        "/v1/actions",
        json!({"kind": "db.ddl", "resource": "postgres/prod", "params": {"sql": "CREATE INDEX i ON t(c)"}}),
    )
    .await;
    assert_eq!(action["status"], "pending");
    let id = action["id"].as_str().unwrap().to_string();

    // The agent long-polls; the gateway dies under it.
    let poll = {
        let (base, agent, id) = (gw.base.clone(), agent.clone(), id.clone());
        tokio::spawn(async move { get(&base, &agent, &format!("/v1/actions/{id}?wait=60s")).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    gw.crash();
    let interrupted = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert!(interrupted.is_err(), "the poll was cut off by the crash");

    let gw = Gateway::start(&data, &[]);
    let (_, still) = (
        0,
        get(&gw.base, &agent, &format!("/v1/actions/{id}"))
            .await
            .unwrap(),
    );
    assert_eq!(still["status"], "pending", "pending survives the crash");
    let approve = gw.cli(&admin, &["approve", &id, "--comment", "index is safe"]);
    assert!(approve.status.success(), "{}", text(&approve.stderr));
    let seen = get(&gw.base, &agent, &format!("/v1/actions/{id}?wait=10s"))
        .await
        .unwrap();
    assert_eq!(seen["status"], "approved");
    assert_eq!(seen["proceed"], true);
    // The channel is the server's word, not the client's: the CLI reviews through the API.
    assert_eq!(seen["hold"]["reviews"][0]["channel"], "api");
    let again = get(&gw.base, &agent, &format!("/v1/actions/{id}"))
        .await
        .unwrap();
    assert_eq!(again["proceed"], false, "the approval was handed over once");
    assert_eq!(again["consumed_by"], id.as_str());
    gw.stop();

    let verify = holdpoint(&["audit", "verify", "--data", data.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    assert!(text(&verify.stdout).starts_with("ok:"));
}

#[tokio::test]
async fn serve_refuses_a_broken_policy_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("ok.cedar"),
        "permit(principal, action, resource);\n",
    )
    .unwrap();
    std::fs::write(
        policies.join("broken.cedar"),
        "// a comment\n\npermit(principal, action resource);\n",
    )
    .unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(&config, "[policy]\ndir = \"policies\"\n").unwrap();
    let out = holdpoint(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--data",
        dir.path().join("d").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("broken.cedar") && err.contains("line 3"),
        "{err}"
    );

    let check = holdpoint(&["policy", "check", policies.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        text(&check.stderr).contains("broken.cedar"),
        "{}",
        text(&check.stderr)
    );

    let bad_config = dir.path().join("bad.toml");
    std::fs::write(&bad_config, "[approvals]\ndefault_expiry = \"soon\"\n").unwrap();
    let out = holdpoint(&[
        "serve",
        "--config",
        bad_config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`soon`"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn a_policy_change_reloads_and_a_broken_one_is_refused_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let init = holdpoint(&["init", dir.path().to_str().unwrap()]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    let config = dir.path().join("holdpoint.toml");
    let check = holdpoint(&["policy", "check", "--config", config.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));

    let gw = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let admin = gw.admin_token();
    let agent = gw.create_token("ci-bot", "agent", &[]);
    let policies = dir.path().join("policies");

    std::fs::write(
        policies.join("99-broken.cedar"),
        "forbid(principal, action, resource) when {\n",
    )
    .unwrap();
    let refused = wait_for_event(&gw.base, &admin, "policy.refused").await;
    assert!(
        refused["data"]["error"]
            .as_str()
            .unwrap()
            .contains("99-broken.cedar"),
        "{refused}"
    );
    let still = post(
        &gw.base,
        &agent,
        "/v1/actions",
        json!({"kind": "db.read", "resource": "postgres/prod"}),
    )
    .await;
    assert_eq!(still["status"], "allowed", "the old set stays in force");

    std::fs::write(
        policies.join("99-broken.cedar"),
        "@id(\"freeze\")\n@reason(\"read freeze\")\nforbid(principal, action == Action::\"db.read\", resource);\n",
    )
    .unwrap();
    let mut denied = Value::Null;
    for _ in 0..100 {
        denied = post(
            &gw.base,
            &agent,
            "/v1/actions",
            json!({"kind": "db.read", "resource": "postgres/prod"}),
        )
        .await;
        if denied["status"] == "denied" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(denied["verdict"]["reason"], "read freeze", "{denied}");
    gw.stop();
}

/// Polls the audit log (bounded) until an event of `event_type` appears.
async fn wait_for_event(base: &str, admin: &str, event_type: &str) -> Value {
    for _ in 0..100 {
        let page = get(base, admin, "/v1/audit?limit=1000").await.unwrap();
        if let Some(e) = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == event_type)
        {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {event_type} event within 10 s");
}
