//! [`PolicySet`]: the compiled, immutable policies, named by `@id` or `file:line`.

use crate::annotations::{self, Meta};
use crate::error::PolicyError;
use crate::parse::parse_file;
use crate::scope::ScopeIndex;
use crate::{HoldDefaults, PolicySource, schema};
use cedar_policy as cedar;
use std::collections::HashMap;

/// Token rules for a set that names no `token` action (see `builtin/tokens.cedar`).
const BUILTIN_TOKENS: &str = include_str!("builtin/tokens.cedar");
/// The hold on new admin tokens, for a set whose scopes never name `token.create.admin`.
const BUILTIN_ADMIN_TOKEN: &str = include_str!("builtin/admin-token.cedar");
/// The file name prefix of built-in policies.
const BUILTIN_PREFIX: &str = "builtin:";

/// True when the policy's action scope names `kind` or an action under it.
fn names(policy: &cedar::Policy, kind: &str) -> bool {
    crate::scope::names_under(policy, kind)
}

/// A set being compiled: the Cedar policies, their metadata, and the id index.
#[derive(Default)]
struct Parts {
    cedar: cedar::PolicySet,
    metas: Vec<Meta>,
    index: HashMap<String, usize>,
}

impl Parts {
    /// Parses one source and adds its policies; a duplicate id names both places.
    fn add(&mut self, source: &PolicySource, defaults: &HoldDefaults) -> Result<(), PolicyError> {
        for parsed in parse_file(source)? {
            let id = annotations::policy_id(&parsed.policy, &source.file, parsed.line)?;
            if let Some(first) = self.index.get(&id).and_then(|&i| self.metas.get(i)) {
                return Err(PolicyError::DuplicateId {
                    id,
                    first: format!("{}:{}", first.file, first.line),
                    second: format!("{}:{}", source.file, parsed.line),
                });
            }
            let meta = annotations::read(
                &parsed.policy,
                id.clone(),
                &source.file,
                parsed.line,
                defaults,
            )?;
            self.cedar
                .add(parsed.policy.new_id(cedar::PolicyId::new(&id)))
                .map_err(|e| PolicyError::Syntax {
                    file: source.file.clone(),
                    line: parsed.line,
                    message: format!("cannot add policy `{id}`: {e}"),
                })?;
            self.index.insert(id, self.metas.len());
            self.metas.push(meta);
        }
        Ok(())
    }
}

/// A compiled set of policies. Immutable: a reload builds a new one and swaps it in.
#[derive(Debug)]
pub struct PolicySet {
    /// In load order: files sorted by name, policies in file order.
    pub(crate) metas: Vec<Meta>,
    /// Policy id → index in `metas`.
    pub(crate) index: HashMap<String, usize>,
    pub(crate) authorizer: cedar::Authorizer,
    /// The policies, and per-kind subsets of them, so a decision checks only those that
    /// can apply.
    pub(crate) scopes: ScopeIndex,
    /// Some policy reads an action's values (see `values.rs`).
    reads_values: bool,
}

impl PolicySet {
    /// Parses every source, reads its annotations (applying `defaults` to holds), refuses
    /// duplicate ids and, with a `schema` (Cedar schema text), validates in strict mode.
    pub fn compile(
        sources: &[PolicySource],
        defaults: &HoldDefaults,
        schema: Option<&str>,
    ) -> Result<PolicySet, PolicyError> {
        let mut parts = Parts::default();
        for source in sources {
            parts.add(source, defaults)?;
        }
        if let Some(schema) = schema {
            schema::validate(&parts.cedar, schema, sources, &parts.metas, &parts.index)?;
        }
        let names_tokens = parts.cedar.policies().any(|p| names(p, "token"));
        let names_admin_tokens = parts
            .cedar
            .policies()
            .any(|p| crate::scope::covers(p, "token.create.admin"));
        for (wanted, file, text) in [
            (!names_tokens, "tokens.cedar", BUILTIN_TOKENS),
            (
                !names_admin_tokens,
                "admin-token.cedar",
                BUILTIN_ADMIN_TOKEN,
            ),
        ] {
            if wanted {
                let builtin = PolicySource {
                    file: format!("{BUILTIN_PREFIX}{file}"),
                    text: text.into(),
                };
                parts.add(&builtin, defaults)?;
            }
        }
        let Parts {
            cedar: cedar_set,
            metas,
            index,
        } = parts;
        Ok(PolicySet {
            reads_values: cedar_set.policies().any(crate::values::reads_values),
            scopes: ScopeIndex::new(&cedar_set),
            metas,
            index,
            authorizer: cedar::Authorizer::new(),
        })
    }

    /// True when some policy reads an action's params, justification or statement text:
    /// then two actions of the same shape may get different verdicts, and an allow may
    /// not be reused for an action of the same shape.
    pub fn reads_values(&self) -> bool {
        self.reads_values
    }

    /// Every policy id from the sources, in load order.
    pub fn ids(&self) -> Vec<String> {
        self.metas
            .iter()
            .filter(|m| !m.file.starts_with(BUILTIN_PREFIX))
            .map(|m| m.id.clone())
            .collect()
    }

    /// The built-in policies added to this set (the token rules, when the sources name no
    /// `token` action).
    pub fn builtin_ids(&self) -> Vec<String> {
        self.metas
            .iter()
            .filter(|m| m.file.starts_with(BUILTIN_PREFIX))
            .map(|m| m.id.clone())
            .collect()
    }

    /// The metadata of a policy by id.
    pub(crate) fn meta(&self, id: &str) -> Option<&Meta> {
        self.index.get(id).and_then(|&i| self.metas.get(i))
    }

    /// Load-order rank of a policy id, for stable output; unknown ids sort last.
    pub(crate) fn rank(&self, id: &str) -> usize {
        self.index.get(id).copied().unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn defaults() -> HoldDefaults {
        HoldDefaults {
            approvers: vec!["admins".into()],
            expiry: Duration::from_secs(900),
            max_duration: crate::MAX_DURATION,
        }
    }

    fn src(file: &str, text: &str) -> PolicySource {
        PolicySource {
            file: file.into(),
            text: text.into(),
        }
    }

    #[test]
    fn ids_are_in_load_order() {
        let set = PolicySet::compile(
            &[
                src(
                    "a.cedar",
                    "@id(\"one\") permit(principal, action, resource);\n",
                ),
                src(
                    "b.cedar",
                    "\n\n@reason(\"r\")\nforbid(principal, action, resource);\n",
                ),
            ],
            &defaults(),
            None,
        )
        .unwrap();
        assert_eq!(set.ids(), vec!["one", "b.cedar:3"]);
        assert_eq!(
            set.builtin_ids(),
            vec!["builtin-admins-manage-tokens", "builtin-new-admin-token"],
            "a set that names no token action gets the built-in token rules"
        );
        assert_eq!(set.rank("one"), 0);
        assert_eq!(set.meta("b.cedar:3").unwrap().reason.as_deref(), Some("r"));
    }

    #[test]
    fn a_narrow_token_rule_keeps_the_hold_on_new_admin_tokens() {
        let set = PolicySet::compile(
            &[src(
                "t.cedar",
                "@id(\"no-agent-tokens\") forbid(principal, action == Action::\"token.create.agent\", resource);\n\
                 @id(\"admins-all\") permit(principal in Group::\"admins\", action, resource);\n",
            )],
            &defaults(),
            None,
        )
        .unwrap();
        assert_eq!(set.builtin_ids(), vec!["builtin-new-admin-token"]);
    }

    #[test]
    fn a_set_with_token_rules_gets_no_built_in_ones() {
        let set = PolicySet::compile(
            &[src(
                "t.cedar",
                "@id(\"mine\") permit(principal, action in Action::\"token\", resource);\n",
            )],
            &defaults(),
            None,
        )
        .unwrap();
        assert_eq!(set.ids(), vec!["mine"]);
        assert!(set.builtin_ids().is_empty());
    }
}
