//! Actions with several parts: one statement can read one table, write another and call
//! a function. A surface lists every `(kind, resource)` it touches in `context.parts`
//! ([`PARTS_KEY`]); the gate evaluates each one with the same principal, environment,
//! params and context, and the strictest verdict wins: any deny denies; otherwise any
//! hold holds, with the requirements of every holding part; otherwise it is allowed.
//!
//! A part may carry a `context` of its own (the shell surface gives each command its
//! program and flags): its fields are laid over the action's context for that part's
//! evaluation only.
//!
//! The parts live in the stored context, so every later evaluation of the record (the
//! release re-check, an earlier grant) judges all of them again.

use holdpoint_core::{Evaluation, HoldTerms, Outcome};
use serde_json::{Map, Value};

/// The context key that lists an action's further parts:
/// `[{"kind", "resource", "context"?}, …]`.
pub const PARTS_KEY: &str = "parts";

/// The most parts one action may have; more is refused rather than evaluated.
pub const MAX_PARTS: usize = 256;

/// One part of an action.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub kind: String,
    pub resource: String,
    /// Fields laid over the action's context when this part is judged.
    pub context: Option<Map<String, Value>>,
}

impl Part {
    /// The action's context as this part is judged with it.
    pub fn context_over(&self, extra: Option<&Map<String, Value>>) -> Option<Map<String, Value>> {
        let own = self.context.as_ref()?;
        // The list of parts itself is left out, so each part costs the action's own
        // fields, not every other part again.
        let mut merged: Map<String, Value> = (extra.into_iter().flatten())
            .filter(|(key, _)| key.as_str() != PARTS_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merged.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
        Some(merged)
    }
}

/// The parts listed in `extra`, or an error for a malformed list.
pub fn parts_of(extra: Option<&Map<String, Value>>) -> Result<Vec<Part>, String> {
    let Some(list) = extra.and_then(|e| e.get(PARTS_KEY)) else {
        return Ok(Vec::new());
    };
    let items = list
        .as_array()
        .ok_or_else(|| format!("context.{PARTS_KEY} must be a list"))?;
    if items.len() > MAX_PARTS {
        return Err(format!(
            "an action may have at most {MAX_PARTS} parts, not {}",
            items.len()
        ));
    }
    items
        .iter()
        .map(|item| {
            let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
            let context = match item.get("context") {
                None => None,
                Some(Value::Object(own)) => Some(own.clone()),
                Some(_) => {
                    return Err(format!(
                        "a context of context.{PARTS_KEY} must be an object"
                    ));
                }
            };
            match (field("kind"), field("resource")) {
                (Some(kind), Some(resource)) => {
                    // A part is judged as an action of its own: the same names hold.
                    holdpoint_core::action::validate_kind(&kind)
                        .and_then(|()| holdpoint_core::action::validate_resource(&resource))
                        .map_err(|e| format!("context.{PARTS_KEY}: {e}"))?;
                    Ok(Part {
                        kind,
                        resource,
                        context,
                    })
                }
                _ => Err(format!(
                    "each of context.{PARTS_KEY} needs a `kind` and a `resource`"
                )),
            }
        })
        .collect()
}

/// The strictest of `evaluations`: the first deny; else every hold together; else the
/// first allow.
pub fn strictest(evaluations: Vec<Evaluation>) -> Evaluation {
    if let Some(denied) = evaluations.iter().find(|e| e.outcome() == Outcome::Deny) {
        return denied.clone();
    }
    let mut policies: Vec<String> = Vec::new();
    let mut terms: Option<HoldTerms> = None;
    for hold in &evaluations {
        let Some(next) = hold.terms() else { continue };
        for p in &hold.verdict().policies {
            if !policies.contains(p) {
                policies.push(p.clone());
            }
        }
        terms = Some(match terms {
            None => next.clone(),
            Some(so_far) => merge(so_far, next),
        });
    }
    match terms {
        Some(terms) => Evaluation::hold(terms, policies),
        None => evaluations
            .into_iter()
            .next()
            .unwrap_or_else(|| Evaluation::deny("an action with no parts")),
    }
}

fn merge(mut a: HoldTerms, b: &HoldTerms) -> HoldTerms {
    for r in &b.requirements {
        if !a.requirements.contains(r) {
            a.requirements.push(r.clone());
        }
    }
    for title in b.title.split("; ") {
        if !a.title.split("; ").any(|t| t == title) {
            a.title = format!("{}; {title}", a.title);
        }
    }
    a.expires = a.expires.min(b.expires);
    a.separate |= b.separate;
    a.grant = a.grant.zip(b.grant).map(|(x, y)| x.min(y));
    a.slack_channel = a.slack_channel.or_else(|| b.slack_channel.clone());
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdpoint_core::Requirement;
    use serde_json::json;
    use std::time::Duration;

    fn allow() -> Evaluation {
        Evaluation::allow("permitted", vec!["reads".into()])
    }

    fn hold(policy: &str, group: &str, minutes: u64, grant: Option<u64>) -> Evaluation {
        let terms = HoldTerms {
            title: policy.to_string(),
            requirements: vec![Requirement {
                policy: policy.into(),
                approvers: vec![group.into()],
                quorum: 1,
            }],
            expires: Duration::from_secs(minutes * 60),
            separate: false,
            grant: grant.map(|m| Duration::from_secs(m * 60)),
            slack_channel: None,
        };
        Evaluation::hold(terms, vec![policy.into()])
    }

    #[test]
    fn a_deny_anywhere_denies() {
        let e = strictest(vec![
            allow(),
            hold("ddl", "dba", 30, None),
            Evaluation::deny("no"),
        ]);
        assert_eq!(e.verdict().outcome, Outcome::Deny);
        assert_eq!(e.verdict().reason, "no");
    }

    #[test]
    fn holds_add_up_their_requirements() {
        let e = strictest(vec![
            allow(),
            hold("ddl", "dba", 30, Some(10)),
            hold("export", "security", 15, None),
        ]);
        assert_eq!(e.verdict().outcome, Outcome::Hold);
        let terms = e.terms().map(|t| t.requirements.len());
        assert_eq!(terms, Some(2));
        let t = e.terms().cloned().expect("hold terms");
        assert_eq!(t.expires, Duration::from_secs(15 * 60));
        assert_eq!(t.grant, None, "single use unless every part grants");
        assert_eq!(t.title, "ddl; export");
    }

    #[test]
    fn parts_are_read_strictly() {
        let ok = json!({"parts": [{"kind": "db.read", "resource": "postgres/p/a"}]});
        assert_eq!(
            parts_of(ok.as_object()),
            Ok(vec![Part {
                kind: "db.read".into(),
                resource: "postgres/p/a".into(),
                context: None
            }])
        );
        let bad = json!({"parts": [{"kind": "db.read"}]});
        assert!(parts_of(bad.as_object()).is_err());
        let bad = json!({"parts": "db.read"});
        assert!(parts_of(bad.as_object()).is_err());
        assert_eq!(parts_of(None), Ok(Vec::new()));
        // A part names a kind and a resource as an action does, or none is judged.
        for (kind, resource) in [
            ("db read", "postgres/p/a"),
            ("", "postgres/p/a"),
            ("db.read", "postgres/p/../a"),
            ("db.read", "postgres/p/a\u{0}b"),
            ("db.read", ""),
        ] {
            let bad = json!({"parts": [{"kind": kind, "resource": resource}]});
            assert!(
                parts_of(bad.as_object()).is_err(),
                "{kind:?} on {resource:?}"
            );
        }
    }

    #[test]
    fn a_part_s_own_context_is_laid_over_the_action_s() {
        let extra = json!({"command": "rm -rf x", "cwd": "/a",
            "parts": [{"kind": "shell.exec", "resource": "shell/a",
                       "context": {"program": "rm", "cwd": "/b"}},
                      {"kind": "shell.path", "resource": "shell/a"}]});
        let extra = extra.as_object().cloned();
        let parts = parts_of(extra.as_ref()).unwrap();
        let merged = parts[0].context_over(extra.as_ref()).unwrap();
        assert_eq!(merged["program"], "rm");
        assert_eq!(merged["cwd"], "/b", "the part's own field wins");
        assert_eq!(merged["command"], "rm -rf x");
        assert!(!merged.contains_key(PARTS_KEY));
        assert!(parts[1].context_over(extra.as_ref()).is_none());
        let bad = json!({"parts": [{"kind": "k", "resource": "r", "context": "x"}]});
        assert!(parts_of(bad.as_object()).is_err());
    }
}
