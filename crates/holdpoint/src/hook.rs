//! `holdpoint hook claude-code`: Claude Code's PreToolUse hook as a command. It hands the
//! hook input on stdin to the gateway (`POST /hooks/claude-code`, with `holdpoint_client`)
//! and prints the decision.
//! Whatever goes wrong (no token, the gateway down, malformed input), it prints a `deny`
//! with the cause and exits 0, so Claude Code never treats a failure as a pass. It adds
//! the user's latest prompt from the transcript the input points to, for reviewers, the
//! project folder (`CLAUDE_PROJECT_DIR`), and where each path the call names really leads
//! (`holdpoint_hook::real_paths`), replacing any such field the input brought.

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

pub async fn claude_code(remote: &Remote, wait: Duration) -> u8 {
    let decision = match ask(remote, wait).await {
        Ok(decision) => decision,
        Err(reason) => holdpoint_hook::deny(&format!("holdpoint: {reason}")),
    };
    println!("{decision}");
    exit::OK
}

async fn ask(remote: &Remote, wait: Duration) -> Result<Value, String> {
    let token = remote
        .token
        .clone()
        .ok_or("HOLDPOINT_TOKEN is not set, so no tool call can be checked")?;
    let mut input = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut input)
        .map_err(|e| format!("cannot read the hook input: {e}"))?;
    if input.len() as u64 > MAX_INPUT {
        return Err("the hook input is larger than 1 MiB".into());
    }
    // Checked here too, so a malformed input is named even when the gateway is down.
    let mut input: Value =
        serde_json::from_slice(&input).map_err(|e| format!("malformed hook input: {e}"))?;
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
    if let Some(prompt) = input
        .get("transcript_path")
        .and_then(Value::as_str)
        .and_then(|path| read_tail(path.as_ref()))
        .and_then(|tail| holdpoint_hook::latest_prompt(&tail))
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
        .map_err(|e| e.chain())
}
