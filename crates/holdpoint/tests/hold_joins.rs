//! Who waits on a hold (issue 19, break 7), through a real gateway hosting the npm
//! `server-everything`: a hold the agent opens through `POST /v1/actions` with wording of
//! its choice is never joined by the same call through `/mcp/{name}` (the digest covers
//! the surface), and its approval passes nothing there; the same call from a second MCP
//! session joins the first one's hold, and the join is audited (`hold.joined`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use serde_json::{Value, json};
use std::path::Path;
use support::Gateway;
use support::peers::{Client, call, connect, everything_config, held_id, npm_server, text_of};
use tokio::sync::mpsc::UnboundedReceiver;

type Progress = UnboundedReceiver<rmcp::model::ProgressNotificationParam>;

fn hosted(dir: &Path) -> Gateway {
    let extra = format!(
        "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\n",
        npm_server("server-everything")
    );
    let config = everything_config(dir, &extra);
    Gateway::start(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

async fn session(gw: &Gateway, token: &str) -> (Client, Progress) {
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp/everything", gw.base))
            .auth_header(token.to_string());
    connect(StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        config,
    ))
    .await
}

fn review(gw: &Gateway, verb: &str, id: &str) {
    let out = gw.cli(&gw.admin_token(), &[verb, id]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
}

fn action(gw: &Gateway, id: &str) -> Value {
    serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_opened_through_the_api_is_not_joined_by_a_hosted_call() {
    let dir = tempfile::tempdir().unwrap();
    let gw = hosted(dir.path());
    let agent = gw.create_token("claude", "agent", &[]);
    let out = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "mcp.call",
            "--resource",
            "mcp/everything/get-sum",
            "--params-json",
            r#"{"a": 20, "b": 22}"#,
            "--why",
            "a harmless sum, already reviewed by the team",
        ],
    );
    let decoy = support::act_id(&support::text(&out.stdout));
    assert_eq!(action(&gw, &decoy)["status"], "pending");
    let (client, mut progress) = session(&gw, &agent).await;
    let waiting = call(&client, "get-sum", json!({"a": 20, "b": 22}));
    let reviewing = async {
        let id = held_id(&mut progress).await;
        assert_ne!(
            id, decoy,
            "the hosted call joined the hold the agent opened"
        );
        // The API's hold approved: the hosted call keeps waiting on its own, which a
        // reviewer then rejects.
        review(&gw, "approve", &decoy);
        assert_eq!(action(&gw, &id)["status"], "pending");
        review(&gw, "reject", &id);
        id
    };
    let (result, id) = tokio::join!(waiting, reviewing);
    let (error, text) = text_of(&result);
    assert!(error && text.contains("rejected"), "{text}");
    assert!(!text.contains("42"), "{text}");
    assert_eq!(action(&gw, &id)["surface"], "mcp");
    assert_eq!(action(&gw, &decoy)["surface"], "api");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_call_from_a_second_session_joins_the_hold_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let gw = hosted(dir.path());
    let agent = gw.create_token("claude", "agent", &[]);
    let (one, mut one_progress) = session(&gw, &agent).await;
    let (two, mut two_progress) = session(&gw, &agent).await;
    // The second session calls once the first one's call is held.
    let first = call(&one, "get-sum", json!({"a": 1, "b": 2}));
    let second = async {
        let id = held_id(&mut one_progress).await;
        (id, call(&two, "get-sum", json!({"a": 1, "b": 2})).await)
    };
    let reviewing = async {
        let joined = held_id(&mut two_progress).await;
        let audit = gw.admin_get("/v1/audit?limit=1000");
        let events: Value = serde_json::from_str(&audit).unwrap();
        let joins: Vec<&Value> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "hold.joined")
            .collect();
        assert_eq!(joins.len(), 1, "{audit}");
        assert_eq!(joins[0]["action_id"], joined.as_str());
        assert_eq!(joins[0]["data"]["surface"], "mcp");
        assert_eq!(joins[0]["data"]["principal"]["name"], "claude");
        review(&gw, "reject", &joined);
        joined
    };
    let (a, (id, b), joined) = tokio::join!(first, second, reviewing);
    assert_eq!(joined, id, "the second session opened a second hold");
    for result in [a, b] {
        let (error, text) = text_of(&result);
        assert!(error && text.contains("rejected"), "{text}");
    }
    one.cancel().await.unwrap();
    two.cancel().await.unwrap();
}
