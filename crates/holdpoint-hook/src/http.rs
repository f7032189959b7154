//! `POST /hooks/claude-code`: Claude Code's PreToolUse hook, over HTTP, mounted by the
//! app on the gateway's server. The body is the hook input; the answer is always 200
//! with an explicit decision, `deny` on any error (a bad token, malformed input, a store
//! that cannot write): the hook fails closed.

use crate::{HookError, SURFACE, action_of, allow, deny};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRef, Query, State};
use holdpoint_api::{ApiError, Caller, parse_wait};
use holdpoint_gate::{Gate, GateError, Ruling, SurfaceContext};
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long the hook waits for a held call when the caller names no `wait`: under
/// Claude Code's hook timeout.
pub const DEFAULT_HOOK_WAIT: Duration = Duration::from_secs(50);

/// `POST /hooks/claude-code`, for the API's router and OpenAPI document.
pub fn routes<S>() -> OpenApiRouter<S>
where
    Arc<Gate>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::new().routes(routes!(claude_code))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HookQuery {
    /// How long to wait for a held call, e.g. `50s` (the default).
    pub wait: Option<String>,
}

/// Why a call was denied before the gate ruled on it, or the gate could not rule.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("{}", .0.message)]
    Request(ApiError),
    #[error("malformed hook input: {0}")]
    Malformed(serde_json::Error),
    #[error(transparent)]
    Input(#[from] HookError),
    #[error(transparent)]
    Gate(#[from] GateError),
}

/// Claude Code's PreToolUse hook input; the answer is its `hookSpecificOutput`.
#[utoipa::path(post, path = "/hooks/claude-code", params(HookQuery),
    request_body(content = Object, description = "Claude Code's PreToolUse hook input"),
    responses((status = 200, description = "Always: `hookSpecificOutput` with `permissionDecision` `allow` or `deny`", body = Object)))]
pub async fn claude_code(
    State(gate): State<Arc<Gate>>,
    caller: Result<Caller, ApiError>,
    Query(query): Query<HookQuery>,
    body: Bytes,
) -> Json<Value> {
    Json(match decide(&gate, caller, query, &body).await {
        Ok(decision) => decision,
        Err(refusal) => deny(&format!("holdpoint: {refusal}")),
    })
}

async fn decide(
    gate: &Gate,
    caller: Result<Caller, ApiError>,
    query: HookQuery,
    body: &[u8],
) -> Result<Value, Refusal> {
    let caller = caller.map_err(Refusal::Request)?;
    let wait = match query.wait.as_deref() {
        None => DEFAULT_HOOK_WAIT,
        Some(text) => parse_wait(Some(text)).map_err(Refusal::Request)?,
    };
    let input: Value = serde_json::from_slice(body).map_err(Refusal::Malformed)?;
    let action = action_of(&input)?;
    let ctx = SurfaceContext {
        surface: SURFACE.into(),
        extra: Some(action.context),
        executes: false,
    };
    let ruling = gate
        .decide(&caller.0, action.request, ctx, wait, std::future::pending())
        .await?;
    Ok(match ruling {
        Ruling::Proceed(record) => {
            let reason = gate.masker().mask_text(&record.verdict.reason);
            allow(&format!("{reason} ({})", record.id))
        }
        Ruling::Held(record) => {
            let reason = gate.masker().mask_text(&record.verdict.reason);
            deny(&format!(
                "held for approval as {} ({reason}); once a reviewer approves it, repeat the \
                 same call and it will pass",
                record.id
            ))
        }
        Ruling::Refused { reason, .. } => deny(&reason),
    })
}
