//! The MCP surface end to end: a real gateway, the npm `server-everything` upstream, and
//! real MCP clients (rmcp's and the official inspector's CLI), through `holdpoint mcp`
//! (stdio) and through `/mcp/{name}` (streamable HTTP).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use rmcp::transport::TokioChildProcess;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::peers::{
    self, Client, call, connect, everything_config, held_id, npm_server, text_of,
};
use support::{BIN, Gateway, stdout_json};

/// A gateway with the test policies; the config adds `extra`.
fn gateway(dir: &Path, extra: &str) -> Gateway {
    let config = everything_config(dir, extra);
    Gateway::start(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

/// `holdpoint mcp` in front of `server-everything`, as an MCP client starts it.
fn stdio_proxy(gw: &Gateway, token: &str, hold_wait: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args([
            "mcp",
            "--name",
            "everything",
            "--hold-wait",
            hold_wait,
            "--",
        ])
        .args(["node", &npm_server("server-everything"), "stdio"])
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", token);
    command
}

async fn stdio_client(
    gw: &Gateway,
    token: &str,
    hold_wait: &str,
) -> (
    Client,
    tokio::sync::mpsc::UnboundedReceiver<rmcp::model::ProgressNotificationParam>,
) {
    connect(TokioChildProcess::new(stdio_proxy(gw, token, hold_wait)).unwrap()).await
}

fn approve(gw: &Gateway, id: &str) {
    let out = gw.cli(&gw.admin_token(), &["approve", id]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
}

fn reject(gw: &Gateway, id: &str, comment: &str) {
    let out = gw.cli(&gw.admin_token(), &["reject", id, "--comment", comment]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
}

/// The action as the admin sees it.
fn action(gw: &Gateway, id: &str) -> Value {
    let out = Command::new("curl")
        .args([
            "-s",
            "-H",
            &format!("Authorization: Bearer {}", gw.admin_token()),
        ])
        .arg(format!("{}/v1/actions/{id}", gw.base))
        .output()
        .unwrap();
    stdout_json(&out)
}

/// Every behaviour of a gated call, through one client: list, allowed, denied, held then
/// approved (with progress while it waits), approval used once, rejected with a comment.
async fn gated_calls(
    gw: &Gateway,
    client: &Client,
    progress: &mut tokio::sync::mpsc::UnboundedReceiver<rmcp::model::ProgressNotificationParam>,
) {
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"echo"), "{names:?}");
    assert!(
        !names.contains(&"get-tiny-image"),
        "a forbidden tool is listed: {names:?}"
    );
    // No policy permits it: denied outright, so not listed either.
    assert!(!names.contains(&"toggle-simulated-logging"), "{names:?}");
    let sum = tools.iter().find(|t| t.name == "get-sum").unwrap();
    assert!(
        sum.description
            .as_deref()
            .unwrap()
            .starts_with("[held for human approval: Adding numbers]"),
        "{:?}",
        sum.description
    );

    let (error, text) = text_of(&call(client, "echo", json!({"message": "hi"})).await);
    assert!(!error && text == "Echo: hi", "{text}");

    let (error, text) = text_of(&call(client, "get-tiny-image", json!({})).await);
    assert!(error, "{text}");
    assert!(
        text.contains("denied by policy") && text.contains("no images for agents"),
        "{text}"
    );

    // Held: the call waits while a reviewer approves it through the gateway.
    let waiting = call(client, "get-sum", json!({"a": 2, "b": 3}));
    let approving = async {
        let id = held_id(progress).await;
        assert_eq!(action(gw, &id)["status"], "pending");
        assert_eq!(action(gw, &id)["surface"], "mcp");
        approve(gw, &id);
        id
    };
    let (result, id) = tokio::join!(waiting, approving);
    let (error, text) = text_of(&result);
    assert!(!error && text.contains('5'), "{text}");
    let record = action(gw, &id);
    assert_eq!(record["status"], "approved");
    assert_eq!(
        record["consumed_by"]
            .as_str()
            .map(|s| s.starts_with("act_")),
        Some(true),
        "{record}"
    );

    // Rejected, with the reviewer's comment shown to the model.
    let waiting = call(client, "get-sum", json!({"a": 40, "b": 2}));
    let rejecting = async {
        let id = held_id(progress).await;
        reject(gw, &id, "not today");
    };
    let (result, ()) = tokio::join!(waiting, rejecting);
    let (error, text) = text_of(&result);
    assert!(
        error && text.contains("rejected") && text.contains("not today"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_proxy_gates_each_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
    let agent = gw.create_token("claude", "agent", &[]);
    let (client, mut progress) = stdio_client(&gw, &agent, "5m").await;
    gated_calls(&gw, &client, &mut progress).await;
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_hosted_upstream_gates_each_tool_call() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\n",
        npm_server("server-everything")
    );
    let gw = gateway(dir.path(), &extra);
    let agent = gw.create_token("claude", "agent", &[]);
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp/everything", gw.base))
            .auth_header(agent);
    let (client, mut progress) = connect(StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        config,
    ))
    .await;
    gated_calls(&gw, &client, &mut progress).await;
    client.cancel().await.unwrap();
}
