//! `POST /hooks/claude-code`: Claude Code's PreToolUse hook, over HTTP, mounted by the
//! app on the gateway's server. The body is the hook input; the answer is always 200
//! with an explicit decision, `deny` on any error (a bad token, malformed input, a body
//! over [`MAX_HOOK_INPUT`], a store that cannot write): the hook fails closed. (Claude
//! Code treats any other status as a hook that failed, and without `onFailure: "block"`
//! lets the call run.)

use crate::{HookError, SURFACE, action_of, allow, deny};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRef, Query, State};
use axum::{Extension, Json};
use futures::StreamExt;
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

/// The largest hook input read; a larger one is denied (with a 200).
pub const MAX_HOOK_INPUT: usize = 1024 * 1024;
/// How much of a larger body is read and dropped before the denial is sent, so that the
/// client is not cut off while it still sends (and sees an error instead of the deny).
const MAX_DRAINED: usize = 64 * 1024 * 1024;

/// The gateway's own files: a path inside one of these folders is marked
/// `holdpoint_file` (the starter policies refuse agents any access to it).
#[derive(Debug, Clone, Default)]
pub struct OwnFiles(pub Vec<String>);

/// `POST /hooks/claude-code`, for the API's router and OpenAPI document, marking paths
/// inside `own` (the gateway's data folder).
pub fn routes<S>(own: OwnFiles) -> OpenApiRouter<S>
where
    Arc<Gate>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::new()
        .routes(routes!(claude_code))
        // The body is read here, within its own limit, so that a large one is a deny.
        .layer(DefaultBodyLimit::disable())
        .layer(Extension(own))
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
    #[error("the hook input is larger than {} KiB", MAX_HOOK_INPUT / 1024)]
    TooLarge,
    #[error("the hook input could not be read: {0}")]
    Unreadable(axum::Error),
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
    query: Result<Query<HookQuery>, axum::extract::rejection::QueryRejection>,
    own: Option<Extension<OwnFiles>>,
    body: Body,
) -> Json<Value> {
    let own = own.map(|Extension(own)| own).unwrap_or_default();
    let body = read_body(body).await;
    let query = query
        .map(|Query(q)| q)
        .map_err(|e| Refusal::Request(ApiError::malformed(e.body_text())));
    Json(match decide(&gate, caller, query, body, &own).await {
        Ok(decision) => decision,
        Err(refusal) => deny(&format!("holdpoint: {refusal}")),
    })
}

/// The body, up to [`MAX_HOOK_INPUT`]; a larger one is read on (up to [`MAX_DRAINED`])
/// and dropped.
async fn read_body(body: Body) -> Result<Vec<u8>, Refusal> {
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Refusal::Unreadable)?;
        seen = seen.saturating_add(chunk.len());
        if seen > MAX_DRAINED {
            break;
        }
        if seen <= MAX_HOOK_INPUT {
            kept.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_HOOK_INPUT {
        return Err(Refusal::TooLarge);
    }
    Ok(kept)
}

async fn decide(
    gate: &Gate,
    caller: Result<Caller, ApiError>,
    query: Result<HookQuery, Refusal>,
    body: Result<Vec<u8>, Refusal>,
    own: &OwnFiles,
) -> Result<Value, Refusal> {
    let caller = caller.map_err(Refusal::Request)?;
    let query = query?;
    let body = body?;
    let wait = match query.wait.as_deref() {
        None => DEFAULT_HOOK_WAIT,
        Some(text) => parse_wait(Some(text)).map_err(Refusal::Request)?,
    };
    let input: Value = serde_json::from_slice(&body).map_err(Refusal::Malformed)?;
    let mut action = action_of(&input)?;
    let searches = input.get("tool_name").and_then(Value::as_str) == Some("Grep");
    mark_own_files(&mut action.context, own, searches);
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

/// Sets `holdpoint_file` on the context (and on each part's) whose `path` lies inside one
/// of the gateway's own folders: each absolute folder normalized as the paths are (`//`,
/// `/./`, `..`, a trailing `/`), and compared in lower case too (a case-insensitive
/// filesystem). A relative folder cannot be placed here; the app also passes the folder's
/// real path. For a content search (`searches`: Grep), a folder that holds one of them is
/// marked too: searching it would read the admin token.
fn mark_own_files(context: &mut serde_json::Map<String, Value>, own: &OwnFiles, searches: bool) {
    let dirs: Vec<String> = (own.0.iter())
        .filter(|dir| dir.starts_with('/'))
        .map(|dir| crate::normalize("/", dir))
        .collect();
    let within = |path: &str, dir: &str| path == dir || path.starts_with(&format!("{dir}/"));
    let inside = |path: Option<&Value>| {
        let Some(path) = path.and_then(Value::as_str) else {
            return false;
        };
        let lower = path.to_lowercase();
        (dirs.iter()).any(|dir| within(path, dir) || within(&lower, &dir.to_lowercase()))
    };
    let holds_one = |path: Option<&Value>| {
        let Some(path) = path.and_then(Value::as_str) else {
            return false;
        };
        let lower = path.to_lowercase();
        path == "/"
            || (dirs.iter()).any(|dir| within(dir, path) || within(&dir.to_lowercase(), &lower))
    };
    if inside(context.get("path")) || (searches && holds_one(context.get("path"))) {
        context.insert("holdpoint_file".into(), Value::Bool(true));
    }
    let parts = context.get_mut(holdpoint_gate::PARTS_KEY);
    for part in parts.and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(part_context) = part.get_mut("context").and_then(Value::as_object_mut)
            && inside(part_context.get("path"))
        {
            part_context.insert("holdpoint_file".into(), Value::Bool(true));
        }
    }
}
