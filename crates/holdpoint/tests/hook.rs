//! `holdpoint hook claude-code` as Claude Code runs it: stdin in, a decision on stdout,
//! exit 0 whatever happens, `deny` unless the gateway allows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use support::{BIN, Gateway};

fn run_hook(url: &str, token: Option<&str>, stdin: &str) -> (Option<i32>, Value) {
    let mut cmd = Command::new(BIN);
    cmd.args(["hook", "claude-code", "--wait", "1s"])
        .env("HOLDPOINT_URL", url)
        .env_remove("HOLDPOINT_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if let Some(token) = token {
        cmd.env("HOLDPOINT_TOKEN", token);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), printed)
}

fn verdict(out: &Value) -> &str {
    out["hookSpecificOutput"]["permissionDecision"]
        .as_str()
        .unwrap()
}

const READ: &str = r#"{"hook_event_name":"PreToolUse","cwd":"/srv/app","tool_name":"Read","tool_input":{"file_path":"README.md"}}"#;

#[test]
fn the_hook_denies_and_exits_0_on_every_failure() {
    // A port nothing listens on: the gateway is down.
    let down = "http://127.0.0.1:9";
    for (token, stdin) in [
        (Some("hp_x"), ""),
        (Some("hp_x"), "{not json"),
        (Some("hp_x"), READ),
        (None, READ),
    ] {
        let (code, out) = run_hook(down, token, stdin);
        assert_eq!(code, Some(0), "{stdin}");
        assert_eq!(verdict(&out), "deny", "{stdin}: {out}");
    }
}

#[test]
fn the_prompt_stored_on_user_prompt_submit_reaches_reviewers() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let agent = gw.create_token("claude", "agent", &[]);
    let home = dir.path().join("home");
    let hook = |stdin: &str| {
        let mut child = Command::new(BIN)
            .args(["hook", "claude-code", "--wait", "1s"])
            .env("HOLDPOINT_URL", &gw.base)
            .env("HOLDPOINT_TOKEN", &agent)
            .env("HOME", &home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let prompt = serde_json::json!({"hook_event_name": "UserPromptSubmit", "session_id": "s-1",
        "prompt": "ship the release tonight"});
    let out = hook(&prompt.to_string());
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "nothing reaches the model");
    // No transcript yet: the stored prompt is the one reviewers see.
    let call = serde_json::json!({"hook_event_name": "PreToolUse", "session_id": "s-1",
        "cwd": "/srv/app", "tool_name": "Bash", "transcript_path": dir.path().join("none"),
        "tool_input": {"command": "rm -rf dist", "description": "clean"}});
    let out = hook(&call.to_string());
    let decision: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict(&decision), "deny", "{decision}");
    let listed = support::text(&gw.cli(&gw.admin_token(), &["pending"]).stdout);
    assert!(
        listed.contains("clean. The user asked: ship the release tonight"),
        "{listed}"
    );
}

#[test]
fn the_hook_decides_within_its_budget_when_the_gateway_hangs() {
    // A gateway that takes the connection and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", hung.local_addr().unwrap());
    let started = std::time::Instant::now();
    let (code, out) = run_hook(&url, Some("hp_x"), READ);
    let took = started.elapsed();
    assert_eq!((code, verdict(&out)), (Some(0), "deny"), "{out}");
    // --wait 1s: the budget is the wait plus 5 s, under the 10 s `init` adds for
    // Claude Code's timeout.
    assert!(
        took < std::time::Duration::from_secs(6),
        "decided after {took:?}"
    );
    drop(hung);
}

#[test]
fn the_hook_reports_a_held_shell_command_through_a_real_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let agent = gw.create_token("claude", "agent", &[]);
    let transcript = dir.path().join("transcript.jsonl");
    std::fs::write(
        &transcript,
        concat!(
            r#"{"type":"user","message":{"role":"user","content":"tidy up, token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"}}"#,
            "\n",
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"x"}]}}"#,
            "\n"
        ),
    )
    .unwrap();
    let bash = |command: &str| {
        serde_json::json!({"hook_event_name": "PreToolUse", "cwd": "/srv/app", "tool_name": "Bash",
            "transcript_path": transcript, "tool_input": {"command": command, "description": "clean"}})
        .to_string()
    };
    // The starter policies let an agent's own shell run ...
    let (code, out) = run_hook(&gw.base, Some(&agent), &bash("ls -la"));
    assert_eq!((code, verdict(&out)), (Some(0), "allow"), "{out}");
    // ... but hold destructive commands for an admin.
    let (code, out) = run_hook(&gw.base, Some(&agent), &bash("rm -rf build"));
    assert_eq!(code, Some(0));
    assert_eq!(verdict(&out), "deny", "{out}");
    let reason = out["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("held for approval"), "{out}");
    // Reviewers see what the agent said and what the user asked, masked.
    let pending = gw.cli(&gw.admin_token(), &["pending"]);
    let listed = support::text(&pending.stdout);
    assert!(
        listed.contains("clean. The user asked: tidy up"),
        "{listed}"
    );
    assert!(!listed.contains("ghp_0123456789"), "{listed}");
    gw.stop();
}
