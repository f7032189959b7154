//! One message as one action. Each statement's kinds and tables become the action's
//! parts (`postgres/{listener}/{table}`, or `postgres/{listener}` for a statement that
//! names none); the action is headed by the most privileged part, and the gate judges
//! every part, strictest verdict first.

use crate::classify::Statement;
use crate::kind::Kind;
use holdpoint_core::ActionRequest;
use holdpoint_core::action::resource_segment;
use holdpoint_core::mask::Masker;
use holdpoint_gate::{PARTS_KEY, SurfaceContext};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The surface name on actions from the proxy.
pub const SURFACE: &str = "postgres";

/// The action for a message of `statements`, with `sql` its text and `parameters` the
/// bound values (extended protocol).
pub fn action(
    listener: &str,
    environment: &str,
    sql: &str,
    parameters: Option<Vec<Value>>,
    statements: &[Statement],
    masker: &dyn Masker,
) -> (ActionRequest, SurfaceContext) {
    let base = format!("postgres/{}", resource_segment(listener));
    let resource_of = |table: &str| {
        // Tables are named without their schema: a policy on a table covers it in every
        // schema, so `SET search_path` cannot steer around one.
        let name = table.rsplit('.').next().unwrap_or(table);
        format!("{base}/{}", resource_segment(name))
    };
    let mut parts: Vec<(Kind, String)> = Vec::new();
    for st in statements {
        let kinds: Vec<Kind> = if st.kinds.is_empty() {
            vec![Kind::Read]
        } else {
            st.kinds.iter().copied().collect()
        };
        for kind in kinds {
            if st.tables.is_empty() {
                parts.push((kind, base.clone()));
            }
            for table in &st.tables {
                parts.push((kind, resource_of(table)));
            }
        }
    }
    if parts.is_empty() {
        parts.push((Kind::Read, base.clone()));
    }
    parts.sort();
    parts.dedup();
    // The head: the most privileged part, on its first table.
    let head_kind = parts.iter().map(|(k, _)| *k).max().unwrap_or(Kind::Read);
    let head = parts
        .iter()
        .find(|(k, r)| *k == head_kind && *r != base)
        .or_else(|| parts.iter().find(|(k, _)| *k == head_kind))
        .cloned()
        .unwrap_or((Kind::Read, base.clone()));

    let collect = |f: &dyn Fn(&Statement) -> Vec<String>| -> Vec<String> {
        statements
            .iter()
            .flat_map(f)
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect()
    };
    let kinds: BTreeSet<&str> = parts.iter().map(|(k, _)| k.as_str()).collect();
    let mut context = Map::new();
    context.insert(
        "sql".into(),
        json!({
            "kinds": kinds,
            "tables": collect(&|s| s.tables.iter().cloned().collect()),
            "functions": collect(&|s| s.functions.iter().cloned().collect()),
            "unbounded": statements.iter().any(|s| s.unbounded),
            "statements": statements.len(),
            "text": masker.mask_text(sql),
        }),
    );
    context.insert(
        PARTS_KEY.into(),
        Value::Array(
            parts
                .iter()
                .filter(|p| **p != head)
                .map(|(k, r)| json!({"kind": k.as_str(), "resource": r}))
                .collect(),
        ),
    );
    let mut params = Map::new();
    params.insert("sql".into(), Value::String(sql.to_string()));
    if let Some(values) = parameters {
        params.insert("parameters".into(), Value::Array(values));
    }
    let request = ActionRequest {
        kind: head.0.as_str().to_string(),
        resource: head.1,
        environment: environment.to_string(),
        params: Value::Object(params),
        justification: String::new(),
    };
    let ctx = SurfaceContext {
        surface: SURFACE.into(),
        extra: Some(context),
        // The proxy runs the statement itself once it may proceed.
        executes: true,
    };
    (request, ctx)
}

/// Why the statements hold a part unknown, for the agent.
pub fn notes(statements: &[Statement]) -> String {
    statements
        .iter()
        .flat_map(|s| s.notes.iter().cloned())
        .collect::<Vec<_>>()
        .join("; ")
}
