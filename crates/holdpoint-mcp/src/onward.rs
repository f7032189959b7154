//! [`Onward`]: one session's way on to its upstream, owned, so that a call can go on
//! from a task after the request that made it has been answered (see `tasks.rs`):
//! forwarding with the answer redacted, and knowing the upstream's tools as listed, so an
//! approved call reaches only the tool that was reviewed.

use crate::action::ToolCall;
use crate::calls;
use crate::gatekeeper::Gatekeeper;
use crate::redact::Redactor;
use crate::relay::{ProgressMap, failure, forward};
use crate::tools::{Listed, ToolCache};
use rmcp::model::{
    ClientRequest, GetTaskResultParams, ListToolsResult, Meta, PaginatedRequestParams, ServerResult,
};
use rmcp::service::RoleClient;
use rmcp::{ErrorData as McpError, Peer};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Why a request was not forwarded: it (or its task) was cancelled before it was sent.
const NEVER_SENT: &str = "cancelled by the client before it was sent";

/// True when `error` says the request never reached the upstream.
pub fn never_sent(error: &McpError) -> bool {
    error.message == NEVER_SENT
}

#[derive(Clone)]
pub struct Onward {
    /// The upstream's name in `mcp/{name}/…`.
    pub name: String,
    pub peer: Peer<RoleClient>,
    pub tools: Arc<ToolCache>,
    pub redactor: Arc<Redactor>,
    pub progress_to_agent: ProgressMap,
    /// Fires when the agent's session ends: nothing is forwarded after.
    pub ended: CancellationToken,
}

impl Onward {
    pub fn who(&self) -> String {
        format!("the MCP server `{}`", self.name)
    }

    /// Forwards a request upstream and redacts the answer; nothing is forwarded once the
    /// session has ended or the request (or its task) was cancelled.
    pub async fn forward(
        &self,
        request: ClientRequest,
        meta: Meta,
        ct: &CancellationToken,
    ) -> Result<ServerResult, McpError> {
        if self.ended.is_cancelled() {
            return Err(McpError::invalid_request("the MCP session ended", None));
        }
        if ct.is_cancelled() {
            return Err(McpError::internal_error(NEVER_SENT, None));
        }
        let answer = forward(
            &self.peer,
            request,
            meta,
            ct,
            &self.progress_to_agent,
            &self.who(),
        )
        .await
        .map_err(|e| self.redact_error(e))?;
        self.redactor
            .message(answer)
            .map_err(|e| McpError::internal_error(e.to_string(), None))
    }

    pub fn redact_error(&self, mut error: McpError) -> McpError {
        error.message = self.redactor.text(&error.message).into();
        if let Some(data) = error.data.take() {
            error.data = self.redactor.message(data).ok();
        }
        error
    }

    /// Remembers a page of tools; tools that changed since the last listing are audited.
    pub async fn remember(
        &self,
        tools: &[rmcp::model::Tool],
        keeper: &dyn Gatekeeper,
    ) -> Result<(), McpError> {
        let changed = self.tools.remember(tools);
        if changed.is_empty() {
            return Ok(());
        }
        keeper
            .tools_changed(&self.name, &changed)
            .await
            .map_err(|e| {
                McpError::internal_error(format!("holdpoint could not audit the tools: {e}"), None)
            })
    }

    /// The tool as the upstream lists it, asking it when no fresh list was seen.
    pub async fn listed(
        &self,
        tool: &str,
        keeper: &dyn Gatekeeper,
    ) -> Result<Option<Listed>, McpError> {
        if let Some(known) = self.tools.listed(tool) {
            return Ok(known);
        }
        let mut cursor = None;
        loop {
            let page: ListToolsResult = self
                .peer
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

    /// A `tools/call` the gate let go on: when it goes on a reviewer's approval, the tool
    /// is listed again first and must have the fingerprint that was reviewed.
    pub async fn call(
        &self,
        request: ClientRequest,
        action: &ToolCall,
        reviewed: bool,
        keeper: &dyn Gatekeeper,
        meta: Meta,
        ct: &CancellationToken,
    ) -> Result<ServerResult, McpError> {
        if reviewed {
            let ClientRequest::CallToolRequest(call) = &request else {
                return Err(McpError::internal_error("not a tools/call request", None));
            };
            let name = &call.params.name;
            self.tools.forget();
            let now = self.listed(name, keeper).await?;
            if now.as_ref().map(|l| l.fingerprint.as_str()) != action.fingerprint() {
                return Ok(ServerResult::CallToolResult(calls::changed_since_review(
                    name,
                )));
            }
        }
        self.forward(request, meta, ct).await
    }

    /// The result of the upstream's own task `task_id`, waited for (`tasks/result`).
    pub async fn task_result(
        &self,
        task_id: String,
        ct: &CancellationToken,
    ) -> Result<ServerResult, McpError> {
        let request = ClientRequest::GetTaskResultRequest(rmcp::model::GetTaskResultRequest::new(
            GetTaskResultParams {
                meta: None,
                task_id,
            },
        ));
        self.forward(request, Meta::default(), ct).await
    }
}
