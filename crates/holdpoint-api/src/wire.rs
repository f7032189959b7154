//! The answers the client crate reads back, and the `wait` parameter every long-poll
//! takes.

use crate::error::ApiError;
use crate::view::ActionView;
use holdpoint_core::TokenRecord;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// The longest a single request may wait for a decision.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

/// Parses a `wait` value, capped at [`MAX_WAIT`]; none means do not wait.
pub fn parse_wait(text: Option<&str>) -> Result<Duration, ApiError> {
    match text {
        None => Ok(Duration::ZERO),
        Some(t) => holdpoint_core::duration::parse_duration(t)
            .map(|d| d.min(MAX_WAIT))
            .map_err(|e| ApiError::invalid(format!("wait: {e}"))),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionList {
    pub actions: Vec<ActionView>,
    pub next: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// Shown once; only its hash is stored.
    pub token: String,
    /// The `token.create.*` action that allowed it.
    #[serde(default)]
    pub action: String,
    #[serde(flatten)]
    pub record: TokenRecord,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenRecord>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct McpOutlooks {
    pub tools: Vec<McpOutlook>,
}

/// What policy says of one tool for the caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct McpOutlook {
    pub name: String,
    /// `allow`, `hold` or `deny`.
    pub outcome: String,
    pub reason: String,
}
