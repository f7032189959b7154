//! Entities and the request, derived from an action (DESIGN §3), built in Rust.
//!
//! - principal `Agent::"ci-bot"` or `User::"alice"` (admins are users), member of
//!   `Group::"g"` for each of its groups;
//! - action `Action::"db.ddl"`, member of `Action::"db"` (each dotted prefix);
//! - resource `Resource::"postgres/prod/customers"`, member of `Resource::"postgres/prod"`,
//!   member of `Resource::"postgres"` (each path prefix);
//! - context: see [`crate::context`].

use crate::PolicyInput;
use cedar_policy as cedar;
use holdpoint_core::PrincipalKind;
use holdpoint_core::action::{kind_parents, resource_parents};
use std::collections::HashSet;
use std::str::FromStr;
use std::sync::LazyLock;

/// The entity type names holdpoint uses, parsed once.
pub(crate) struct Types {
    agent: cedar::EntityTypeName,
    user: cedar::EntityTypeName,
    group: cedar::EntityTypeName,
    action: cedar::EntityTypeName,
    resource: cedar::EntityTypeName,
}

static TYPES: LazyLock<Result<Types, String>> = LazyLock::new(Types::new);

impl Types {
    fn new() -> Result<Types, String> {
        let name = |n: &str| {
            cedar::EntityTypeName::from_str(n).map_err(|e| format!("entity type `{n}`: {e}"))
        };
        Ok(Types {
            agent: name("Agent")?,
            user: name("User")?,
            group: name("Group")?,
            action: name("Action")?,
            resource: name("Resource")?,
        })
    }

    fn uid(ty: &cedar::EntityTypeName, id: &str) -> cedar::EntityUid {
        cedar::EntityUid::from_type_name_and_id(ty.clone(), cedar::EntityId::new(id))
    }
}

/// The request and entity store for one action.
pub(crate) fn build(input: &PolicyInput<'_>) -> Result<(cedar::Request, cedar::Entities), String> {
    let types = TYPES.as_ref().map_err(Clone::clone)?;
    let mut entities: Vec<cedar::Entity> = Vec::new();

    let mut groups: HashSet<cedar::EntityUid> = HashSet::new();
    // The implicit group is always there, even if a caller passed only explicit groups:
    // otherwise `forbid(principal in Group::"agents", …)` would silently not apply.
    let implicit = input.principal.kind.implicit_group();
    for group in input.groups.iter().map(String::as_str).chain([implicit]) {
        let uid = Types::uid(&types.group, group);
        if groups.insert(uid.clone()) {
            entities.push(cedar::Entity::new_no_attrs(uid, HashSet::new()));
        }
    }
    let principal_type = match input.principal.kind {
        PrincipalKind::Agent => &types.agent,
        PrincipalKind::User | PrincipalKind::Admin => &types.user,
    };
    // Names are compared case-insensitively (DESIGN §1): policies see them lowercased,
    // and a policy naming a principal with capitals is refused at load.
    let principal = Types::uid(principal_type, &input.principal.name.to_ascii_lowercase());
    entities.push(cedar::Entity::new_no_attrs(principal.clone(), groups));

    let action = chain(
        &types.action,
        input.kind,
        kind_parents(input.kind),
        &mut entities,
    );
    let resource = chain(
        &types.resource,
        input.resource,
        resource_parents(input.resource),
        &mut entities,
    );

    let context = crate::context::build(input)?;
    let request = cedar::Request::new(principal, action, resource, context, None)
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let entities = cedar::Entities::from_entities(entities, None)
        .map_err(|e| format!("cannot build the entities: {e}"))?;
    Ok((request, entities))
}

/// Pushes `leaf` and each of its `parents` (nearest first), each a member of the next,
/// and returns the leaf's uid.
fn chain(
    ty: &cedar::EntityTypeName,
    leaf: &str,
    parents: Vec<&str>,
    entities: &mut Vec<cedar::Entity>,
) -> cedar::EntityUid {
    let leaf_uid = Types::uid(ty, leaf);
    let mut child = leaf_uid.clone();
    for parent in parents {
        let parent_uid = Types::uid(ty, parent);
        entities.push(cedar::Entity::new_no_attrs(
            child,
            HashSet::from([parent_uid.clone()]),
        ));
        child = parent_uid;
    }
    entities.push(cedar::Entity::new_no_attrs(child, HashSet::new()));
    leaf_uid
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdpoint_core::Principal;

    #[test]
    fn hierarchy_is_derived() {
        let principal = Principal::new(PrincipalKind::Admin, "root");
        // Explicit groups only (one twice): the implicit `admins` is added.
        let groups = vec!["sre".to_string(), "sre".to_string()];
        let params = serde_json::json!({});
        let input = PolicyInput {
            principal: &principal,
            groups: &groups,
            kind: "db.ddl.create",
            resource: "postgres/prod/customers",
            environment: "prod",
            justification: "",
            surface: "api",
            params: &params,
            extra: None,
        };
        let (request, entities) = build(&input).unwrap();
        let uid = |s: &str| cedar::EntityUid::from_str(s).unwrap();
        assert_eq!(request.principal(), Some(&uid(r#"User::"root""#)));
        assert!(entities.is_ancestor_of(&uid(r#"Group::"sre""#), &uid(r#"User::"root""#)));
        assert!(entities.is_ancestor_of(&uid(r#"Group::"admins""#), &uid(r#"User::"root""#)));
        assert!(
            entities.is_ancestor_of(&uid(r#"Action::"db""#), &uid(r#"Action::"db.ddl.create""#))
        );
        assert!(entities.is_ancestor_of(
            &uid(r#"Resource::"postgres""#),
            &uid(r#"Resource::"postgres/prod/customers""#)
        ));
        assert!(!entities.is_ancestor_of(
            &uid(r#"Resource::"postgres/prod/customers""#),
            &uid(r#"Resource::"postgres""#)
        ));
    }
}
