//! # holdpoint-client: the HTTP API, from the caller's side
//!
//! One [`Client`] for every remote caller of a gateway: the CLI's `token`, `submit`,
//! `pending`, `approve` and `reject`, `init --agent`, the stdio MCP proxy (`holdpoint
//! mcp`) and the Claude Code hook (`holdpoint hook`). The wire types are the ones the
//! server writes ([`holdpoint_api::ActionView`] and friends, in the shared API crate), so
//! both sides read one shape.
//! A tour:
//! - `client.rs`: [`Client`], a base URL and a bearer token; each request, its answer
//!   read as JSON, and an error answer as [`ClientError::Api`].
//! - `actions.rs`: submit, read (with a long-poll `wait`), list pending, review, cancel.
//! - `wait.rs`: [`Client::ask_and_wait`], the one remote ask-and-wait loop: submit with
//!   a `wait`, then long-poll in steps until the action is decided or the wait ends,
//!   waiting out a 429's `Retry-After`.
//! - `tokens.rs`: create (answered at once, or held as an action), list, revoke.
//! - `mcp.rs`: what the stdio MCP proxy asks: a tool call, and the outlook of tools.
//! - `hook.rs`: `POST /hooks/claude-code`, the hook's decision.
//! - `error.rs`: [`ClientError`], one variant per way a request can fail.

mod actions;
mod client;
mod error;
mod hook;
mod mcp;
mod tokens;
mod wait;

pub use actions::Submission;
pub use client::Client;
pub use error::ClientError;
pub use holdpoint_api::{ActionList, ActionView, CreatedToken, McpOutlooks, TokenList};
pub use tokens::{NewToken, TokenCreation};
pub use wait::POLL;
