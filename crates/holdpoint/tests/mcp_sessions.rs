//! The MCP surface's sessions and pass-through, end to end with real peers: the upstream's
//! requests to the client reach the agent's client as its config allows (sampling turned
//! on, roots from the config, never the agent's); a remote
//! streamable-HTTP upstream gets its credential header from the gateway's environment; an
//! agent session's end, or its idling, ends its upstream session.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use rmcp::model::{
    ClientInfo, CreateMessageRequestParams, CreateMessageResult, ListRootsResult, Role, Root,
    SamplingMessage,
};
use rmcp::service::{RequestContext, RoleClient};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use rmcp::{ClientHandler, ErrorData, ServiceExt};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::Gateway;
use support::peers::{call, connect, npm_server, peers_dir, text_of};

fn http(gw: &Gateway, name: &str, token: &str) -> StreamableHttpClientTransport<reqwest::Client> {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp/{name}", gw.base))
        .auth_header(token.to_string());
    StreamableHttpClientTransport::with_client(reqwest::Client::new(), config)
}

fn config(dir: &Path, text: &str) -> String {
    let path = dir.join("holdpoint.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A client that samples and has roots, as an editor would.
struct Editor;

impl ClientHandler for Editor {
    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let asked = serde_json::to_string(&params.messages).unwrap();
        let answer = format!("sampled by the editor; asked {}", asked.len());
        Ok(CreateMessageResult::new(
            SamplingMessage::new(
                Role::Assistant,
                rmcp::model::SamplingMessageContent::text(answer),
            ),
            "editor-model".into(),
        ))
    }

    async fn list_roots(
        &self,
        _: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        Ok(ListRootsResult::new(vec![Root::new(
            "file:///work/project",
        )]))
    }

    fn get_info(&self) -> ClientInfo {
        serde_json::from_value(json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"sampling": {}, "roots": {"listChanged": true}},
            "clientInfo": {"name": "editor", "version": "1"}
        }))
        .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstreams_requests_to_the_client_pass_through_as_its_config_allows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(
        dir.path().join("policies/all.cedar"),
        "permit(principal, action, resource);",
    )
    .unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[policy]\ndir = \"policies\"\n\n[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nallow_sampling = true\nroots = [\"/srv/configured\"]\n",
            npm_server("server-everything")
        ),
    );
    let gw = Gateway::start(&dir.path().join("data"), &["--config", &cfg]);
    let agent = gw.create_token("editor-agent", "agent", &[]);
    let client = Editor.serve(http(&gw, "everything", &agent)).await.unwrap();
    // The server offers these tools only to a client that samples / has roots: the
    // capabilities the config turns on reached it through the proxy.
    let names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(
        names.iter().any(|n| n == "trigger-sampling-request"),
        "{names:?}"
    );
    let params = rmcp::model::CallToolRequestParams::new("trigger-sampling-request")
        .with_arguments(json!({"prompt": "hello"}).as_object().cloned().unwrap());
    let result = client.call_tool(params).await.unwrap();
    let (error, said) = text_of(&result);
    assert!(!error && said.contains("sampled by the editor"), "{said}");
    let params = rmcp::model::CallToolRequestParams::new("get-roots-list");
    let (error, said) = text_of(&client.call_tool(params).await.unwrap());
    // The roots are the config's, never the agent's.
    assert!(!error && said.contains("file:///srv/configured"), "{said}");
    assert!(!said.contains("file:///work/project"), "{said}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_upstream_gets_its_header_from_the_gateways_environment() {
    // Gateway A hosts the everything server; gateway B reaches it as a remote upstream,
    // with A's agent token as its credential, which B's own agents never see.
    let dir_a = tempfile::tempdir().unwrap();
    let cfg_a = config(
        dir_a.path(),
        &format!(
            "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\n",
            npm_server("server-everything")
        ),
    );
    let a = Gateway::start(&dir_a.path().join("data"), &["--config", &cfg_a]);
    let b_on_a = a.create_token("gateway-b", "agent", &[]);

    let dir_b = tempfile::tempdir().unwrap();
    let cfg_b = config(
        dir_b.path(),
        &format!(
            "[[mcp]]\nname = \"remote\"\nurl = \"{}/mcp/everything\"\nheaders = {{ Authorization = \"UPSTREAM_AUTH\" }}\n",
            a.base
        ),
    );
    let auth = format!("Bearer {b_on_a}");
    let b = Gateway::start_logged(
        &dir_b.path().join("data"),
        &["--config", &cfg_b],
        &[("UPSTREAM_AUTH", &auth)],
        &dir_b.path().join("log"),
    );
    let agent = b.create_token("claude", "agent", &[]);
    let (client, _) = connect(http(&b, "remote", &agent)).await;
    let (error, said) = text_of(&call(&client, "echo", json!({"message": "chained"})).await);
    assert!(!error && said == "Echo: chained", "{said}");
    client.cancel().await.unwrap();

    // A saw the call as B's principal: the header was sent; B's agent saw no token.
    let audit = a.admin_get("/v1/audit?limit=1000");
    assert!(
        audit.contains("gateway-b") && audit.contains("mcp/everything/echo"),
        "{audit}"
    );
    let audit_b = b.admin_get("/v1/audit?limit=1000");
    assert!(audit_b.contains("mcp/remote/echo") && !audit_b.contains(&b_on_a));
}

/// Whether a process whose command line contains `marker` runs.
fn running(marker: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", marker])
        .status()
        .unwrap()
        .success()
}

/// Waits (up to 20 s) for the upstream marked `marker` to be gone.
async fn gone(marker: &str) -> bool {
    for _ in 0..200 {
        if !running(marker) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sessions_end_or_idling_ends_its_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("holdpoint-session-test-{}", std::process::id());
    let script = peers_dir().join("crash_server.py");
    let cfg = config(
        dir.path(),
        &format!(
            "[[mcp]]\nname = \"crash\"\ncommand = [\"python3\", \"{}\", \"{marker}\"]\nidle_timeout = \"2s\"\n\n[policy]\ndir = \"policies\"\n",
            script.display()
        ),
    );
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(
        dir.path().join("policies/all.cedar"),
        "permit(principal, action, resource);",
    )
    .unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &["--config", &cfg]);
    let agent = gw.create_token("claude", "agent", &[]);

    // Ended by the client: its upstream process goes with it.
    let (client, _) = connect(http(&gw, "crash", &agent)).await;
    client.list_all_tools().await.unwrap();
    assert!(running(&marker), "no upstream process for the session");
    client.cancel().await.unwrap();
    assert!(gone(&marker).await, "the upstream outlived its session");

    // Left idle: closed after idle_timeout, upstream included.
    let (client, _) = connect(http(&gw, "crash", &agent)).await;
    client.list_all_tools().await.unwrap();
    assert!(running(&marker));
    assert!(
        gone(&marker).await,
        "the idle session's upstream is still running"
    );
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_cannot_open_sessions_without_end() {
    let dir = tempfile::tempdir().unwrap();
    let script = peers_dir().join("crash_server.py");
    let cfg = config(
        dir.path(),
        &format!(
            "[[mcp]]\nname = \"crash\"\ncommand = [\"python3\", \"{}\"]\nmax_sessions = 2\n",
            script.display()
        ),
    );
    let gw = Gateway::start(&dir.path().join("data"), &["--config", &cfg]);
    let greedy = gw.create_token("greedy", "agent", &[]);
    let other = gw.create_token("other", "agent", &[]);
    let (first, _) = connect(http(&gw, "crash", &greedy)).await;
    let (_second, _) = connect(http(&gw, "crash", &greedy)).await;
    // A third is refused, and says why (read raw: rmcp's client reports only that the
    // handshake ended).
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let refused = reqwest::Client::new()
        .post(format!("{}/mcp/crash", gw.base))
        .bearer_auth(&greedy)
        .header("accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refused.contains("already has 2 MCP sessions"), "{refused}");
    // Another agent has its own places.
    let (theirs, _) = connect(http(&gw, "crash", &other)).await;
    theirs.cancel().await.unwrap();
    // An ended session frees its place.
    first.cancel().await.unwrap();
    let mut reopened = None;
    for _ in 0..50 {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        if let Ok(client) = support::peers::Watcher(tx)
            .serve(http(&gw, "crash", &greedy))
            .await
        {
            reopened = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        reopened.is_some(),
        "the ended session's place was not freed"
    );
}
