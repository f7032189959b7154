//! Whether a policy reads an action's *values* (its params, its justification, the
//! statement text) rather than only its shape (principal, kind, resource, environment,
//! surface, and what a surface derived: `sql.kinds`, `sql.tables`, `mcp.tool`, …).
//!
//! A surface may reuse an allow verdict for actions of the same shape only when no
//! policy of the set reads values: the PostgreSQL proxy does, so that a statement run
//! a thousand times with different literals is judged by Cedar once.

use cedar_policy as cedar;
use serde_json::{Map, Value};

/// Context attributes that carry values.
const VALUES: [&str; 3] = ["params", "justification", "text"];
/// Context records that hold values among shape attributes: read whole, they read values.
const MIXED: [&str; 2] = ["sql", "params"];

/// True when `policy` reads values, or when that cannot be told.
pub(crate) fn reads_values(policy: &cedar::Policy) -> bool {
    let Ok(mut json) = policy.to_json() else {
        return true;
    };
    if let Some(map) = json.as_object_mut() {
        map.remove("annotations");
    }
    walk(&json, false)
}

fn walk(value: &Value, accessed: bool) -> bool {
    match value {
        Value::Object(map) => {
            if map.get("Var").and_then(Value::as_str) == Some("context") {
                // The whole context, compared or passed around.
                return !accessed;
            }
            for op in [".", "has"] {
                if let Some(access) = map.get(op).and_then(Value::as_object) {
                    return access_reads_values(access, op == ".", accessed);
                }
            }
            map.values().any(|v| walk(v, false))
        }
        Value::Array(items) => items.iter().any(|v| walk(v, false)),
        _ => false,
    }
}

fn access_reads_values(access: &Map<String, Value>, dot: bool, accessed: bool) -> bool {
    let attr = access
        .get("attr")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if VALUES.contains(&attr) {
        return true;
    }
    let left = access.get("left").unwrap_or(&Value::Null);
    let left_is_context = left.get("Var").and_then(Value::as_str) == Some("context");
    if dot && left_is_context && MIXED.contains(&attr) && !accessed {
        return true;
    }
    walk(left, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(text: &str) -> bool {
        let policy = cedar::Policy::parse(None, text).expect("policy");
        reads_values(&policy)
    }

    #[test]
    fn shape_only_policies_are_told_apart() {
        assert!(!reads("permit(principal, action, resource);"));
        assert!(!reads(
            r#"forbid(principal, action, resource) when { context has sql && context.sql.unbounded };"#
        ));
        assert!(!reads(
            r#"@reason("params text justification") permit(principal, action, resource) when { context.environment == "prod" };"#
        ));
        assert!(reads(
            r#"permit(principal, action, resource) when { context.params.sql like "*x*" };"#
        ));
        assert!(reads(
            r#"permit(principal, action, resource) when { context.justification != "" };"#
        ));
        assert!(reads(
            r#"permit(principal, action, resource) when { context.sql.text like "*x*" };"#
        ));
        assert!(reads(
            r#"permit(principal, action, resource) when { context.sql == context.sql };"#
        ));
        assert!(reads(
            r#"permit(principal, action, resource) when { context == context };"#
        ));
        assert!(reads(
            r#"permit(principal, action, resource) when { context has params };"#
        ));
    }
}
