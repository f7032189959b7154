//! [`Proxy`]: the MCP server the agent talks to, one per agent session. `initialize`
//! starts the upstream session with the agent's own parameters; `tools/list` and
//! `tools/call` pass the gate; every other request and notification is forwarded as it
//! is, both ways.

use crate::action::{ToolCall, tool_call};
use crate::calls::{self, Gated, Progress};
use crate::gatekeeper::{Gatekeeper, Outlook};
use crate::local::LocalGate;
use crate::redact::Redactor;
use crate::relay::{ProgressMap, failure, forward};
use crate::sessions::{SessionSlot, Sessions};
use crate::tools::{Listed, ToolCache};
use crate::upstream::{self, Connection, Relay, Target};
use holdpoint_core::{Identity, Principal};
use holdpoint_gate::Gate;
use rmcp::model::{
    CallToolRequestParams, ClientNotification, ClientRequest, InitializeResult, ListToolsResult,
    PaginatedRequestParams, ServerInfo, ServerResult,
};
use rmcp::service::{NotificationContext, RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, Service};
use serde_json::Map;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Methods the proxy judges itself; they never pass through as custom requests.
const GATED: [&str; 3] = ["initialize", "tools/list", "tools/call"];

/// One upstream as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The name in `mcp/{name}/{tool}` and `/mcp/{name}`.
    pub name: String,
    /// The environment of every action from this upstream.
    pub environment: String,
    /// How long a held call waits for its decision before it returns as pending.
    pub hold_wait: Duration,
    pub target: Target,
}

/// What is wrong with a [`ProxyConfig`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyConfigError {
    #[error("bad MCP server name `{0}`: use letters, digits, `-` or `_` (at most 64)")]
    BadName(String),
    #[error("`hold_wait` is at most 1h")]
    HoldWaitTooLong,
}

/// The longest a held call may wait: MCP clients time a tool call out long before.
pub const MAX_HOLD_WAIT: Duration = Duration::from_secs(3600);

impl ProxyConfig {
    /// Refuses a name that is not one resource segment (it is also a URL path segment)
    /// and a `hold_wait` over [`MAX_HOLD_WAIT`].
    pub fn check(&self) -> Result<(), ProxyConfigError> {
        let name = &self.name;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(ProxyConfigError::BadName(name.clone()));
        }
        if self.hold_wait > MAX_HOLD_WAIT {
            return Err(ProxyConfigError::HoldWaitTooLong);
        }
        Ok(())
    }
}

/// Who asks the gate: a fixed gatekeeper (`holdpoint mcp`, one token), or the gate itself
/// asked as the caller each HTTP request authenticated as (`/mcp/{name}`).
#[derive(Clone)]
pub enum Keepers {
    Fixed(Arc<dyn Gatekeeper>),
    /// The gate, and the sessions each principal holds open on this upstream.
    PerCaller(Arc<Gate>, Arc<Sessions>),
}

pub struct Proxy {
    config: Arc<ProxyConfig>,
    keepers: Keepers,
    upstream: OnceCell<Connection>,
    /// The principal that opened the session; every later request must be theirs.
    owner: OnceLock<Principal>,
    /// This session's place among its principal's sessions (gateway-hosted only).
    slot: OnceLock<SessionSlot>,
    tools: Arc<ToolCache>,
    progress_to_agent: ProgressMap,
    progress_to_upstream: ProgressMap,
    redactor: Arc<Redactor>,
}

impl Proxy {
    pub fn new(config: Arc<ProxyConfig>, keepers: Keepers) -> Self {
        let redactor = Arc::new(config.target.secrets());
        Proxy {
            config,
            keepers,
            upstream: OnceCell::new(),
            owner: OnceLock::new(),
            slot: OnceLock::new(),
            tools: Arc::default(),
            progress_to_agent: ProgressMap::default(),
            progress_to_upstream: ProgressMap::default(),
            redactor,
        }
    }

    /// A proxy that remembers the upstream's tools in `tools`: the gateway's own view
    /// of a server it hosts ([`crate::ToolViews`]).
    pub fn with_tools(config: Arc<ProxyConfig>, keepers: Keepers, tools: Arc<ToolCache>) -> Self {
        Proxy {
            tools,
            ..Proxy::new(config, keepers)
        }
    }

    fn who(&self) -> String {
        format!("the MCP server `{}`", self.config.name)
    }

    /// The gatekeeper for this request: for `/mcp/{name}`, the caller its HTTP request
    /// authenticated as, who must be the session's owner.
    fn keeper(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<Arc<dyn Gatekeeper>, McpError> {
        match &self.keepers {
            Keepers::Fixed(keeper) => Ok(keeper.clone()),
            Keepers::PerCaller(gate, _) => {
                let caller = context
                    .extensions
                    .get::<http::request::Parts>()
                    .and_then(|parts| parts.extensions.get::<Identity>())
                    .ok_or_else(|| McpError::invalid_request("no authenticated caller", None))?;
                let owner = self.owner.get_or_init(|| caller.principal.clone());
                if *owner != caller.principal {
                    return Err(McpError::invalid_request(
                        "this MCP session belongs to another principal",
                        None,
                    ));
                }
                Ok(Arc::new(LocalGate {
                    gate: gate.clone(),
                    caller: caller.clone(),
                }))
            }
        }
    }

    fn connection(&self) -> Result<&Connection, McpError> {
        self.upstream
            .get()
            .ok_or_else(|| McpError::invalid_request("the session is not initialized", None))
    }

    async fn initialize(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        self.keeper(&context)?;
        if let (Keepers::PerCaller(_, sessions), Some(owner)) = (&self.keepers, self.owner.get())
            && self.slot.get().is_none()
        {
            let slot = sessions
                .open(owner)
                .map_err(|e| McpError::invalid_request(e.to_string(), None))?;
            let _ = self.slot.set(slot);
        }
        let ClientRequest::InitializeRequest(init) = request else {
            return Err(McpError::internal_error("not an initialize request", None));
        };
        let relay = Relay {
            name: self.config.name.clone(),
            agent: context.peer.clone(),
            info: init.params,
            progress_to_agent: self.progress_to_agent.clone(),
            progress_to_upstream: self.progress_to_upstream.clone(),
            tools: self.tools.clone(),
            redactor: self.redactor.clone(),
        };
        let connection = self
            .upstream
            .get_or_try_init(|| upstream::connect(&self.config.target, relay))
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let info: InitializeResult = connection
            .peer_info()
            .map(|info| (*info).clone())
            .ok_or_else(|| {
                McpError::internal_error(format!("{} sent no server info", self.who()), None)
            })?;
        let info = self
            .redactor
            .message(info)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ServerResult::InitializeResult(info))
    }

    async fn list_tools(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        let keeper = self.keeper(&context)?;
        let answer = self.forward(request, &context).await?;
        let ServerResult::ListToolsResult(mut list) = answer else {
            return Ok(answer);
        };
        self.remember(&list.tools, keeper.as_ref()).await?;
        let calls: Vec<ToolCall> = list
            .tools
            .iter()
            .map(|tool| self.call_of(&tool.name, Map::new(), Some(&Listed::of(tool))))
            .collect();
        let outlooks = keeper.outlook(&calls).await.map_err(|e| {
            McpError::internal_error(format!("holdpoint could not check the tools: {e}"), None)
        })?;
        let tools = std::mem::take(&mut list.tools);
        list.tools = tools
            .into_iter()
            .zip(outlooks)
            .filter_map(|(mut tool, outlook)| match outlook {
                Outlook::Allow => Some(tool),
                Outlook::Deny(_) => None,
                Outlook::Hold(reason) => {
                    let said = tool.description.as_deref().unwrap_or_default();
                    tool.description = Some(
                        format!("[held for human approval: {reason}] {said}")
                            .trim_end()
                            .to_string()
                            .into(),
                    );
                    Some(tool)
                }
            })
            .collect();
        Ok(ServerResult::ListToolsResult(list))
    }

    /// The call as an action, pinned to the tool's fingerprint when it is listed.
    fn call_of(
        &self,
        tool: &str,
        arguments: Map<String, serde_json::Value>,
        listed: Option<&Listed>,
    ) -> ToolCall {
        let call = tool_call(
            &self.config.name,
            tool,
            arguments,
            listed.and_then(|l| l.annotations.as_ref()),
            &self.config.environment,
        );
        match listed {
            Some(listed) => listed.pin(call),
            None => call,
        }
    }

    /// Remembers a page of tools; tools that changed since the last listing are audited.
    async fn remember(
        &self,
        tools: &[rmcp::model::Tool],
        keeper: &dyn Gatekeeper,
    ) -> Result<(), McpError> {
        let changed = self.tools.remember(tools);
        if changed.is_empty() {
            return Ok(());
        }
        keeper
            .tools_changed(&self.config.name, &changed)
            .await
            .map_err(|e| {
                McpError::internal_error(format!("holdpoint could not audit the tools: {e}"), None)
            })
    }

    /// The tool as the upstream lists it, asking it when no fresh list was seen.
    async fn listed(
        &self,
        tool: &str,
        keeper: &dyn Gatekeeper,
    ) -> Result<Option<Listed>, McpError> {
        if let Some(known) = self.tools.listed(tool) {
            return Ok(known);
        }
        let connection = self.connection()?;
        let mut cursor = None;
        loop {
            let page: ListToolsResult = connection
                .list_tools(Some(PaginatedRequestParams::default().with_cursor(cursor)))
                .await
                .map_err(|e| failure(e, &self.who()))?;
            self.remember(&page.tools, keeper).await?;
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        Ok(self.tools.listed(tool).flatten())
    }

    async fn call_tool(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        let keeper = self.keeper(&context)?;
        let ClientRequest::CallToolRequest(call) = &request else {
            return Err(McpError::internal_error("not a tools/call request", None));
        };
        let CallToolRequestParams {
            name, arguments, ..
        } = &call.params;
        let listed = self.listed(name, keeper.as_ref()).await?;
        let action = self.call_of(name, arguments.clone().unwrap_or_default(), listed.as_ref());
        let progress = Progress {
            peer: &context.peer,
            token: context.meta.get_progress_token(),
        };
        match calls::gate(
            keeper.as_ref(),
            &action,
            self.config.hold_wait,
            progress,
            &context.ct,
        )
        .await
        {
            Gated::Forward { reviewed } => {
                // An approval passes only the tool that was reviewed: list it again.
                if reviewed {
                    self.tools.forget();
                    let now = self.listed(name, keeper.as_ref()).await?;
                    if now.as_ref().map(|l| l.fingerprint.as_str()) != action.fingerprint() {
                        return Ok(ServerResult::CallToolResult(calls::changed_since_review(
                            name,
                        )));
                    }
                }
                self.forward(request, &context).await
            }
            Gated::Refuse(result) => Ok(ServerResult::CallToolResult(result)),
        }
    }

    /// Forwards a request upstream and redacts the answer.
    async fn forward(
        &self,
        request: ClientRequest,
        context: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        let answer = forward(
            self.connection()?.peer(),
            request,
            context.meta.clone(),
            &context.ct,
            &self.progress_to_agent,
            &self.who(),
        )
        .await
        .map_err(|e| self.redact_error(e))?;
        self.redactor
            .message(answer)
            .map_err(|e| McpError::internal_error(e.to_string(), None))
    }

    fn redact_error(&self, mut error: McpError) -> McpError {
        error.message = self.redactor.text(&error.message).into();
        if let Some(data) = error.data.take() {
            error.data = self.redactor.message(data).ok();
        }
        error
    }
}

impl Service<RoleServer> for Proxy {
    async fn handle_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        match &request {
            ClientRequest::InitializeRequest(_) => self.initialize(request, context).await,
            ClientRequest::ListToolsRequest(_) => self.list_tools(request, context).await,
            ClientRequest::CallToolRequest(_) => self.call_tool(request, context).await,
            // A request rmcp could not read as its typed form arrives as a custom one:
            // a malformed `tools/call` must not reach the upstream past the gate.
            ClientRequest::CustomRequest(custom) if GATED.contains(&custom.method.as_str()) => Err(
                McpError::invalid_params(format!("malformed `{}` request", custom.method), None),
            ),
            _ => {
                self.keeper(&context)?;
                self.forward(request, &context).await
            }
        }
    }

    async fn handle_notification(
        &self,
        notification: ClientNotification,
        _context: NotificationContext<RoleServer>,
    ) -> Result<(), McpError> {
        let notification = match notification {
            // Handled where the request is forwarded; the upstream's handshake already
            // sent its own `initialized`.
            ClientNotification::CancelledNotification(_)
            | ClientNotification::InitializedNotification(_) => return Ok(()),
            ClientNotification::ProgressNotification(mut n) => {
                match self.progress_to_upstream.readdress(n.params) {
                    Some(params) => n.params = params,
                    None => return Ok(()),
                }
                ClientNotification::ProgressNotification(n)
            }
            other => other,
        };
        if let Some(connection) = self.upstream.get() {
            let _ = connection.send_notification(notification).await;
        }
        Ok(())
    }

    fn get_info(&self) -> ServerInfo {
        self.upstream
            .get()
            .and_then(|c| c.peer_info())
            .map(|info| (*info).clone())
            .unwrap_or_default()
    }
}
