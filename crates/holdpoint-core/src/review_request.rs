//! [`ReviewRequest`]: the masked view of a held action that every channel renders.

use crate::mask::Masker;
use crate::{ActionRecord, Decision, Principal, Requirement, Status};
use serde::Serialize;
use serde_json::Value;

/// The context key a surface sets to a list of texts for reviewers (an MCP tool that
/// changed since it was listed): shown, masked, with the request on every channel.
pub const NOTES_KEY: &str = "notes";

/// The notes of `record` for reviewers, masked.
pub fn notes_of(record: &ActionRecord, masker: &dyn Masker) -> Vec<String> {
    record
        .context
        .as_ref()
        .and_then(|c| c.get(NOTES_KEY))
        .and_then(Value::as_array)
        .map(|notes| {
            notes
                .iter()
                .filter_map(Value::as_str)
                .map(|n| masker.mask_text(n))
                .collect()
        })
        .unwrap_or_default()
}

/// One review so far, masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewLine {
    pub reviewer: Principal,
    pub decision: Decision,
    pub comment: String,
    pub channel: String,
    /// When it was given (RFC 3339).
    pub at: String,
}

/// What a reviewer is asked: what the agent wants to do, why, and with which parameters.
///
/// Masked, but not escaped: every text field except `action_id`, `digest` and `link`
/// comes from the agent (or a reviewer) and is untrusted. Each channel escapes it for its
/// own markup (HTML, Slack mrkdwn, Teams cards) and makes control characters inert
/// ([`crate::text::inert`] for terminals), never trusting it to be plain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewRequest {
    pub action_id: String,
    pub status: Status,
    pub title: String,
    pub requester: Principal,
    pub owner: Option<String>,
    pub kind: String,
    pub resource: String,
    pub environment: String,
    pub params: Value,
    pub justification: String,
    /// What the surface tells reviewers about the action (`context.notes`), masked.
    pub notes: Vec<String>,
    pub reason: String,
    pub requirements: Vec<Requirement>,
    pub expires_at: Option<String>,
    pub reviews: Vec<ReviewLine>,
    pub digest: String,
    /// The action's page in the web inbox (`{public_url}/actions/{id}`), if a public URL
    /// is configured.
    pub link: Option<String>,
    /// The Slack channel its policy names (`@slack_channel`), if any.
    pub slack_channel: Option<String>,
}

impl ReviewRequest {
    /// Builds the masked view. `public_url` is the gateway's address for links.
    pub fn new(record: &ActionRecord, masker: &dyn Masker, public_url: Option<&str>) -> Self {
        let hold = record.hold.as_ref();
        ReviewRequest {
            action_id: record.id.to_string(),
            status: record.status,
            title: masker
                .mask_text(hold.map_or(record.verdict.reason.as_str(), |h| h.title.as_str())),
            requester: record.principal.clone(),
            owner: record.owner.clone(),
            kind: record.kind.clone(),
            resource: record.shown_resource(masker),
            environment: record.environment.clone(),
            // Masked again: whatever masked it at submit time, nothing raw leaves here.
            params: masker.mask_value(&record.masked_params),
            justification: masker.mask_text(&record.justification),
            notes: notes_of(record, masker),
            reason: masker.mask_text(&record.verdict.reason),
            requirements: hold.map(|h| h.requirements.clone()).unwrap_or_default(),
            expires_at: hold.map(|h| {
                h.expires_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }),
            reviews: hold
                .map(|h| {
                    h.reviews
                        .iter()
                        .map(|r| ReviewLine {
                            reviewer: r.reviewer.clone(),
                            decision: r.decision,
                            comment: masker.mask_text(&r.comment),
                            channel: r.channel.clone(),
                            at: r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            digest: record.digest.clone(),
            link: public_url.map(|u| format!("{}/actions/{}", u.trim_end_matches('/'), record.id)),
            slack_channel: hold.and_then(|h| h.slack_channel.clone()),
        }
    }

    /// The message as plain text, for chat fallbacks, e-mail and the CLI.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{title}\n{requester} wants {kind} on {resource} ({env})\n",
            title = self.title,
            requester = self.requester,
            kind = self.kind,
            resource = self.resource,
            env = if self.environment.is_empty() {
                "no environment"
            } else {
                &self.environment
            },
        );
        if !self.justification.is_empty() {
            out.push_str(&format!("why: {}\n", self.justification));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        let params = serde_json::to_string_pretty(&self.params).unwrap_or_default();
        out.push_str(&format!("params: {params}\n"));
        for r in &self.requirements {
            out.push_str(&format!(
                "needs {} approval(s) from {} ({})\n",
                r.quorum,
                r.approvers.join(", "),
                r.policy
            ));
        }
        if let Some(expires) = &self.expires_at {
            out.push_str(&format!("expires {expires}\n"));
        }
        for r in &self.reviews {
            out.push_str(&format!("{} {:?}: {}\n", r.reviewer, r.decision, r.comment));
        }
        out.push_str(&format!("id {} · digest {}\n", self.action_id, self.digest));
        if let Some(link) = &self.link {
            out.push_str(&format!("review: {link}\n"));
        }
        out
    }
}
