//! `holdpoint hook claude-code`: Claude Code's PreToolUse hook as a command. It hands the
//! hook input on stdin to the gateway (`POST /hooks/claude-code`) and prints the decision.
//! Whatever goes wrong (no token, the gateway down, malformed input), it prints a `deny`
//! with the cause and exits 0, so Claude Code never treats a failure as a pass.

use crate::cli::Remote;
use crate::exit;
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// The most hook input read from stdin.
const MAX_INPUT: u64 = 1024 * 1024;

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
    serde_json::from_slice::<Value>(&input).map_err(|e| format!("malformed hook input: {e}"))?;
    let url = format!(
        "{}/hooks/claude-code?wait={}s",
        remote.url.trim_end_matches('/'),
        wait.as_secs()
    );
    let response = reqwest::Client::builder()
        .timeout(wait + Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(input)
        .send()
        .await
        .map_err(|e| format!("cannot reach holdpoint at {}: {e}", remote.url))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("unexpected answer from holdpoint (HTTP {status}): {e}"))?;
    match body["hookSpecificOutput"]["permissionDecision"].as_str() {
        Some("allow" | "deny") => Ok(body),
        _ => Err(format!("unexpected answer from holdpoint (HTTP {status})")),
    }
}
