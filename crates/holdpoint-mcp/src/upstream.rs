//! The upstream MCP server: a command the proxy starts, or a remote streamable-HTTP URL;
//! and [`Relay`], the proxy's client side, which passes what the upstream tells the agent
//! (notifications) through, and what it asks of it (sampling, elicitation, roots): for a
//! gateway-hosted upstream only as `asks.rs` allows, beside the agent as it is.

use crate::asks::{Asked, HostedAsks};
use crate::redact::Redactor;
use crate::relay::{ProgressMap, forward};
use crate::tools::ToolCache;
use rmcp::model::{ClientInfo, ClientResult, ServerNotification, ServerRequest};
use rmcp::service::{
    ClientInitializeError, NotificationContext, RequestContext, RoleClient, RoleServer,
    RunningService,
};
use rmcp::transport::TokioChildProcess;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use rmcp::{ErrorData as McpError, Peer, Service, ServiceExt};
use std::sync::Arc;
use std::time::Duration;

/// How long an upstream may take to start and answer `initialize`.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variables every upstream command gets from the gateway, besides the ones
/// its configuration names: what a program needs to find itself and run.
pub const BASE_ENV: [&str; 6] = ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR"];

/// Where the upstream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A program started for each session, speaking MCP on its stdio. `env` is its whole
    /// environment, unless `inherit_env`.
    Command {
        program: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
        inherit_env: bool,
    },
    /// A streamable-HTTP MCP server, sent `headers` on every request.
    Remote {
        url: String,
        headers: Vec<(String, String)>,
    },
}

impl Target {
    /// The credentials this target is given, which the agent must never see.
    pub fn secrets(&self) -> Redactor {
        match self {
            Target::Command { env, .. } => Redactor::new(
                env.iter()
                    .filter(|(name, _)| !BASE_ENV.contains(&name.as_str()))
                    .cloned(),
            ),
            Target::Remote { headers, .. } => Redactor::new(headers.iter().cloned()),
        }
    }
}

/// The proxy's client side of one upstream session.
pub struct Relay {
    pub name: String,
    /// The agent's session: what the upstream asks and tells is passed to it.
    pub agent: Peer<RoleServer>,
    /// The `initialize` parameters presented to the upstream: the agent's own beside the
    /// agent; for a hosted upstream, only what its configuration allows.
    pub info: ClientInfo,
    /// For a gateway-hosted upstream: how its requests to the client are judged.
    pub hosted: Option<Arc<HostedAsks>>,
    /// Upstream progress tokens → the agent's, for calls the agent made.
    pub progress_to_agent: ProgressMap,
    /// Agent progress tokens → the upstream's, for requests the upstream made.
    pub progress_to_upstream: ProgressMap,
    pub tools: Arc<ToolCache>,
    pub redactor: Arc<Redactor>,
}

pub type Connection = RunningService<RoleClient, Relay>;

/// Why the upstream could not be started or reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the MCP server `{name}` did not start: cannot start `{program}`: {error}")]
    Spawn {
        name: String,
        program: String,
        error: std::io::Error,
    },
    #[error("the MCP server `{name}` did not start: bad header name `{header}`")]
    HeaderName { name: String, header: String },
    /// The value is a credential: it is not repeated.
    #[error("the MCP server `{name}` did not start: a header value is not valid in HTTP")]
    HeaderValue { name: String },
    #[error("the MCP server `{name}` did not start: {error}")]
    Handshake {
        name: String,
        /// Boxed: rmcp's error is large, and this one is rare.
        error: Box<ClientInitializeError>,
    },
    #[error(
        "the MCP server `{name}` did not answer `initialize` within {}s",
        HANDSHAKE_TIMEOUT.as_secs()
    )]
    Timeout { name: String },
}

/// Starts (or reaches) the upstream and completes its handshake.
pub async fn connect(target: &Target, relay: Relay) -> Result<Connection, ConnectError> {
    let name = relay.name.clone();
    let running = async {
        match target {
            Target::Command {
                program,
                args,
                env,
                inherit_env,
            } => {
                let mut command = tokio::process::Command::new(program);
                command.args(args);
                if !inherit_env {
                    command.env_clear();
                }
                command.envs(env.iter().map(|(k, v)| (k, v)));
                // The agent's gateway token is no upstream's business.
                command.env_remove("HOLDPOINT_TOKEN");
                let (transport, stderr) = TokioChildProcess::builder(command)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|error| ConnectError::Spawn {
                        name: name.clone(),
                        program: program.clone(),
                        error,
                    })?;
                if let Some(stderr) = stderr {
                    tokio::spawn(pass_stderr(stderr, relay.redactor.clone()));
                }
                relay
                    .serve(transport)
                    .await
                    .map_err(|error| ConnectError::Handshake {
                        name: name.clone(),
                        error: Box::new(error),
                    })
            }
            Target::Remote { url, headers } => {
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                for (header, value) in headers {
                    let header_name = header.parse().map_err(|_| ConnectError::HeaderName {
                        name: name.clone(),
                        header: header.clone(),
                    })?;
                    let value = value
                        .parse()
                        .map_err(|_| ConnectError::HeaderValue { name: name.clone() })?;
                    config.custom_headers.insert(header_name, value);
                }
                let transport =
                    StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
                relay
                    .serve(transport)
                    .await
                    .map_err(|error| ConnectError::Handshake {
                        name: name.clone(),
                        error: Box::new(error),
                    })
            }
        }
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, running).await {
        Ok(connected) => connected,
        Err(_) => Err(ConnectError::Timeout { name }),
    }
}

/// The upstream's own log lines, on the proxy's stderr with its credentials redacted.
async fn pass_stderr(stderr: tokio::process::ChildStderr, redactor: Arc<Redactor>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let mut out = tokio::io::stderr();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = format!("{}\n", redactor.text(&line));
        if out.write_all(line.as_bytes()).await.is_err() {
            break;
        }
    }
}

impl Service<RoleClient> for Relay {
    async fn handle_request(
        &self,
        request: ServerRequest,
        context: RequestContext<RoleClient>,
    ) -> Result<ClientResult, McpError> {
        if let Some(hosted) = &self.hosted {
            match hosted.judge(&request, &self.agent, &context.ct).await? {
                Asked::Answer(answer) => return Ok(answer),
                Asked::Forward => {}
            }
        }
        // Sampling and elicitation carry the upstream's text to the agent: redacted too.
        let request = self
            .redactor
            .message(request)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        forward(
            &self.agent,
            request,
            context.meta,
            &context.ct,
            &self.progress_to_upstream,
            "the MCP client",
        )
        .await
    }

    async fn handle_notification(
        &self,
        notification: ServerNotification,
        _context: NotificationContext<RoleClient>,
    ) -> Result<(), McpError> {
        let notification = match notification {
            ServerNotification::ProgressNotification(mut n) => {
                match self.progress_to_agent.readdress(n.params) {
                    Some(params) => n.params = params,
                    None => return Ok(()),
                }
                ServerNotification::ProgressNotification(n)
            }
            ServerNotification::ToolListChangedNotification(n) => {
                self.tools.forget();
                ServerNotification::ToolListChangedNotification(n)
            }
            // Ids of the upstream's own requests are not the agent's: a cancellation of
            // one is handled by the request's forwarding, not passed on.
            ServerNotification::CancelledNotification(_) => return Ok(()),
            other => other,
        };
        let notification = self
            .redactor
            .message(notification)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        // A closed agent session ends the upstream session too; nothing to add here.
        let _ = self.agent.send_notification(notification).await;
        Ok(())
    }

    fn get_info(&self) -> ClientInfo {
        self.info.clone()
    }
}
