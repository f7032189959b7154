//! # holdpoint-server: the HTTP API
//!
//! [`router`] builds the whole service from an [`AppState`], so tests send requests to it
//! with or without a socket; [`serve`] runs it on a bound listener until a shutdown future
//! completes. A tour:
//! - `actions.rs`: `/v1/actions` — submit, long-poll, list, review, cancel.
//! - `explain.rs`: `/v1/policy/explain`.
//! - `admin.rs`: `/v1/tokens` and `/v1/audit`.
//! - `deliveries.rs`: `/v1/deliveries`, the outbox and how its deliveries stand.
//! - `ops.rs`: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.
//! - `listen.rs`: [`serve`], the accept loop: connection cap and header read timeout.
//!
//! Errors, the bearer-token caller and the wire types come from `holdpoint-api`. The
//! surfaces that speak HTTP themselves (MCP's `/mcp/{name}` and `/v1/mcp/…`, the Claude
//! Code hook's `/hooks/claude-code`) own their routes in their own crates; the app hands
//! them to [`router_with`], so this crate depends on no surface.

mod actions;
mod admin;
mod deliveries;
mod explain;
mod listen;
mod ops;

pub use admin::AuditPage;
pub use deliveries::DeliveryList;
pub use explain::{Explanation, parse_principal};
pub use holdpoint_api::{
    ActionList, ActionView, ApiError, BODY_LIMIT, CreatedToken, MAX_WAIT, TokenList,
};
pub use listen::{ServerLimits, serve};
pub use ops::metrics_handle;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use holdpoint_gate::Gate;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The longest a client may take to send a request body (a slow body holds a connection).
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub gate: Arc<Gate>,
    pub metrics: PrometheusHandle,
    openapi: Arc<utoipa::openapi::OpenApi>,
}

impl FromRef<AppState> for Arc<Gate> {
    fn from_ref(state: &AppState) -> Self {
        state.gate.clone()
    }
}

#[derive(OpenApi)]
#[openapi(info(
    title = "holdpoint",
    description = "Policy-checked actions for AI agents, held for human approval"
))]
struct ApiDoc;

/// Builds the service with no surface routes of its own (tests of the API itself).
pub fn router(gate: Arc<Gate>) -> Router {
    router_with(gate, OpenApiRouter::new(), Router::new())
}

/// Builds the service with the surfaces' routes: `documented` ones join the API and its
/// OpenAPI document; `hosted` ones (protocols of their own, such as MCP's streamable HTTP)
/// are served beside it. Both get the body limit and timeout; unknown routes answer
/// holdpoint's 404.
pub fn router_with(
    gate: Arc<Gate>,
    documented: OpenApiRouter<AppState>,
    hosted: Router<AppState>,
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
        .merge(documented)
        .split_for_parts();
    let state = AppState {
        gate,
        metrics: metrics_handle(),
        openapi: Arc::new(openapi),
    };
    let hosted = hosted.layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT));
    api.merge(hosted)
        .route("/openapi.json", get(ops::openapi))
        .fallback(holdpoint_api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            BODY_TIMEOUT,
        ))
        .with_state(state)
}
