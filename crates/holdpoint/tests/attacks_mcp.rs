//! A hostile agent against `/mcp/{name}` (issue 19, breaks 1-4): with an ordinary agent
//! token it tries to reconfigure a gateway-hosted server (roots, fake answers, a second
//! `initialize`), to get a gated method past the gate with frames no client library
//! sends, to read resources a policy keeps from it by spelling their URIs otherwise, and
//! to get a held call run after its session ended. It talks raw HTTP to real npm servers
//! (`server-everything`, `server-filesystem`) and to a recording upstream that logs every
//! message that reaches it. Each test asserts the safe behaviour; the ones marked
//! `#[ignore = "finding: …"]` are holes found in review.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::Gateway;
use support::peers::npm_server;

/// An MCP server on stdio that appends every line it receives to the file named by its
/// first argument, and answers like a small server with tools, resources, prompts and
/// completions. `ask-roots` makes it ask the client for its roots.
const RECORDER: &str = r#"
import json
import sys

log = open(sys.argv[1], "a")


def send(message):
    print(json.dumps(message), flush=True)


for line in sys.stdin:
    log.write(line if line.endswith("\n") else line + "\n")
    log.flush()
    try:
        message = json.loads(line)
    except Exception:
        continue
    if not isinstance(message, dict):
        continue
    method, ident = message.get("method"), message.get("id")
    params = message.get("params") or {}
    if method is None:
        continue
    if method == "initialize":
        result = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}, "resources": {"subscribe": True},
                             "prompts": {}, "completions": {}, "logging": {}},
            "serverInfo": {"name": "recorder", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": [{"name": n, "inputSchema": {"type": "object"}}
                            for n in ["echo", "danger", "ask-roots"]]}
    elif method == "tools/call":
        if params.get("name") == "ask-roots":
            send({"jsonrpc": "2.0", "id": "recorder-roots", "method": "roots/list"})
        result = {"content": [{"type": "text", "text": "ran " + json.dumps(params)}]}
    elif method == "resources/list":
        result = {"resources": [
            {"uri": "rec://data/public/a.txt", "name": "public"},
            {"uri": "rec://data/secret/key.txt", "name": "secret"},
        ]}
    elif method == "resources/read":
        uri = params.get("uri", "")
        result = {"contents": [{"uri": uri, "text": "RECORDER-READ " + uri}]}
    elif method == "prompts/list":
        result = {"prompts": [{"name": "greet"}]}
    elif method == "prompts/get":
        result = {"messages": [{"role": "user", "content": {
            "type": "text", "text": "PROMPT " + json.dumps(params)}}]}
    elif method == "completion/complete":
        result = {"completion": {"values": ["COMPLETED"]}}
    elif ident is None:
        continue
    else:
        result = {}
    if ident is not None:
        send({"jsonrpc": "2.0", "id": ident, "result": result})
"#;

const ACCEPT: &str = "application/json, text/event-stream";

/// Writes `policies` and a config of `sections` into `dir`, and starts a gateway on it.
fn start(dir: &Path, sections: &str, policies: &str) -> Gateway {
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(dir.join("policies/p.cedar"), policies).unwrap();
    let config = dir.join("holdpoint.toml");
    std::fs::write(
        &config,
        format!("[policy]\ndir = \"policies\"\n\n{sections}"),
    )
    .unwrap();
    Gateway::start(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

/// The recorder's script and the log it writes, in `dir`.
fn recorder(dir: &Path) -> (PathBuf, PathBuf) {
    let script = dir.join("recorder.py");
    std::fs::write(&script, RECORDER).unwrap();
    (script, dir.join("recorded.jsonl"))
}

/// An `[[mcp]]` section `name` running the recorder, with `extra` lines.
fn recorder_section(name: &str, script: &Path, log: &Path, extra: &str) -> String {
    format!(
        "[[mcp]]\nname = \"{name}\"\ncommand = [\"python3\", \"{}\", \"{}\"]\n{extra}\n",
        script.display(),
        log.display()
    )
}

const RECORDER_POLICIES: &str = r#"
@id("rec-echo") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/echo");
@id("rec-ask") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/ask-roots");
@id("rec-danger") @hold("Dangerous tool") @approvers("admins")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/danger");
@id("reads") permit(principal, action in [Action::"mcp.resource", Action::"mcp.prompt", Action::"mcp.complete"], resource);
@id("no-secrets") @reason("no secrets for agents")
forbid(principal, action == Action::"mcp.resource", resource in Resource::"mcp/rec/resources/rec/data/secret");
@id("no-srv-secret") @reason("no secrets for agents")
forbid(principal, action == Action::"mcp.resource", resource in Resource::"mcp/rec/resources/file/srv/secret");
"#;

/// Every message the recorder(s) logged.
fn recorded(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// How many `tools/call` of `tool` reached the recorder.
fn calls_of(log: &Path, tool: &str) -> usize {
    recorded(log)
        .iter()
        .filter(|m| m["method"] == "tools/call" && m["params"]["name"] == tool)
        .count()
}

/// Polls (up to 30 s) until the recorder has logged a message `found` accepts.
async fn wait_logged(log: &Path, found: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if recorded(log).iter().any(&found) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the recorder never logged what was expected");
}

fn init_body(version: &str, capabilities: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": capabilities,
        "clientInfo": {"name": "hostile", "version": "1"}}})
    .to_string()
}

/// One agent session spoken raw.
struct Raw {
    http: reqwest::Client,
    url: String,
    token: String,
    session: String,
}

impl Raw {
    /// `initialize` (with `capabilities` and the revision `version`), then `initialized`.
    async fn open(
        gw: &Gateway,
        name: &str,
        token: &str,
        version: &str,
        capabilities: Value,
    ) -> Raw {
        let http = reqwest::Client::new();
        let url = format!("{}/mcp/{name}", gw.base);
        let answer = http
            .post(&url)
            .bearer_auth(token)
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .body(init_body(version, capabilities))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "initialize");
        let session = answer.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_string();
        let said = answer.text().await.unwrap();
        assert!(said.contains("serverInfo"), "{said}");
        let raw = Raw {
            http,
            url,
            token: token.to_string(),
            session,
        };
        let (status, _) = raw
            .post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
        assert!(status < 300, "initialized: {status}");
        raw
    }

    fn request(&self, body: Vec<u8>, content_type: &str) -> reqwest::RequestBuilder {
        self.http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", ACCEPT)
            .header("content-type", content_type)
            .header("mcp-session-id", &self.session)
            .body(body)
    }

    async fn post(&self, body: &str) -> (u16, String) {
        self.post_as(body.as_bytes().to_vec(), "application/json")
            .await
    }

    /// Posts `body` and reads the whole answer (up to 60 s).
    async fn post_as(&self, body: Vec<u8>, content_type: &str) -> (u16, String) {
        let request = self.request(body, content_type);
        tokio::time::timeout(Duration::from_secs(60), async move {
            let answer = request.send().await.unwrap();
            let status = answer.status().as_u16();
            (status, answer.text().await.unwrap_or_default())
        })
        .await
        .expect("an answer within 60 s")
    }

    async fn delete(&self) -> u16 {
        self.http
            .delete(&self.url)
            .bearer_auth(&self.token)
            .header("mcp-session-id", &self.session)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// Whether an answer says the call waits for a reviewer.
fn held(said: &str) -> bool {
    said.contains("held for approval") || said.contains("pending approval as act_")
}

/// A `tools/call` of `tool` with `id`, asking for progress.
fn tool_call(id: Value, tool: &str, arguments: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments, "_meta": {"progressToken": "p"}}})
    .to_string()
}

async fn admin_json(gw: &Gateway, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", gw.base))
        .bearer_auth(gw.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every action (id, status, kind) on `resource` found anywhere in `value`.
fn actions_on(value: &Value, resource: &str, out: &mut Vec<(String, String, String)>) {
    match value {
        Value::Object(fields) => {
            if fields.get("resource").and_then(Value::as_str) == Some(resource)
                && let Some(id) = fields.get("id").and_then(Value::as_str)
                && id.starts_with("act_")
            {
                let field = |k: &str| {
                    fields
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                out.push((id.to_string(), field("status"), field("kind")));
            }
            fields.values().for_each(|v| actions_on(v, resource, out));
        }
        Value::Array(items) => items.iter().for_each(|v| actions_on(v, resource, out)),
        _ => {}
    }
}

/// Polls (up to 30 s) for a pending action on `resource` other than those in `seen`.
async fn wait_pending(gw: &Gateway, resource: &str, seen: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let list = admin_json(gw, "/v1/actions?status=pending&limit=100").await;
        let mut found = Vec::new();
        actions_on(&list, resource, &mut found);
        if let Some((id, _, _)) = found.into_iter().find(|(id, _, _)| !seen.contains(id)) {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new pending action on {resource}");
}

async fn status(gw: &Gateway, id: &str) -> String {
    admin_json(gw, &format!("/v1/actions/{id}")).await["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Polls (up to 30 s) until the action `id` is no longer pending; its status.
async fn wait_settled(gw: &Gateway, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let now = status(gw, id).await;
        if now != "pending" {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} is still pending");
}

/// Sends an allowed `echo` carrying `marker` on a fresh session and waits for the
/// recorder to log it: everything sent before it has had its chance to arrive.
async fn flush(gw: &Gateway, token: &str, log: &Path, marker: &str) {
    let raw = Raw::open(gw, "rec", token, "2025-06-18", json!({})).await;
    let (_, said) = raw
        .post(&tool_call(json!(9001), "echo", json!({"m": marker})))
        .await;
    assert!(said.contains("ran "), "{said}");
    wait_logged(log, |m| m["params"]["arguments"]["m"] == marker).await;
    raw.delete().await;
}

// --- Break 1: a hosted server takes nothing from the agent ------------------------------

/// The agent declares roots, says they changed, and answers roots requests it was never
/// sent with `file:///`; the filesystem server keeps the folder it was started on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_roots_and_fake_answers_never_widen_a_hosted_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "inside the root").unwrap();
    let section = format!(
        "[[mcp]]\nname = \"fs\"\ncommand = [\"node\", \"{}\", \"{}\"]\n",
        npm_server("server-filesystem"),
        root.display()
    );
    let gw = start(
        dir.path(),
        &section,
        r#"@id("fs") permit(principal, action == Action::"mcp.call", resource in Resource::"mcp/fs");"#,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(
        &gw,
        "fs",
        &agent,
        "2025-06-18",
        json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}}),
    )
    .await;
    let (status, _) = raw
        .post(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#)
        .await;
    assert!(status < 500, "{status}");
    // Answers to requests never asked: ids the proxy might use for its own requests.
    for id in [
        json!(0),
        json!(1),
        json!(2),
        json!(3),
        json!("0"),
        json!("1"),
    ] {
        let fake = json!({"jsonrpc": "2.0", "id": id,
            "result": {"roots": [{"uri": "file:///", "name": "everything"}]}});
        let (status, _) = raw.post(&fake.to_string()).await;
        assert!(status < 500, "{status}");
    }
    let (_, listed) = raw
        .post(&tool_call(json!(10), "list_allowed_directories", json!({})))
        .await;
    assert!(
        listed.contains(root.file_name().unwrap().to_str().unwrap()),
        "{listed}"
    );
    let token_file = gw.data.join("admin.token");
    let (_, read) = raw
        .post(&tool_call(
            json!(11),
            "read_text_file",
            json!({"path": token_file}),
        ))
        .await;
    assert!(
        !read.contains(&gw.admin_token()),
        "the agent read admin.token"
    );
    let (_, inside) = raw
        .post(&tool_call(
            json!(12),
            "read_text_file",
            json!({"path": root.join("notes.txt")}),
        ))
        .await;
    assert!(inside.contains("inside the root"), "{inside}");
}

/// `roots` from the config (here a symlink to the folder) are what the server gets; the
/// agent's never are, and the server asked for roots of a section without any is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_roots_are_the_only_roots_and_the_recorder_is_refused_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "inside the root").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let (script, log) = recorder(dir.path());
    let sections = format!(
        "[[mcp]]\nname = \"fs\"\ncommand = [\"node\", \"{}\"]\nroots = [\"{}\"]\n\n{}",
        npm_server("server-filesystem"),
        link.display(),
        recorder_section("rec", &script, &log, "hold_wait = \"1s\"")
    );
    let policies = format!(
        "{RECORDER_POLICIES}\n@id(\"fs\") permit(principal, action == Action::\"mcp.call\", resource in Resource::\"mcp/fs\");"
    );
    let gw = start(dir.path(), &sections, &policies);
    let agent = gw.create_token("hostile", "agent", &[]);

    let fs = Raw::open(
        &gw,
        "fs",
        &agent,
        "2025-06-18",
        json!({"roots": {"listChanged": true}}),
    )
    .await;
    fs.post(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#)
        .await;
    let (_, inside) = fs
        .post(&tool_call(
            json!(1),
            "read_text_file",
            json!({"path": root.join("notes.txt")}),
        ))
        .await;
    assert!(inside.contains("inside the root"), "{inside}");
    let (_, outside) = fs
        .post(&tool_call(
            json!(2),
            "read_text_file",
            json!({"path": gw.data.join("admin.token")}),
        ))
        .await;
    assert!(!outside.contains(&gw.admin_token()), "{outside}");

    // The recorder, hosted with no roots, asks for them: the agent is never asked, and
    // what reached the recorder at `initialize` held no capability of the agent's.
    let rec = Raw::open(
        &gw,
        "rec",
        &agent,
        "2025-06-18",
        json!({"roots": {"listChanged": true}, "sampling": {}, "experimental": {"x": {}}}),
    )
    .await;
    let (_, said) = rec.post(&tool_call(json!(3), "ask-roots", json!({}))).await;
    assert!(!said.contains("roots/list"), "the agent was asked: {said}");
    wait_logged(&log, |m| {
        m["id"] == "recorder-roots" && m.get("error").is_some()
    })
    .await;
    let inits: Vec<Value> = recorded(&log)
        .into_iter()
        .filter(|m| m["method"] == "initialize")
        .collect();
    assert!(!inits.is_empty());
    for init in inits {
        assert_eq!(init["params"]["capabilities"], json!({}), "{init}");
    }
}

/// Every protocol revision, and a second `initialize` that now declares roots and
/// sampling: the recorder still sees no capability, and a held tool still waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_revision_and_a_second_initialize_keep_the_gate_and_the_capabilities_off() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    for version in [
        "2024-11-05",
        "2025-03-26",
        "2025-06-18",
        "2025-11-25",
        "2026-07-28",
    ] {
        let raw = Raw::open(&gw, "rec", &agent, version, json!({})).await;
        let again = init_body(
            version,
            json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {}}),
        )
        .replace("\"id\":0", "\"id\":50");
        let (status, _) = raw.post(&again).await;
        assert!(status < 500, "{version}: {status}");
        let (_, said) = raw
            .post(&tool_call(json!(51), "danger", json!({"v": version})))
            .await;
        assert!(held(&said), "{version}: {said}");
        raw.post(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#)
            .await;
    }
    flush(&gw, &agent, &log, "revisions-done").await;
    assert_eq!(calls_of(&log, "danger"), 0, "a held call ran");
    for m in recorded(&log) {
        if m["method"] == "initialize" {
            assert_eq!(m["params"]["capabilities"], json!({}), "{m}");
        }
        assert_ne!(m["method"], "notifications/roots/list_changed", "{m}");
    }
}

/// `allow_sampling` on: the server's sampling request waits for an admin and never
/// reaches the agent meanwhile; elicitation (not allowed) and roots (none configured)
/// never reach it at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_sampling_holds_each_request_and_nothing_else_reaches_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "[[mcp]]\nname = \"ev\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nallow_sampling = true\nhold_wait = \"1s\"\n",
        npm_server("server-everything")
    );
    let policies = r#"
@id("ev") permit(principal, action == Action::"mcp.call", resource in Resource::"mcp/ev");
@id("asks") @hold("The server asks the client") @approvers("admins")
permit(principal, action in [Action::"mcp.sampling", Action::"mcp.elicitation"], resource);
"#;
    let gw = start(dir.path(), &section, policies);
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(
        &gw,
        "ev",
        &agent,
        "2025-06-18",
        json!({"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}}),
    )
    .await;
    let (_, said) = raw
        .post(&tool_call(
            json!(1),
            "trigger-sampling-request",
            json!({"prompt": "hello"}),
        ))
        .await;
    assert!(
        !said.contains("sampling/createMessage"),
        "sampling reached the agent unapproved: {said}"
    );
    let list = admin_json(&gw, "/v1/actions?limit=100").await;
    let mut found = Vec::new();
    actions_on(&list, "mcp/ev/client", &mut found);
    assert!(
        found.iter().any(|(_, _, kind)| kind == "mcp.sampling"),
        "{list}"
    );
    for (tool, method) in [
        ("trigger-elicitation-request", "elicitation/create"),
        ("get-roots-list", "roots/list"),
    ] {
        let (_, said) = raw.post(&tool_call(json!(2), tool, json!({}))).await;
        assert!(!said.contains(method), "{method} reached the agent: {said}");
    }
}

/// Starts `holdpoint serve` on `config`: its stderr if it exits within 20 s, or `None`
/// (and it is stopped) when it runs.
fn refused(config: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("holdpoint.toml");
    std::fs::write(&path, config).unwrap();
    let log = dir.path().join("stderr");
    let data = dir.path().join("data");
    let mut child = std::process::Command::new(support::BIN)
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .arg("--data")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return Some(std::fs::read_to_string(&log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A careless `roots`: a relative path is refused at load.
#[test]
fn a_relative_root_is_refused_at_load() {
    let said = refused("[[mcp]]\nname = \"fs\"\ncommand = [\"x\"]\nroots = [\"srv/data\"]\n")
        .expect("the gateway started with a relative root");
    assert!(said.contains("neither an absolute path"), "{said}");
}

/// A careless `roots`: `file://srv/data` (two slashes) names the host `srv`, not
/// `/srv/data`; it should be refused at load like a relative path.
#[test]
fn a_root_uri_with_a_host_is_refused_at_load() {
    let said =
        refused("[[mcp]]\nname = \"fs\"\ncommand = [\"x\"]\nroots = [\"file://srv/data\"]\n")
            .expect("the gateway started with a root on another host");
    assert!(said.contains("roots"), "{said}");
}

// --- Break 2: only well-formed messages of known methods pass ---------------------------

/// Frames no client library sends: none gets `danger` run, and none opens a hold for it
/// that is not a proper request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_frames_never_run_a_held_tool() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let p = r#""params":{"name":"danger","arguments":{}}"#;
    let frames: Vec<String> = vec![
        // As a notification, and with ids rmcp would read as one.
        format!(r#"{{"jsonrpc":"2.0","method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":null,"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":1.5,"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":1e2,"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":9223372036854775808,"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":-9223372036854775809,"method":"tools/call",{p}}}"#),
        format!(
            r#"{{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call",{p}}}"#
        ),
        format!(r#"{{"jsonrpc":"2.0","id":{{"a":1}},"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":[1],"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":true,"method":"tools/call",{p}}}"#),
        // Batches mixing a notification and a request.
        format!(
            r#"[{{"jsonrpc":"2.0","method":"notifications/initialized"}},{{"jsonrpc":"2.0","method":"tools/call",{p}}}]"#
        ),
        format!(
            r#"[{{"jsonrpc":"2.0","method":"notifications/initialized"}},{{"jsonrpc":"2.0","id":2,"method":"tools/call",{p}}}]"#
        ),
        format!(r#"[[{{"jsonrpc":"2.0","id":3,"method":"tools/call",{p}}}]]"#),
        // Duplicate keys, either order.
        format!(r#"{{"jsonrpc":"2.0","id":4,"method":"ping","method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":5,"method":"tools/call","method":"ping",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":null,"id":6,"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":7,"id":null,"method":"tools/call",{p}}}"#),
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","name":"danger","arguments":{}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"danger","arguments":{}},"params":{"name":"echo","arguments":{}}}"#.into(),
        // Look-alikes and padding.
        format!(r#"{{"jsonrpc":"2.0","id":10,"method":"Tools/Call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":11,"method":"tools/call ",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":12,"method":" tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":13,"method":"tools/call\u0000",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":14,"method":"tools/call\n",{p}}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":15,"method":"tools/caII",{p}}}"#),
        format!("{{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"t\u{043e}\u{043e}ls/call\",{p}}}"),
        format!("{{\"jsonrpc\":\"2.0\",\"id\":17,\"method\":\"tools\u{ff0f}call\",{p}}}"),
        format!("{{\"jsonrpc\":\"2.0\",\"id\":18,\"method\":\"tools/call\u{200b}\",{p}}}"),
        // Smuggled through `_meta` or another method's params.
        r#"{"jsonrpc":"2.0","id":19,"method":"ping","params":{"_meta":{"method":"tools/call"},"name":"danger","arguments":{}}}"#.into(),
        r#"{"jsonrpc":"2.0","id":20,"method":"logging/setLevel","params":{"level":"debug","name":"danger","method":"tools/call"}}"#.into(),
        r#"{"jsonrpc":"2.0","id":21,"method":"tasks/result","params":{"taskId":"danger"}}"#.into(),
        // Not JSON-RPC 2.0, trailing bytes, a BOM.
        format!(r#"{{"id":22,"method":"tools/call",{p}}}"#),
        format!(r#"{{"jsonrpc":"1.0","id":23,"method":"tools/call",{p}}}"#),
        format!("{{\"jsonrpc\":\"2.0\",\"id\":24,\"method\":\"tools/call\",{p}}}\u{0}"),
        format!("\u{feff}{{\"jsonrpc\":\"2.0\",\"id\":25,\"method\":\"tools/call\",{p}}}"),
        // A cancellation of a request never sent, and a huge one.
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":424242}}"#.into(),
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99999999999999999999999}}"#.into(),
        // A progress notification for a token the upstream never gave.
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}"#.into(),
    ];
    for frame in &frames {
        let (status, said) = raw.post(frame).await;
        assert!(status < 500, "{frame}: {status} {said}");
        assert!(!said.contains("ran "), "{frame} ran: {said}");
    }
    // Unknown methods sent as requests are answered with an error, not forwarded.
    for method in ["Tools/Call", "tools/call ", "resources/write", "roots/list"] {
        let frame = json!({"jsonrpc": "2.0", "id": 30, "method": method, "params": {}}).to_string();
        let (_, said) = raw.post(&frame).await;
        assert!(said.contains("\"error\""), "{method}: {said}");
    }
    // Odd content types and encodings.
    let call = tool_call(json!(40), "danger", json!({}));
    for content_type in [
        "APPLICATION/JSON",
        "application/json; charset=utf-16",
        "text/plain",
        "application/json-seq",
    ] {
        let (_, said) = raw.post_as(call.clone().into_bytes(), content_type).await;
        assert!(!said.contains("ran "), "{content_type}: {said}");
    }
    let utf16: Vec<u8> = call.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let (_, said) = raw.post_as(utf16, "application/json").await;
    assert!(!said.contains("ran "), "{said}");
    // The escaped spelling is the method itself: gated, so held, never run.
    let escaped = format!(r#"{{"jsonrpc":"2.0","id":41,"method":"tools\/call",{p}}}"#);
    let (_, said) = raw.post(&escaped).await;
    assert!(held(&said), "{said}");
    let escaped = format!(r#"{{"jsonrpc":"2.0","id":42,"method":"tools\u002fcall",{p}}}"#);
    let (_, said) = raw.post(&escaped).await;
    assert!(held(&said), "{said}");
    // The largest id there is, and a huge string id: proper requests, so held.
    for id in [json!(i64::MAX), json!(i64::MIN), json!("9".repeat(10_000))] {
        let (_, said) = raw.post(&tool_call(id, "danger", json!({}))).await;
        assert!(held(&said), "{said}");
    }
    // The session still works, and nothing of `danger` ever reached the upstream.
    let (_, said) = raw
        .post(&tool_call(json!(43), "echo", json!({"m": "alive"})))
        .await;
    assert!(said.contains("ran "), "{said}");
    flush(&gw, &agent, &log, "frames-done").await;
    assert_eq!(calls_of(&log, "danger"), 0, "{:?}", recorded(&log));
    for m in recorded(&log) {
        let method = m["method"].as_str().unwrap_or_default();
        assert!(
            [
                "initialize",
                "notifications/initialized",
                "tools/list",
                "tools/call",
                "ping",
                "logging/setLevel",
                "tasks/result",
                "notifications/cancelled",
                ""
            ]
            .contains(&method),
            "an unknown method reached the upstream: {m}"
        );
    }
}

// --- Break 3: resources, prompts and completions are actions ----------------------------

/// The recorder's resources: the forbidden one is neither listed nor read, however its
/// URI is cased or padded, and every read is on the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_resource_is_not_listed_nor_read_by_its_plain_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let (_, listed) = raw
        .post(r#"{"jsonrpc":"2.0","id":1,"method":"resources/list"}"#)
        .await;
    assert!(listed.contains("rec://data/public/a.txt"), "{listed}");
    assert!(!listed.contains("secret"), "{listed}");
    let read = |uri: &str| {
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": uri}})
            .to_string()
    };
    let (_, public) = raw.post(&read("rec://data/public/a.txt")).await;
    assert!(public.contains("RECORDER-READ"), "{public}");
    for uri in [
        "rec://data/secret/key.txt",
        "REC://data/secret/key.txt",
        "rec://data//secret/key.txt",
        "rec://data/secret/",
        "rec://data/secret",
        "file:///srv/secret/key.txt",
        "FILE:///srv/secret/key.txt",
        "file:/srv/secret/key.txt",
        "file:///srv//secret/key.txt",
    ] {
        let (_, said) = raw.post(&read(uri)).await;
        assert!(!said.contains("RECORDER-READ"), "{uri}: {said}");
    }
    // A very long URI under the secret folder is still under it.
    let long = format!("rec://data/secret/{}", "x".repeat(5000));
    let (_, said) = raw.post(&read(&long)).await;
    assert!(!said.contains("RECORDER-READ"), "{said}");
    // Subscribing to it does not read it.
    let (_, said) = raw
        .post(r#"{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"rec://data/secret/key.txt"}}"#)
        .await;
    assert!(!said.contains("RECORDER-READ"), "{said}");
    // A completion about the secret template gives values, never contents.
    let (_, said) = raw
        .post(r#"{"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"rec://data/secret/{file}"},"argument":{"name":"file","value":"k"}}}"#)
        .await;
    assert!(!said.contains("RECORDER-READ"), "{said}");
    flush(&gw, &agent, &log, "resources-done").await;
    for m in recorded(&log) {
        if m["method"] == "resources/read" {
            let uri = m["params"]["uri"].as_str().unwrap();
            assert!(!uri.to_ascii_lowercase().contains("secret/key"), "{m}");
        }
    }
    let audit = gw.admin_get("/v1/audit?limit=1000");
    assert!(
        audit.contains("mcp/rec/resources/rec/data/public/a.txt"),
        "{audit}"
    );
}

/// The other spellings of a forbidden resource: a dot segment the server resolves, or an
/// unreserved character percent-encoded (`%74` is `t`), which a `file:` server decodes.
/// Policy sees `_opaque/…` or `secre=2574`, outside the forbidden folder, and the
/// starter-style `reads` permit lets them through to the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_resource_is_not_read_by_a_spelling_the_server_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let sections = format!(
        "{}\n[[mcp]]\nname = \"ev\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nhold_wait = \"1s\"\n",
        recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        npm_server("server-everything")
    );
    let policies = format!(
        "{RECORDER_POLICIES}\n@id(\"no-docs\") @reason(\"no docs for agents\")\nforbid(principal, action == Action::\"mcp.resource\", resource in Resource::\"mcp/ev/resources/demo/resource/static/document\");"
    );
    let gw = start(dir.path(), &sections, &policies);
    let agent = gw.create_token("hostile", "agent", &[]);
    let read = |uri: &str| {
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": uri}})
            .to_string()
    };

    // server-everything (the SDK resolves `new URL(uri)` before it looks the URI up).
    let ev = Raw::open(&gw, "ev", &agent, "2025-06-18", json!({})).await;
    let plain = "demo://resource/static/document/architecture.md";
    let (_, said) = ev.post(&read(plain)).await;
    assert!(!said.contains("\"contents\""), "the plain URI was read");
    let mut leaks = Vec::new();
    for uri in [
        "demo://resource/static/document/./architecture.md",
        "demo://resource/static/x/../document/architecture.md",
        "demo://resource/static/document/%2e/architecture.md",
        "demo://resource/static/document/architecture.md/.",
    ] {
        let (_, said) = ev.post(&read(uri)).await;
        if said.contains("\"contents\"") {
            leaks.push(format!("server-everything served {uri}"));
        }
    }

    // The recorder shows what reached it: URIs any `fileURLToPath` server reads as
    // /srv/secret/key.txt.
    let rec = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    for uri in [
        "file:///srv/secre%74/key.txt",
        "file:///srv/%73ecret/key.txt",
        "file:///srv/secret/./key.txt",
        "rec://data/secre%74/key.txt",
    ] {
        let (_, said) = rec.post(&read(uri)).await;
        if said.contains("RECORDER-READ") {
            leaks.push(format!("the upstream was sent {uri}"));
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// An allow-list (the starter file's `fs-outside-data` example): only `/srv/data` may be
/// read. `file://srv/data/x` names the host `srv` and the path `/data/x`, which a server
/// that reads `new URL(uri).pathname` (or a UNC-aware one) reads; policy must not see it
/// as `/srv/data/x`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uri_authority_is_not_judged_as_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let policies = r#"
@id("reads") permit(principal, action == Action::"mcp.resource", resource);
@id("outside-data") @reason("only /srv/data is served to agents")
forbid(principal, action == Action::"mcp.resource", resource in Resource::"mcp/rec")
unless { resource in Resource::"mcp/rec/resources/file/srv/data" };
"#;
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        policies,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let read = |uri: &str| {
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": uri}})
            .to_string()
    };
    let (_, inside) = raw.post(&read("file:///srv/data/a.txt")).await;
    assert!(inside.contains("RECORDER-READ"), "{inside}");
    let (_, outside) = raw.post(&read("file:///etc/passwd")).await;
    assert!(!outside.contains("RECORDER-READ"), "{outside}");
    let (_, hosted) = raw.post(&read("file://srv/data/etc/passwd")).await;
    assert!(
        !hosted.contains("RECORDER-READ"),
        "file://srv/data/etc/passwd (path /data/etc/passwd) passed as /srv/data"
    );
}

/// The same with a `@hold` on the folder (the starter file's way to tighten a server):
/// the plain URI waits for an admin; a dot-segment spelling must wait too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_resource_folder_holds_every_spelling_the_server_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let section = format!(
        "[[mcp]]\nname = \"ev\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nhold_wait = \"1s\"\n",
        npm_server("server-everything")
    );
    let policies = r#"
@id("reads") permit(principal, action in [Action::"mcp.resource", Action::"mcp.prompt", Action::"mcp.complete"], resource);
@id("docs-held") @hold("Documents") @approvers("admins")
permit(principal, action == Action::"mcp.resource", resource in Resource::"mcp/ev/resources/demo/resource/static");
"#;
    let gw = start(dir.path(), &section, policies);
    let agent = gw.create_token("hostile", "agent", &[]);
    let ev = Raw::open(&gw, "ev", &agent, "2025-06-18", json!({})).await;
    let read = |uri: &str| {
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": uri}})
            .to_string()
    };
    let (_, said) = ev
        .post(&read("demo://resource/static/document/features.md"))
        .await;
    assert!(
        !said.contains("\"contents\"") && said.contains("pending approval"),
        "the plain URI was not held: {said}"
    );
    let (_, said) = ev
        .post(&read("demo://resource/static/./document/features.md"))
        .await;
    assert!(
        !said.contains("\"contents\""),
        "the dot-segment spelling passed the hold"
    );
}

/// A secret in a resource URI (a query token, a key in the path) is masked on the audit
/// log, in the action's params and in its resource alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_in_a_resource_uri_is_masked_on_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let live = "sk_live_51HqLyjWDarjtT1zdp7dc";
    for uri in [
        format!("rec://data/public/{aws}"),
        format!("rec://data/public/a.txt?api_key={live}"),
    ] {
        let read = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read",
            "params": {"uri": uri}});
        let (_, said) = raw.post(&read.to_string()).await;
        assert!(said.contains("RECORDER-READ"), "{said}");
    }
    let audit = gw.admin_get("/v1/audit?limit=1000");
    assert!(
        audit.contains("mcp/rec/resources/rec/data/public"),
        "{audit}"
    );
    let mut leaked = Vec::new();
    for secret in [aws, live] {
        if let Some(at) = audit.find(secret) {
            let from = audit.floor_char_boundary(at.saturating_sub(60));
            let to = audit.ceil_char_boundary((at + secret.len() + 20).min(audit.len()));
            leaked.push(audit[from..to].to_string());
        }
    }
    assert!(leaked.is_empty(), "unmasked on the audit log: {leaked:?}");
    // The resource shows the secret's mask, as a resource writes it.
    assert!(
        audit.contains("mcp/rec/resources/rec/data/public/@aws_access_key_id:"),
        "{audit}"
    );
    let actions = gw.admin_get("/v1/actions?limit=100");
    assert!(
        !actions.contains(aws) && !actions.contains(live),
        "{actions}"
    );
}

/// A held `resources/read` whose URI carries a secret: reviewers see its resource
/// masked, yet the approval is bound to the real URI, so the same read passes once,
/// and a read of another key (which masks to the same shape) does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_read_of_a_uri_with_a_secret_passes_once() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let policies = format!(
        "{RECORDER_POLICIES}\n@id(\"public-held\") @hold(\"Public data\") @approvers(\"admins\")\n\
         permit(principal, action == Action::\"mcp.resource\", resource in Resource::\"mcp/rec/resources/rec/data/public\");"
    );
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        &policies,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let admin = gw.admin_token();
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let other = "AKIAI44QH8DHBEXAMPLE";
    let uri = format!("rec://data/public/{aws}");
    let read = |uri: &str| {
        json!({"jsonrpc": "2.0", "id": 5, "method": "resources/read", "params": {"uri": uri}})
            .to_string()
    };
    let reads_of = |uri: &str| {
        recorded(&log)
            .iter()
            .filter(|m| m["method"] == "resources/read" && m["params"]["uri"] == uri)
            .count()
    };

    let (_, said) = raw.post(&read(&uri)).await;
    assert!(held(&said) && !said.contains("RECORDER-READ"), "{said}");
    let at = said.find("act_").unwrap() + 4;
    let ulid: String = said[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let id = format!("act_{ulid}");
    // Reviewers see the resource masked, the digest of the real one.
    let view = admin_json(&gw, &format!("/v1/actions/{id}")).await;
    let resource = view["resource"].as_str().unwrap();
    assert!(
        resource.starts_with("mcp/rec/resources/rec/data/public/@aws_access_key_id:"),
        "{view}"
    );
    assert!(!view.to_string().contains(aws), "{view}");
    let pending = gw.cli(&admin, &["pending"]);
    let pending = String::from_utf8_lossy(&pending.stdout);
    assert!(pending.contains(&id) && !pending.contains(aws), "{pending}");

    let approved = gw.cli(&admin, &["approve", &id]);
    assert!(approved.status.success(), "{approved:?}");
    assert_eq!(status(&gw, &id).await, "approved");

    // Another key in the same place masks to the same shape; it is still held.
    let (_, said) = raw.post(&read(&format!("rec://data/public/{other}"))).await;
    assert!(held(&said) && !said.contains("RECORDER-READ"), "{said}");
    // The approved read passes once.
    let (_, said) = raw.post(&read(&uri)).await;
    assert!(said.contains("RECORDER-READ"), "{said}");
    let (_, said) = raw.post(&read(&uri)).await;
    assert!(held(&said) && !said.contains("RECORDER-READ"), "{said}");

    flush(&gw, &agent, &log, "approved-read-done").await;
    assert_eq!(reads_of(&uri), 1);
    assert_eq!(reads_of(&format!("rec://data/public/{other}")), 0);
    let audit = gw.admin_get("/v1/audit?limit=1000");
    assert!(!audit.contains(aws) && !audit.contains(other), "{audit}");
}

/// `resources/subscribe` of a resource policy forbids must not reach the upstream either
/// (a subscription tells the agent when it changes, and asks the server to watch it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_to_a_forbidden_resource_never_reaches_the_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    raw.post(r#"{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{"uri":"rec://data/secret/key.txt"}}"#)
        .await;
    flush(&gw, &agent, &log, "subscribe-done").await;
    let subscribed = recorded(&log)
        .into_iter()
        .filter(|m| m["method"] == "resources/subscribe")
        .count();
    assert_eq!(subscribed, 0, "the forbidden resource was subscribed to");
}

/// Prompt arguments carrying a secret: the prompt runs, and the secret is masked on the
/// audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_arguments_are_masked_on_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let secret = "Hunter2-prompt-secret-7f3a9c";
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let get = json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {
        "name": "greet", "arguments": {"password": secret, "note": format!("key {aws}")}}});
    let (_, said) = raw.post(&get.to_string()).await;
    assert!(said.contains("PROMPT"), "{said}");
    let audit = gw.admin_get("/v1/audit?limit=1000");
    assert!(audit.contains("mcp/rec/prompts/greet"), "{audit}");
    assert!(
        !audit.contains(secret),
        "the prompt's password is on the audit log"
    );
    assert!(!audit.contains(aws), "the AWS key is on the audit log");
}

/// A completion of a prompt argument named `password`: its value is a secret on the
/// audit log like the prompt's own argument.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_of_a_password_argument_is_masked_on_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let secret = "Hunter2-complete-secret-1b2c";
    let other = "Hunter2-context-secret-8d9e";
    let complete = json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": {
        "ref": {"type": "ref/prompt", "name": "greet"},
        "argument": {"name": "password", "value": secret},
        "context": {"arguments": {"password": other}}}});
    let (_, said) = raw.post(&complete.to_string()).await;
    assert!(said.contains("COMPLETED"), "{said}");
    let audit = gw.admin_get("/v1/audit?limit=1000");
    assert!(
        audit.contains("mcp/rec/completions/prompts/greet"),
        "{audit}"
    );
    assert!(
        !audit.contains(other),
        "the context's password is on the audit log"
    );
    assert!(
        !audit.contains(secret),
        "the completed password is on the audit log"
    );
}

// --- Break 4: ending a session withdraws its holds --------------------------------------

/// A held call's session is deleted: the hold is withdrawn, an approval after runs
/// nothing, the session id is dead, and the same call (same JSON-RPC id) in a new session
/// is a new hold, not the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_session_withdraws_its_hold_and_a_resend_is_held_anew() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"5m\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let mallory = gw.create_token("mallory", "agent", &[]);
    let admin = gw.admin_token();
    let call = tool_call(json!(77), "danger", json!({"rm": "-rf"}));

    let first = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let waiting = tokio::spawn(
        first
            .request(call.clone().into_bytes(), "application/json")
            .send(),
    );
    let held = wait_pending(&gw, "mcp/rec/danger", &[]).await;
    // Another principal cannot end it, nor cancel it, with the stolen session id.
    let stolen = Raw {
        http: reqwest::Client::new(),
        url: first.url.clone(),
        token: mallory.clone(),
        session: first.session.clone(),
    };
    assert_eq!(stolen.delete().await, 404);
    let (code, _) = stolen
        .post(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":77}}"#)
        .await;
    assert_eq!(code, 404);
    assert_eq!(status(&gw, &held).await, "pending");

    assert!(first.delete().await < 300);
    let settled = wait_settled(&gw, &held).await;
    assert_ne!(settled, "approved", "{held}");
    let _ = gw.cli(&admin, &["approve", &held]);
    let _ = tokio::time::timeout(Duration::from_secs(30), waiting).await;
    // The id is dead: resuming it is refused.
    let (code, said) = first.post(&call).await;
    assert_eq!(code, 404, "{said}");

    // The same call, same id, in a new session: a new hold.
    let second = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let waiting = tokio::spawn(
        second
            .request(call.clone().into_bytes(), "application/json")
            .send(),
    );
    let again = wait_pending(&gw, "mcp/rec/danger", std::slice::from_ref(&held)).await;
    assert_ne!(again, held);
    assert!(second.delete().await < 300);
    wait_settled(&gw, &again).await;
    let _ = gw.cli(&admin, &["approve", &again]);
    let _ = tokio::time::timeout(Duration::from_secs(30), waiting).await;

    flush(&gw, &agent, &log, "sessions-done").await;
    assert_eq!(calls_of(&log, "danger"), 0, "a withdrawn hold ran");
}

/// Replaying a session's SSE stream (`Last-Event-ID`) re-runs nothing, and another
/// principal cannot replay it at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_a_stream_runs_nothing_again_and_is_the_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"1s\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let mallory = gw.create_token("mallory", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let (_, said) = raw
        .post(&tool_call(json!(1), "echo", json!({"m": "once"})))
        .await;
    assert!(said.contains("ran "), "{said}");
    for (token, last) in [
        (&mallory, "0/1"),
        (&mallory, "1/0"),
        (&agent, "0/1"),
        (&agent, "1/0"),
        (&agent, "0/0"),
    ] {
        let answer = raw
            .http
            .get(&raw.url)
            .bearer_auth(token)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &raw.session)
            .header("last-event-id", last)
            .send()
            .await
            .unwrap();
        if *token == mallory {
            assert_eq!(answer.status(), 404, "{last}");
        }
        let mut answer = answer;
        let _ = tokio::time::timeout(Duration::from_secs(2), answer.chunk()).await;
    }
    flush(&gw, &agent, &log, "replay-done").await;
    let echoed = recorded(&log)
        .into_iter()
        .filter(|m| m["method"] == "tools/call" && m["params"]["arguments"]["m"] == "once")
        .count();
    assert_eq!(echoed, 1, "a replay ran the call again");
}

/// The gateway stops while a hosted call waits: after a restart the hold is no longer
/// pending, an approval runs nothing, and the old session id is dead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_stop_withdraws_the_holds_of_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section("rec", &script, &log, "hold_wait = \"5m\""),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let call = tool_call(json!(9), "danger", json!({"stop": true}));
    let waiting = tokio::spawn(
        raw.request(call.clone().into_bytes(), "application/json")
            .send(),
    );
    let held = wait_pending(&gw, "mcp/rec/danger", &[]).await;
    gw.stop();
    let _ = tokio::time::timeout(Duration::from_secs(30), waiting).await;
    let config = dir.path().join("holdpoint.toml");
    let gw = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let settled = status(&gw, &held).await;
    assert_ne!(settled, "pending", "{held} survived the stop as pending");
    let _ = gw.cli(&gw.admin_token(), &["approve", &held]);
    let resumed = Raw {
        http: reqwest::Client::new(),
        url: format!("{}/mcp/rec", gw.base),
        token: agent.clone(),
        session: raw.session.clone(),
    };
    let (code, _) = resumed.post(&call).await;
    assert_eq!(code, 404);
    flush(&gw, &agent, &log, "stop-done").await;
    assert_eq!(
        calls_of(&log, "danger"),
        0,
        "a hold of a stopped gateway ran"
    );
}

/// The agent sends a held call and hangs up; its session then idles out. The hold must
/// be withdrawn with it, and an approval after must run nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_idles_out_withdraws_its_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (script, log) = recorder(dir.path());
    let gw = start(
        dir.path(),
        &recorder_section(
            "rec",
            &script,
            &log,
            "hold_wait = \"5m\"\nidle_timeout = \"2s\"",
        ),
        RECORDER_POLICIES,
    );
    let agent = gw.create_token("hostile", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent, "2025-06-18", json!({})).await;
    let call = tool_call(json!(5), "danger", json!({"idle": true}));
    let waiting = tokio::spawn(raw.request(call.into_bytes(), "application/json").send());
    let held = wait_pending(&gw, "mcp/rec/danger", &[]).await;
    waiting.abort();
    // Nothing is sent on the session now: it idles out within 2 s, and its hold should
    // go with it (polled up to 20 s, without touching the session).
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut settled = None;
    while Instant::now() < deadline {
        let now = status(&gw, &held).await;
        if now != "pending" {
            settled = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if settled.is_none() {
        // Still pending: is the session gone, and does an approval now run the call?
        let (code, _) = raw
            .post(r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#)
            .await;
        let _ = gw.cli(&gw.admin_token(), &["approve", &held]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && calls_of(&log, "danger") == 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "{held} outlived its idle session (a ping on it answered {code}); approved, it ran {} time(s)",
            calls_of(&log, "danger")
        );
    }
    assert_ne!(settled.as_deref(), Some("approved"));
    let _ = gw.cli(&gw.admin_token(), &["approve", &held]);
    flush(&gw, &agent, &log, "idle-done").await;
    assert_eq!(calls_of(&log, "danger"), 0, "the idle session's hold ran");
}
