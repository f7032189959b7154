//! # holdpoint-slack: review in Slack
//!
//! A hold becomes a Slack message with Approve and Reject; a click is a review through the
//! gate's rules; the message is updated in place after every review and the outcome. A
//! tour:
//! - `signature.rs`: Slack's v0 request signature, checked in constant time, five-minute
//!   window (Slack's worked example is a test).
//! - `blocks.rs`: the Block Kit message, with every untrusted text escaped.
//! - `api.rs`: the Web API calls (`chat.postMessage`, `chat.update`, `users.info`, the
//!   interaction's `response_url`) against a configurable base URL.
//! - `channel.rs`: [`SlackChannel`], the outbox channel that posts and updates.
//! - `interactions.rs`: `POST /integrations/slack/interactions` (buttons, the reject
//!   reason modal) and `/integrations/slack/commands` (`/holdpoint pending`); see [`router`].
//!
//! - `socket.rs`: Socket Mode, the same interactions over a WebSocket the gateway opens,
//!   for gateways Slack cannot reach.
//!
//! - `config.rs`: the `[slack]` section of `holdpoint.toml`, its secrets read from the
//!   variables it names; `setup.rs`: from those settings to the channel and interactions.
//!
//! A policy may name its own channel with `@slack_channel("C…")`.

// Not `clippy::indexing_slicing`: this crate reads Slack's JSON with `serde_json::Value`
// indexing, which answers `Null` for a missing key or index and never panics.

mod api;
mod blocks;
mod channel;
pub mod config;
mod interactions;
mod setup;
mod signature;
pub mod socket;

pub use api::SlackApi;
pub use blocks::{APPROVE, REJECT, message};
pub use channel::{CHANNEL, SlackChannel};
pub use interactions::SlackState;
pub use setup::{Interactions, Slack, SocketMode};
pub use signature::{sign, verify};

/// `POST /integrations/slack/interactions`, to merge into the gateway's router.
pub fn router(state: SlackState) -> axum::Router {
    axum::Router::new()
        .route(
            "/integrations/slack/interactions",
            axum::routing::post(interactions::interactions),
        )
        .route(
            "/integrations/slack/commands",
            axum::routing::post(interactions::commands),
        )
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}
