//! # holdpoint-mcp: the MCP surface
//!
//! A proxy between an agent and one MCP server: every `tools/call` becomes an action
//! (`mcp.call` on `mcp/{server}/{tool}`) and passes the gate, as do `resources/read`,
//! `prompts/get` and `completion/complete`; other known MCP methods pass through, and
//! unknown ones never do. The binary serves it on stdio (`holdpoint mcp`) and the server
//! over streamable HTTP (`/mcp/{name}`). A tour:
//! - `action.rs`: a tool call as an action, with `context.mcp` (server, tool, annotations,
//!   fingerprint) and `context.pin`.
//! - `proxy.rs`: [`Proxy`], the agent's MCP server: `initialize` opens the upstream
//!   session, `tools/list` hides forbidden tools and marks held ones, `tools/call` is gated.
//! - `methods.rs`: the MCP methods the proxy knows, what it does with each, and the
//!   actions of `resources/read`, `prompts/get`, `completion/complete`, sampling and
//!   elicitation; `uri.rs`: a resource URI or prompt name as a safe resource path.
//! - `frames.rs`: each raw JSON-RPC message checked before rmcp reads it: a request
//!   with an id that is not a string or an integer, or a method MCP does not have, is
//!   refused and never forwarded.
//! - `asks.rs`: what a gateway-hosted upstream may take from the agent's side (roots,
//!   sampling, elicitation): only what its `[[mcp]]` section turns on.
//! - `calls.rs`: the gate's answer for one call: forward, refuse with `isError`, or wait
//!   for a hold with progress notifications up to `hold_wait`; a cancelled call, or one
//!   whose session ends, withdraws its hold.
//! - `tasks.rs`: a `tools/call` the client sends as a task (MCP 2025-11-25) is a task of
//!   the proxy's own, which a held call waits behind instead of a request held open;
//!   `onward.rs`: the session's way on to the upstream, which such a task makes its call
//!   through once approved.
//! - `upstream.rs`: starting or reaching the upstream, and [`upstream::Relay`], which
//!   passes the upstream's requests (sampling, elicitation, roots) and notifications on.
//! - `relay.rs`: forwarding a request across, mapping progress tokens and cancellation.
//! - `gatekeeper.rs` and `local.rs`: how the proxy asks the gate, in process or remotely.
//! - `redact.rs`: the upstream's credentials never reach the agent, in any form of
//!   `secret_forms.rs` (JSON-escaped, URL-encoded, base64).
//! - `tools.rs`: the upstream's tool annotations and fingerprints, remembered from
//!   `tools/list`; a changed fingerprint is audited (`tool.changed`), and a call that
//!   goes on a reviewer's approval is listed again first, so it reaches only the tool
//!   that was reviewed.
//! - `views.rs`: [`ToolViews`], the gateway's own listing of each server it hosts: what
//!   `/v1/mcp/{server}/calls` judges a stdio proxy's call by, for a server of that name.
//! - `http.rs`: the surface over HTTP, mounted by the app on the gateway's server:
//!   `/mcp/{name}` for each hosted upstream, and `/v1/mcp/{server}/calls` and `/tools`,
//!   what the stdio proxy asks the gateway.
//! - `sessions.rs`: how many gateway-hosted sessions each principal may hold open, and
//!   how a session's end reaches its held calls; `ending.rs`: rmcp's session manager,
//!   telling of a session's end (closed or idled out) the moment its transport ends.
//! - `config.rs`: the `[[mcp]]` sections of `holdpoint.toml`, the upstreams the gateway
//!   hosts, with their credentials read from the variables they name.

pub use holdpoint_core::tool_call as action;
mod asks;
mod calls;
pub mod config;
mod ending;
pub mod frames;
mod gatekeeper;
pub mod http;
mod local;
pub mod methods;
mod onward;
mod proxy;
mod redact;
mod relay;
mod secret_forms;
mod sessions;
mod tasks;
mod tools;
pub mod upstream;
mod uri;
mod views;

pub use action::{ToolCall, tool_call};
pub use asks::Asks;
pub use calls::PROGRESS_EVERY;
pub use gatekeeper::{Gatekeeper, GatekeeperError, Outlook, Ruling};
pub use local::{LocalGate, SURFACE, ruling_of, surface_context};
pub use proxy::{Keepers, MAX_HOLD_WAIT, Proxy, ProxyConfig, ProxyConfigError};
pub use redact::{RedactError, Redactor};
pub use sessions::{SessionEnds, Sessions, SessionsError};
pub use tools::Changed;
pub use upstream::{ConnectError, Target};
pub use views::{ToolViews, VIEW_TTL, ViewError};
