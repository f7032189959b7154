//! A hostile agent against held calls made as MCP tasks (2025-11-25): with an ordinary
//! agent token it tries to get a held `tools/call` run without an approval, run twice
//! on one approval, run after its hold was withdrawn, rejected or expired, or to see or
//! affect another session's tasks, through `/mcp/{name}` (raw JSON-RPC against the
//! recording upstream, which logs every message that reaches it) and through
//! `holdpoint mcp` on stdio. Each test asserts the safe behaviour. The review found six
//! holes, each fixed and kept here: a refused 65th task withdrew the hold it joined (in
//! its session and in another), a session's end withdrew a hold another session still
//! followed, a task answered `cancelled` after its call was sent, and `holdpoint mcp`
//! exited with held calls and tasks still pending when its client went away.

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
use support::recording::{Raw, Recording, call_as_task, gateway, request};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const POLICIES: &str = r#"
@id("rec-echo") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/echo");
@id("rec-danger") @hold("Dangerous tool") @approvers("admins")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/danger");
@id("rec-short") @hold("Short-lived hold") @approvers("admins") @expires("1s")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/rec/short");
"#;

/// A gateway hosting the recorder as `rec`, with `hold_wait` for plain calls.
fn recorder_gateway(dir: &std::path::Path, hold_wait: &str) -> (Gateway, Recording) {
    let recording = Recording::new(dir);
    let extra = format!("hold_wait = \"{hold_wait}\"");
    let gw = gateway(dir, "rec", &recording, &extra, POLICIES);
    (gw, recording)
}

fn plain_call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}})
}

/// Opens a task for a held call of `tool`: its task id and its action's id.
async fn held_task(raw: &Raw, id: u64, tool: &str, arguments: Value) -> (String, String) {
    let made = raw.ask(&call_as_task(id, tool, arguments)).await;
    let task = &made["result"]["task"];
    assert_eq!(task["status"], "working", "{made}");
    let task_id = task["taskId"].as_str().unwrap().to_string();
    let message = task["statusMessage"].as_str().unwrap();
    assert!(message.contains("held for approval as act_"), "{made}");
    (task_id, support::act_id(message))
}

async fn task_of(raw: &Raw, task_id: &str) -> Value {
    raw.ask(&request(900, "tasks/get", json!({"taskId": task_id})))
        .await["result"]
        .clone()
}

/// Polls `tasks/get` (up to 30 s) until `done` holds of the task.
async fn wait_task(raw: &Raw, task_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let task = task_of(raw, task_id).await;
        if done(&task) {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the task never got there: {}", task_of(raw, task_id).await);
}

fn finished(task: &Value) -> bool {
    task["status"] != "working"
}

/// Finished, or following a new hold because another follower took the approval.
fn settled(task: &Value) -> bool {
    finished(task) || (task["statusMessage"].as_str()).is_some_and(|m| m.contains("held again"))
}

fn action(gw: &Gateway, id: &str) -> Value {
    serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap()
}

/// Polls the action (up to 20 s) until it is no longer pending.
async fn wait_decided(gw: &Gateway, id: &str) -> String {
    for _ in 0..200 {
        let status = action(gw, id)["status"].as_str().unwrap().to_string();
        if status != "pending" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{id} stayed pending");
}

fn pending(gw: &Gateway) -> Vec<Value> {
    let list: Value =
        serde_json::from_str(&gw.admin_get("/v1/actions?status=pending&limit=200")).unwrap();
    list["actions"].as_array().cloned().unwrap_or_default()
}

/// The approval of a reviewer, over the API, so that it can race other requests.
async fn review(base: &str, admin: &str, id: &str, decision: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/v1/actions/{id}/reviews"))
        .bearer_auth(admin)
        .json(&json!({"decision": decision, "comment": "reviewed"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The `tools/call`s that reached the upstream with these arguments.
fn runs(recording: &Recording, arguments: &Value) -> usize {
    (recording.of("tools/call").iter())
        .filter(|m| &m["params"]["arguments"] == arguments)
        .count()
}

/// Approves `act` and reads the task's result (request `id`): the call's answer.
async fn approve_and_read(gw: &Gateway, raw: &Raw, act: &str, task_id: &str, id: u64) {
    assert_eq!(
        review(&gw.base, &gw.admin_token(), act, "approve").await,
        200
    );
    let done = raw
        .ask(&request(id, "tasks/result", json!({"taskId": task_id})))
        .await;
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("called "), "{done}");
}

/// A marker call that is allowed: once it reached the upstream, every earlier
/// message of the session's upstream did too.
async fn flush(raw: &Raw, recording: &Recording, marker: &str) {
    let made = raw
        .ask(&plain_call(800, "echo", json!({"marker": marker})))
        .await;
    assert!(made["result"]["content"].is_array(), "{made}");
    recording
        .wait_for(|m| m["params"]["arguments"]["marker"] == marker)
        .await;
}

/// Waits on `tasks/result` from many requests at once while a reviewer approves: each
/// gets the same result and the upstream gets exactly one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_task_results_and_one_approval_run_the_call_once() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"n": 1});
    let (task_id, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let waiting: Vec<_> = (0..16)
        .map(|n| raw.spawn_post(request(10 + n, "tasks/result", json!({"taskId": task_id}))))
        .collect();
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let mut texts = Vec::new();
    for (n, waited) in waiting.into_iter().enumerate() {
        let answer = waited.await.unwrap();
        let result = answer.to(&json!(10 + n as u64)).cloned().unwrap();
        texts.push(result["result"]["content"][0]["text"].clone());
    }
    assert!(texts.iter().all(|t| t == &texts[0]), "{texts:?}");
    assert!(
        texts[0].as_str().unwrap().starts_with("called "),
        "{texts:?}"
    );
    flush(&raw, &recording, "after-results").await;
    assert_eq!(runs(&recording, &args), 1);
}

/// The same call sent as a task twice joins one hold; approved once, it runs once: the
/// second task follows a new hold of its own, which runs nothing until approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_on_one_hold_run_once_per_approval() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"twice": true});
    let (first, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let (second, joined) = held_task(&raw, 2, "danger", args.clone()).await;
    assert_eq!(act, joined, "a repeat joins the hold");
    assert_ne!(first, second);
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let one = wait_task(&raw, &first, settled).await;
    let two = wait_task(&raw, &second, settled).await;
    let completed = [&one, &two]
        .iter()
        .filter(|t| t["status"] == "completed")
        .count();
    assert_eq!(completed, 1, "{one} {two}");
    flush(&raw, &recording, "after-two").await;
    assert_eq!(runs(&recording, &args), 1);
    // The one left over is held anew, and that hold runs nothing until approved.
    let still = if one["status"] == "completed" {
        &two
    } else {
        &one
    };
    let again = support::act_id(still["statusMessage"].as_str().unwrap());
    assert_ne!(again, act);
    assert_eq!(action(&gw, &again)["status"], "pending");
}

/// A plain `tools/call` and a task for the same call wait on one hold; one approval
/// runs exactly one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_call_and_a_task_on_one_hold_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "5s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"both": 1});
    let (task_id, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let plain = raw.spawn_post(plain_call(2, "danger", args.clone()));
    // The plain call is waiting on the same hold once its join is audited.
    for _ in 0..200 {
        let audit: Value = serde_json::from_str(&gw.admin_get("/v1/audit?limit=200")).unwrap();
        let joins = (audit.to_string()).matches("hold.joined").count();
        if joins >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let task = wait_task(&raw, &task_id, settled).await;
    let answer = plain.await.unwrap();
    let plain_text = answer.to(&json!(2)).cloned().unwrap()["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let plain_ran = plain_text.starts_with("called ");
    let task_ran = task["status"] == "completed";
    assert!(plain_ran != task_ran, "plain: {plain_text}; task: {task}");
    flush(&raw, &recording, "after-both").await;
    assert_eq!(runs(&recording, &args), 1);
}

/// After an approved task ran, the same call as a task again is a new hold: the
/// approval was single use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_approval_does_not_pass_the_same_task_again() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"once": true});
    let (task_id, act) = held_task(&raw, 1, "danger", args.clone()).await;
    approve_and_read(&gw, &raw, &act, &task_id, 2).await;
    let (_, again) = held_task(&raw, 3, "danger", args.clone()).await;
    assert_ne!(again, act);
    // Plainly, too.
    let plain = raw.ask(&plain_call(4, "danger", args.clone())).await;
    assert!(
        plain["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("pending approval"),
        "{plain}"
    );
    flush(&raw, &recording, "after-spent").await;
    assert_eq!(runs(&recording, &args), 1);
}

/// Another session's task ids, of the same agent and of another principal, see and
/// change nothing; another principal cannot use the session at all. The task still
/// runs once, on its approval, in its own session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sessions_and_another_principals_task_requests_see_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let intruder = gw.create_token("intruder", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"mine": true});
    let (task_id, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let same_agent = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let other = Raw::open_as(&gw, "rec", &intruder, "2025-11-25").await;
    let mut hijack = Raw::open_as(&gw, "rec", &intruder, "2025-11-25").await;
    hijack.session = raw.session.clone();
    for session in [&same_agent, &other, &hijack] {
        for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
            let answer = session
                .post(&request(5, method, json!({"taskId": task_id})))
                .await;
            let to = answer.to(&json!(5));
            assert!(
                to.is_none_or(|m| m.get("result").is_none()),
                "{method}: {answer:?}"
            );
        }
        let list = session.post(&request(6, "tasks/list", json!({}))).await;
        assert!(!list.text.contains(&task_id), "{list:?}");
    }
    // The intruder is not even let call a tool on the hijacked session.
    let call = hijack
        .post(&call_as_task(7, "echo", json!({"hijack": 1})))
        .await;
    assert!(!call.text.contains("\"result\""), "{call:?}");
    assert_eq!(action(&gw, &act)["status"], "pending");
    assert_eq!(task_of(&raw, &task_id).await["status"], "working");
    for method in ["tasks/get", "tasks/result", "tasks/cancel", "tasks/list"] {
        assert!(
            recording.of(method).is_empty(),
            "{method} reached the upstream"
        );
    }
    assert!(recording.of("tools/call").is_empty());
    approve_and_read(&gw, &raw, &act, &task_id, 8).await;
    assert_eq!(runs(&recording, &args), 1);
}

/// Task ids that are guessed, oddly encoded, huge, or not strings at all, and a missing
/// `taskId`: each is an error, none reaches the upstream (which has no tasks), and the
/// session's real task is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_task_ids_are_errors_that_reach_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (task_id, act) = held_task(&raw, 1, "danger", json!({"odd": 1})).await;
    let mut ids = vec![
        json!(""),
        json!("hp-task-"),
        json!(format!("hp-task-{}", "0".repeat(32))),
        json!(format!("{task_id} ")),
        json!(format!(" {task_id}")),
        json!(task_id.to_uppercase()),
        json!(format!("{task_id}\u{0}")),
        json!(format!("{task_id}\n")),
        json!("hp-task-\u{202e}fdp"),
        json!("../../tasks"),
        json!("%68p-task-"),
        json!("x".repeat(200_000)),
        json!(7),
        json!(-1),
        json!(1.5),
        json!(null),
        json!(true),
        json!([task_id]),
        json!({"taskId": task_id}),
    ];
    if let Some(rest) = task_id.strip_prefix("hp-task-") {
        ids.push(json!(format!("hp-task-{}", &rest[..rest.len() - 1])));
    }
    let mut n = 10;
    for id in &ids {
        for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
            n += 1;
            let answer = raw.post(&request(n, method, json!({"taskId": id}))).await;
            let to = answer.to(&json!(n));
            assert!(
                to.is_some_and(|m| m.get("error").is_some()),
                "{method} {}: {:?}",
                id.to_string().chars().take(80).collect::<String>(),
                answer.text.chars().take(300).collect::<String>()
            );
        }
    }
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        n += 1;
        let answer = raw.post(&request(n, method, json!({}))).await;
        assert!(
            answer
                .to(&json!(n))
                .is_some_and(|m| m.get("error").is_some())
        );
        n += 1;
        let answer = raw
            .post(&json!({"jsonrpc": "2.0", "id": n, "method": method}))
            .await;
        assert!(
            answer
                .to(&json!(n))
                .is_some_and(|m| m.get("error").is_some())
        );
    }
    assert_eq!(task_of(&raw, &task_id).await["status"], "working");
    assert_eq!(action(&gw, &act)["status"], "pending");
    for method in ["tasks/get", "tasks/result", "tasks/cancel", "tasks/list"] {
        assert!(
            recording.of(method).is_empty(),
            "{method} reached the upstream"
        );
    }
    assert!(recording.of("tools/call").is_empty());
}

/// `params.task` that is not an object is refused before the gate (no hold, no call);
/// odd `ttl`s give a task whose `ttl` is at most 24 h, and still no call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_task_params_run_nothing_and_ttl_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let mut n = 0;
    for task in [
        json!("task"),
        json!([]),
        json!([{"ttl": 1}]),
        json!(5),
        json!(true),
    ] {
        n += 1;
        let body = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "danger", "arguments": {"bad": n}, "task": task}});
        let answer = raw.post(&body).await;
        assert!(
            answer
                .to(&json!(n))
                .is_some_and(|m| m.get("error").is_some()),
            "{task}: {answer:?}"
        );
    }
    assert!(pending(&gw).is_empty(), "{:?}", pending(&gw));
    let ttls = [
        json!(18_446_744_073_709_551_615_u64),
        json!(1e300),
        json!(-1),
        json!(-1e300),
        json!("60000"),
        json!(null),
        json!({"ms": 1}),
        json!(0),
    ];
    let mut tasks = Vec::new();
    for ttl in ttls.iter() {
        n += 1;
        let body = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "danger", "arguments": {"ttl": n}, "task": {"ttl": ttl}}});
        let made = raw.ask(&body).await;
        let task = &made["result"]["task"];
        assert_eq!(task["status"], "working", "{ttl}: {made}");
        assert!(
            task["ttl"].as_u64().unwrap() <= 24 * 3600 * 1000,
            "{ttl}: {made}"
        );
        tasks.push(task["taskId"].as_str().unwrap().to_string());
    }
    // A `task` of `null` is a plain call: held, given up after `hold_wait`.
    n += 1;
    let body = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
        "params": {"name": "danger", "arguments": {"null": 1}, "task": null}});
    let plain = raw.ask(&body).await;
    assert!(
        plain["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("pending")
    );
    for task_id in &tasks {
        n += 1;
        let cancelled = raw
            .ask(&request(n, "tasks/cancel", json!({"taskId": task_id})))
            .await;
        assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    }
    assert!(recording.of("tools/call").is_empty());
}

/// `tasks/cancel` and a reviewer's approval race: the call runs at most once, and never
/// once the hold was withdrawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_approve_racing_never_run_a_withdrawn_call() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let admin = gw.admin_token();
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    for round in 0..6u64 {
        let args = json!({"race": round});
        let (task_id, act) = held_task(&raw, 10 * round + 1, "danger", args.clone()).await;
        let cancel = raw.spawn_post(request(
            10 * round + 2,
            "tasks/cancel",
            json!({"taskId": task_id}),
        ));
        let approve = review(&gw.base, &admin, &act, "approve");
        let (approved, cancelled) = if round % 2 == 0 {
            let approved = approve.await;
            (approved, cancel.await.unwrap())
        } else {
            let cancelled = cancel.await.unwrap();
            (approve.await, cancelled)
        };
        let task = wait_task(&raw, &task_id, finished).await;
        let status = wait_decided(&gw, &act).await;
        flush(&raw, &recording, &format!("race-{round}")).await;
        let ran = runs(&recording, &args);
        assert!(ran <= 1, "round {round}: ran {ran}");
        if status == "cancelled" {
            assert_eq!(
                ran, 0,
                "round {round}: a withdrawn call ran ({approved}, {cancelled:?})"
            );
            assert_eq!(task["status"], "cancelled", "{task}");
        }
        if task["status"] == "completed" {
            assert_eq!(status, "approved");
        }
    }
}

/// `notifications/cancelled` for the request that made the task: the request is already
/// answered, so the task stays (the specification's way is `tasks/cancel`), and the
/// call still waits for its reviewer: it runs once, on the approval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_request_that_made_a_task_runs_nothing_early() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"notified": 1});
    let (task_id, act) = held_task(&raw, 7, "danger", args.clone()).await;
    let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 7, "reason": "changed my mind"}});
    assert_eq!(raw.post(&note).await.status, 202);
    flush(&raw, &recording, "after-note").await;
    let task = task_of(&raw, &task_id).await;
    let status = action(&gw, &act)["status"].clone();
    assert!(
        (task["status"] == "working" && status == "pending")
            || (task["status"] == "cancelled" && status == "cancelled"),
        "{task} {status}"
    );
    assert_eq!(runs(&recording, &args), 0);
    if status == "pending" {
        approve_and_read(&gw, &raw, &act, &task_id, 8).await;
        assert_eq!(runs(&recording, &args), 1);
    }
}

/// `DELETE` of the session races a reviewer's approval: once the session's end has
/// withdrawn the hold, nothing runs; an approval that won runs the call at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_session_while_approving_never_runs_a_withdrawn_call() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let admin = gw.admin_token();
    for round in 0..4u64 {
        let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
        let args = json!({"delete": round});
        let (_, act) = held_task(&raw, 1, "danger", args.clone()).await;
        let (deleted, approved) =
            tokio::join!(raw.delete(), review(&gw.base, &admin, &act, "approve"));
        assert!(deleted < 300);
        let status = wait_decided(&gw, &act).await;
        // Another session's marker: the deleted one's upstream is gone.
        let marker = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
        flush(&marker, &recording, &format!("delete-{round}")).await;
        let ran = runs(&recording, &args);
        assert!(ran <= 1, "round {round}");
        if status == "cancelled" {
            assert_eq!(ran, 0, "round {round}: {approved}");
        }
    }
}

/// A hold that expires (`@expires("1s")`) ends its task with the refusal the model
/// reads; nothing runs, and the expired hold cannot be approved after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_hold_ends_its_task_with_a_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"expires": 1});
    let (task_id, act) = held_task(&raw, 1, "short", args.clone()).await;
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        raw.ask(&request(2, "tasks/result", json!({"taskId": task_id}))),
    )
    .await
    .expect("the expiry ends the task");
    assert_eq!(result["result"]["isError"], true, "{result}");
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("expired"), "{text}");
    assert_eq!(task_of(&raw, &task_id).await["status"], "completed");
    assert_eq!(action(&gw, &act)["status"], "expired");
    assert_ne!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    flush(&raw, &recording, "after-expiry").await;
    assert_eq!(runs(&recording, &args), 0);
}

/// A rejected task, then the same call again (as a task and plainly): a new hold each
/// time, nothing runs, and the rejection cannot be turned into an approval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_task_then_the_same_call_is_held_anew() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let admin = gw.admin_token();
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"rejected": 1});
    let (task_id, act) = held_task(&raw, 1, "danger", args.clone()).await;
    assert_eq!(review(&gw.base, &admin, &act, "reject").await, 200);
    let result = raw
        .ask(&request(2, "tasks/result", json!({"taskId": task_id})))
        .await;
    assert_eq!(result["result"]["isError"], true, "{result}");
    assert_ne!(review(&gw.base, &admin, &act, "approve").await, 200);
    let (again_task, again) = held_task(&raw, 3, "danger", args.clone()).await;
    assert_ne!(again, act);
    let plain = raw.ask(&plain_call(4, "danger", args.clone())).await;
    assert!(
        plain["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains(&again),
        "the plain call joins the new hold: {plain}"
    );
    // Rejected too: the second task ends like the first.
    assert_eq!(review(&gw.base, &admin, &again, "reject").await, 200);
    let second = raw
        .ask(&request(5, "tasks/result", json!({"taskId": again_task})))
        .await;
    assert_eq!(second["result"]["isError"], true, "{second}");
    flush(&raw, &recording, "after-reject").await;
    assert_eq!(runs(&recording, &args), 0);
}

/// Task requests for ids the proxy did not make never reach an upstream that has no
/// tasks; `tasks/list` answers with the session's own tasks only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_task_requests_never_reach_an_upstream_without_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (task_id, _) = held_task(&raw, 1, "danger", json!({"listed": 1})).await;
    let mut n = 10;
    for id in ["upstream-task-1", "task-1", "1"] {
        for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
            n += 1;
            let answer = raw.ask(&request(n, method, json!({"taskId": id}))).await;
            assert!(answer.get("error").is_some(), "{method}: {answer}");
        }
    }
    let list = raw
        .ask(&request(50, "tasks/list", json!({"cursor": "upstream"})))
        .await;
    let tasks = list["result"]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{list}");
    assert_eq!(tasks[0]["taskId"], task_id.as_str());
    flush(&raw, &recording, "after-upstream-ids").await;
    for method in ["tasks/get", "tasks/result", "tasks/cancel", "tasks/list"] {
        assert!(
            recording.of(method).is_empty(),
            "{method} reached the upstream"
        );
    }
}

/// A session with 64 held tasks sends a 65th that repeats one of them: the 65th is
/// refused, and the refusal must not withdraw the hold the running task follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_65th_task_that_repeats_a_held_call_leaves_that_hold_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let mut held = Vec::new();
    for n in 0..64 {
        held.push(held_task(&raw, n + 1, "danger", json!({"n": n})).await);
    }
    let refused = raw.ask(&call_as_task(100, "danger", json!({"n": 0}))).await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 tasks"),
        "{refused}"
    );
    let (task_id, act) = &held[0];
    assert_eq!(action(&gw, act)["status"], "pending");
    assert_eq!(task_of(&raw, task_id).await["status"], "working");
    assert_eq!(pending(&gw).len(), 64);
    assert!(recording.of("tools/call").is_empty());
}

/// Another session of the same agent, its own 64 tasks running, sends the call a first
/// session's task is held on: its refusal must not withdraw the first session's hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_cannot_withdraw_another_sessions_held_task() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let victim = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"victim": true});
    let (task_id, act) = held_task(&victim, 1, "danger", args.clone()).await;
    let full = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    for n in 0..64 {
        held_task(&full, n + 1, "danger", json!({"filler": n})).await;
    }
    let refused = full.ask(&call_as_task(100, "danger", args.clone())).await;
    assert!(refused.get("error").is_some(), "{refused}");
    assert_eq!(action(&gw, &act)["status"], "pending");
    assert_eq!(task_of(&victim, &task_id).await["status"], "working");
    assert!(recording.of("tools/call").is_empty());
}

/// A flood of task calls: the 65th (a new call) is refused and leaves no hold, and a
/// slot freed by a cancel takes the next one; nothing runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_held_tasks_stops_at_64_with_no_hold_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    // Sent concurrently, as a flooding agent would.
    let flood: Vec<_> = (0..80u64)
        .map(|n| raw.spawn_post(call_as_task(n + 1, "danger", json!({"flood": n}))))
        .collect();
    let (mut working, mut refused) = (Vec::new(), 0);
    for (n, sent) in flood.into_iter().enumerate() {
        let answer = sent.await.unwrap();
        let to = answer.to(&json!(n as u64 + 1)).cloned().unwrap();
        if let Some(task) = to["result"]["task"].as_object() {
            working.push(task["taskId"].as_str().unwrap().to_string());
        } else {
            assert!(
                to["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("64 tasks"),
                "{to}"
            );
            refused += 1;
        }
    }
    assert_eq!(working.len(), 64);
    assert_eq!(refused, 16);
    let mut left = 0;
    for _ in 0..100 {
        left = pending(&gw).len();
        if left == 64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 64, "a refused task left its hold");
    let cancelled = raw
        .ask(&request(200, "tasks/cancel", json!({"taskId": working[0]})))
        .await;
    assert_eq!(cancelled["result"]["status"], "cancelled");
    let made = raw
        .ask(&call_as_task(201, "danger", json!({"after": 1})))
        .await;
    assert_eq!(made["result"]["task"]["status"], "working", "{made}");
    assert!(recording.of("tools/call").is_empty());
}

/// The agent's token is revoked while its task is held (the task keeps the identity of
/// the request that made it); a reviewer then approves: the call must not run. Holds
/// because an approval re-evaluates policy for the requester as they are now, and a
/// requester with no live token is denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_agents_held_task_does_not_run_on_approval() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"revoked": true});
    let (_, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let out = gw.cli(&gw.admin_token(), &["token", "revoke", "agent"]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let refused = raw.post(&request(2, "tasks/list", json!({}))).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    // The approval is taken at once if it is taken at all: a marker through another
    // agent's session shows the upstream has had time to be reached.
    let other = gw.create_token("other", "agent", &[]);
    let marker = Raw::open_as(&gw, "rec", &other, "2025-11-25").await;
    let mut ran = 0;
    for round in 0..20 {
        flush(&marker, &recording, &format!("revoked-{round}")).await;
        ran = runs(&recording, &args);
        if ran > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ran, 0, "a revoked agent's call ran: {}", action(&gw, &act));
}

/// `holdpoint mcp` on stdio in front of the recorder: raw JSON lines.
struct Stdio {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Stdio {
    async fn start(gw: &Gateway, token: &str, recording: &Recording) -> Stdio {
        Stdio::start_waiting(gw, token, recording, "1s").await
    }

    async fn start_waiting(
        gw: &Gateway,
        token: &str,
        recording: &Recording,
        hold_wait: &str,
    ) -> Stdio {
        let bin = env!("CARGO_BIN_EXE_holdpoint");
        let mut child = tokio::process::Command::new(bin)
            .args(["mcp", "--name", "rec", "--hold-wait", hold_wait, "--"])
            .args(recording.command())
            .env("HOLDPOINT_URL", &gw.base)
            .env("HOLDPOINT_TOKEN", token)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stdio = Stdio {
            child,
            stdin,
            lines,
        };
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}});
        let answer = stdio.ask(&init).await;
        assert!(
            answer["result"]["capabilities"]["tasks"].is_object(),
            "{answer}"
        );
        stdio
            .send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        stdio
    }

    async fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// Sends a request and reads lines until its answer.
    async fn ask(&mut self, message: &Value) -> Value {
        self.send(message).await;
        loop {
            let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
                .await
                .expect("an answer in time")
                .unwrap()
                .expect("a line");
            let got: Value = serde_json::from_str(&line).unwrap();
            if got["id"] == message["id"] && got.get("method").is_none() {
                return got;
            }
        }
    }
}

/// Through `holdpoint mcp`: a held task runs once on its approval, however many times
/// its result is asked for; guessed ids are errors that reach nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_a_held_task_runs_once_on_its_approval() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let mut stdio = Stdio::start(&gw, &agent, &recording).await;
    let args = json!({"stdio": 1});
    let made = stdio.ask(&call_as_task(1, "danger", args.clone())).await;
    let task = &made["result"]["task"];
    assert_eq!(task["status"], "working", "{made}");
    let task_id = task["taskId"].as_str().unwrap().to_string();
    let act = support::act_id(task["statusMessage"].as_str().unwrap());
    for id in ["hp-task-00000000000000000000000000000000", "upstream-1"] {
        for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
            let answer = stdio.ask(&request(3, method, json!({"taskId": id}))).await;
            assert!(answer.get("error").is_some(), "{answer}");
        }
    }
    // Several `tasks/result` in flight at once, then the approval.
    for n in 0..4 {
        stdio
            .send(&request(10 + n, "tasks/result", json!({"taskId": task_id})))
            .await;
    }
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let done = stdio
        .ask(&request(4, "tasks/result", json!({"taskId": task_id})))
        .await;
    let text = done["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("called "), "{done}");
    let again = stdio
        .ask(&request(7, "tasks/result", json!({"taskId": task_id})))
        .await;
    assert_eq!(again["result"]["content"], done["result"]["content"]);
    let echo = stdio
        .ask(&plain_call(8, "echo", json!({"marker": "stdio"})))
        .await;
    assert!(echo["result"]["content"].is_array(), "{echo}");
    recording
        .wait_for(|m| m["params"]["arguments"]["marker"] == "stdio")
        .await;
    assert_eq!(runs(&recording, &args), 1);
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        assert!(
            recording.of(method).is_empty(),
            "{method} reached the upstream"
        );
    }
}

/// Through `holdpoint mcp`: the client going away (stdin closed) withdraws the hold of
/// its held task, as the documentation promises, and a later approval runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_the_client_going_away_withdraws_its_held_task() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let mut stdio = Stdio::start(&gw, &agent, &recording).await;
    let args = json!({"stdio-gone": 1});
    let made = stdio.ask(&call_as_task(1, "danger", args.clone())).await;
    let act = support::act_id(made["result"]["task"]["statusMessage"].as_str().unwrap());
    drop(stdio.stdin.take());
    let exited = tokio::time::timeout(Duration::from_secs(30), stdio.child.wait())
        .await
        .expect("holdpoint mcp exits when its client goes away")
        .unwrap();
    let status = wait_decided(&gw, &act).await;
    assert_eq!(status, "cancelled", "exit {exited}");
    assert_ne!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    assert_eq!(runs(&recording, &args), 0);
}

/// Through `holdpoint mcp`, the same for a plain call still waiting on its hold (a long
/// `hold_wait`): the client going away withdraws it. (Shows whether the stdio exit
/// drops withdrawals of plain calls too, not only of tasks.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_the_client_going_away_withdraws_a_waiting_plain_call() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let mut stdio = Stdio::start_waiting(&gw, &agent, &recording, "5m").await;
    let args = json!({"stdio-plain-gone": 1});
    stdio.send(&plain_call(1, "danger", args.clone())).await;
    let mut act = None;
    for _ in 0..200 {
        if let Some(id) = pending(&gw).first().and_then(|a| a["id"].as_str()) {
            act = Some(id.to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let act = act.expect("the plain call is held");
    drop(stdio.stdin.take());
    let exited = tokio::time::timeout(Duration::from_secs(30), stdio.child.wait())
        .await
        .expect("holdpoint mcp exits when its client goes away")
        .unwrap();
    let status = wait_decided(&gw, &act).await;
    assert_eq!(status, "cancelled", "exit {exited}");
    assert_eq!(runs(&recording, &args), 0);
}

/// The same call sent as a task many times at once (concurrent submissions may open
/// one hold or several): one approval runs it once, whatever the tasks race to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_tasks_run_once_per_approval() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"same": "at once"});
    let sent: Vec<_> = (0..12u64)
        .map(|n| raw.spawn_post(call_as_task(n + 1, "danger", args.clone())))
        .collect();
    let mut tasks = Vec::new();
    for (n, sent) in sent.into_iter().enumerate() {
        let answer = sent.await.unwrap();
        let made = answer.to(&json!(n as u64 + 1)).cloned().unwrap();
        let task = &made["result"]["task"];
        let act = support::act_id(task["statusMessage"].as_str().unwrap());
        tasks.push((task["taskId"].as_str().unwrap().to_string(), act));
    }
    let act = tasks[0].1.clone();
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let mut completed = 0;
    for (task_id, on) in &tasks {
        if on != &act {
            continue;
        }
        let task = wait_task(&raw, task_id, settled).await;
        if task["status"] == "completed" {
            completed += 1;
        }
    }
    assert_eq!(completed, 1);
    flush(&raw, &recording, "after-concurrent").await;
    assert_eq!(runs(&recording, &args), 1);
}

/// The gateway stops while a task is held: the hold is withdrawn (the stopping gateway
/// waits for its sessions' withdrawals), and after a restart approving it runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_gateway_withdraws_its_held_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"stopping": 1});
    let (_, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let data = gw.data.clone();
    gw.stop();
    let config = dir.path().join("holdpoint.toml");
    let gw = Gateway::start(&data, &["--config", config.to_str().unwrap()]);
    assert_eq!(action(&gw, &act)["status"], "cancelled");
    assert_ne!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    assert_eq!(runs(&recording, &args), 0);
}

/// A session with a held task and no request after it idles out (`idle_timeout`): the
/// hold goes with it, and an approval after runs nothing. A `tasks/result` left waiting
/// on it gets an answer, not a run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_idles_out_withdraws_its_held_task() {
    let dir = tempfile::tempdir().unwrap();
    let recording = Recording::new(dir.path());
    let extra = "hold_wait = \"1s\"\nidle_timeout = \"2s\"";
    let gw = gateway(dir.path(), "rec", &recording, extra, POLICIES);
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"idle": 1});
    let (_, act) = held_task(&raw, 1, "danger", args.clone()).await;
    let status = wait_decided(&gw, &act).await;
    assert_eq!(status, "cancelled");
    assert_ne!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let marker = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    flush(&marker, &recording, "after-idle").await;
    assert_eq!(runs(&recording, &args), 0);
}

/// Two sessions of one agent make the same call as a task, so both follow one hold;
/// the second session ends (`DELETE`, as an agent that exits does). The first
/// session's task must keep its hold: the documentation says another session of the
/// same agent sees none of a session's tasks, and its end withdraws only its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_a_session_that_joined_a_hold_leaves_another_sessions_task_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let victim = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let args = json!({"shared": true});
    let (task_id, act) = held_task(&victim, 1, "danger", args.clone()).await;
    let other = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let (_, joined) = held_task(&other, 1, "danger", args.clone()).await;
    assert_eq!(joined, act);
    assert!(other.delete().await < 300);
    // The other session's withdrawal, if any, lands within its end.
    let marker = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    flush(&marker, &recording, "after-other-end").await;
    let mut status = action(&gw, &act)["status"].clone();
    for _ in 0..20 {
        if status != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        status = action(&gw, &act)["status"].clone();
    }
    assert_eq!(status, "pending");
    assert_eq!(task_of(&victim, &task_id).await["status"], "working");
}

/// `tasks/cancel` sent right after a reviewer's approval: whichever wins, the agent is
/// told the truth. A task answered `cancelled` ran nothing upstream; one that ran is
/// `completed` with the call's result. (A race: the odd rounds cancel in the moment
/// between the task taking the approval and the call going on; it shows within the
/// 12 rounds in most runs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_answered_cancelled_ran_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, recording) = recorder_gateway(dir.path(), "1s");
    let agent = gw.create_token("agent", "agent", &[]);
    let admin = gw.admin_token();
    let raw = Raw::open_as(&gw, "rec", &agent, "2025-11-25").await;
    let mut outcomes = Vec::new();
    for round in 0..12u64 {
        let args = json!({"told": round});
        let (task_id, act) = held_task(&raw, 10 * round + 1, "danger", args.clone()).await;
        assert_eq!(review(&gw.base, &admin, &act, "approve").await, 200);
        // Odd rounds cancel once the approval is taken (spent by the task's own
        // resubmission), in the moment before the call goes on.
        if round % 2 == 1 {
            for _ in 0..400 {
                if !action(&gw, &act)["consumed_by"].is_null() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let cancel = raw
            .post(&request(
                10 * round + 2,
                "tasks/cancel",
                json!({"taskId": task_id}),
            ))
            .await;
        let task = wait_task(&raw, &task_id, finished).await;
        flush(&raw, &recording, &format!("told-{round}")).await;
        let ran = runs(&recording, &args);
        outcomes.push((task["status"].clone(), ran));
        if task["status"] == "cancelled" {
            assert_eq!(
                ran, 0,
                "round {round}: the task is cancelled but the call ran: {cancel:?}"
            );
            // The approval crossed the withdrawal: the action is either withdrawn, or
            // approved and unspent, passing one repeat of the very call reviewed.
            let status = action(&gw, &act)["status"].clone();
            outcomes.push((status.clone(), 0));
            if status == "approved" {
                let again = raw
                    .ask(&plain_call(10 * round + 3, "danger", args.clone()))
                    .await;
                let twice = raw
                    .ask(&plain_call(10 * round + 4, "danger", args.clone()))
                    .await;
                assert!(
                    twice["result"]["content"][0]["text"]
                        .as_str()
                        .unwrap()
                        .contains("pending approval"),
                    "{again} {twice}"
                );
                flush(&raw, &recording, &format!("told-again-{round}")).await;
                assert!(runs(&recording, &args) <= 1);
                outcomes.push((
                    again["result"]["content"][0]["text"].clone(),
                    runs(&recording, &args),
                ));
            }
        } else {
            assert_eq!(ran, 1, "round {round}: {task}");
        }
    }
    assert!(!outcomes.is_empty());
}

/// An upstream that runs tools as tasks of its own (`server-everything`, whose
/// `simulate-research-query` requires it): a denied call of it made as a task creates
/// no upstream task, a held one none until it is approved; ids the proxy did not make
/// go to that upstream, which knows none of them; approved, the call runs once and its
/// result is the upstream task's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_task_is_made_only_for_an_approved_call() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nhold_wait = \"1s\"\n",
        support::peers::npm_server("server-everything")
    );
    let config = support::peers::everything_config(dir.path(), &extra);
    std::fs::write(
        dir.path().join("policies/research.cedar"),
        r#"@id("research") @hold("Research") @approvers("admins")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/simulate-research-query");
"#,
    )
    .unwrap();
    let gw = Gateway::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    let agent = gw.create_token("agent", "agent", &[]);
    let raw = Raw::open_as(&gw, "everything", &agent, "2025-11-25").await;
    let listed = raw.ask(&request(1, "tools/list", json!({}))).await;
    let research = (listed["result"]["tools"].as_array().unwrap().iter())
        .find(|t| t["name"] == "simulate-research-query")
        .cloned()
        .expect("the research tool is listed");
    assert_eq!(research["execution"]["taskSupport"], "required");
    // Denied outright (no policy permits it): no upstream task.
    let denied = raw
        .ask(&call_as_task(
            2,
            "trigger-sampling-request-async",
            json!({"prompt": "hi"}),
        ))
        .await;
    assert_eq!(denied["result"]["task"]["status"], "completed", "{denied}");
    let (task_id, act) = held_task(&raw, 3, "simulate-research-query", json!({"topic": "x"})).await;
    let list = raw.ask(&request(4, "tasks/list", json!({}))).await;
    let tasks = list["result"]["tasks"].as_array().unwrap();
    assert!(
        tasks
            .iter()
            .all(|t| t["taskId"].as_str().unwrap().starts_with("hp-task-")),
        "the upstream made a task before any approval: {list}"
    );
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let answer = raw
            .ask(&request(5, method, json!({"taskId": "not-a-task"})))
            .await;
        assert!(answer.get("error").is_some(), "{method}: {answer}");
    }
    assert_eq!(task_of(&raw, &task_id).await["status"], "working");
    assert_eq!(
        review(&gw.base, &gw.admin_token(), &act, "approve").await,
        200
    );
    let done = tokio::time::timeout(
        Duration::from_secs(60),
        raw.ask(&request(6, "tasks/result", json!({"taskId": task_id}))),
    )
    .await
    .expect("the research finishes");
    assert!(done["result"]["content"].is_array(), "{done}");
    assert_ne!(done["result"]["isError"], true, "{done}");
    let list = raw.ask(&request(7, "tasks/list", json!({}))).await;
    let theirs = (list["result"]["tasks"].as_array().unwrap().iter())
        .filter(|t| !t["taskId"].as_str().unwrap().starts_with("hp-task-"))
        .count();
    assert!(theirs <= 1, "{list}");
    // The same call again is a new hold: the approval was spent.
    let (_, again) = held_task(&raw, 8, "simulate-research-query", json!({"topic": "x"})).await;
    assert_ne!(again, act);
}
