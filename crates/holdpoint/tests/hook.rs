//! `holdpoint hook claude-code` as Claude Code runs it: stdin in, a decision on stdout,
//! exit 0 whatever happens, `deny` unless the gateway allows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
fn the_hook_reports_a_held_shell_command_through_a_real_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let agent = gw.create_token("claude", "agent", &[]);
    let bash = r#"{"hook_event_name":"PreToolUse","cwd":"/srv/app","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let (code, out) = run_hook(&gw.base, Some(&agent), bash);
    assert_eq!(code, Some(0));
    // The starter policies hold every shell command for an admin.
    assert_eq!(verdict(&out), "deny", "{out}");
    assert!(
        out["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("held for approval"),
        "{out}"
    );
    gw.stop();
}
