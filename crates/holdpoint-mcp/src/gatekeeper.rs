//! [`Gatekeeper`]: how the proxy asks the gate about a tool call. Inside `serve` the gate
//! is in the same process ([`crate::LocalGate`]); `holdpoint mcp` asks a running gateway
//! over its HTTP API. Every answer is already masked.

use crate::action::ToolCall;
use crate::tools::Changed;
use async_trait::async_trait;
use holdpoint_core::Status;
use holdpoint_gate::GateError;
use std::time::Duration;

/// The gate's answer about one action, as the proxy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruling {
    /// `act_…`
    pub id: String,
    pub status: Status,
    /// True when the call may be forwarded now.
    pub proceed: bool,
    /// True when it proceeds on a reviewer's approval (not on policy alone): the tool is
    /// then listed again before the call goes on, so it goes only to the tool reviewed.
    pub reviewed: bool,
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

/// Why the gate could not answer about a call: the call is then not made.
#[derive(Debug, thiserror::Error)]
pub enum GatekeeperError {
    /// The gate in this process refused or failed.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// The gateway's HTTP API refused the token.
    #[error("holdpoint refused HOLDPOINT_TOKEN: {0}")]
    TokenRefused(String),
    /// The gateway's HTTP API answered with an error.
    #[error("holdpoint answered HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    /// The gateway's HTTP API could not be asked, or gave an answer it should not: the
    /// error and its causes.
    #[error("{0}")]
    Unreachable(String),
    /// The gateway answered `tools/list`'s question for another number of tools.
    #[error("holdpoint answered for a different number of tools")]
    ToolCount,
    #[error("unknown outcome `{0}`")]
    UnknownOutcome(String),
}

#[async_trait]
pub trait Gatekeeper: Send + Sync + 'static {
    /// Submits the call as an action; a held one is answered at once, still pending.
    async fn submit(&self, call: &ToolCall) -> Result<Ruling, GatekeeperError>;
    /// The action `id`, after waiting up to `wait` for a pending one to be decided. An
    /// approval is taken here, exactly once: `proceed` is then true and the call goes on.
    async fn wait(
        &self,
        call: &ToolCall,
        id: &str,
        wait: Duration,
    ) -> Result<Ruling, GatekeeperError>;
    /// Withdraws the pending action `id`.
    async fn cancel(&self, id: &str) -> Result<(), GatekeeperError>;
    /// What policy says about each call, holding nothing.
    async fn outlook(&self, calls: &[ToolCall]) -> Result<Vec<Outlook>, GatekeeperError>;
    /// Audits tools of `server` whose fingerprint changed between two listings
    /// (`tool.changed`). Remotely there is nothing to tell: the gateway keeps its own
    /// view of the servers it knows.
    async fn tools_changed(
        &self,
        _server: &str,
        _changed: &[Changed],
    ) -> Result<(), GatekeeperError> {
        Ok(())
    }
}
