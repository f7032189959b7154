//! `holdpoint hook claude-code`: Claude Code's PreToolUse hook as a command. It hands the
//! hook input on stdin to the gateway (`POST /hooks/claude-code`, with `holdpoint_client`)
//! and prints the decision.
//! Whatever goes wrong (no token, the gateway down, malformed input), it prints a `deny`
//! with the cause and exits 0, so Claude Code never treats a failure as a pass. It adds
//! the user's latest prompt, for reviewers: stored by the same command on Claude Code's
//! `UserPromptSubmit` event (see `prompts.rs`), else read from the transcript the input
//! points to. It always decides within its wait plus [`HOOK_MARGIN`]; with `--on-hold
//! defer`, a call still held then is deferred (headless sessions resume it), not denied.
//! It adds the project folder (`CLAUDE_PROJECT_DIR`) and where each path the call names
//! really leads (`holdpoint_hook::real_paths`), replacing any such field the input brought.

use crate::cli::Remote;
use crate::exit;
use holdpoint_client::Client;
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// The most hook input read from stdin.
const MAX_INPUT: u64 = 1024 * 1024;
/// How much of the end of a transcript is read for the latest prompt.
const TRANSCRIPT_TAIL: u64 = 4 * 1024 * 1024;

/// The last [`TRANSCRIPT_TAIL`] bytes of the transcript, from the first whole line; `None`
/// when it cannot be read (the decision does not depend on it).
fn read_tail(path: &std::path::Path) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(TRANSCRIPT_TAIL);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.take(TRANSCRIPT_TAIL).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let text = if start > 0 {
        text.split_once('\n')
            .map(|(_, rest)| rest)
            .unwrap_or_default()
    } else {
        &text
    };
    Some(text.to_string())
}

/// How much longer than the wait the whole hook may take: the gateway answers a held
/// call when the wait ends, and the HTTP request gives up shortly after (the client's
/// own slack); past this the hook denies. `init` writes Claude Code's `timeout` above.
pub const HOOK_MARGIN: Duration = Duration::from_secs(5);

/// What a call still held when the wait ends gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnHold {
    /// `deny`, naming the hold: the same call, repeated once approved, passes.
    Deny,
    /// `defer` (Claude Code 2.1.332, headless `-p` sessions): the session stops at the
    /// call, and `claude -p --resume SESSION` asks again.
    Defer,
}

/// The gateway's words for a call still held when the wait ended.
const HELD: &str = "held for approval as ";

pub async fn claude_code(remote: &Remote, wait: Duration, on_hold: OnHold) -> u8 {
    let budget = wait.saturating_add(HOOK_MARGIN);
    let decision = match tokio::time::timeout(budget, ask(remote, wait)).await {
        Ok(Ok(Some(decision))) => deferred(decision, on_hold),
        // A prompt was stored: nothing to say (stdout would reach the model).
        Ok(Ok(None)) => return exit::OK,
        Ok(Err(reason)) => holdpoint_hook::deny(&format!("holdpoint: {reason}")),
        Err(_) => holdpoint_hook::deny(&format!(
            "holdpoint: no decision within {}s, so the call is denied",
            budget.as_secs()
        )),
    };
    println!("{decision}");
    exit::OK
}

/// `decision`, or a `defer` with the same reason when it is a hold and `on_hold` says so.
fn deferred(mut decision: Value, on_hold: OnHold) -> Value {
    let held = decision
        .pointer("/hookSpecificOutput/permissionDecisionReason")
        .and_then(Value::as_str)
        .is_some_and(|reason| reason.starts_with(HELD));
    let deny =
        decision.pointer("/hookSpecificOutput/permissionDecision") == Some(&Value::from("deny"));
    if on_hold == OnHold::Defer
        && held
        && deny
        && let Some(field) = decision.pointer_mut("/hookSpecificOutput/permissionDecision")
    {
        *field = Value::from("defer");
    }
    decision
}

/// The decision on a `PreToolUse` input; `None` for a `UserPromptSubmit`, whose prompt is
/// stored for the session's next tool calls.
async fn ask(remote: &Remote, wait: Duration) -> Result<Option<Value>, String> {
    let mut input = read_input()?;
    let session = input
        .get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let prompts = prompts_folder();
    if input.get("hook_event_name").and_then(Value::as_str) == Some("UserPromptSubmit") {
        let prompt = input.get("prompt").and_then(Value::as_str);
        if let (Some(folder), Some(prompt)) = (&prompts, prompt)
            && let Err(e) = crate::prompts::save(folder, &session, prompt)
        {
            // Never in the way of the user's prompt; the transcript remains.
            eprintln!("holdpoint: cannot store the prompt for reviewers: {e}");
        }
        return Ok(None);
    }
    let remote = remote.resolved().map_err(|e| format!("{e:#}"))?;
    let token = remote
        .token
        .clone()
        .ok_or("HOLDPOINT_TOKEN is not set, so no tool call can be checked")?;
    let env = holdpoint_core::env::ProcessEnv;
    // The fields this command adds are its own: none the input brought is kept.
    if let Some(fields) = input.as_object_mut() {
        fields.remove(holdpoint_hook::PROMPT_FIELD);
        fields.remove(holdpoint_hook::PROJECT_FIELD);
        // The folder Claude Code started in: `in_project` is judged from it, not from a
        // `cwd` the agent's `cd` moved.
        if let Some(project) = holdpoint_core::env::Env::var(&env, "CLAUDE_PROJECT_DIR") {
            fields.insert(holdpoint_hook::PROJECT_FIELD.into(), Value::String(project));
        }
    }
    let prompt = prompts
        .and_then(|folder| crate::prompts::load(&folder, &session))
        .or_else(|| {
            input
                .get("transcript_path")
                .and_then(Value::as_str)
                .and_then(|path| read_tail(path.as_ref()))
                .and_then(|tail| holdpoint_hook::latest_prompt(&tail))
        });
    if let Some(prompt) = prompt
        && let Some(fields) = input.as_object_mut()
    {
        fields.insert(holdpoint_hook::PROMPT_FIELD.into(), Value::String(prompt));
    }
    // Symlinks are followed here, beside the agent: the gateway judges the real paths too.
    let home = holdpoint_core::env::Env::var(&env, "HOME");
    holdpoint_hook::real_paths::add_real_paths(&mut input, home.as_deref());
    let client = Client::new(&remote.url, &token).map_err(|e| e.chain())?;
    client
        .claude_code_hook(&input, wait)
        .await
        .map(Some)
        .map_err(|e| e.chain())
}

/// The hook input on stdin, as JSON (checked here too, so a malformed input is named
/// even when the gateway is down).
fn read_input() -> Result<Value, String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut input)
        .map_err(|e| format!("cannot read the hook input: {e}"))?;
    if input.len() as u64 > MAX_INPUT {
        return Err("the hook input is larger than 1 MiB".into());
    }
    serde_json::from_slice(&input).map_err(|e| format!("malformed hook input: {e}"))
}

/// Where prompts are stored: under `HOME`.
fn prompts_folder() -> Option<std::path::PathBuf> {
    use holdpoint_core::env::Env;
    let home = holdpoint_core::env::ProcessEnv.var("HOME")?;
    Some(crate::prompts::folder(home.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_hold_is_deferred_and_only_when_asked() {
        let held = holdpoint_hook::deny("held for approval as act_1 (x); once a reviewer …");
        let denied = holdpoint_hook::deny("denied by policy (act_2): no");
        let decision = |v: &Value| v["hookSpecificOutput"]["permissionDecision"].clone();
        assert_eq!(
            decision(&deferred(held.clone(), OnHold::Defer)),
            json!("defer")
        );
        assert_eq!(decision(&deferred(held, OnHold::Deny)), json!("deny"));
        assert_eq!(decision(&deferred(denied, OnHold::Defer)), json!("deny"));
    }
}
