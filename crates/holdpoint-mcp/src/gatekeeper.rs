//! [`Gatekeeper`]: how the proxy asks the gate about a tool call. Inside `serve` the gate
//! is in the same process ([`crate::LocalGate`]); `holdpoint mcp` asks a running gateway
//! over its HTTP API. Every answer is already masked.

use crate::action::ToolCall;
use async_trait::async_trait;
use holdpoint_core::Status;
use std::time::Duration;

/// The gate's answer about one action, as the proxy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruling {
    /// `act_…`
    pub id: String,
    pub status: Status,
    /// True when the call may be forwarded now.
    pub proceed: bool,
    /// The verdict's reason (masked).
    pub reason: String,
    /// `reviewer: comment` for each review with a comment (masked).
    pub comments: Vec<String>,
}

/// What policy would say about a tool, for `tools/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outlook {
    Allow,
    Hold(String),
    Deny(String),
}

#[async_trait]
pub trait Gatekeeper: Send + Sync + 'static {
    /// Submits the call as an action; a held one is answered at once, still pending.
    async fn submit(&self, call: &ToolCall) -> Result<Ruling, String>;
    /// The action `id`, after waiting up to `wait` for a pending one to be decided. An
    /// approval is taken here, exactly once: `proceed` is then true and the call goes on.
    async fn wait(&self, call: &ToolCall, id: &str, wait: Duration) -> Result<Ruling, String>;
    /// Withdraws the pending action `id`.
    async fn cancel(&self, id: &str) -> Result<(), String>;
    /// What policy says about each call, holding nothing.
    async fn outlook(&self, calls: &[ToolCall]) -> Result<Vec<Outlook>, String>;
}
