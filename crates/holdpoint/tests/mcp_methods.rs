//! Every MCP method under policy, end to end with a recording upstream that logs each
//! message it receives: a gated method sent with an odd id or as a notification, or a
//! method MCP does not have, is refused and never reaches the upstream, through
//! `/mcp/{name}` and through `holdpoint mcp`; `resources/read`, `prompts/get` and
//! `completion/complete` are actions, allowed, denied or held per policy and audited.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
    Reference,
};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use support::peers::{connect, held_id};
use support::recording::{Raw, Recording, gateway};
use support::{BIN, Gateway};

const POLICIES: &str = r#"
@id("calls") permit(principal, action == Action::"mcp.call", resource in Resource::"mcp/rec");
@id("public") permit(principal, action == Action::"mcp.resource", resource in Resource::"mcp/rec/resources/file/public");
@id("no-cards") @reason("no card data for agents")
forbid(principal, action == Action::"mcp.resource", resource in Resource::"mcp/rec/resources/file/secret");
@id("greet") @hold("Prompt") @approvers("admins")
permit(principal, action == Action::"mcp.prompt", resource == Resource::"mcp/rec/prompts/greet");
@id("complete") permit(principal, action == Action::"mcp.complete", resource);
"#;

fn http(gw: &Gateway, name: &str, token: &str) -> StreamableHttpClientTransport<reqwest::Client> {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp/{name}", gw.base))
        .auth_header(token.to_string());
    StreamableHttpClientTransport::with_client(reqwest::Client::new(), config)
}

/// `tools/call` of `echo` with `arguments`, and `id` (or none: a notification).
fn echo(id: Option<Value>, marker: &str) -> Value {
    let mut call = json!({"jsonrpc": "2.0", "method": "tools/call",
        "params": {"name": "echo", "arguments": {"marker": marker}}});
    if let Some(id) = id {
        call["id"] = id;
    }
    call
}

/// The odd ids of the attack: none is a string or an integer in range.
fn odd_ids() -> Vec<Value> {
    vec![
        Value::Null,
        json!(1.5),
        json!(9_223_372_036_854_775_808_u64),
        json!({"id": 1}),
        json!([1]),
        json!(true),
    ]
}

/// No `tools/call` other than the one marked `passed` reached the upstream.
fn only_passed_reached(recording: &Recording) {
    let calls = recording.of("tools/call");
    let markers: Vec<&Value> = calls
        .iter()
        .map(|c| &c["params"]["arguments"]["marker"])
        .collect();
    assert_eq!(markers, vec![&json!("passed")], "{calls:?}");
    let methods: Vec<Value> = recording
        .messages()
        .iter()
        .map(|m| m["method"].clone())
        .collect();
    for odd in ["Tools/Call", "tools/call ", "tools/delete"] {
        assert!(!methods.contains(&json!(odd)), "{odd} reached: {methods:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_gated_requests_never_reach_a_hosted_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let gw = gateway(dir.path(), "rec", &recording, "", POLICIES);
    let agent = gw.create_token("claude", "agent", &[]);
    let raw = Raw::open(&gw, "rec", &agent).await;

    for id in odd_ids() {
        let answer = raw.post(&echo(Some(id.clone()), "odd id")).await;
        assert_eq!(answer.status, 400, "{id}: {answer:?}");
        assert_eq!(
            answer.messages[0]["error"]["code"], -32600,
            "{id}: {answer:?}"
        );
    }
    let note = raw.post(&echo(None, "as a notification")).await;
    assert_eq!(note.status, 202, "{note:?}");
    let batch = raw
        .post(&json!([
            echo(Some(json!(30)), "in a batch"),
            echo(None, "in a batch")
        ]))
        .await;
    assert!(batch.status >= 400, "{batch:?}");
    for (id, method) in [
        (10, "Tools/Call"),
        (11, "tools/call "),
        (12, "tools/delete"),
    ] {
        let mut call = echo(Some(json!(id)), "misspelled");
        call["method"] = json!(method);
        let answer = raw.post(&call).await;
        let error = &answer
            .to(&json!(id))
            .unwrap_or_else(|| panic!("{answer:?}"))["error"];
        assert_eq!(error["code"], -32601, "{method}: {answer:?}");
    }
    // The one well-formed call passes, and is the only one the upstream saw.
    let passed = raw.post(&echo(Some(json!(20)), "passed")).await;
    let result = &passed
        .to(&json!(20))
        .unwrap_or_else(|| panic!("{passed:?}"))["result"];
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("passed"),
        "{passed:?}"
    );
    only_passed_reached(&recording);
    let closed = raw.delete().await;
    assert!((200..300).contains(&closed), "DELETE answered {closed}");
}

#[test]
fn malformed_gated_requests_never_reach_an_upstream_through_the_stdio_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/test.cedar"), POLICIES).unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(&config, "[policy]\ndir = \"policies\"\n").unwrap();
    let gw = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let agent = gw.create_token("claude", "agent", &[]);
    let mut child = std::process::Command::new(BIN)
        .args(["mcp", "--name", "rec", "--"])
        .args(recording.command())
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", &agent)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = |frame: &Value| writeln!(stdin, "{frame}").unwrap();
    send(
        &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}}),
    );
    let ready: Value = serde_json::from_str(&lines.next().expect("an answer").unwrap()).unwrap();
    assert_eq!(ready["id"], 0, "{ready}");
    send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let odd = odd_ids();
    for id in &odd {
        send(&echo(Some(id.clone()), "odd id"));
    }
    send(&echo(None, "as a notification"));
    for (id, method) in [
        (10, "Tools/Call"),
        (11, "tools/call "),
        (12, "tools/delete"),
    ] {
        let mut call = echo(Some(json!(id)), "misspelled");
        call["method"] = json!(method);
        send(&call);
    }
    send(&echo(Some(json!(20)), "passed"));
    let mut invalid = 0;
    let mut answers = std::collections::HashMap::new();
    while !answers.contains_key(&20) {
        let line = lines.next().expect("an answer").unwrap();
        let frame: Value = serde_json::from_str(&line).unwrap();
        if frame["id"].is_null() && frame["error"]["code"] == -32600 {
            invalid += 1;
        }
        if let Some(id) = frame["id"].as_i64() {
            answers.insert(id, frame);
        }
    }
    assert_eq!(invalid, odd.len(), "{answers:?}");
    for id in [10, 11, 12] {
        assert_eq!(answers[&id]["error"]["code"], -32601, "{}", answers[&id]);
    }
    assert!(
        answers[&20]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("passed")
    );
    only_passed_reached(&recording);

    // Resources through the stdio proxy are actions too (submitted as plain actions).
    send(
        &json!({"jsonrpc": "2.0", "id": 30, "method": "resources/read",
        "params": {"uri": "file:///public/a.txt"}}),
    );
    send(
        &json!({"jsonrpc": "2.0", "id": 31, "method": "resources/read",
        "params": {"uri": "file:///secret/card.txt"}}),
    );
    while !(answers.contains_key(&30) && answers.contains_key(&31)) {
        let line = lines.next().expect("an answer").unwrap();
        let frame: Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = frame["id"].as_i64() {
            answers.insert(id, frame);
        }
    }
    assert_eq!(
        answers[&30]["result"]["contents"][0]["text"],
        "contents of file:///public/a.txt"
    );
    let refused = answers[&31]["error"]["message"].as_str().unwrap();
    assert!(refused.contains("no card data"), "{refused}");
    let reads: Vec<Value> = recording
        .of("resources/read")
        .iter()
        .map(|m| m["params"]["uri"].clone())
        .collect();
    assert_eq!(reads, vec![json!("file:///public/a.txt")]);
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_prompts_and_completions_pass_the_gate_as_actions() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let gw = gateway(dir.path(), "rec", &recording, "", POLICIES);
    let agent = gw.create_token("claude", "agent", &[]);
    let (client, mut progress) = connect(http(&gw, "rec", &agent)).await;

    // Listing leaves out what policy forbids.
    let resources: Vec<String> = client
        .list_all_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri.clone())
        .collect();
    assert_eq!(resources, vec!["file:///public/a.txt".to_string()]);
    let prompts: Vec<String> = client
        .list_all_prompts()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(
        prompts,
        vec!["greet".to_string()],
        "the unpermitted prompt is listed"
    );

    // Allowed.
    let read = client
        .read_resource(ReadResourceRequestParams::new("file:///public/a.txt"))
        .await
        .unwrap();
    let said = serde_json::to_string(&read).unwrap();
    assert!(said.contains("contents of file:///public/a.txt"), "{said}");
    // Forbidden, with the policy's reason; and a `..` that spells the allowed folder is no
    // part of it.
    for uri in [
        "file:///secret/card.txt",
        "file:///public/../secret/card.txt",
        "file:///public/%2e%2e/secret/card.txt",
        // Read otherwise by a server that decodes twice: `mcp.unknown`, which nothing permits.
        "file:///public/%252e%252e/secret/card.txt",
    ] {
        let err = client
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("denied by policy"), "{uri}: {err}");
    }
    // Held: waits for a reviewer, then passes.
    let waiting = client.get_prompt(GetPromptRequestParams::new("greet"));
    let approving = async {
        let id = held_id(&mut progress).await;
        let out = gw.cli(&gw.admin_token(), &["approve", &id]);
        assert!(out.status.success(), "{}", support::text(&out.stderr));
        id
    };
    let (prompt, id) = tokio::join!(waiting, approving);
    let prompt = serde_json::to_string(&prompt.unwrap()).unwrap();
    assert!(prompt.contains("prompt greet"), "{prompt}");
    let record: Value = serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap();
    assert_eq!(record["kind"], "mcp.prompt", "{record}");
    assert_eq!(record["resource"], "mcp/rec/prompts/greet", "{record}");
    // Not permitted at all: denied.
    let err = client
        .get_prompt(GetPromptRequestParams::new("secret"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("denied by policy"), "{err}");
    let completion = client
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("greet"),
            ArgumentInfo {
                name: "who".into(),
                value: "o".into(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(completion.completion.values, vec!["one".to_string()]);

    // Only what passed reached the upstream; each was audited as an action.
    let reads: Vec<Value> = recording
        .of("resources/read")
        .iter()
        .map(|m| m["params"]["uri"].clone())
        .collect();
    assert_eq!(reads, vec![json!("file:///public/a.txt")]);
    let gets: Vec<Value> = recording
        .of("prompts/get")
        .iter()
        .map(|m| m["params"]["name"].clone())
        .collect();
    assert_eq!(gets, vec![json!("greet")]);
    let audit = gw.admin_get("/v1/audit?limit=1000");
    for seen in [
        "mcp/rec/resources/file/public/a.txt",
        "mcp/rec/resources/file/secret/card.txt",
        "mcp/rec/resources/_opaque/sha256-",
        "mcp/rec/prompts/secret",
        "mcp/rec/completions/prompts/greet",
    ] {
        assert!(audit.contains(seen), "{seen} not audited");
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_revision_rmcp_knows_works_through_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let gw = gateway(dir.path(), "rec", &recording, "", POLICIES);
    let agent = gw.create_token("claude", "agent", &[]);
    for version in rmcp::model::ProtocolVersion::KNOWN_VERSIONS {
        let version = version.to_string();
        let raw = Raw::open_as(&gw, "rec", &agent, &version).await;
        let passed = raw.post(&echo(Some(json!(1)), "passed")).await;
        let result = &passed
            .to(&json!(1))
            .unwrap_or_else(|| panic!("{version}: {passed:?}"))["result"];
        assert!(
            result["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .contains("passed"),
            "{version}: {passed:?}"
        );
        let read = raw
            .post(
                &json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read",
                "params": {"uri": "file:///public/a.txt"}}),
            )
            .await;
        assert!(
            read.to(&json!(2))
                .is_some_and(|m| m.get("result").is_some()),
            "{version}: {read:?}"
        );
        let closed = raw.delete().await;
        assert!(
            (200..300).contains(&closed),
            "{version}: DELETE answered {closed}"
        );
    }
    let asked: Vec<Value> = recording
        .of("initialize")
        .iter()
        .map(|m| m["params"]["protocolVersion"].clone())
        .collect();
    assert_eq!(
        asked.len(),
        rmcp::model::ProtocolVersion::KNOWN_VERSIONS.len(),
        "{asked:?}"
    );
}
