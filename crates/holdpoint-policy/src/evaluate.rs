//! One action → [`Evaluation`]: Cedar's decision read through the annotations.
//!
//! - any evaluation error → deny (fail closed, DESIGN §2.1);
//! - deny with satisfied forbids → deny, with the first forbid's `@reason`;
//! - deny with nothing satisfied → deny, "no policy permits …";
//! - allow where any satisfied permit has `@hold` → hold, every holding permit's terms
//!   combined (a broad permit never cancels a narrower hold);
//! - otherwise allow.

use crate::annotations::HoldSpec;
use crate::{PolicyInput, PolicySet, entities};
use cedar_policy as cedar;
use holdpoint_core::{Evaluation, HoldTerms, Requirement};

impl PolicySet {
    /// Evaluates one action. Never panics; anything that goes wrong is a deny.
    pub fn evaluate(&self, input: &PolicyInput<'_>) -> Evaluation {
        let (request, entities) = match entities::build(input) {
            Ok(built) => built,
            Err(message) => return Evaluation::deny(message),
        };
        let policies = match self.scopes.for_kind(input.kind) {
            Ok(policies) => policies,
            Err(message) => return Evaluation::deny(message),
        };
        // On a fresh stack segment when this thread is low on stack: Cedar would refuse.
        let response = stacker::maybe_grow(EVALUATION_RED_ZONE, EVALUATION_STACK, || {
            self.authorizer
                .is_authorized(&request, &policies, &entities)
        });
        let diagnostics = response.diagnostics();

        let mut errors: Vec<(String, String)> = diagnostics
            .errors()
            .map(|err| match err {
                cedar::AuthorizationError::PolicyEvaluationError(e) => {
                    (e.policy_id().to_string(), describe(e.inner()).to_string())
                }
            })
            .collect();
        if !errors.is_empty() {
            errors.sort_by_key(|(id, _)| self.rank(id));
            let reason = errors
                .first()
                .map(|(id, message)| format!("policy `{id}` failed to evaluate: {message}"))
                .unwrap_or_default();
            let policies = errors.into_iter().map(|(id, _)| id).collect();
            return Evaluation::deny_by(reason, policies);
        }

        let mut reasons: Vec<&str> = diagnostics.reason().map(cedar::PolicyId::as_ref).collect();
        reasons.sort_by_key(|id| self.rank(id));
        match response.decision() {
            cedar::Decision::Deny => self.denied(input, &reasons),
            cedar::Decision::Allow => self.allowed(&reasons),
        }
    }

    fn denied(&self, input: &PolicyInput<'_>, forbids: &[&str]) -> Evaluation {
        let Some(first) = forbids.first() else {
            return Evaluation::deny(format!(
                "no policy permits `{}` on `{}`",
                input.kind, input.resource
            ));
        };
        let reason = self
            .meta(first)
            .and_then(|m| m.reason.clone())
            .unwrap_or_else(|| first.to_string());
        Evaluation::deny_by(reason, forbids.iter().map(|s| s.to_string()).collect())
    }

    fn allowed(&self, permits: &[&str]) -> Evaluation {
        let holds: Vec<(&str, &HoldSpec)> = permits
            .iter()
            .filter_map(|id| {
                self.meta(id)
                    .and_then(|m| m.hold.as_ref())
                    .map(|h| (*id, h))
            })
            .collect();
        match combine(&holds) {
            Some(terms) => {
                Evaluation::hold(terms, holds.iter().map(|(id, _)| id.to_string()).collect())
            }
            None => Evaluation::allow(
                format!("permitted by {}", permits.join(", ")),
                permits.iter().map(|s| s.to_string()).collect(),
            ),
        }
    }
}

/// The stack an evaluation wants left on its thread; with less, it runs on a new segment
/// of [`EVALUATION_STACK`]. Cedar gives up with less than 100 KiB left, and a policy with
/// a few dozen `||` terms takes over a megabyte in a debug build. The gateway's threads
/// are started with more than this (so the segment is rarely needed there).
const EVALUATION_RED_ZONE: usize = 2 * 1024 * 1024;
const EVALUATION_STACK: usize = 16 * 1024 * 1024;

/// What went wrong, in words that quote nothing from the request: Cedar's own messages
/// repeat the values involved (an `ip()` argument, an overflowing number), and the
/// reason is shown to agents and written to the audit log (DESIGN §2.7).
fn describe(error: &cedar::EvaluationError) -> &'static str {
    use cedar::EvaluationError as E;
    match error {
        E::EntityDoesNotExist(_) => "it names an entity that does not exist",
        E::EntityAttrDoesNotExist(_) | E::RecordAttrDoesNotExist(_) => {
            "it reads an attribute the request does not have (test it with `has` first)"
        }
        E::TypeError(_) => "a value has the wrong type for an operation",
        E::IntegerOverflow(_) => "an integer operation overflowed",
        E::FailedExtensionFunctionExecution(_) => {
            "an extension function (`ip`, `decimal`, `datetime`, ...) refused its argument"
        }
        E::FailedExtensionFunctionLookup(_) | E::WrongNumArguments(_) => {
            "an extension function call is malformed"
        }
        E::RecursionLimit(_) => "it is nested too deeply for the evaluator",
        _ => "evaluation failed",
    }
}

/// The terms of several holding permits together: every requirement, the shortest
/// expiry, `separate` if any says so, a grant window only if every one opens one.
fn combine(holds: &[(&str, &HoldSpec)]) -> Option<HoldTerms> {
    let expires = holds.iter().map(|(_, h)| h.expires).min()?;
    let grant = holds
        .iter()
        .map(|(_, h)| h.grant)
        .collect::<Option<Vec<_>>>()
        .and_then(|windows| windows.into_iter().min());
    Some(HoldTerms {
        title: holds
            .iter()
            .map(|(_, h)| h.title.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        requirements: holds
            .iter()
            .map(|(id, h)| Requirement {
                policy: id.to_string(),
                approvers: h.approvers.clone(),
                quorum: h.quorum,
            })
            .collect(),
        expires,
        separate: holds.iter().any(|(_, h)| h.separate),
        grant,
        // The first holding policy that names one.
        slack_channel: holds.iter().find_map(|(_, h)| h.slack_channel.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(expires: u64, separate: bool, grant: Option<u64>) -> HoldSpec {
        HoldSpec {
            title: format!("t{expires}"),
            approvers: vec!["a".into()],
            quorum: 1,
            expires: Duration::from_secs(expires),
            separate,
            grant: grant.map(Duration::from_secs),
            slack_channel: None,
        }
    }

    #[test]
    fn combine_takes_the_strictest_terms() {
        assert!(combine(&[]).is_none());
        let a = spec(600, false, Some(300));
        let b = spec(1800, true, Some(60));
        let c = spec(60, false, None);
        let ab = combine(&[("a", &a), ("b", &b)]).unwrap();
        assert_eq!(ab.title, "t600; t1800");
        assert_eq!(ab.expires, Duration::from_secs(600));
        assert!(ab.separate);
        assert_eq!(ab.grant, Some(Duration::from_secs(60)));
        assert_eq!(ab.requirements.len(), 2);
        let ac = combine(&[("a", &a), ("c", &c)]).unwrap();
        assert_eq!(ac.grant, None);
        assert!(!ac.separate);
        assert_eq!(ac.expires, Duration::from_secs(60));
    }
}
