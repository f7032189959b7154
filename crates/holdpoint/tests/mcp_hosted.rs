//! A gateway-hosted upstream (`/mcp/{name}`) against a hostile agent, end to end with the
//! real npm `server-filesystem` and a recording upstream: the agent's roots never
//! reconfigure it (its folders stay those of its config, nothing outside is readable),
//! it asks the agent's client only what its config turns on (and then through the gate),
//! and ending a session withdraws its holds so a later approval runs nothing.

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
use rmcp::service::{RequestContext, RoleClient, RunningService};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use rmcp::{ClientHandler, ErrorData, ServiceExt};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::Gateway;
use support::peers::{npm_server, text_of};
use support::recording::{Raw, Recording, gateway};

const ALLOW_ALL: &str = "permit(principal, action, resource);";

fn http(gw: &Gateway, name: &str, token: &str) -> StreamableHttpClientTransport<reqwest::Client> {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp/{name}", gw.base))
        .auth_header(token.to_string());
    StreamableHttpClientTransport::with_client(reqwest::Client::new(), config)
}

/// A hostile client: it declares roots (the whole disk and `outside`), sampling and
/// elicitation, and counts how often the upstream asked it anything.
#[derive(Clone)]
struct Grabby {
    outside: String,
    asked: Arc<AtomicUsize>,
}

impl ClientHandler for Grabby {
    async fn list_roots(
        &self,
        _: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(ListRootsResult::new(vec![
            Root::new("file:///"),
            Root::new(format!("file://{}", self.outside)),
        ]))
    }

    async fn create_message(
        &self,
        _: CreateMessageRequestParams,
        _: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Ok(CreateMessageResult::new(
            SamplingMessage::new(
                Role::Assistant,
                rmcp::model::SamplingMessageContent::text("sampled by the agent"),
            ),
            "agent-model".into(),
        ))
    }

    fn get_info(&self) -> ClientInfo {
        serde_json::from_value(json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}},
            "clientInfo": {"name": "grabby", "version": "1"}
        }))
        .unwrap()
    }
}

async fn call(
    client: &RunningService<RoleClient, Grabby>,
    tool: &str,
    arguments: Value,
) -> (bool, String) {
    let params = rmcp::model::CallToolRequestParams::new(tool.to_string())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default());
    text_of(&client.call_tool(params).await.unwrap())
}

/// A folder with one file, `{name}.txt` holding `{name} text`.
fn folder(root: &Path, name: &str) -> String {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), format!("{name} text")).unwrap();
    dir.canonicalize().unwrap().to_string_lossy().into_owned()
}

fn filesystem_gateway(dir: &Path, served: &str, extra: &str) -> Gateway {
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(dir.join("policies/all.cedar"), ALLOW_ALL).unwrap();
    let config = dir.join("holdpoint.toml");
    std::fs::write(
        &config,
        format!(
            "[policy]\ndir = \"policies\"\n\n[[mcp]]\nname = \"fs\"\ncommand = [\"node\", {:?}, {served:?}]\n{extra}\n",
            npm_server("server-filesystem")
        ),
    )
    .unwrap();
    Gateway::start(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

/// Nothing outside `allowed` is readable, and the agent was never asked for roots.
async fn confined(
    client: &RunningService<RoleClient, Grabby>,
    allowed: &str,
    outside: &str,
    data: &Path,
) {
    let (error, listed) = call(client, "list_allowed_directories", json!({})).await;
    assert!(!error && listed.contains(allowed), "{listed}");
    assert!(!listed.contains(outside), "{listed}");
    assert!(!listed.lines().any(|l| l.trim() == "/"), "{listed}");
    let token = data.join("admin.token");
    for path in [
        format!("{outside}/outside.txt"),
        token.to_string_lossy().into_owned(),
        "/proc/self/environ".to_string(),
        format!("{allowed}/../outside/outside.txt"),
    ] {
        let (error, said) = call(client, "read_text_file", json!({"path": path})).await;
        assert!(error, "{path} was readable: {said}");
        assert!(!said.contains("outside text"), "{said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_filesystem_server_keeps_its_folders_whatever_roots_the_agent_offers() {
    let dir = tempfile::tempdir().unwrap();
    let served = folder(dir.path(), "served");
    let outside = folder(dir.path(), "outside");
    let gw = filesystem_gateway(dir.path(), &served, "");
    let agent = gw.create_token("claude", "agent", &[]);
    let asked = Arc::new(AtomicUsize::new(0));
    let grabby = Grabby {
        outside: outside.clone(),
        asked: asked.clone(),
    };
    let client = grabby.serve(http(&gw, "fs", &agent)).await.unwrap();
    // The attack: roots changed, please ask again.
    client.notify_roots_list_changed().await.unwrap();
    confined(&client, &served, &outside, &gw.data).await;
    let (error, said) = call(
        &client,
        "read_text_file",
        json!({"path": format!("{served}/served.txt")}),
    )
    .await;
    assert!(!error && said.contains("served text"), "{said}");
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "the upstream asked the agent"
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_for_a_hosted_server_come_from_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let started = folder(dir.path(), "started");
    let rooted = folder(dir.path(), "rooted");
    let outside = folder(dir.path(), "outside");
    let gw = filesystem_gateway(dir.path(), &started, &format!("roots = [{rooted:?}]"));
    let agent = gw.create_token("claude", "agent", &[]);
    let asked = Arc::new(AtomicUsize::new(0));
    let grabby = Grabby {
        outside: outside.clone(),
        asked: asked.clone(),
    };
    let client = grabby.serve(http(&gw, "fs", &agent)).await.unwrap();
    client.notify_roots_list_changed().await.unwrap();
    // The server asks for roots after `initialized`: the gateway answers with its own.
    let mut listed = String::new();
    for _ in 0..100 {
        listed = call(&client, "list_allowed_directories", json!({})).await.1;
        if listed.contains(&rooted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed.contains(&rooted), "{listed}");
    confined(&client, &rooted, &outside, &gw.data).await;
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "the upstream asked the agent"
    );
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_server_asks_the_client_only_what_its_config_turns_on() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let gw = gateway(dir.path(), "rec", &recording, "", ALLOW_ALL);
    let agent = gw.create_token("claude", "agent", &[]);
    let asked = Arc::new(AtomicUsize::new(0));
    let grabby = Grabby {
        outside: "/".into(),
        asked: asked.clone(),
    };
    let client = grabby
        .clone()
        .serve(http(&gw, "rec", &agent))
        .await
        .unwrap();
    // The upstream was told of none of the agent's capabilities.
    let init = recording.of("initialize");
    assert_eq!(init[0]["params"]["capabilities"], json!({}), "{init:?}");
    for (tool, setting) in [
        ("ask-roots", "gives no `roots`"),
        ("ask-sampling", "`allow_sampling`"),
        ("ask-elicitation", "`allow_elicitation`"),
    ] {
        let (_, said) = call(&client, tool, json!({})).await;
        assert!(
            said.contains("may not ask the client") && said.contains(setting),
            "{tool}: {said}"
        );
    }
    assert_eq!(asked.load(Ordering::SeqCst), 0);
    client.cancel().await.unwrap();
    drop(gw);

    // Turned on, sampling is an action: held here, it reaches the agent once approved.
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let policies = format!(
        "{ALLOW_ALL}\n@id(\"sampling\") @hold(\"Sampling\") @approvers(\"admins\")\npermit(principal, action == Action::\"mcp.sampling\", resource == Resource::\"mcp/rec/client\");"
    );
    let gw = gateway(
        dir.path(),
        "rec",
        &recording,
        "allow_sampling = true",
        &policies,
    );
    let agent = gw.create_token("claude", "agent", &[]);
    let client = grabby.serve(http(&gw, "rec", &agent)).await.unwrap();
    let init = recording.of("initialize");
    assert_eq!(
        init[0]["params"]["capabilities"],
        json!({"sampling": {}}),
        "{init:?}"
    );
    let sampling = call(&client, "ask-sampling", json!({}));
    let approving = async {
        let mut pending = String::new();
        for _ in 0..200 {
            pending = gw.admin_get("/v1/actions?status=pending");
            if pending.contains("mcp.sampling") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(pending.contains("mcp/rec/client"), "{pending}");
        let id = support::act_id(&pending);
        let out = gw.cli(&gw.admin_token(), &["approve", &id]);
        assert!(out.status.success(), "{}", support::text(&out.stderr));
    };
    let ((_, said), ()) = tokio::join!(sampling, approving);
    assert!(said.contains("sampled by the agent"), "{said}");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    client.cancel().await.unwrap();
}

/// Whether a process whose command line contains `marker` runs.
fn running(marker: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", marker])
        .status()
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_a_session_withdraws_its_holds_and_a_later_approval_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let policies = "@id(\"held\") @hold(\"Echo\") @approvers(\"admins\")\npermit(principal, action == Action::\"mcp.call\", resource == Resource::\"mcp/rec/echo\");";
    let gw = gateway(dir.path(), "rec", &recording, "", policies);
    let agent = gw.create_token("claude", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent).await;
    let waiting = raw.spawn_post(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"marker": "held"}, "_meta": {"progressToken": "p"}}}));
    let mut pending = String::new();
    for _ in 0..200 {
        pending = gw.admin_get("/v1/actions?status=pending");
        if pending.contains("act_") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = support::act_id(&pending);
    let closed = raw.delete().await;
    assert!((200..300).contains(&closed), "DELETE answered {closed}");
    // At once after the session ends: the hold is gone, the approval finds nothing.
    let approved = gw.cli(&gw.admin_token(), &["approve", &id]);
    let record: Value =
        serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}?wait=20s"))).unwrap();
    assert_eq!(
        record["status"],
        "cancelled",
        "{record} (approve: {})",
        support::text(&approved.stdout)
    );
    let _ = waiting.await;
    // The upstream ends with the session; it never saw the call.
    let log = recording.0.to_string_lossy().into_owned();
    for _ in 0..200 {
        if !running(&log) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!running(&log), "the upstream outlived its session");
    assert!(
        recording.of("tools/call").is_empty(),
        "{:?}",
        recording.messages()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_gateway_withdraws_the_holds_its_sessions_wait_on() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let policies = "@id(\"held\") @hold(\"Echo\") @approvers(\"admins\")\npermit(principal, action == Action::\"mcp.call\", resource == Resource::\"mcp/rec/echo\");";
    let gw = gateway(dir.path(), "rec", &recording, "", policies);
    let agent = gw.create_token("claude", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent).await;
    let waiting = raw.spawn_post(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"marker": "held"}}}));
    let mut pending = String::new();
    for _ in 0..200 {
        pending = gw.admin_get("/v1/actions?status=pending");
        if pending.contains("act_") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = support::act_id(&pending);
    gw.stop();
    let _ = waiting.await;
    // Started again on the same data: the hold was withdrawn as the gateway stopped.
    let config = dir.path().join("holdpoint.toml");
    let again = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let record: Value =
        serde_json::from_str(&again.admin_get(&format!("/v1/actions/{id}"))).unwrap();
    assert_eq!(record["status"], "cancelled", "{record}");
    assert!(
        recording.of("tools/call").is_empty(),
        "{:?}",
        recording.messages()
    );
}
