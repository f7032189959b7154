//! Held calls as MCP tasks (2025-11-25): a client that sends `tools/call` as a task gets
//! a task of the gateway's own for a held call, polls it, and gets the call's result once
//! a reviewer approves; a rejection is the task's result; cancelling the task or ending
//! the session withdraws the hold; a task is its session's alone. End to end with the
//! official TypeScript SDK client and its Tasks package against the real npm
//! `server-everything`, and with raw JSON-RPC against a recording upstream that shows
//! what reached it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::Gateway;
use support::peers::{everything_config, npm_server, peers_dir};
use support::recording::{Raw, Recording, call_as_task, gateway, request};
use tokio::io::{AsyncBufReadExt, BufReader};

const POLICIES: &str = r#"
@id("rec-echo") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/echo");
@id("rec-danger") @hold("Dangerous tool") @approvers("admins")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/danger");
@id("rec-nope") @reason("never for agents")
forbid(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/nope");
@id("rec-nope-p") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/nope");
"#;

fn recorder_gateway(dir: &std::path::Path) -> (Gateway, Recording) {
    let recording = Recording::new(dir);
    let gw = gateway(dir, "rec", &recording, "hold_wait = \"1s\"", POLICIES);
    (gw, recording)
}

fn approve(gw: &Gateway, id: &str) {
    let out = gw.cli(&gw.admin_token(), &["approve", id]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
}

fn action(gw: &Gateway, id: &str) -> Value {
    serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap()
}

/// Opens a task for a held `danger` call: its task id and its action's id.
async fn held_task(raw: &Raw, id: u64) -> (String, String) {
    let made = raw.ask(&call_as_task(id, "danger", json!({"n": id}))).await;
    let task = &made["result"]["task"];
    assert_eq!(task["status"], "working", "{made}");
    let task_id = task["taskId"].as_str().unwrap().to_string();
    assert!(task_id.starts_with("hp-task-"), "{made}");
    let message = task["statusMessage"].as_str().unwrap();
    assert!(message.contains("held for approval as act_"), "{made}");
    (task_id, support::act_id(message))
}

async fn task_status(raw: &Raw, task_id: &str) -> Value {
    raw.ask(&request(90, "tasks/get", json!({"taskId": task_id})))
        .await["result"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_offers_tasks_and_lists_every_tool_as_one_that_may_be_a_task() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let listed = raw.ask(&request(1, "tools/list", json!({}))).await;
    let echo = (listed["result"]["tools"].as_array().unwrap().iter())
        .find(|t| t["name"] == "echo")
        .cloned()
        .unwrap();
    assert_eq!(echo["execution"]["taskSupport"], "optional", "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_task_runs_the_call_once_and_the_upstream_never_sees_the_task() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (task_id, act) = held_task(&raw, 1).await;
    // Held longer than `hold_wait` (the same call made plainly has given up by now): a
    // task waits for the reviewer, however long.
    let plain = json!({"jsonrpc": "2.0", "id": 50, "method": "tools/call",
        "params": {"name": "danger", "arguments": {"plain": true}}});
    let gave_up = raw.ask(&plain).await;
    assert!(
        gave_up["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("pending approval")
    );
    assert_eq!(task_status(&raw, &task_id).await["status"], "working");
    assert!(recording.of("tools/call").is_empty());
    approve(&gw, &act);
    let result = raw
        .ask(&request(2, "tasks/result", json!({"taskId": task_id})))
        .await;
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("called "), "{result}");
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task_id.as_str()
    );
    let done = task_status(&raw, &task_id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let calls = recording.of("tools/call");
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0]["params"].get("task").is_none(), "{calls:?}");
    assert_eq!(action(&gw, &act)["status"], "approved");
    // The result is kept: asking again runs nothing again.
    let again = raw
        .ask(&request(3, "tasks/result", json!({"taskId": task_id})))
        .await;
    assert_eq!(again["result"]["content"], result["result"]["content"]);
    assert_eq!(recording.of("tools/call").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_task_completes_with_the_reviewers_reason_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (task_id, act) = held_task(&raw, 1).await;
    let waiting = raw.spawn_post(request(2, "tasks/result", json!({"taskId": task_id})));
    let out = gw.cli(
        &gw.admin_token(),
        &["reject", &act, "--comment", "not today"],
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let answer = waiting.await.unwrap();
    let result = answer.to(&json!(2)).cloned().unwrap();
    assert_eq!(result["result"]["isError"], true, "{result}");
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("rejected by a reviewer") && text.contains("not today"),
        "{text}"
    );
    assert_eq!(task_status(&raw, &task_id).await["status"], "completed");
    assert!(recording.of("tools/call").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_policy_decides_sent_as_tasks_are_tasks_that_end_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let allowed = raw.ask(&call_as_task(1, "echo", json!({"a": 1}))).await;
    let task_id = allowed["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let result = raw
        .ask(&request(2, "tasks/result", json!({"taskId": task_id})))
        .await;
    assert!(
        result["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("called ")
    );
    assert_eq!(task_status(&raw, &task_id).await["status"], "completed");
    let calls = recording.of("tools/call");
    assert!(calls[0]["params"].get("task").is_none(), "{calls:?}");
    let denied = raw.ask(&call_as_task(3, "nope", json!({}))).await;
    assert_eq!(denied["result"]["task"]["status"], "completed", "{denied}");
    let task_id = denied["result"]["task"]["taskId"].as_str().unwrap();
    let result = raw
        .ask(&request(4, "tasks/result", json!({"taskId": task_id})))
        .await;
    assert_eq!(result["result"]["isError"], true, "{result}");
    assert!(
        result["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("never for agents")
    );
    assert_eq!(recording.of("tools/call").len(), 1);
    let list = raw.ask(&request(5, "tasks/list", json!({}))).await;
    assert_eq!(
        list["result"]["tasks"].as_array().unwrap().len(),
        2,
        "{list}"
    );
    // Finished tasks make room: far more than 64 decided calls as tasks all pass.
    for n in 0..80 {
        let made = raw.ask(&call_as_task(10 + n, "nope", json!({}))).await;
        assert!(made["result"]["task"].is_object(), "{made}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_task_withdraws_its_hold_and_a_later_approval_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (task_id, act) = held_task(&raw, 1).await;
    let cancelled = raw
        .ask(&request(2, "tasks/cancel", json!({"taskId": task_id})))
        .await;
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    assert_eq!(action(&gw, &act)["status"], "cancelled");
    let out = gw.cli(&gw.admin_token(), &["approve", &act]);
    assert!(!out.status.success(), "a withdrawn hold was approved");
    let again = raw
        .ask(&request(3, "tasks/cancel", json!({"taskId": task_id})))
        .await;
    assert!(again.get("error").is_some(), "{again}");
    assert!(recording.of("tools/call").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_its_sessions_alone_and_ends_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (task_id, act) = held_task(&raw, 1).await;
    // Another session of the same agent sees nothing of it; its ids pass upstream,
    // which has no tasks.
    let other = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let answer = other
            .ask(&request(5, method, json!({"taskId": task_id})))
            .await;
        assert!(answer.get("error").is_some(), "{method}: {answer}");
    }
    let list = other.ask(&request(6, "tasks/list", json!({}))).await;
    assert_eq!(list["result"]["tasks"], json!([]), "{list}");
    assert_eq!(action(&gw, &act)["status"], "pending");
    // Ending the session withdraws the hold.
    assert!(raw.delete().await < 300);
    let mut status = action(&gw, &act)["status"].clone();
    for _ in 0..100 {
        if status != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = action(&gw, &act)["status"].clone();
    }
    assert_eq!(status, "cancelled");
    assert!(recording.of("tools/call").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_keeps_at_most_64_tasks_and_the_one_refused_leaves_no_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, _) = recorder_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    for n in 0..64 {
        held_task(&raw, n + 1).await;
    }
    let refused = raw
        .ask(&call_as_task(100, "danger", json!({"n": 100})))
        .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 tasks"),
        "{refused}"
    );
    let pending: Value =
        serde_json::from_str(&gw.admin_get("/v1/actions?status=pending&limit=100")).unwrap();
    let listed = pending["actions"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, 64, "{pending}");
}

/// The SDK client of `tests/peers/tasks_client.mjs`: its JSON lines, read as they come.
struct SdkClient {
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    child: tokio::process::Child,
}

impl SdkClient {
    fn start(gw: &Gateway, token: &str, tool: &str, arguments: Value, mode: &str) -> SdkClient {
        let mut child = tokio::process::Command::new("node")
            .arg(peers_dir().join("tasks_client.mjs"))
            .args([
                &format!("{}/mcp/everything", gw.base),
                token,
                tool,
                &arguments.to_string(),
                mode,
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        SdkClient { lines, child }
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the client answered in time")
            .unwrap()
            .expect("a line from the client");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }
}

fn everything_gateway(dir: &std::path::Path) -> Gateway {
    let extra = format!(
        "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nhold_wait = \"1s\"\n",
        npm_server("server-everything")
    );
    let config = everything_config(dir, &extra);
    Gateway::start(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

/// The one pending action.
async fn pending_id(gw: &Gateway) -> String {
    for _ in 0..200 {
        let pending: Value =
            serde_json::from_str(&gw.admin_get("/v1/actions?status=pending&limit=10")).unwrap();
        if let Some(id) = pending["actions"][0]["id"].as_str() {
            return id.to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing is pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_clients_held_task_completes_once_a_reviewer_approves() {
    let dir = tempfile::tempdir().unwrap();
    let gw = everything_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let mut client = SdkClient::start(&gw, &agent, "get-sum", json!({"a": 2, "b": 3}), "settle");
    let listed = client.next().await;
    assert_eq!(listed["execution"]["taskSupport"], "optional", "{listed}");
    assert!(
        listed["capabilities"]["requests"]["tools"]["call"].is_object(),
        "{listed}"
    );
    let made = client.next().await;
    assert_eq!(made["kind"], "task", "{made}");
    assert!(made["taskId"].as_str().unwrap().starts_with("hp-task-"));
    let id = pending_id(&gw).await;
    approve(&gw, &id);
    let settled = client.next().await;
    assert_eq!(settled["status"], "completed", "{settled}");
    let text = settled["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains('5'), "{settled}");
    assert_eq!(action(&gw, &id)["status"], "approved");
    assert!(client.child.wait().await.unwrap().success());

    // An allowed call made as a task runs at once.
    let mut client = SdkClient::start(&gw, &agent, "echo", json!({"message": "hi"}), "settle");
    client.next().await;
    let made = client.next().await;
    assert_eq!(made["kind"], "task", "{made}");
    let settled = client.next().await;
    assert_eq!(settled["status"], "completed", "{settled}");
    assert!(
        settled["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("hi")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_client_cancelling_its_task_withdraws_the_hold() {
    let dir = tempfile::tempdir().unwrap();
    let gw = everything_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let mut client = SdkClient::start(&gw, &agent, "get-sum", json!({"a": 2, "b": 3}), "cancel");
    client.next().await;
    assert_eq!(client.next().await["kind"], "task");
    let settled = client.next().await;
    assert_eq!(settled["status"], "cancelled", "{settled}");
    let all: Value = serde_json::from_str(&gw.admin_get("/v1/actions?limit=10")).unwrap();
    let held = (all["actions"].as_array().unwrap().iter())
        .find(|a| a["resource"] == "mcp/everything/get-sum")
        .cloned()
        .unwrap();
    assert_eq!(held["status"], "cancelled", "{held}");
}

/// Through `holdpoint mcp` (stdio, asking the gateway over its API) a held call made as a
/// task is a task too: approved, its result is the call's; a second one, cancelled, is
/// withdrawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_stdio_proxy_a_held_call_made_as_a_task_waits_behind_the_task() {
    use rmcp::model::{
        CallToolRequestParams, CancelTaskParams, ClientRequest, GetTaskResultParams, ServerResult,
    };
    let dir = tempfile::tempdir().unwrap();
    let gw = everything_gateway(dir.path());
    let agent = gw.create_token("agent", "agent", &[]);
    let mut command = tokio::process::Command::new(support::BIN);
    command
        .args(["mcp", "--name", "everything", "--hold-wait", "1s", "--"])
        .args(["node", &npm_server("server-everything"), "stdio"])
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", &agent);
    let (client, _) =
        support::peers::connect(rmcp::transport::TokioChildProcess::new(command).unwrap()).await;
    let tasks = client.peer_info().unwrap().capabilities.tasks.clone();
    assert!(
        tasks.and_then(|t| t.requests).is_some(),
        "no tasks capability"
    );
    let made = |a: i64| {
        let arguments = json!({"a": a, "b": 3}).as_object().cloned().unwrap();
        let params = CallToolRequestParams::new("get-sum")
            .with_arguments(arguments)
            .with_task(serde_json::Map::new());
        ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(params))
    };
    let ServerResult::CreateTaskResult(created) = client.send_request(made(2)).await.unwrap()
    else {
        panic!("not a task");
    };
    let task_id = created.task.task_id.clone();
    let id = pending_id(&gw).await;
    approve(&gw, &id);
    let result = client
        .send_request(ClientRequest::GetTaskResultRequest(
            rmcp::model::GetTaskResultRequest::new(GetTaskResultParams {
                meta: None,
                task_id,
            }),
        ))
        .await
        .unwrap();
    let result = serde_json::to_value(&result).unwrap();
    assert!(
        result["content"][0]["text"].as_str().unwrap().contains('5'),
        "{result}"
    );
    assert_eq!(action(&gw, &id)["status"], "approved");

    let ServerResult::CreateTaskResult(created) = client.send_request(made(4)).await.unwrap()
    else {
        panic!("not a task");
    };
    let id = pending_id(&gw).await;
    let cancelled = client
        .send_request(ClientRequest::CancelTaskRequest(
            rmcp::model::CancelTaskRequest::new(CancelTaskParams {
                meta: None,
                task_id: created.task.task_id,
            }),
        ))
        .await
        .unwrap();
    let cancelled = serde_json::to_value(&cancelled).unwrap();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(action(&gw, &id)["status"], "cancelled");
    client.cancel().await.unwrap();
}
