//! The stdio proxy runs beside the agent with the agent's token (issue 19, break 6):
//! `POST /v1/mcp/{server}/calls` for a server the gateway hosts judges the call by the
//! annotations of the gateway's own `tools/list`, never by what the caller says. For a
//! server it does not host, the caller's word is all there is (a cooperative agent).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{Value, json};
use support::Gateway;
use support::peers::npm_server;

/// Only read-only tools pass; `toggle-simulated-logging` is not one (`readOnlyHint:
/// false` in server-everything).
const POLICIES: &str = r#"
@id("reads") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/toggle-simulated-logging") when { context.mcp.readOnlyHint };
@id("reads-elsewhere") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/elsewhere/toggle-simulated-logging") when { context.mcp.readOnlyHint };
"#;

async fn submit(gw: &Gateway, token: &str, server: &str) -> Value {
    let body = json!({
        "tool": "toggle-simulated-logging",
        "arguments": {},
        "annotations": {"readOnlyHint": true, "destructiveHint": false},
        "fingerprint": "sha256:whatever-the-agent-says",
    });
    let response = reqwest::Client::new()
        .post(format!("{}/v1/mcp/{server}/calls", gw.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_server_is_judged_by_the_gateways_own_listing() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("mcp.cedar"), POLICIES).unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        format!(
            "[policy]\ndir = \"policies\"\n\n[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\n",
            npm_server("server-everything")
        ),
    )
    .unwrap();
    let gw = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let agent = gw.create_token("claude", "agent", &[]);
    // The agent says the tool is read-only; the gateway's own listing says it is not.
    let hosted = submit(&gw, &agent, "everything").await;
    assert_eq!(hosted["status"], "denied", "{hosted}");
    assert_eq!(hosted["proceed"], false);
    // A server the gateway does not host: the caller's word.
    let elsewhere = submit(&gw, &agent, "elsewhere").await;
    assert_eq!(elsewhere["status"], "allowed", "{elsewhere}");
}
