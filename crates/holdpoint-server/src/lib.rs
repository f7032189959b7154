//! # holdpoint-server: the HTTP API
//!
//! [`router`] builds the whole service from an [`AppState`], so tests send requests to it
//! with or without a socket; [`serve`] runs it on a bound listener until a shutdown future
//! completes. A tour:
//! - `actions.rs`: `/v1/actions` — submit, long-poll, list, review, cancel.
//! - `explain.rs`: `/v1/policy/explain`.
//! - `hook.rs`: `/hooks/claude-code`, Claude Code's PreToolUse hook over HTTP.
//! - `mcp.rs`: `/mcp/{name}` (each `[[mcp]]` upstream over streamable HTTP) and
//!   `/v1/mcp/{server}/…`, what the stdio proxy `holdpoint mcp` asks.
//! - `admin.rs`: `/v1/tokens` and `/v1/audit`.
//! - `deliveries.rs`: `/v1/deliveries`, the outbox and how its deliveries stand.
//! - `ops.rs`: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.
//! - `extract.rs`: the bearer-token caller (counted against its request rate) and JSON
//!   bodies with holdpoint's errors.
//! - `listen.rs`: [`serve`], the accept loop: connection cap and header read timeout.
//! - `error.rs`: [`ApiError`], the one place errors become responses.
//! - `view.rs`: what an action looks like on the wire (masked).

mod actions;
mod admin;
mod deliveries;
mod error;
mod explain;
mod extract;
mod hook;
mod listen;
mod mcp;
mod ops;
mod view;

pub use actions::{ActionList, MAX_WAIT};
pub use admin::{AuditPage, CreatedToken, TokenList};
pub use deliveries::DeliveryList;
pub use error::ApiError;
pub use explain::{Explanation, parse_principal};
pub use listen::{ServerLimits, serve};
pub use mcp::{McpOutlook, McpOutlooks, McpUpstream};
pub use ops::metrics_handle;
pub use view::ActionView;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use holdpoint_gate::Gate;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The longest a client may take to send a request body (a slow body holds a connection).
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub gate: Arc<Gate>,
    pub metrics: PrometheusHandle,
    openapi: Arc<utoipa::openapi::OpenApi>,
}

#[derive(OpenApi)]
#[openapi(info(
    title = "holdpoint",
    description = "Policy-checked actions for AI agents, held for human approval"
))]
struct ApiDoc;

/// Builds the service.
pub fn router(gate: Arc<Gate>) -> Router {
    router_with_mcp(gate, &[], tokio_util::sync::CancellationToken::new())
}

/// Builds the service, with `/mcp/{name}` for each upstream. Cancelling `stop` ends every
/// MCP session (and its upstream), so open event streams do not hold a shutdown up.
pub fn router_with_mcp(
    gate: Arc<Gate>,
    upstreams: &[McpUpstream],
    stop: tokio_util::sync::CancellationToken,
) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(actions::submit, actions::list_actions))
        .routes(routes!(actions::get_action))
        .routes(routes!(actions::review))
        .routes(routes!(actions::cancel))
        .routes(routes!(explain::explain))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::audit))
        .routes(routes!(admin::audit_verify))
        .routes(routes!(deliveries::deliveries))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(mcp::submit_call))
        .routes(routes!(mcp::tool_outlooks))
        .routes(routes!(hook::claude_code))
        .split_for_parts();
    let state = AppState {
        gate,
        metrics: metrics_handle(),
        openapi: Arc::new(openapi),
    };
    let mut mcp_routes = mcp::mount(Router::new(), &state, upstreams, &stop);
    if !upstreams.is_empty() {
        let owners = Arc::new(mcp::SessionOwners::default());
        mcp_routes = mcp_routes.route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), owners),
            mcp::authenticate,
        ));
    }
    let mcp_routes = mcp_routes.layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT));
    api.merge(mcp_routes)
        .route("/openapi.json", get(ops::openapi))
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            BODY_TIMEOUT,
        ))
        .with_state(state)
}
