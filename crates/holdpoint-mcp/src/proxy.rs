//! [`Proxy`]: the MCP server the agent talks to, one per agent session. `initialize`
//! starts the upstream session (beside the agent with the agent's own parameters; hosted
//! by the gateway with only what `asks.rs` allows); `tools/list` and `tools/call` pass the
//! gate, and so do the methods `methods.rs` gates; other known requests and
//! notifications are forwarded, and unknown ones never are.

use crate::action::{ToolCall, tool_call};
use crate::asks::{Asks, HostedAsks};
use crate::calls::{self, Gated, Progress, Submitted};
use crate::gatekeeper::{Gatekeeper, Outlook};
use crate::local::LocalGate;
use crate::methods::{self, Handling};
use crate::onward::{self, Onward};
use crate::redact::Redactor;
use crate::relay::ProgressMap;
use crate::sessions::{SessionEnds, SessionSlot, Sessions};
use crate::tasks::{self, Tasks};
use crate::tools::{Listed, ToolCache};
use crate::upstream::{self, Connection, Relay, Target};
use holdpoint_core::{Identity, Principal};
use holdpoint_gate::Gate;
use rmcp::model::{
    CallToolRequestParams, CancelTaskResult, ClientNotification, ClientRequest, CreateTaskResult,
    GetTaskResult, InitializeResult, JsonObject, ListTasksResult, ServerInfo, ServerResult,
    TaskSupport, TasksCapability, Tool,
};
use rmcp::service::{NotificationContext, RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, Service};
use serde_json::Map;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

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
    /// What a gateway-hosted upstream may have from the client side (unused beside the
    /// agent, where it all passes through).
    pub asks: Asks,
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
    /// One gatekeeper, and the ends of the one session (`holdpoint mcp`): they fire when
    /// the agent closes stdin, so held calls withdraw before the process exits.
    Fixed(Arc<dyn Gatekeeper>, Arc<SessionEnds>),
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
    /// Fires when the agent's session ends: held requests are withdrawn.
    ended: CancellationToken,
    /// The session's id (gateway-hosted), learnt from its first request that carries it.
    session_id: OnceLock<String>,
    /// Held calls the agent made as tasks.
    tasks: Tasks,
}

impl Proxy {
    pub fn new(config: Arc<ProxyConfig>, keepers: Keepers) -> Self {
        let redactor = Arc::new(config.target.secrets());
        let ended = match &keepers {
            Keepers::PerCaller(_, sessions) => sessions.ends.token(),
            Keepers::Fixed(_, ends) => ends.token(),
        };
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
            ended,
            session_id: OnceLock::new(),
            tasks: Tasks::default(),
        }
    }

    fn ends(&self) -> Option<&Arc<SessionEnds>> {
        match &self.keepers {
            Keepers::PerCaller(_, sessions) => Some(&sessions.ends),
            Keepers::Fixed(_, ends) => Some(ends),
        }
    }

    /// Files this session's end token under its id, the first time a request names it.
    fn learn_session(&self, extensions: &rmcp::model::Extensions) {
        if self.session_id.get().is_some() {
            return;
        }
        let id = extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.headers.get("mcp-session-id"))
            .and_then(|v| v.to_str().ok());
        if let (Some(id), Some(ends)) = (id, self.ends())
            && self.session_id.set(id.to_string()).is_ok()
        {
            ends.register(id, &self.ended);
        }
    }

    /// A proxy that remembers the upstream's tools in `tools`: the gateway's own view
    /// of a server it hosts ([`crate::ToolViews`]).
    pub fn with_tools(config: Arc<ProxyConfig>, keepers: Keepers, tools: Arc<ToolCache>) -> Self {
        // `Proxy` has a `Drop`: the cache is set on a new one, not moved out of it.
        let mut proxy = Proxy::new(config, keepers);
        proxy.tools = tools;
        proxy
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
            Keepers::Fixed(keeper, _) => Ok(keeper.clone()),
            Keepers::PerCaller(gate, _) => {
                let caller = context
                    .extensions
                    .get::<http::request::Parts>()
                    .and_then(|parts| parts.extensions.get::<Identity>())
                    .ok_or_else(|| McpError::invalid_request("no authenticated caller", None))?;
                self.learn_session(&context.extensions);
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

    /// The way on to the upstream, once the session is initialized.
    fn onward(&self) -> Result<Onward, McpError> {
        Ok(Onward {
            name: self.config.name.clone(),
            peer: self.connection()?.peer().clone(),
            tools: self.tools.clone(),
            redactor: self.redactor.clone(),
            progress_to_agent: self.progress_to_agent.clone(),
            ended: self.ended.clone(),
        })
    }

    /// Forwards a request upstream (see [`Onward::forward`]).
    async fn forward(
        &self,
        request: ClientRequest,
        context: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        (self.onward()?)
            .forward(request, context.meta.clone(), &context.ct)
            .await
    }

    /// The upstream's own tasks capability, from its `initialize`.
    fn upstream_tasks(&self) -> Option<TasksCapability> {
        self.upstream
            .get()
            .and_then(|c| c.peer_info())
            .and_then(|info| info.capabilities.tasks.clone())
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
        // A hosted upstream takes nothing from the agent's side but what its
        // configuration allows; beside the agent, everything passes.
        let (info, hosted) = match &self.keepers {
            Keepers::Fixed(..) => (init.params, None),
            Keepers::PerCaller(..) => (
                self.config.asks.client_info(&init.params),
                Some(Arc::new(HostedAsks {
                    asks: self.config.asks.clone(),
                    server: self.config.name.clone(),
                    environment: self.config.environment.clone(),
                    keeper: self.keeper(&context)?,
                    hold_wait: self.config.hold_wait,
                    ended: self.ended.clone(),
                    ends: self.ends().cloned(),
                })),
            ),
        };
        let relay = Relay {
            name: self.config.name.clone(),
            agent: context.peer.clone(),
            info,
            hosted,
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
        let mut info = self
            .redactor
            .message(info)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        // The proxy runs any tool call as a task of its own (see `tasks.rs`).
        info.capabilities.tasks = Some(TasksCapability::server_default());
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
        self.onward()?
            .remember(&list.tools, keeper.as_ref())
            .await?;
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
            .filter_map(|(tool, outlook)| match outlook {
                Outlook::Allow => Some(as_task_optional(tool)),
                Outlook::Deny(_) => None,
                Outlook::Hold(reason) => {
                    let mut tool = as_task_optional(tool);
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
            name,
            arguments,
            task,
            ..
        } = &call.params;
        let onward = self.onward()?;
        let listed = onward.listed(name, keeper.as_ref()).await?;
        let action = self.call_of(name, arguments.clone().unwrap_or_default(), listed.as_ref());
        if let Some(asked) = task.clone() {
            let runs_as_task = listed.as_ref().is_some_and(|l| l.runs_as_task)
                && (self.upstream_tasks())
                    .and_then(|t| t.requests)
                    .and_then(|r| r.tools)
                    .and_then(|t| t.call)
                    .is_some();
            return self
                .call_as_task(request, action, asked, runs_as_task, keeper, context)
                .await;
        }
        match self.judged(keeper.as_ref(), &action, &context).await {
            Gated::Forward { reviewed } => {
                let (meta, ct) = (context.meta.clone(), &context.ct);
                (onward.call(request, &action, reviewed, keeper.as_ref(), meta, ct)).await
            }
            Gated::Refuse(text) => Ok(ServerResult::CallToolResult(calls::tool_refusal(text))),
        }
    }

    /// A `tools/call` the agent sent as a task (see `tasks.rs`): answered with a task of
    /// the proxy's own, whatever the gate says. Decided, the task runs the call (or holds
    /// the refusal) at once; held, it follows the hold and makes the call once it is
    /// approved. The upstream sees `params.task` only for a tool it runs as a task itself.
    async fn call_as_task(
        &self,
        mut request: ClientRequest,
        action: ToolCall,
        asked: JsonObject,
        runs_as_task: bool,
        keeper: Arc<dyn Gatekeeper>,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        if let (ClientRequest::CallToolRequest(call), false) = (&mut request, runs_as_task) {
            call.params.task = None;
        }
        let onward = self.onward()?;
        // The task first: a session with no room submits nothing, so it never opens,
        // joins or withdraws a hold.
        let (work, created) = self.tasks.open(&asked)?;
        let ruling = match calls::submit(keeper.as_ref(), &action, &self.ended).await {
            Submitted::Decided(Gated::Refuse(text)) => {
                work.finish(Ok(tasks::refusal(text)), false);
                return Ok(ServerResult::CreateTaskResult(CreateTaskResult::new(
                    self.tasks.get(&work.id)?,
                )));
            }
            Submitted::Decided(Gated::Forward { reviewed }) => Err(reviewed),
            Submitted::Held(ruling) => {
                work.note(&format!(
                    "held for approval as {}: {}",
                    ruling.id, ruling.reason
                ));
                Ok(ruling)
            }
        };
        let created = match &ruling {
            Ok(_) => CreateTaskResult::new(self.tasks.get(&work.id)?),
            Err(_) => created,
        };
        let in_flight = self.ends().map(|ends| ends.in_flight());
        let (ended, peer, meta) = (self.ended.clone(), context.peer.clone(), context.meta);
        tokio::spawn(async move {
            let _in_flight = in_flight;
            let gated = match ruling {
                Err(reviewed) => Gated::Forward { reviewed },
                Ok(ruling) => {
                    let noted = |message: &str| work.note(message);
                    let progress = Progress {
                        peer: &peer,
                        token: None,
                        noted: Some(&noted),
                    };
                    let (ct, wait) = (&work.cancel, None);
                    calls::follow(keeper.as_ref(), &action, ruling, wait, progress, ct, &ended)
                        .await
                }
            };
            let withdrawn = || work.cancel.is_cancelled() || ended.is_cancelled();
            let (answer, withdrawn) = match gated {
                Gated::Refuse(text) => (Ok(tasks::refusal(text)), withdrawn()),
                Gated::Forward { reviewed } => {
                    let made = onward.call(
                        request,
                        &action,
                        reviewed,
                        keeper.as_ref(),
                        meta,
                        &work.cancel,
                    );
                    let answer = match made.await {
                        // The upstream runs the tool as a task of its own: its result.
                        Ok(ServerResult::CreateTaskResult(theirs)) => {
                            onward.task_result(theirs.task.task_id, &work.cancel).await
                        }
                        other => other,
                    };
                    // Cancelled only when the call was never sent; once sent, it may
                    // have run, and the task says how it ended.
                    let unsent = matches!(&answer, Err(e) if onward::never_sent(e));
                    (answer, unsent)
                }
            };
            work.finish(answer, withdrawn);
        });
        Ok(ServerResult::CreateTaskResult(created))
    }

    /// `tasks/get`, `tasks/result`, `tasks/cancel` and `tasks/list`: answered here for the
    /// session's own tasks, forwarded for the upstream's.
    async fn task_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        self.keeper(&context)?;
        match &request {
            ClientRequest::GetTaskInfoRequest(r) if self.tasks.owns(&r.params.task_id) => {
                Ok(ServerResult::GetTaskResult(GetTaskResult {
                    meta: None,
                    task: self.tasks.get(&r.params.task_id)?,
                }))
            }
            ClientRequest::GetTaskResultRequest(r) if self.tasks.owns(&r.params.task_id) => {
                tokio::select! {
                    result = self.tasks.result(&r.params.task_id) => result,
                    () = context.ct.cancelled() => {
                        Err(McpError::internal_error("cancelled by the client", None))
                    }
                }
            }
            ClientRequest::CancelTaskRequest(r) if self.tasks.owns(&r.params.task_id) => {
                Ok(ServerResult::CancelTaskResult(CancelTaskResult {
                    meta: None,
                    task: self.tasks.cancel(&r.params.task_id).await?,
                }))
            }
            ClientRequest::ListTasksRequest(_) => {
                let mut tasks = self.tasks.list();
                if self.upstream_tasks().and_then(|t| t.list).is_some()
                    && let Ok(ServerResult::ListTasksResult(theirs)) =
                        self.forward(request, &context).await
                {
                    tasks.extend(theirs.tasks);
                }
                Ok(ServerResult::ListTasksResult(ListTasksResult::new(tasks)))
            }
            // An upstream with no tasks of its own has none by that id either.
            _ if self.upstream_tasks().is_none() => {
                Err(McpError::invalid_params("no such task", None))
            }
            _ => self.forward(request, &context).await,
        }
    }

    /// A request `methods.rs` gates as `action`: forwarded once the gate lets it, or
    /// answered with the gate's reason as an error.
    async fn gated(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
        action: ToolCall,
    ) -> Result<ServerResult, McpError> {
        let keeper = self.keeper(&context)?;
        match self.judged(keeper.as_ref(), &action, &context).await {
            Gated::Forward { .. } => self.forward(request, &context).await,
            Gated::Refuse(text) => Err(McpError::invalid_request(text, None)),
        }
    }

    /// The gate's answer for `action`, a hold waited for with progress notifications
    /// (counted in flight while it waits, so a stopping gateway waits for its withdrawal).
    async fn judged(
        &self,
        keeper: &dyn Gatekeeper,
        action: &ToolCall,
        context: &RequestContext<RoleServer>,
    ) -> Gated {
        let progress = Progress {
            peer: &context.peer,
            token: context.meta.get_progress_token(),
            noted: None,
        };
        let _in_flight = self.ends().map(|ends| ends.in_flight());
        calls::gate(
            keeper,
            action,
            self.config.hold_wait,
            progress,
            &context.ct,
            &self.ended,
        )
        .await
    }

    /// `resources/list` and `prompts/list`: forwarded; for a hosted upstream, the entries
    /// policy forbids are left out.
    async fn list(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        let keeper = self.keeper(&context)?;
        let answer = self.forward(request, &context).await?;
        if matches!(self.keepers, Keepers::Fixed(..)) {
            return Ok(answer);
        }
        let (name, env) = (&self.config.name, &self.config.environment);
        let denied = async |calls: Vec<ToolCall>| -> Result<Vec<bool>, McpError> {
            let outlooks = keeper.outlook(&calls).await.map_err(|e| {
                McpError::internal_error(format!("holdpoint could not check the list: {e}"), None)
            })?;
            Ok(outlooks
                .into_iter()
                .map(|o| matches!(o, Outlook::Deny(_)))
                .collect())
        };
        match answer {
            ServerResult::ListResourcesResult(mut list) => {
                let calls = (list.resources.iter())
                    .map(|r| methods::resource_read(name, &r.uri, env))
                    .collect();
                let mut denied = denied(calls).await?.into_iter();
                list.resources.retain(|_| !denied.next().unwrap_or(true));
                Ok(ServerResult::ListResourcesResult(list))
            }
            ServerResult::ListPromptsResult(mut list) => {
                let calls = (list.prompts.iter())
                    .map(|p| methods::prompt_get(name, &p.name, Map::new(), env))
                    .collect();
                let mut denied = denied(calls).await?.into_iter();
                list.prompts.retain(|_| !denied.next().unwrap_or(true));
                Ok(ServerResult::ListPromptsResult(list))
            }
            other => Ok(other),
        }
    }
}

impl Service<RoleServer> for Proxy {
    async fn handle_request(
        &self,
        request: ClientRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<ServerResult, McpError> {
        match methods::handling(&request, &self.config.name, &self.config.environment) {
            Handling::Initialize => self.initialize(request, context).await,
            Handling::ListTools => self.list_tools(request, context).await,
            Handling::CallTool => self.call_tool(request, context).await,
            Handling::ListResources | Handling::ListPrompts => self.list(request, context).await,
            Handling::Gated(action) => self.gated(request, context, action).await,
            Handling::Task => self.task_request(request, context).await,
            // A request rmcp could not read as its typed form, or one of no MCP method,
            // never reaches the upstream.
            Handling::Refuse(error) => Err(error),
            Handling::Forward => {
                self.keeper(&context)?;
                self.forward(request, &context).await
            }
        }
    }

    async fn handle_notification(
        &self,
        notification: ClientNotification,
        context: NotificationContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.learn_session(&context.extensions);
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
            // The agent's roots reach only an upstream beside the agent: a hosted one
            // has the roots of its configuration.
            ClientNotification::RootsListChangedNotification(n) => match &self.keepers {
                Keepers::Fixed(..) => ClientNotification::RootsListChangedNotification(n),
                Keepers::PerCaller(..) => return Ok(()),
            },
            // Not a notification MCP's clients send (or a request with a malformed id,
            // which rmcp reads as a notification): dropped.
            ClientNotification::CustomNotification(n) => {
                tracing::debug!(method = %methods::shown(&n.method), "dropped an unknown MCP notification");
                return Ok(());
            }
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

/// A tool as the agent is shown it: one it may call as a task (the proxy runs any call
/// as one), unless the upstream requires it.
fn as_task_optional(mut tool: Tool) -> Tool {
    if tool.task_support() == TaskSupport::Forbidden {
        let mut execution = tool.execution.take().unwrap_or_default();
        execution.task_support = Some(TaskSupport::Optional);
        tool.execution = Some(execution);
    }
    tool
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.ended.cancel();
        if let (Some(id), Some(ends)) = (self.session_id.get(), self.ends()) {
            ends.end(id);
        }
    }
}
