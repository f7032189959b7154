//! The MCP surface end to end: a real gateway, the npm `server-everything` upstream, and
//! real MCP clients (rmcp's and the official inspector's CLI), through `holdpoint mcp`
//! (stdio) and through `/mcp/{name}` (streamable HTTP).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use rmcp::model::{CallToolRequestParams, ClientRequest, Request};
use rmcp::service::PeerRequestOptions;
use rmcp::transport::TokioChildProcess;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::process::Stdio;
use support::peers::{
    self, Client, call, connect, everything_config, held_id, npm_server, text_of,
};
use support::{BIN, Gateway};

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
    serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_outlasting_hold_wait_returns_pending_and_the_repeat_passes_once_approved() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
    let agent = gw.create_token("claude", "agent", &[]);
    let (client, _progress) = stdio_client(&gw, &agent, "1s").await;
    let (error, text) = text_of(&call(&client, "get-sum", json!({"a": 1, "b": 1})).await);
    assert!(error && text.contains("pending approval as act_"), "{text}");
    assert!(text.contains("make the same call again"), "{text}");
    let id = peers::action_id(&text);
    assert_eq!(action(&gw, &id)["status"], "pending");
    approve(&gw, &id);
    // Different arguments are another action: held again, not passed on this approval.
    let (error, text) = text_of(&call(&client, "get-sum", json!({"a": 1, "b": 2})).await);
    assert!(error && text.contains("pending approval"), "{text}");
    let (error, text) = text_of(&call(&client, "get-sum", json!({"a": 1, "b": 1})).await);
    assert!(!error && text.contains('2'), "{text}");
    assert!(action(&gw, &id)["consumed_by"].is_string());
    // Used once: the same call again is held again.
    let (error, text) = text_of(&call(&client, "get-sum", json!({"a": 1, "b": 1})).await);
    assert!(error && text.contains("pending approval"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_hold_and_a_cancelled_call_reach_neither_the_upstream_nor_a_reviewer() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
    let agent = gw.create_token("claude", "agent", &[]);
    let (client, mut progress) = stdio_client(&gw, &agent, "5m").await;
    // `@expires("1s")`: the gateway expires it while the call waits.
    let (error, text) = text_of(
        &call(
            &client,
            "get-annotated-message",
            json!({"messageType": "error"}),
        )
        .await,
    );
    assert!(error && text.contains("expired"), "{text}");

    // The client cancels a waiting call: its hold is withdrawn.
    while progress.try_recv().is_ok() {}
    let params = CallToolRequestParams::new("get-sum")
        .with_arguments(json!({"a": 7, "b": 7}).as_object().cloned().unwrap());
    let handle = client
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    let id = held_id(&mut progress).await;
    handle
        .cancel(Some("the user changed their mind".into()))
        .await
        .unwrap();
    let decided = wait_for_status(&gw, &id).await;
    assert_eq!(decided, "cancelled");
    client.cancel().await.unwrap();
}

/// Long-polls the action until it is decided; its status.
async fn wait_for_status(gw: &Gateway, id: &str) -> String {
    let url = format!("{}/v1/actions/{id}?wait=20s", gw.base);
    let answer: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(gw.admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["status"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_dies_mid_call_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
    let agent = gw.create_token("claude", "agent", &[]);
    let script = peers::peers_dir().join("crash_server.py");
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["mcp", "--name", "crash", "--", "python3"])
        .arg(script)
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", &agent);
    let (client, _progress) = connect(TokioChildProcess::new(command).unwrap()).await;
    let params = CallToolRequestParams::new("boom");
    let error = client.call_tool(params).await.unwrap_err().to_string();
    assert!(error.contains("`crash` is gone"), "{error}");
    client.cancel().await.unwrap();
}

/// Spawns `holdpoint mcp` with raw pipes, for frames no client library would send.
fn raw_proxy(gw: &Gateway, token: &str, marker: &Path) -> std::process::Child {
    let upstream = format!(
        "touch '{}' && exec node '{}' stdio",
        marker.display(),
        npm_server("server-everything")
    );
    Command::new(BIN)
        .args(["mcp", "--name", "everything", "--", "sh", "-c", &upstream])
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_bad_token_or_a_dead_gateway_stops_the_proxy_before_the_upstream_starts() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
    let marker = dir.path().join("upstream-started");
    let out = raw_proxy(&gw, "hp_not_a_token", &marker)
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::text(&out.stderr).contains("refused HOLDPOINT_TOKEN"),
        "{}",
        support::text(&out.stderr)
    );
    let admin = gw.admin_token();
    let out = raw_proxy(&gw, &admin, &marker).wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::text(&out.stderr).contains("admin tokens"),
        "{}",
        support::text(&out.stderr)
    );
    let agent = gw.create_token("claude", "agent", &[]);
    let base = gw.base.clone();
    gw.stop();
    let mut child = Command::new(BIN)
        .args(["mcp", "--name", "everything", "--", "sh", "-c"])
        .arg(format!("touch '{}'", marker.display()))
        .env("HOLDPOINT_URL", &base)
        .env("HOLDPOINT_TOKEN", &agent)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert!(stderr.contains("cannot reach holdpoint"), "{stderr}");
    assert!(!marker.exists(), "the upstream was started");
}

#[test]
fn malformed_frames_get_errors_and_never_pass_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
    let agent = gw.create_token("claude", "agent", &[]);
    let mut child = raw_proxy(&gw, &agent, &dir.path().join("started"));
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = |frame: &str| writeln!(stdin, "{frame}").unwrap();
    send("this is not json");
    send(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
    );
    send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // `get-tiny-image` is forbidden; these malformed calls must not reach it.
    send(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-tiny-image","arguments":"x"}}"#,
    );
    send(
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get-tiny-image","arguments":{},"task":"x"}}"#,
    );
    send(
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get-tiny-image","arguments":{"a":"\u0000\u202e"}}}"#,
    );
    send(
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still up"}}}"#,
    );
    let mut answers = std::collections::HashMap::new();
    let mut parse_error = false;
    while answers.len() < 5 {
        let line = lines.next().expect("an answer").unwrap();
        let frame: Value = serde_json::from_str(&line).unwrap();
        if frame["error"]["code"] == -32700 {
            parse_error = true;
        }
        if let Some(id) = frame["id"].as_i64() {
            answers.insert(id, frame);
        }
    }
    assert!(parse_error, "no parse error for the junk line");
    for id in [2, 3] {
        assert!(
            answers[&id]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("malformed"),
            "{}",
            answers[&id]
        );
    }
    assert_eq!(answers[&4]["result"]["isError"], true, "{}", answers[&4]);
    assert_eq!(
        answers[&5]["result"]["content"][0]["text"],
        "Echo: still up"
    );
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}

const SECRET: &str = "sk_live_upstream_only_4f9a8b7c";

/// The everything server at `/mcp/everything`, given `EVERYTHING_TOKEN` from the
/// gateway's environment; the gateway's log goes to `log`.
fn hosted_gateway(dir: &Path, log: &Path) -> Gateway {
    let extra = format!(
        "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nenv = [\"EVERYTHING_TOKEN\"]\n",
        npm_server("server-everything")
    );
    let config = everything_config(dir, &extra);
    Gateway::start_logged(
        &dir.join("data"),
        &["--config", config.to_str().unwrap()],
        &[("EVERYTHING_TOKEN", SECRET)],
        log,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_gets_its_credential_and_the_agent_never_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let gw = hosted_gateway(dir.path(), &log);
    let agent = gw.create_token("claude", "agent", &[]);
    let url = format!("{}/mcp/everything", gw.base);
    let config =
        StreamableHttpClientTransportConfig::with_uri(url.clone()).auth_header(agent.clone());
    let (client, mut progress) = connect(StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        config,
    ))
    .await;
    // get-env prints the upstream's environment: the variable is there, its value is not.
    let (error, text) = text_of(&call(&client, "get-env", json!({})).await);
    assert!(!error, "{text}");
    assert!(
        text.contains("EVERYTHING_TOKEN") && text.contains("[credential:EVERYTHING_TOKEN]"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
    assert!(
        !text.contains("HOLDPOINT"),
        "the gateway's own variables leaked: {text}"
    );
    // The upstream's own progress reaches the client, under the client's token.
    let result = call(
        &client,
        "trigger-long-running-operation",
        json!({"duration": 1, "steps": 2}),
    )
    .await;
    assert!(!text_of(&result).0);
    let note = progress.try_recv().expect("upstream progress relayed");
    assert!(note.progress > 0.0);
    client.cancel().await.unwrap();

    let audit = gw.admin_get("/v1/audit?limit=1000");
    assert!(audit.contains("mcp/everything/get-env"), "{audit}");
    assert!(!audit.contains(SECRET));
    gw.stop();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(SECRET), "{logged}");
    // The log on disk, as an auditor exports it with no gateway running.
    let data = dir.path().join("data");
    let export = support::holdpoint(&["audit", "export", "--data", data.to_str().unwrap()]);
    let exported = support::text(&export.stdout);
    assert!(exported.contains("mcp/everything/get-env"), "{exported}");
    assert!(!exported.contains(SECRET));
}

/// The same call held first through the API (wording the agent chose) and then made
/// through the proxy is two holds: the digest covers the surface, so the proxy's call
/// neither joins the API's hold nor passes on its approval; it passes once its own hold
/// is approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_held_through_the_api_is_not_joined_by_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), "");
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
        ],
    );
    let first = support::act_id(&support::text(&out.stdout));
    let (client, mut progress) = stdio_client(&gw, &agent, "5m").await;
    let waiting = call(&client, "get-sum", json!({"a": 20, "b": 22}));
    let approving = async {
        let id = held_id(&mut progress).await;
        assert_ne!(id, first, "the proxy's call joined the API's hold");
        approve(&gw, &first);
        assert_eq!(action(&gw, &id)["status"], "pending");
        approve(&gw, &id);
        id
    };
    let (result, id) = tokio::join!(waiting, approving);
    let (error, text) = text_of(&result);
    assert!(!error && text.contains("42"), "{text}");
    assert!(action(&gw, &id)["consumed_by"].is_string());
    assert!(action(&gw, &first)["consumed_by"].is_null());
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_refuses_strangers_and_other_agents_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let gw = hosted_gateway(dir.path(), &dir.path().join("log"));
    let alice = gw.create_token("alice-bot", "agent", &[]);
    let mallory = gw.create_token("mallory-bot", "agent", &[]);
    let url = format!("{}/mcp/everything", gw.base);
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let post = |token: Option<&str>, body: &Value, session: Option<&str>| {
        let mut request = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send()
    };
    assert_eq!(post(None, &init, None).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("hp_forged"), &init, None).await.unwrap().status(),
        401
    );
    let admin = gw.admin_token();
    assert_eq!(post(Some(&admin), &init, None).await.unwrap().status(), 403);

    let opened = post(Some(&alice), &init, None).await.unwrap();
    assert_eq!(opened.status(), 200);
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let _ = opened.text().await;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "hijacked"}}});
    // Another agent with the session's id can neither post to it, nor read its stream,
    // nor close it.
    let stolen = post(Some(&mallory), &call, Some(&session)).await.unwrap();
    assert_eq!(stolen.status(), 404);
    let body = stolen.text().await.unwrap();
    assert!(!body.contains("Echo: hijacked"), "{body}");
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let answer = http
            .request(method.clone(), &url)
            .bearer_auth(&mallory)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{method}");
    }
    // A made-up session id is no one's.
    let made_up = post(
        Some(&alice),
        &call,
        Some("00000000-0000-0000-0000-000000000000"),
    )
    .await
    .unwrap();
    assert_eq!(made_up.status(), 404);
    // The owner's session still works.
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let _ = post(Some(&alice), &initialized, Some(&session))
        .await
        .unwrap();
    let own = post(Some(&alice), &call, Some(&session)).await.unwrap();
    assert_eq!(own.status(), 200);
    let body = own.text().await.unwrap();
    assert!(body.contains("Echo: hijacked"), "{body}");
}

#[test]
fn the_official_inspector_cli_works_through_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let gw = hosted_gateway(dir.path(), &dir.path().join("log"));
    let agent = gw.create_token("claude", "agent", &[]);
    // The inspector's answer: its JSON output, and whether it succeeded.
    let inspector = |args: &[&str]| {
        let out = Command::new("node")
            .arg(peers::inspector())
            .arg("--cli")
            .args(args)
            .output()
            .unwrap();
        // Answers go to stdout, errors to stderr, each as one JSON document.
        let text = if out.status.success() {
            support::text(&out.stdout)
        } else {
            support::text(&out.stderr)
        };
        let json = text
            .lines()
            .skip_while(|line| !line.starts_with('{'))
            .collect::<Vec<_>>()
            .join("\n");
        let json: Value = serde_json::Deserializer::from_str(&json)
            .into_iter::<Value>()
            .next()
            .unwrap_or_else(|| panic!("no JSON in {text}"))
            .unwrap();
        (out.status.success(), json)
    };
    let everything = npm_server("server-everything");
    let url_env = format!("HOLDPOINT_URL={}", gw.base);
    let token_env = format!("HOLDPOINT_TOKEN={agent}");
    let url = format!("{}/mcp/everything", gw.base);
    let bearer = format!("Authorization: Bearer {agent}");
    let stdio: Vec<&str> = vec![
        "-e",
        &url_env,
        "-e",
        &token_env,
        "--",
        BIN,
        "mcp",
        "--name",
        "everything",
        "--",
        "node",
        &everything,
        "stdio",
    ];
    let http: Vec<&str> = vec![&url, "--transport", "http", "--header", &bearer];
    for (target, server_last) in [(stdio, true), (http, false)] {
        let with = |method: &[&str]| -> Vec<String> {
            let (first, last) = if server_last {
                (method, &target[..])
            } else {
                (&target[..], method)
            };
            first
                .iter()
                .chain(last.iter())
                .map(|s| s.to_string())
                .collect()
        };
        let list = with(&["--method", "tools/list"]);
        let echo = with(&[
            "--method",
            "tools/call",
            "--tool-name",
            "echo",
            "--tool-arg",
            "message=inspected",
        ]);
        let image = with(&["--method", "tools/call", "--tool-name", "get-tiny-image"]);
        let inspector = |args: &[String]| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            inspector(&args)
        };
        let (ok, tools) = inspector(&list);
        assert!(ok, "{tools}");
        let names: Vec<&str> = tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"echo") && !names.contains(&"get-tiny-image"),
            "{names:?}"
        );
        let (ok, echoed) = inspector(&echo);
        assert!(ok, "{echoed}");
        assert_eq!(echoed["content"][0]["text"], "Echo: inspected");
        // The forbidden tool is not listed, so the inspector will not even call it.
        let (ok, refused) = inspector(&image);
        assert!(
            !ok && refused.to_string().contains("not found"),
            "{refused}"
        );
    }
}

/// The starter policies and the npm filesystem server at `/mcp/fs`: read-only tools pass,
/// destructive ones (by the server's own annotations) wait for an admin, and nothing is
/// written before the approval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starter_policies_hold_the_destructive_tools_of_a_real_filesystem_server() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("notes.txt"), "hello from disk").unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        format!(
            "[[mcp]]\nname = \"fs\"\ncommand = [\"node\", \"{}\", \"{}\"]\n",
            npm_server("server-filesystem"),
            root.display()
        ),
    )
    .unwrap();
    let gw = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let agent = gw.create_token("claude", "agent", &[]);
    let transport = StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp/fs", gw.base))
            .auth_header(agent),
    );
    let (client, mut progress) = connect(transport).await;
    let tools = client.list_all_tools().await.unwrap();
    let described = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .description
            .clone()
            .unwrap_or_default()
            .to_string()
    };
    assert!(described("write_file").starts_with("[held for human approval: Destructive MCP tool]"));
    assert!(!described("read_text_file").starts_with("[held"));

    let path = root.join("notes.txt");
    let (error, text) = text_of(&call(&client, "read_text_file", json!({"path": path})).await);
    assert!(!error && text.contains("hello from disk"), "{text}");

    let target = root.join("written.txt");
    let writing = call(
        &client,
        "write_file",
        json!({"path": target, "content": "approved"}),
    );
    let approving = async {
        let id = held_id(&mut progress).await;
        assert!(!target.exists(), "written before the approval");
        assert_eq!(
            action(&gw, &id)["verdict"]["policies"][0],
            "mcp-destructive-tools"
        );
        approve(&gw, &id);
    };
    let (result, ()) = tokio::join!(writing, approving);
    assert!(!text_of(&result).0, "{:?}", text_of(&result));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "approved");
    client.cancel().await.unwrap();
}
