//! [`ToolViews`]: the gateway's own view of the tools of each server it hosts
//! (`[[mcp]]`), so a call that `holdpoint mcp` (the stdio proxy, which runs beside the
//! agent with the agent's token) submits for a server of the same name is judged by the
//! annotations and pinned to the fingerprint the gateway itself listed, never by what
//! its caller says.
//!
//! The view is the gateway's own `tools/list`: a session of its own with the upstream,
//! through a [`Proxy`] on an in-memory pipe (so the upstream is started, reached and
//! redacted exactly as for an agent's session, and no agent's capabilities or answers
//! reach it), closed once the list is read. It is listed again when older than
//! [`VIEW_TTL`], and when a caller's fingerprint differs from it (a hint that the tool
//! changed, never trusted: the gateway's own listing decides); a tool whose fingerprint
//! changed since is audited (`tool.changed`).

use crate::config::HostedUpstream;
use crate::gatekeeper::Gatekeeper;
use crate::tools::{Listed, ToolCache};
use crate::{Keepers, Proxy, ProxyConfig};
use rmcp::ServiceExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long one listing of a hosted server stands.
pub const VIEW_TTL: Duration = Duration::from_secs(60);

/// The longest the gateway's own listing may take, start to end.
const LIST_TIMEOUT: Duration = Duration::from_secs(60);

struct View {
    config: Arc<ProxyConfig>,
    tools: Arc<ToolCache>,
    /// When the tools were last listed; held while listing, so one lists at a time.
    listed_at: Mutex<Option<Instant>>,
}

/// The gateway's view of each hosted server, by name.
#[derive(Default)]
pub struct ToolViews {
    servers: HashMap<String, View>,
}

/// Why the gateway could not list a server it hosts: the call is then not made.
#[derive(Debug, thiserror::Error)]
#[error("holdpoint could not list the tools of the MCP server `{server}` it hosts: {error}")]
pub struct ViewError {
    pub server: String,
    pub error: String,
}

impl ToolViews {
    pub fn new(upstreams: &[HostedUpstream]) -> Arc<Self> {
        let servers = upstreams
            .iter()
            .map(|u| {
                let view = View {
                    config: Arc::new(u.proxy.clone()),
                    tools: Arc::default(),
                    listed_at: Mutex::new(None),
                };
                (u.proxy.name.clone(), view)
            })
            .collect();
        Arc::new(ToolViews { servers })
    }

    /// True when the gateway hosts `server`.
    pub fn knows(&self, server: &str) -> bool {
        self.servers.contains_key(server)
    }

    /// `tool` of the hosted `server` as the gateway lists it (`None`: not listed), or
    /// `None` for a server the gateway does not host. `keeper` is who the listing is
    /// asked for (its changes are audited as theirs).
    pub async fn listed(
        &self,
        server: &str,
        tool: &str,
        keeper: Arc<dyn Gatekeeper>,
        hint: Option<&str>,
    ) -> Option<Result<Option<Listed>, ViewError>> {
        let view = self.servers.get(server)?;
        Some(view.listed(tool, keeper, hint).await)
    }
}

impl View {
    async fn listed(
        &self,
        tool: &str,
        keeper: Arc<dyn Gatekeeper>,
        hint: Option<&str>,
    ) -> Result<Option<Listed>, ViewError> {
        let mut listed_at = self.listed_at.lock().await;
        let stale = listed_at.is_none_or(|at| at.elapsed() >= VIEW_TTL);
        let known = self.tools.listed(tool);
        let differs = hint.is_some_and(|hint| {
            known
                .as_ref()
                .and_then(|k| k.as_ref())
                .map(|l| l.fingerprint.as_str())
                != Some(hint)
        });
        if stale || known.is_none() || differs {
            self.tools.forget();
            let listing = list(self.config.clone(), keeper, self.tools.clone());
            match tokio::time::timeout(LIST_TIMEOUT, listing).await {
                Ok(Ok(())) => *listed_at = Some(Instant::now()),
                Ok(Err(error)) => return Err(self.error(error)),
                Err(_) => return Err(self.error("it did not answer in time".into())),
            }
        }
        Ok(self.tools.listed(tool).flatten())
    }

    fn error(&self, error: String) -> ViewError {
        ViewError {
            server: self.config.name.clone(),
            error,
        }
    }
}

/// One listing: a session of the gateway's own through a proxy on a pipe, every page.
async fn list(
    config: Arc<ProxyConfig>,
    keeper: Arc<dyn Gatekeeper>,
    tools: Arc<ToolCache>,
) -> Result<(), String> {
    let (proxy_end, client_end) = tokio::io::duplex(1 << 16);
    // It only lists: nothing of it is ever held, so its ends never fire.
    let ends = crate::SessionEnds::alone();
    let proxy = Proxy::with_tools(config, Keepers::Fixed(keeper, ends), tools);
    let serving = tokio::spawn(async move {
        if let Ok(running) = proxy.serve(proxy_end).await {
            let _ = running.waiting().await;
        }
    });
    let listed = async {
        let client = ().serve(client_end).await.map_err(|e| e.to_string())?;
        let listed = client.list_all_tools().await.map_err(|e| e.to_string());
        let _ = client.cancel().await;
        listed.map(|_| ())
    }
    .await;
    // Ends the proxy's session, and with it the upstream it started.
    serving.abort();
    listed
}
