//! The MCP surface over HTTP, mounted by the app on the gateway's server.
//! - `/mcp/{name}`: each `[[mcp]]` upstream, served over streamable HTTP to agents that
//!   authenticate with their bearer token. Each agent session gets its own upstream
//!   session, closed when the agent's ends or idles out (and its held calls withdrawn).
//!   Each message is checked raw (`frames.rs`) before rmcp reads it.
//! - `POST /v1/mcp/{server}/calls` and `POST /v1/mcp/{server}/tools`: what `holdpoint mcp`
//!   (the stdio proxy, which runs beside the agent) asks the gateway for each call and
//!   each tool list.

use crate::config::HostedUpstream;
use crate::ending::EndingSessions;
use crate::tools::Listed;
use crate::views::ToolViews;
use crate::{Gatekeeper, Keepers, LocalGate, Outlook, Proxy, SessionEnds, Sessions};
use axum::Router;
use axum::extract::{FromRef, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use holdpoint_api::{ActionView, ApiError, ApiJson, Caller, ErrorBody, McpOutlook, McpOutlooks};
use holdpoint_core::Principal;
use holdpoint_gate::{Answer, Gate};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `POST /v1/mcp/{server}/calls` and `/tools`, for the API's OpenAPI document. For a
/// server in `views` (one the gateway hosts), a tool's annotations and fingerprint come
/// from the gateway's own listing, never from the caller.
pub fn api_routes<S>(views: Arc<ToolViews>) -> OpenApiRouter<S>
where
    Arc<Gate>: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    OpenApiRouter::new()
        .routes(routes!(submit_call))
        .routes(routes!(tool_outlooks))
        .layer(Extension(views))
}

/// The annotations of `tool` and how the call is pinned: by the gateway's own listing
/// for a server it hosts, else by the caller's word (`said`: annotations, fingerprint).
async fn judged_by(
    views: &ToolViews,
    keeper: &LocalGate,
    server: &str,
    tool: &str,
    said: (Option<Value>, Option<String>),
) -> Result<(Option<Value>, Option<Listed>), ApiError> {
    let keeper: Arc<dyn Gatekeeper> = Arc::new(keeper.clone());
    match views.listed(server, tool, keeper, said.1.as_deref()).await {
        None => {
            let (annotations, fingerprint) = said;
            let pin = fingerprint.map(|fingerprint| Listed {
                annotations: None,
                fingerprint,
                description: None,
                changed_from: None,
                runs_as_task: false,
            });
            Ok((annotations, pin))
        }
        Some(Ok(listed)) => Ok((listed.as_ref().and_then(|l| l.annotations.clone()), listed)),
        Some(Err(e)) => Err(ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            e.to_string(),
        )),
    }
}

/// `/mcp/{name}` for each upstream, each request authenticated by its bearer token.
/// Cancelling the stop token of `ends` ends every MCP session (and its upstream), so open
/// event streams do not hold a shutdown up, and withdraws their holds: wait for
/// [`SessionEnds::settled`] before closing the store.
pub fn hosted_routes<S>(
    gate: &Arc<Gate>,
    upstreams: &[HostedUpstream],
    ends: &Arc<SessionEnds>,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let mut router = Router::new();
    if upstreams.is_empty() {
        return router;
    }
    for upstream in upstreams {
        let config = Arc::new(upstream.proxy.clone());
        let gate = gate.clone();
        let per_principal = Sessions::new(upstream.max_sessions, ends.clone());
        let mut sessions = LocalSessionManager::default();
        sessions.session_config.keep_alive = Some(upstream.idle_timeout);
        // Every request carries a bearer token checked before it reaches the session, so
        // a page a browser was tricked into (DNS rebinding) has nothing to send: the
        // gateway may be reached under any host name.
        let mut http = StreamableHttpServerConfig::default().disable_allowed_hosts();
        http.cancellation_token = ends.token();
        let service = StreamableHttpService::new(
            move || {
                Ok(Proxy::new(
                    config.clone(),
                    Keepers::PerCaller(gate.clone(), per_principal.clone()),
                ))
            },
            Arc::new(EndingSessions::new(sessions, ends.clone())),
            http,
        );
        router = router.route_service(&format!("/mcp/{}", upstream.proxy.name), service);
    }
    let owners = Arc::new(SessionOwners::default());
    router
        .route_layer(axum::middleware::from_fn(crate::frames::checked))
        .route_layer(axum::middleware::from_fn_with_state(
            (gate.clone(), owners, ends.clone()),
            authenticate,
        ))
}

/// Which principal opened each MCP session: a session id is honoured only for it, so a
/// leaked id lets no one else read the session's stream, post to it or close it.
#[derive(Debug, Default)]
struct SessionOwners(Mutex<HashMap<String, Principal>>);

/// Ids remembered at most; past it the oldest are forgotten wholesale (their sessions
/// then answer 404 and their clients start new ones).
const MAX_REMEMBERED_SESSIONS: usize = 100_000;

const SESSION_HEADER: &str = "mcp-session-id";

impl SessionOwners {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Principal>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Authenticates `/mcp/…` requests: only agents and users, each counted against its rate;
/// a session id only from the principal that opened it. The identity rides along in the
/// request for the proxy.
async fn authenticate(
    State((gate, owners, ends)): State<(Arc<Gate>, Arc<SessionOwners>, Arc<SessionEnds>)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match <Caller as axum::extract::FromRequestParts<Arc<Gate>>>::from_request_parts(
        &mut parts, &gate,
    )
    .await
    {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    let identity = match holdpoint_gate::may_submit(&caller.0).map(|()| &caller.0) {
        Ok(identity) => identity.clone(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(id) = &session
        && owners.lock().get(id) != Some(&identity.principal)
    {
        return ApiError::new(axum::http::StatusCode::NOT_FOUND, "no such MCP session")
            .into_response();
    }
    let principal = identity.principal.clone();
    let closing = parts.method == axum::http::Method::DELETE;
    parts.extensions.insert(identity);
    let response = next.run(Request::from_parts(parts, body)).await;
    match (&session, response.headers().get(SESSION_HEADER)) {
        (None, Some(opened)) => {
            if let Ok(opened) = opened.to_str() {
                let mut owners = owners.lock();
                if owners.len() >= MAX_REMEMBERED_SESSIONS {
                    owners.clear();
                }
                owners.insert(opened.to_string(), principal);
            }
        }
        (Some(id), _) if closing && response.status().is_success() => {
            owners.lock().remove(id);
            // Its held calls are withdrawn now, not when rmcp has drained them.
            ends.end(id);
        }
        _ => {}
    }
    response
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpCallBody {
    pub tool: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub arguments: Option<Map<String, Value>>,
    /// The tool's `annotations` from `tools/list`, as the upstream gave them. Ignored
    /// for a server the gateway hosts: its own listing says.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub annotations: Option<Value>,
    /// Ignored for a server the gateway hosts, as `annotations` are. The tool's fingerprint from `tools/list` (`sha256:…`), which the call is pinned to.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Ignored for a server the gateway hosts. The fingerprint the tool had in the
    /// listing before, when it changed since: reviewers are told so.
    #[serde(default)]
    pub changed_from: Option<String>,
    /// With `changed_from`: what the tool's description now says (at most 300
    /// characters are shown).
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub environment: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpToolsBody {
    #[serde(default)]
    pub environment: String,
    pub tools: Vec<McpTool>,
    /// Tools whose fingerprint changed between two listings the stdio proxy saw, audited
    /// as `tool.changed` for a server the gateway does not host (it keeps its own view of
    /// the ones it does, and ignores these).
    #[serde(default)]
    pub changed: Vec<McpChangedTool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpChangedTool {
    pub tool: String,
    /// `sha256:…`
    pub before: String,
    /// `sha256:…`
    pub after: String,
}

/// A tool fingerprint as `fingerprint` writes it: `sha256:` and 64 hex digits.
fn is_fingerprint(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The longest tool name the gateway takes from the stdio proxy.
const MAX_TOOL_NAME: usize = 256;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpTool {
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub annotations: Option<Value>,
}

/// The most tools one `POST /v1/mcp/{server}/tools` may ask about.
const MAX_TOOLS: usize = 1000;

#[utoipa::path(post, path = "/v1/mcp/{server}/calls", params(("server" = String, Path)),
    request_body = McpCallBody,
    responses((status = 200, description = "The action, as submitted: allowed, denied or pending", body = ActionView),
              (status = 401, description = "No or bad token", body = ErrorBody),
              (status = 403, description = "Admin tokens submit nothing", body = ErrorBody),
              (status = 422, description = "Not a valid action", body = ErrorBody)))]
pub async fn submit_call(
    State(gate): State<Arc<Gate>>,
    Extension(views): Extension<Arc<ToolViews>>,
    caller: Caller,
    Path(server): Path<String>,
    ApiJson(body): ApiJson<McpCallBody>,
) -> Result<Json<ActionView>, ApiError> {
    let identity = holdpoint_gate::may_submit(&caller.0).map(|()| &caller.0)?;
    let keeper = LocalGate {
        gate: gate.clone(),
        caller: identity.clone(),
    };
    // `fingerprint` is not checked: for a hosted server it is only a hint.
    if let Some(before) = &body.changed_from
        && !is_fingerprint(before)
    {
        return Err(ApiError::invalid(format!(
            "`changed_from` `{}` is not a tool fingerprint (sha256: and 64 hex digits)",
            before.chars().take(80).collect::<String>()
        )));
    }
    let hosted = views.knows(&server);
    let said = (body.annotations, body.fingerprint);
    let (annotations, pin) = judged_by(&views, &keeper, &server, &body.tool, said).await?;
    let call = crate::tool_call(
        &server,
        &body.tool,
        body.arguments.unwrap_or_default(),
        annotations.as_ref(),
        &body.environment,
    );
    let mut call = match pin {
        Some(pin) => pin.pin(call),
        None => call,
    };
    if let (false, Some(_)) = (hosted, &body.changed_from) {
        let said = crate::tools::shown(body.description.as_deref());
        let tool = call.request.resource.clone();
        let source = ", as `holdpoint mcp` beside the agent reports it";
        call = call.noted(crate::tools::changed_note(&tool, &said, source));
    }
    let record = gate
        .submit(
            identity,
            call.request.clone(),
            crate::surface_context(&call),
        )
        .await?;
    Ok(Json(ActionView::answer(
        &Answer::plain(record),
        gate.masker().as_ref(),
    )))
}

#[utoipa::path(post, path = "/v1/mcp/{server}/tools", params(("server" = String, Path)),
    request_body = McpToolsBody,
    responses((status = 200, description = "What policy says of each tool for the caller", body = McpOutlooks),
              (status = 401, description = "No or bad token", body = ErrorBody),
              (status = 403, description = "Admin tokens submit nothing", body = ErrorBody),
              (status = 422, description = "Too many tools", body = ErrorBody)))]
pub async fn tool_outlooks(
    State(gate): State<Arc<Gate>>,
    Extension(views): Extension<Arc<ToolViews>>,
    caller: Caller,
    Path(server): Path<String>,
    ApiJson(body): ApiJson<McpToolsBody>,
) -> Result<Json<McpOutlooks>, ApiError> {
    let identity = holdpoint_gate::may_submit(&caller.0).map(|()| &caller.0)?;
    if body.tools.len() > MAX_TOOLS || body.changed.len() > MAX_TOOLS {
        return Err(ApiError::invalid(format!(
            "{} tools and {} changed; at most {MAX_TOOLS} of each per request",
            body.tools.len(),
            body.changed.len()
        )));
    }
    let keeper = LocalGate {
        gate,
        caller: identity.clone(),
    };
    if !body.changed.is_empty() && !views.knows(&server) {
        let mut changed = Vec::with_capacity(body.changed.len());
        for c in body.changed {
            if c.tool.len() > MAX_TOOL_NAME
                || !is_fingerprint(&c.before)
                || !is_fingerprint(&c.after)
            {
                return Err(ApiError::invalid(
                    "a changed tool needs a name of at most 256 bytes and two fingerprints \
                     (sha256: and 64 hex digits)",
                ));
            }
            changed.push(crate::tools::Changed {
                tool: c.tool,
                before: c.before,
                after: c.after,
            });
        }
        keeper
            .tools_changed(&server, &changed)
            .await
            .map_err(|e| ApiError::invalid(e.to_string()))?;
    }
    let mut calls = Vec::with_capacity(body.tools.len());
    for t in &body.tools {
        let said = (t.annotations.clone(), None);
        let (annotations, _) = judged_by(&views, &keeper, &server, &t.name, said).await?;
        calls.push(crate::tool_call(
            &server,
            &t.name,
            Map::new(),
            annotations.as_ref(),
            &body.environment,
        ));
    }
    let outlooks = keeper
        .outlook(&calls)
        .await
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let tools = body
        .tools
        .into_iter()
        .zip(outlooks)
        .map(|(tool, outlook)| {
            let (outcome, reason) = match outlook {
                Outlook::Allow => ("allow", String::new()),
                Outlook::Hold(reason) => ("hold", reason),
                Outlook::Deny(reason) => ("deny", reason),
            };
            McpOutlook {
                name: tool.name,
                outcome: outcome.into(),
                reason,
            }
        })
        .collect();
    Ok(Json(McpOutlooks { tools }))
}
