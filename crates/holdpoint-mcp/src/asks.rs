//! What a gateway-hosted upstream may take from, and ask of, the agent's side.
//!
//! A hosted upstream runs with the gateway's power (its credentials, its host), so the
//! agent must not configure it. Its `initialize` is presented with none of the agent's
//! capabilities except those [`Asks`] turns on: `roots` only when the `[[mcp]]` section
//! lists them (served by the proxy itself, never by the agent), `sampling` and
//! `elicitation` only with `allow_sampling` and `allow_elicitation` (and only when the
//! agent's client can do them). What the upstream asks is then judged here:
//! - `ping` is answered by the proxy;
//! - `roots/list` is answered with the configured roots, or refused when there are none;
//! - `sampling/createMessage` and `elicitation/create` are refused unless turned on, and
//!   when on each is an action (`mcp.sampling`, `mcp.elicitation` on
//!   `mcp/{server}/client`) that passes the gate before it reaches the agent;
//! - anything else is refused.
//!
//! The stdio proxy (`holdpoint mcp`) runs beside the agent, as the agent, on a server
//! the agent started itself: there the agent's capabilities and answers pass through.

use crate::calls::{self, Gated, Progress};
use crate::gatekeeper::Gatekeeper;
use crate::methods::{ELICITATION, SAMPLING, ask, params_of};
use rmcp::model::{
    ClientCapabilities, ClientInfo, ClientResult, ErrorCode, ListRootsResult, Root,
    RootsCapabilities, ServerRequest,
};
use rmcp::service::RoleServer;
use rmcp::{ErrorData as McpError, Peer};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the `[[mcp]]` section lets a hosted upstream have from the client side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asks {
    /// The roots served to the upstream's `roots/list` (`file://` URIs); `None`: it is
    /// told of no roots capability and gets none.
    pub roots: Option<Vec<String>>,
    /// `allow_sampling`: `sampling/createMessage` reaches the agent, as `mcp.sampling`.
    pub sampling: bool,
    /// `allow_elicitation`: `elicitation/create` reaches the agent, as `mcp.elicitation`.
    pub elicitation: bool,
}

impl Asks {
    /// The agent's `initialize` parameters as a hosted upstream sees them: its protocol
    /// revision and name, and only the capabilities this configuration turns on.
    pub fn client_info(&self, agent: &ClientInfo) -> ClientInfo {
        let mut capabilities = ClientCapabilities::default();
        if self.roots.is_some() {
            capabilities.roots = Some(RootsCapabilities {
                list_changed: Some(false),
            });
        }
        if self.sampling {
            capabilities.sampling = agent.capabilities.sampling.clone();
        }
        if self.elicitation {
            capabilities.elicitation = agent.capabilities.elicitation.clone();
        }
        let mut info = agent.clone();
        info.meta = None;
        info.capabilities = capabilities;
        info
    }
}

/// How a hosted upstream's requests to the client are judged, for one session.
pub struct HostedAsks {
    pub asks: Asks,
    pub server: String,
    pub environment: String,
    pub keeper: Arc<dyn Gatekeeper>,
    pub hold_wait: Duration,
    /// Fires when the agent's session ends: a held request is withdrawn.
    pub ended: CancellationToken,
    /// Where a request waiting at the gate counts as in flight.
    pub ends: Option<Arc<crate::SessionEnds>>,
}

/// What becomes of one request of the upstream.
pub enum Asked {
    /// Answered by the proxy.
    Answer(ClientResult),
    /// Passed the gate: forward it to the agent.
    Forward,
}

fn refused(method: &str, why: &str) -> McpError {
    McpError::new(
        ErrorCode::METHOD_NOT_FOUND,
        format!("holdpoint: this server may not ask the client for `{method}`: {why}"),
        None,
    )
}

impl HostedAsks {
    /// Judges `request`; `agent` is the agent's session, `ct` the request's cancellation.
    pub async fn judge(
        &self,
        request: &ServerRequest,
        agent: &Peer<RoleServer>,
        ct: &CancellationToken,
    ) -> Result<Asked, McpError> {
        let (kind, method, params) = match request {
            ServerRequest::PingRequest(_) => return Ok(Asked::Answer(ClientResult::empty(()))),
            ServerRequest::ListRootsRequest(_) => {
                return match &self.asks.roots {
                    Some(roots) => Ok(Asked::Answer(ClientResult::ListRootsResult(
                        ListRootsResult::new(roots.iter().map(Root::new).collect()),
                    ))),
                    None => Err(refused(
                        "roots/list",
                        "its [[mcp]] section gives no `roots`",
                    )),
                };
            }
            ServerRequest::CreateMessageRequest(r) if self.asks.sampling => {
                (SAMPLING, "sampling/createMessage", params_of(&r.params))
            }
            ServerRequest::CreateElicitationRequest(r) if self.asks.elicitation => {
                (ELICITATION, "elicitation/create", params_of(&r.params))
            }
            ServerRequest::CreateMessageRequest(_) => {
                return Err(refused(
                    "sampling/createMessage",
                    "its [[mcp]] section does not set `allow_sampling`",
                ));
            }
            ServerRequest::CreateElicitationRequest(_) => {
                return Err(refused(
                    "elicitation/create",
                    "its [[mcp]] section does not set `allow_elicitation`",
                ));
            }
            ServerRequest::CustomRequest(custom) => {
                return Err(refused(
                    &crate::methods::shown(&custom.method),
                    "not a request holdpoint passes",
                ));
            }
        };
        let action = ask(&self.server, kind, method, params, &self.environment);
        let progress = Progress {
            peer: agent,
            token: None,
            noted: None,
        };
        let _in_flight = self.ends.as_ref().map(|ends| ends.in_flight());
        match calls::gate(
            self.keeper.as_ref(),
            &action,
            self.hold_wait,
            progress,
            ct,
            &self.ended,
        )
        .await
        {
            Gated::Forward { .. } => Ok(Asked::Forward),
            Gated::Refuse(text) => Err(McpError::invalid_request(text, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn a_hosted_upstream_sees_only_the_capabilities_the_config_turns_on() {
        let agent: ClientInfo = serde_json::from_value(json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"sampling": {}, "roots": {"listChanged": true},
                             "elicitation": {}, "experimental": {"x": {}}},
            "clientInfo": {"name": "editor", "version": "1"}
        }))
        .unwrap();
        let none = Asks::default().client_info(&agent);
        assert_eq!(serde_json::to_value(&none.capabilities).unwrap(), json!({}));
        assert_eq!(none.client_info.name, "editor");
        let some = Asks {
            roots: Some(vec!["file:///srv/data".into()]),
            sampling: true,
            elicitation: false,
        }
        .client_info(&agent);
        assert_eq!(
            serde_json::to_value(&some.capabilities).unwrap(),
            json!({"roots": {"listChanged": false}, "sampling": {}})
        );
    }
}
