//! Per-kind policy subsets. Cedar checks every policy of a set in turn, so with 1,000
//! policies each decision pays for 1,000. A request is evaluated against only the policies
//! whose action scope can match its kind: `action` unconstrained, `action == Action::"K"`,
//! or `action in [...]` naming K or one of its dotted prefixes. This is the same answer as
//! the full set: a policy whose scope does not match is never satisfied, and Cedar never
//! evaluates its conditions (so it cannot raise an error either).

use cedar_policy as cedar;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// Kinds whose subsets are kept; past this, subsets are built per request.
const CACHE_LIMIT: usize = 4096;

#[derive(Debug)]
pub(crate) struct ScopeIndex {
    policies: Vec<cedar::Policy>,
    cache: RwLock<HashMap<String, Arc<cedar::PolicySet>>>,
}

impl ScopeIndex {
    pub(crate) fn new(set: &cedar::PolicySet) -> Self {
        ScopeIndex {
            policies: set.policies().cloned().collect(),
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The policies that can apply to an action of `kind`.
    pub(crate) fn for_kind(&self, kind: &str) -> Result<Arc<cedar::PolicySet>, String> {
        if let Some(set) = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kind)
        {
            return Ok(set.clone());
        }
        let mut subset = cedar::PolicySet::new();
        for policy in self.policies.iter().filter(|p| may_apply(p, kind)) {
            subset
                .add(policy.clone())
                .map_err(|e| format!("cannot select policies for `{kind}`: {e}"))?;
        }
        let subset = Arc::new(subset);
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() < CACHE_LIMIT {
            cache.insert(kind.to_string(), subset.clone());
        }
        Ok(subset)
    }
}

/// The action uids a policy's scope names (none for an unconstrained scope).
fn scope_uids(policy: &cedar::Policy) -> Vec<cedar::EntityUid> {
    match policy.action_constraint() {
        cedar::ActionConstraint::Any => Vec::new(),
        cedar::ActionConstraint::Eq(uid) => vec![uid],
        cedar::ActionConstraint::In(uids) => uids,
    }
    .into_iter()
    .filter(|uid| uid.type_name().to_string() == "Action")
    .collect()
}

/// True when the policy's action scope names `kind` or an action under it
/// (`token` → `Action::"token"`, `Action::"token.create.agent"`, …).
pub(crate) fn names_under(policy: &cedar::Policy, kind: &str) -> bool {
    scope_uids(policy).iter().any(|uid| {
        let id = uid.id().unescaped();
        id == kind
            || id
                .strip_prefix(kind)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// True when the policy's action scope names `kind` or one of its parents, so that it
/// speaks about `kind` explicitly (an unconstrained scope does not).
pub(crate) fn covers(policy: &cedar::Policy, kind: &str) -> bool {
    scope_uids(policy).iter().any(|uid| {
        let id = uid.id().unescaped();
        id == kind
            || kind
                .strip_prefix(id)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// False only when the policy's action scope certainly excludes `kind`.
fn may_apply(policy: &cedar::Policy, kind: &str) -> bool {
    let is_action = |uid: &cedar::EntityUid| uid.type_name().to_string() == "Action";
    let covers = |uid: &cedar::EntityUid| {
        let id = uid.id().unescaped();
        is_action(uid)
            && (id == kind
                || kind
                    .strip_prefix(id)
                    .is_some_and(|rest| rest.starts_with('.')))
    };
    match policy.action_constraint() {
        cedar::ActionConstraint::Any => true,
        cedar::ActionConstraint::Eq(uid) => is_action(&uid) && uid.id().unescaped() == kind,
        cedar::ActionConstraint::In(uids) => uids.iter().any(covers),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn ids(index: &ScopeIndex, kind: &str) -> Vec<String> {
        let mut ids: Vec<String> = index
            .for_kind(kind)
            .unwrap()
            .policies()
            .map(|p| p.id().to_string())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn only_policies_whose_action_scope_can_match_are_kept() {
        let set = cedar::PolicySet::from_str(
            r#"
            permit(principal, action, resource);
            permit(principal, action == Action::"db.ddl", resource);
            permit(principal, action in Action::"db", resource);
            permit(principal, action in [Action::"http.get", Action::"db.ddl.create"], resource);
            forbid(principal, action == Action::"db", resource);
            permit(principal, action in Action::"dbx", resource);
            "#,
        )
        .unwrap();
        let index = ScopeIndex::new(&set);
        assert_eq!(ids(&index, "db.ddl"), ["policy0", "policy1", "policy2"]);
        assert_eq!(ids(&index, "db"), ["policy0", "policy2", "policy4"]);
        assert_eq!(
            ids(&index, "db.ddl.create"),
            ["policy0", "policy2", "policy3"]
        );
        assert_eq!(ids(&index, "dbx.read"), ["policy0", "policy5"]);
        assert_eq!(ids(&index, "http.get"), ["policy0", "policy3"]);
    }
}
