//! `POST /hooks/claude-code`: Claude Code's PreToolUse input in, a decision out, always
//! 200, `deny` on anything but a pass.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Harness;

const POLICIES: &str = r#"
@id("reads") permit(principal, action == Action::"fs.read", resource);

@id("shell") @hold("Shell command") @approvers("dba")
permit(principal, action == Action::"shell.exec", resource);

@id("no-force-push") @reason("no force pushes")
forbid(principal, action == Action::"shell.exec", resource)
when { context has argv && context.argv.contains("--force") };
"#;

async fn hook(h: &Harness, token: &str, body: &str) -> Value {
    let response = h
        .http
        .post(format!("{}/hooks/claude-code?wait=0s", h.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "always 200");
    response.json().await.unwrap()
}

fn call(tool: &str, input: Value) -> String {
    json!({"session_id": "s", "hook_event_name": "PreToolUse", "cwd": "/home/dev/app",
           "tool_name": tool, "tool_input": input})
    .to_string()
}

fn decision(out: &Value) -> (&str, &str) {
    let o = &out["hookSpecificOutput"];
    (
        o["permissionDecision"].as_str().unwrap(),
        o["permissionDecisionReason"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_held_shell_command_is_denied_until_approved_then_passes_once() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("claude", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let read = hook(&h, &agent, &call("Read", json!({"file_path": "README.md"}))).await;
    assert_eq!(decision(&read).0, "allow", "{read}");

    let bash = call(
        "Bash",
        json!({"command": "make deploy", "description": "deploy"}),
    );
    let first = hook(&h, &agent, &bash).await;
    let (verdict, reason) = decision(&first);
    assert_eq!(verdict, "deny");
    assert!(reason.contains("held for approval as act_"), "{reason}");
    let id = reason
        .split_whitespace()
        .find(|w| w.starts_with("act_"))
        .unwrap();
    let (status, body) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["surface"], "hook");
    assert_eq!(body["justification"], "deploy");

    let again = hook(&h, &agent, &bash).await;
    assert_eq!(decision(&again).0, "allow", "{again}");
    let third = hook(&h, &agent, &bash).await;
    assert_eq!(decision(&third).0, "deny", "an approval passes once");
}

#[tokio::test]
async fn policy_sees_the_argv_the_hook_split() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("claude", "agent", &[], None).await;
    let out = hook(
        &h,
        &agent,
        &call("Bash", json!({"command": "git push --force origin main"})),
    )
    .await;
    assert_eq!(decision(&out).0, "deny", "{out}");
    assert!(decision(&out).1.contains("no force pushes"), "{out}");
}

#[tokio::test]
async fn anything_wrong_is_a_deny_with_its_cause() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("claude", "agent", &[], None).await;
    let unknown = hook(&h, &agent, &call("Task", json!({}))).await;
    assert!(
        decision(&unknown).1.contains("no policy permits"),
        "{unknown}"
    );
    for (token, body) in [
        (agent.as_str(), "{not json"),
        (agent.as_str(), ""),
        (agent.as_str(), r#"{"tool_name": "Bash", "tool_input": {}}"#),
        ("hp_wrong", &call("Read", json!({"file_path": "x"}))),
        (h.admin.as_str(), &call("Read", json!({"file_path": "x"}))),
    ] {
        let out = hook(&h, token, body).await;
        let (verdict, reason) = decision(&out);
        assert_eq!(verdict, "deny", "{body}: {out}");
        assert!(reason.starts_with("holdpoint: "), "{reason}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_a_200_deny_not_a_413() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("claude", "agent", &[], None).await;
    // A held command with a description over 1 MiB: Claude Code treats a 413 as a hook
    // that failed, and without `onFailure: "block"` runs the command.
    for size in [1024 * 1024 + 100, 9 * 1024 * 1024] {
        let body = call(
            "Bash",
            json!({"command": "rm -rf build", "description": "x".repeat(size)}),
        );
        let out = hook(&h, &agent, &body).await;
        let (verdict, reason) = decision(&out);
        assert_eq!(verdict, "deny", "{size}");
        assert!(reason.contains("larger than 1024 KiB"), "{reason}");
    }
    // A bad query string is a deny too.
    let response = h
        .http
        .post(format!("{}/hooks/claude-code?wait=soon", h.base))
        .bearer_auth(&agent)
        .body(call("Read", json!({"file_path": "x"})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let out: Value = response.json().await.unwrap();
    assert_eq!(decision(&out).0, "deny", "{out}");
    let read = hook(&h, &agent, &call("Read", json!({"file_path": "README.md"}))).await;
    assert_eq!(decision(&read).0, "allow", "still up: {read}");
}

#[tokio::test]
async fn a_reworded_description_is_the_same_action_and_reaches_the_reviewer() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("claude", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let first = hook(
        &h,
        &agent,
        &call(
            "Bash",
            json!({"command": "make deploy", "description": "deploy it"}),
        ),
    )
    .await;
    let reason = decision(&first).1.to_string();
    let id = reason
        .split_whitespace()
        .find(|w| w.starts_with("act_"))
        .unwrap();
    let (status, body) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["justification"], "deploy it");
    assert!(body["params"].get("description").is_none(), "{body}");
    // The model rewords what it says the command does; the command is the same.
    let again = hook(
        &h,
        &agent,
        &call(
            "Bash",
            json!({"command": "make deploy", "description": "ship the release"}),
        ),
    )
    .await;
    assert_eq!(decision(&again).0, "allow", "{again}");
}
