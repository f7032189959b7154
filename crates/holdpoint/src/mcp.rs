//! `holdpoint mcp --name NAME -- CMD ARGS…`: an MCP server on stdio for the agent, and a
//! client of the upstream it starts with CMD. Each tool call is asked of a running
//! gateway (`HOLDPOINT_URL`, `HOLDPOINT_TOKEN` or `--token-file`) through `/v1/mcp/{name}/…`, with
//! `holdpoint_client`.
//!
//! The gateway and the token are checked before the upstream starts, so a wrong URL or
//! token is a clear error at once, not a failed first tool call.
//!
//! Each line from the agent is checked raw before rmcp reads it (`holdpoint_mcp::frames`).
//! The other gated methods (`resources/read`, `prompts/get`, `completion/complete`) are
//! submitted as plain actions (`POST /v1/actions`). This proxy runs beside the agent, as
//! the agent, on a server the agent started: the agent's roots, sampling and elicitation
//! pass through to it (a gateway-hosted server, `/mcp/{name}`, takes none of them).

use crate::cli::Remote;
use crate::exit;
use anyhow::{Context, anyhow};
use async_trait::async_trait;
use holdpoint_client::{ActionView, Client, ClientError, Submission};
use holdpoint_mcp::{
    Changed, Gatekeeper, GatekeeperError, Keepers, Outlook, Proxy, ProxyConfig, Ruling,
    SessionEnds, Target, ToolCall,
};
use rmcp::ServiceExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long `holdpoint mcp` waits, once its client has gone, for held calls to withdraw.
const WITHDRAW_WAIT: Duration = Duration::from_secs(10);

pub struct McpArgs {
    pub name: String,
    pub environment: String,
    pub hold_wait: Duration,
    pub command: Vec<String>,
}

pub async fn run(remote: &Remote, args: McpArgs) -> anyhow::Result<u8> {
    // stdout carries the MCP session; logs go to stderr, where MCP clients keep them.
    crate::serve::init_tracing("warn");
    let remote = remote.resolved()?;
    let token = remote.token.clone().ok_or_else(|| {
        anyhow!(
            "HOLDPOINT_TOKEN is not set (nor --token-file): `holdpoint mcp` asks the gateway \
             about every tool call with it"
        )
    })?;
    let (program, rest) = args.command.split_first().ok_or_else(|| {
        anyhow!("no upstream command: `holdpoint mcp --name NAME -- CMD [ARGS]...`")
    })?;
    let config = ProxyConfig {
        name: args.name.clone(),
        environment: args.environment.clone(),
        hold_wait: args.hold_wait,
        // The upstream is the agent's own process: it gets the agent's environment
        // (minus the gateway token, which no upstream gets).
        target: Target::Command {
            program: program.clone(),
            args: rest.to_vec(),
            env: Vec::new(),
            inherit_env: true,
        },
        // Unused beside the agent: its own capabilities pass through.
        asks: holdpoint_mcp::Asks::default(),
    };
    config.check().map_err(|e| anyhow!(e))?;
    let keeper = ApiGate {
        client: Client::new(&remote.url, &token)?,
        server: args.name.clone(),
        environment: args.environment.clone(),
    };
    keeper.check().await?;
    // The one session's end: the agent closing stdin fires it.
    let ends = SessionEnds::alone();
    let closed = ends.stopper();
    let keepers = Keepers::Fixed(Arc::new(keeper), ends.clone());
    let proxy = Proxy::new(Arc::new(config), keepers);
    let stdio = holdpoint_mcp::frames::guard_stdio(tokio::io::stdin(), tokio::io::stdout(), closed);
    let running =
        (proxy.serve(stdio).await).context("the MCP client did not complete its handshake")?;
    let session = running.waiting().await;
    // Held calls and tasks withdraw their holds before the process exits.
    if !ends.settled(WITHDRAW_WAIT).await {
        tracing::warn!("some held calls could not be withdrawn before exit");
    }
    session.context("the MCP session failed")?;
    Ok(exit::OK)
}

/// The gateway, asked over HTTP with the agent's token.
struct ApiGate {
    client: Client,
    server: String,
    environment: String,
}

/// A failed request as the proxy reports it.
fn described(e: ClientError) -> GatekeeperError {
    match e {
        ClientError::Api {
            status: 401,
            message,
            ..
        } => GatekeeperError::TokenRefused(message),
        ClientError::Api {
            status, message, ..
        } => GatekeeperError::Refused { status, message },
        other => GatekeeperError::Unreachable(other.chain()),
    }
}

impl ApiGate {
    /// Fails with a clear message when the gateway cannot be reached or the token is bad.
    async fn check(&self) -> anyhow::Result<()> {
        self.client
            .mcp_outlooks(&self.server, &json!({"tools": []}))
            .await
            .map_err(|e| anyhow!(described(e)))?;
        Ok(())
    }

    fn ruling(view: ActionView) -> Ruling {
        Ruling {
            comments: view
                .hold
                .iter()
                .flat_map(|h| h.reviews.iter())
                .filter(|r| !r.comment.is_empty())
                .map(|r| format!("{}: {}", r.reviewer.name, r.comment))
                .collect(),
            reviewed: view.proceed
                && (view.granted_by.is_some() || view.status == holdpoint_core::Status::Approved),
            id: view.id,
            status: view.status,
            proceed: view.proceed,
            reason: view.verdict.reason,
        }
    }
}

#[async_trait]
impl Gatekeeper for ApiGate {
    async fn submit(&self, call: &ToolCall) -> Result<Ruling, GatekeeperError> {
        if call.request.kind != holdpoint_mcp::action::KIND {
            // A resource, prompt or completion request: a plain action.
            let submission = Submission {
                kind: call.request.kind.clone(),
                resource: call.request.resource.clone(),
                environment: call.request.environment.clone(),
                params: call.request.params.as_object().cloned().unwrap_or_default(),
                justification: String::new(),
            };
            let view =
                (self.client.submit(&submission, Duration::ZERO).await).map_err(described)?;
            return Ok(Self::ruling(view));
        }
        let tool = mcp_field(call, "tool");
        let body = json!({
            "tool": tool,
            "arguments": call.request.params,
            "annotations": annotations_of(call),
            "fingerprint": call.fingerprint(),
            "changed_from": mcp_field(call, "changed_from"),
            "description": mcp_field(call, "description"),
            "environment": call.request.environment,
        });
        let view = self
            .client
            .mcp_call(&self.server, &body)
            .await
            .map_err(described)?;
        Ok(Self::ruling(view))
    }

    async fn wait(
        &self,
        call: &ToolCall,
        id: &str,
        wait: Duration,
    ) -> Result<Ruling, GatekeeperError> {
        let view = self.client.action(id, wait).await.map_err(described)?;
        let ruling = Self::ruling(view);
        if ruling.status == holdpoint_core::Status::Approved && !ruling.proceed {
            // The gate's one path, remotely: the proxy forwards the call itself, so its
            // resubmission (bound to the digest) takes the approval, once.
            return self.submit(call).await;
        }
        Ok(ruling)
    }

    async fn cancel(&self, id: &str) -> Result<(), GatekeeperError> {
        self.client.cancel(id).await.map_err(described)?;
        Ok(())
    }

    /// Tells the gateway, which audits them for a server it does not host itself.
    async fn tools_changed(
        &self,
        _server: &str,
        changed: &[Changed],
    ) -> Result<(), GatekeeperError> {
        let changed: Vec<Value> = changed
            .iter()
            .map(|c| json!({"tool": c.tool, "before": c.before, "after": c.after}))
            .collect();
        let body = json!({"tools": [], "changed": changed, "environment": self.environment});
        (self.client.mcp_outlooks(&self.server, &body).await).map_err(described)?;
        Ok(())
    }

    async fn outlook(&self, calls: &[ToolCall]) -> Result<Vec<Outlook>, GatekeeperError> {
        let tools: Vec<Value> = calls
            .iter()
            .map(|c| json!({"name": mcp_field(c, "tool"), "annotations": annotations_of(c)}))
            .collect();
        let answer = self
            .client
            .mcp_outlooks(
                &self.server,
                &json!({"tools": tools, "environment": self.environment}),
            )
            .await
            .map_err(described)?;
        if answer.tools.len() != calls.len() {
            return Err(GatekeeperError::ToolCount);
        }
        answer
            .tools
            .into_iter()
            .map(|t| match t.outcome.as_str() {
                "allow" => Ok(Outlook::Allow),
                "hold" => Ok(Outlook::Hold(t.reason)),
                "deny" => Ok(Outlook::Deny(t.reason)),
                other => Err(GatekeeperError::UnknownOutcome(other.to_string())),
            })
            .collect()
    }
}

/// `context.mcp.{field}` of the call, or null.
fn mcp_field(call: &ToolCall, field: &str) -> Value {
    call.context
        .get("mcp")
        .and_then(|mcp| mcp.get(field))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The annotations the call was judged with, as the upstream's hints.
fn annotations_of(call: &ToolCall) -> Value {
    json!({
        "readOnlyHint": mcp_field(call, "readOnlyHint"),
        "destructiveHint": mcp_field(call, "destructiveHint"),
        "idempotentHint": mcp_field(call, "idempotentHint"),
        "openWorldHint": mcp_field(call, "openWorldHint"),
    })
}
