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

/// What policy evaluation returns for one action. A hold always carries its terms and
/// nothing else does: the constructors are the only way to build one, and each sets the
/// verdict's outcome to match.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    verdict: Verdict,
    terms: Option<HoldTerms>,
}

impl Evaluation {
    /// Denied, with no policy behind it (an error, a malformed part, nothing permits).
    pub fn deny(reason: impl Into<String>) -> Self {
        Evaluation::deny_by(reason, Vec::new())
    }

    /// Denied by `policies` (the forbids that matched, or those that failed).
    pub fn deny_by(reason: impl Into<String>, policies: Vec<String>) -> Self {
        Evaluation {
            verdict: Verdict::deny(reason, policies),
            terms: None,
        }
    }

    /// Allowed at once by `policies`.
    pub fn allow(reason: impl Into<String>, policies: Vec<String>) -> Self {
        Evaluation {
            verdict: Verdict {
                outcome: Outcome::Allow,
                policies,
                reason: reason.into(),
            },
            terms: None,
        }
    }

    /// Held by `policies` on `terms`; the reason shown is the terms' title.
    pub fn hold(terms: HoldTerms, policies: Vec<String>) -> Self {
        Evaluation {
            verdict: Verdict {
                outcome: Outcome::Hold,
                policies,
                reason: terms.title.clone(),
            },
            terms: Some(terms),
        }
    }

    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    pub fn outcome(&self) -> Outcome {
        self.verdict.outcome
    }

    /// The terms of a hold; `Some` exactly when the outcome is `hold`.
    pub fn terms(&self) -> Option<&HoldTerms> {
        self.terms.as_ref()
    }

    pub fn into_parts(self) -> (Verdict, Option<HoldTerms>) {
        (self.verdict, self.terms)
    }

    /// The same evaluation with its reason rewritten (masked, say).
    pub fn map_reason(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.verdict.reason = f(&self.verdict.reason);
        self
    }

    /// The same evaluation with its terms rewritten; only a hold has terms to rewrite.
    pub fn map_terms(mut self, f: impl FnOnce(HoldTerms) -> HoldTerms) -> Self {
        self.terms = self.terms.map(f);
        self
    }
}
