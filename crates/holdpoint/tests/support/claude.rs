//! The real Claude Code CLI (`tests/peers`, pinned) in headless mode (`claude -p`),
//! talking to a [`super::model::Model`] on 127.0.0.1 and to nothing else: a `HOME` in a
//! tempdir, no telemetry, no updater, no non-essential traffic, and none of the
//! machine's Anthropic or holdpoint settings.

use super::model::Model;
use holdpoint_core::env::{Env, ProcessEnv};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The longest a scripted session may take before the test fails (a safety bound; a
/// session of a few tool calls takes seconds).
pub const SESSION_LIMIT: Duration = Duration::from_secs(180);

/// `claude -p PROMPT --output-format json` in `project`, with `home` as its `HOME`.
pub fn command(project: &Path, home: &Path, model: &Model, prompt: &str) -> Command {
    let mut command = bare(project, home, model);
    command.args([
        "-p",
        prompt,
        "--output-format",
        "json",
        "--max-turns",
        "100",
    ]);
    command
}

/// `claude -p --resume SESSION --output-format json`: a headless session stopped at a
/// deferred tool call goes on.
pub fn resume(project: &Path, home: &Path, model: &Model, session: &str) -> Value {
    let mut command = bare(project, home, model);
    command.args(["-p", "--resume", session, "--output-format", "json"]);
    result(finish(command.spawn().expect("start claude")))
}

/// `claude` with no arguments yet, in `project`, reaching `model` only.
fn bare(project: &Path, home: &Path, model: &Model) -> Command {
    let mut command = Command::new(super::peers::claude_code());
    command
        .current_dir(project)
        .env_clear()
        .env("PATH", path_with_holdpoint())
        .env("HOME", home)
        .env("ANTHROPIC_BASE_URL", &model.base)
        .env("ANTHROPIC_API_KEY", "sk-ant-stand-in")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `PATH` with the tested `holdpoint` first, as a user who installed it has it.
pub fn path_with_holdpoint() -> String {
    let bin = Path::new(super::BIN).parent().expect("the binary's folder");
    format!(
        "{}:{}",
        bin.display(),
        ProcessEnv.var("PATH").unwrap_or_default()
    )
}

/// Starts a session.
pub fn spawn(project: &Path, home: &Path, model: &Model, prompt: &str) -> Child {
    command(project, home, model, prompt)
        .spawn()
        .expect("start claude")
}

/// Waits for a session to end (within [`SESSION_LIMIT`]); its output.
pub fn finish(child: Child) -> Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(SESSION_LIMIT) {
        Ok(out) => out.expect("claude's output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("claude ran past {SESSION_LIMIT:?}");
        }
    }
}

/// Runs a whole session; its JSON result (`--output-format json`).
pub fn run(project: &Path, home: &Path, model: &Model, prompt: &str) -> Value {
    result(finish(spawn(project, home, model, prompt)))
}

/// The JSON result a session printed.
fn result(out: Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "claude printed no JSON result ({e}): {}{}",
            super::text(&out.stdout),
            super::text(&out.stderr)
        )
    })
}
