//! # holdpoint-api: the parts of the HTTP API every side shares
//!
//! The server, the surfaces that mount their own routes on it (MCP, the Claude Code
//! hook) and the client crate all read and write the same shapes, so they live here,
//! below all of them:
//! - `error.rs`: [`ApiError`], the one place errors become responses
//!   (`{"error": {"code", "message"}}` with DESIGN §5's statuses).
//! - `extract.rs`: [`Caller`], the identity behind a bearer token (counted against its
//!   request rate by the gate), and [`ApiJson`], JSON bodies with holdpoint's errors.
//!   Both work on any router state the gate can be taken from.
//! - `view.rs`: [`ActionView`], what an action looks like on the wire (masked).
//! - `wire.rs`: the other answers the client reads, and the `wait` parameter.

mod error;
mod extract;
mod view;
mod wire;

pub use error::{ApiError, ErrorBody, ErrorDetail, not_found};
pub use extract::{ApiJson, Caller};
pub use view::{ActionView, HoldView, ReviewView};
pub use wire::{
    ActionList, CreatedToken, MAX_WAIT, McpOutlook, McpOutlooks, TokenList, parse_wait,
};

/// The largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;
