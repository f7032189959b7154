//! What the API shows of an action: masked resource and params, masked free text, and
//! `proceed`.

use chrono::{DateTime, Utc};
use holdpoint_core::mask::Masker;
use holdpoint_core::{ActionRecord, Decision, Principal, Requirement, Status, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionView {
    pub id: String,
    pub status: Status,
    pub proceed: bool,
    pub principal: Principal,
    pub kind: String,
    /// Masked: a secret in it is `@kind:xxxx@`.
    pub resource: String,
    pub environment: String,
    /// Masked.
    #[schema(value_type = Object)]
    pub params: Value,
    /// Masked.
    pub justification: String,
    /// What the surface tells reviewers (an MCP tool that changed since it was listed),
    /// masked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub digest: String,
    pub surface: String,
    pub verdict: Verdict,
    pub hold: Option<HoldView>,
    /// The approved action this one passed on, if any.
    pub granted_by: Option<String>,
    /// On an approved single-use action: what used the approval (this action's own id
    /// when it was handed to the requester), if it was used.
    pub consumed_by: Option<String>,
    /// On an approved single-use action: when the approval lapses if unused.
    pub approval_until: Option<DateTime<Utc>>,
    /// Until when an approved `@grant` window stays open.
    pub grant_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoldView {
    pub title: String,
    pub requirements: Vec<Requirement>,
    pub expires_at: DateTime<Utc>,
    pub reviews: Vec<ReviewView>,
    pub separate: bool,
    pub grant_window_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub reviewer: Principal,
    pub decision: Decision,
    /// Masked.
    pub comment: String,
    pub channel: String,
    pub at: DateTime<Utc>,
}

impl ActionView {
    /// The view of an answer: `proceed` as the gate decided it for this caller.
    pub fn answer(answer: &holdpoint_gate::Answer, masker: &dyn Masker) -> Self {
        ActionView {
            proceed: answer.proceed,
            ..ActionView::new(&answer.record, masker)
        }
    }

    /// The view of a record as anyone but its collecting requester sees it.
    pub fn new(record: &ActionRecord, masker: &dyn Masker) -> Self {
        ActionView {
            id: record.id.to_string(),
            status: record.status,
            proceed: record.proceed(),
            principal: record.principal.clone(),
            kind: record.kind.clone(),
            resource: record.shown_resource(masker),
            environment: record.environment.clone(),
            params: record.masked_params.clone(),
            justification: masker.mask_text(&record.justification),
            notes: holdpoint_core::review_request::notes_of(record, masker),
            digest: record.digest.clone(),
            surface: record.surface.clone(),
            verdict: Verdict {
                reason: masker.mask_text(&record.verdict.reason),
                ..record.verdict.clone()
            },
            hold: record.hold.as_ref().map(|h| HoldView {
                title: masker.mask_text(&h.title),
                requirements: h.requirements.clone(),
                expires_at: h.expires_at,
                reviews: h
                    .reviews
                    .iter()
                    .map(|r| ReviewView {
                        reviewer: r.reviewer.clone(),
                        decision: r.decision,
                        comment: masker.mask_text(&r.comment),
                        channel: r.channel.clone(),
                        at: r.at,
                    })
                    .collect(),
                separate: h.separate,
                grant_window_secs: h.grant_window.map(|d| d.as_secs()),
            }),
            granted_by: record.granted_by.as_ref().map(|i| i.to_string()),
            consumed_by: record.consumed_by.as_ref().map(|i| i.to_string()),
            approval_until: record.approval_until,
            grant_until: record.grant_until,
            created_at: record.created_at,
            decided_at: record.decided_at,
        }
    }
}
