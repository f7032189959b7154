//! `POST /hooks/claude-code`: Claude Code's PreToolUse hook input, and the decision.

use crate::{Client, ClientError};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// How much longer than its wait the hook's request may take: the gateway answers a held
/// call when the wait ends, so the request's timeout follows the wait closely and a
/// caller's budget (the hook's, then Claude Code's `timeout`) can sit just above it.
const HOOK_SLACK: Duration = Duration::from_secs(3);

impl Client {
    /// Hands the hook `input` to the gateway, waiting up to `wait` for a held call; the
    /// hook output, which always decides `allow` or `deny`.
    pub async fn claude_code_hook(
        &self,
        input: &Value,
        wait: Duration,
    ) -> Result<Value, ClientError> {
        let path = format!("/hooks/claude-code?wait={}s", wait.as_secs());
        let request = self
            .request(Method::POST, &path, Duration::ZERO)
            .timeout(wait.saturating_add(HOOK_SLACK))
            .json(input);
        // The decision is in the body whatever the status: a refusal is a `deny`.
        let (status, _, body) = self.exchange(request).await?;
        let status = status.as_u16();
        let body: Value = serde_json::from_slice(&body).map_err(|e| ClientError::Unexpected {
            status,
            detail: e.to_string(),
        })?;
        let decision = body
            .pointer("/hookSpecificOutput/permissionDecision")
            .and_then(Value::as_str);
        match decision {
            Some("allow" | "deny") => Ok(body),
            _ => Err(ClientError::Unexpected {
                status,
                detail: "no `allow` or `deny` in it".into(),
            }),
        }
    }
}
