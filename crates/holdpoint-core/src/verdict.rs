//! Policy outcomes: the verdict shown to agents and the terms of a hold.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allow,
    Deny,
    Hold,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Hold => "hold",
        }
    }
}

/// The policy outcome, the policies behind it, and a reason the agent can show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Verdict {
    pub outcome: Outcome,
    pub policies: Vec<String>,
    pub reason: String,
}

impl Verdict {
    pub fn deny(reason: impl Into<String>, policies: Vec<String>) -> Self {
        Verdict {
            outcome: Outcome::Deny,
            policies,
            reason: reason.into(),
        }
    }
}

/// One holding policy's demand: `quorum` distinct humans from any of `approvers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Requirement {
    pub policy: String,
    pub approvers: Vec<String>,
    pub quorum: u32,
}

/// The combined terms of every satisfied holding permit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldTerms {
    /// Titles of the holding policies, joined.
    pub title: String,
    /// One per holding policy; every one must be met.
    pub requirements: Vec<Requirement>,
    /// The shortest `@expires` among them.
    pub expires: Duration,
    /// True when any of them says `@separate`.
    pub separate: bool,
    /// The shortest `@grant` when every one of them has one; otherwise single use.
    pub grant: Option<Duration>,
    /// The Slack channel the first of them that names one (`@slack_channel`) asks in.
    pub slack_channel: Option<String>,
}

/// What policy evaluation returns for one action.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub verdict: Verdict,
    /// Present exactly when `verdict.outcome` is `hold`.
    pub terms: Option<HoldTerms>,
}

impl Evaluation {
    pub fn deny(reason: impl Into<String>) -> Self {
        Evaluation {
            verdict: Verdict::deny(reason, Vec::new()),
            terms: None,
        }
    }
}
