//! [`LocalGate`]: the [`Gatekeeper`] of a proxy that runs inside the gateway.

use crate::action::ToolCall;
use crate::gatekeeper::{Gatekeeper, GatekeeperError, Outlook, Ruling};
use crate::tools::Changed;
use async_trait::async_trait;
use holdpoint_core::{ActionId, ActionRecord, EventType, Identity, Outcome, Status};
use holdpoint_gate::{Answer, Gate, SurfaceContext};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The surface name recorded on actions from MCP.
pub const SURFACE: &str = "mcp";

/// The gate, asked as one caller.
#[derive(Clone)]
pub struct LocalGate {
    pub gate: Arc<Gate>,
    pub caller: Identity,
}

/// How a tool call enters the gate.
pub fn surface_context(call: &ToolCall) -> SurfaceContext {
    SurfaceContext {
        surface: SURFACE.into(),
        extra: Some(call.context.clone()),
        // The proxy forwards the call itself, after its own resubmission consumed the
        // approval: reading the approved action hands nothing over.
        executes: true,
    }
}

impl LocalGate {
    /// The ruling on `answer`, masked for the agent.
    pub fn ruling(&self, answer: &Answer) -> Ruling {
        ruling_of(&self.gate, &answer.record, answer.proceed)
    }
}

/// A record as a [`Ruling`], with its reason and review comments masked.
pub fn ruling_of(gate: &Gate, record: &ActionRecord, proceed: bool) -> Ruling {
    let masker = gate.masker();
    Ruling {
        id: record.id.0.clone(),
        status: record.status,
        proceed,
        reviewed: proceed && (record.granted_by.is_some() || record.status == Status::Approved),
        reason: masker.mask_text(&record.verdict.reason),
        comments: record.review_comments(masker.as_ref()),
    }
}

#[async_trait]
impl Gatekeeper for LocalGate {
    async fn submit(&self, call: &ToolCall) -> Result<Ruling, GatekeeperError> {
        let record = self
            .gate
            .submit(&self.caller, call.request.clone(), surface_context(call))
            .await?;
        Ok(self.ruling(&Answer::plain(record)))
    }

    async fn wait(
        &self,
        _call: &ToolCall,
        id: &str,
        wait: Duration,
    ) -> Result<Ruling, GatekeeperError> {
        // The gate's one wait step: an approval is taken here, by the proxy's own
        // resubmission (bound to the digest, once), or by this read when the hold was
        // first opened by a surface whose client executes it.
        let ruling = self
            .gate
            .follow(&self.caller, &ActionId(id.to_string()), wait, true)
            .await?;
        let proceed = matches!(ruling, holdpoint_gate::Ruling::Proceed(_));
        Ok(ruling_of(&self.gate, ruling.record(), proceed))
    }

    async fn cancel(&self, id: &str) -> Result<(), GatekeeperError> {
        self.gate
            .cancel(&self.caller, &ActionId(id.to_string()), SURFACE)
            .await?;
        Ok(())
    }

    async fn tools_changed(
        &self,
        server: &str,
        changed: &[Changed],
    ) -> Result<(), GatekeeperError> {
        let events = changed
            .iter()
            .map(|c| {
                let data = json!({"server": server, "tool": c.tool,
                                  "before": c.before, "after": c.after});
                (EventType::ToolChanged, data)
            })
            .collect();
        self.gate
            .record_surface_events(&self.caller, SURFACE, events)
            .await?;
        Ok(())
    }

    async fn outlook(&self, calls: &[ToolCall]) -> Result<Vec<Outlook>, GatekeeperError> {
        Ok(calls
            .iter()
            .map(|call| {
                match self
                    .gate
                    .check(&self.caller, &call.request, &surface_context(call))
                {
                    Err(e) => Outlook::Deny(e.to_string()),
                    Ok(evaluation) => {
                        let (verdict, _) = evaluation.into_parts();
                        match verdict.outcome {
                            Outcome::Allow => Outlook::Allow,
                            Outcome::Hold => Outlook::Hold(verdict.reason),
                            Outcome::Deny => Outlook::Deny(verdict.reason),
                        }
                    }
                }
            })
            .collect())
    }
}
