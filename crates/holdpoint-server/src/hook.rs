//! `POST /hooks/claude-code`: Claude Code's PreToolUse hook, over HTTP. The body is the
//! hook input; the answer is always 200 with an explicit decision, `deny` on any error
//! (a bad token, malformed input, a store that cannot write): the hook fails closed.

use crate::AppState;
use crate::actions::parse_wait;
use crate::error::ApiError;
use crate::extract::Caller;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use holdpoint_gate::{Ruling, SurfaceContext};
use holdpoint_hook::{allow, deny};
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// How long the hook waits for a held call when the caller names no `wait`: under
/// Claude Code's hook timeout.
pub const DEFAULT_HOOK_WAIT: Duration = Duration::from_secs(50);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HookQuery {
    /// How long to wait for a held call, e.g. `50s` (the default).
    pub wait: Option<String>,
}

/// Claude Code's PreToolUse hook input; the answer is its `hookSpecificOutput`.
#[utoipa::path(post, path = "/hooks/claude-code", params(HookQuery),
    request_body(content = Object, description = "Claude Code's PreToolUse hook input"),
    responses((status = 200, description = "Always: `hookSpecificOutput` with `permissionDecision` `allow` or `deny`", body = Object)))]
pub async fn claude_code(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    Query(query): Query<HookQuery>,
    body: Bytes,
) -> Json<Value> {
    Json(match decide(&state, caller, query, &body).await {
        Ok(decision) => decision,
        Err(reason) => deny(&format!("holdpoint: {reason}")),
    })
}

async fn decide(
    state: &AppState,
    caller: Result<Caller, ApiError>,
    query: HookQuery,
    body: &[u8],
) -> Result<Value, String> {
    let caller = caller.map_err(|e| e.message)?;
    let wait = match query.wait.as_deref() {
        None => DEFAULT_HOOK_WAIT,
        Some(text) => parse_wait(Some(text)).map_err(|e| e.message)?,
    };
    let input: Value =
        serde_json::from_slice(body).map_err(|e| format!("malformed hook input: {e}"))?;
    let action = holdpoint_hook::action_of(&input).map_err(|e| e.to_string())?;
    let ctx = SurfaceContext {
        surface: holdpoint_hook::SURFACE.into(),
        extra: Some(action.context),
        executes: false,
    };
    let ruling = state
        .gate
        .decide(&caller.0, action.request, ctx, wait, std::future::pending())
        .await
        .map_err(|e| e.to_string())?;
    Ok(match ruling {
        Ruling::Proceed(record) => {
            let reason = state.gate.masker().mask_text(&record.verdict.reason);
            allow(&format!("{reason} ({})", record.id))
        }
        Ruling::Held(record) => {
            let reason = state.gate.masker().mask_text(&record.verdict.reason);
            deny(&format!(
                "held for approval as {} ({reason}); once a reviewer approves it, repeat the \
                 same call and it will pass",
                record.id
            ))
        }
        Ruling::Refused { reason, .. } => deny(&reason),
    })
}
