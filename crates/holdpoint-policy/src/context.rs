//! The Cedar `context` record of a request, built from JSON without parsing text.
//!
//! `environment`, `justification`, `surface` (strings) and `params` (a record), plus every
//! key the surface adds (`sql`, `mcp`, `command`, …) at the top level. JSON maps to Cedar
//! as: object → record, array → set, string, bool, integer → `Long`; a float or an
//! integer beyond `Long` becomes its decimal string; `null` is dropped.

use crate::PolicyInput;
use cedar_policy as cedar;
use cedar_policy::RestrictedExpression as Expr;
use serde_json::{Map, Value};

/// Keys holdpoint sets itself; a surface's `extra` cannot replace them.
const RESERVED: [&str; 4] = ["environment", "justification", "surface", "params"];

/// Deeper JSON than this is passed as its JSON text, so evaluation never recurses
/// without bound on agent input.
const MAX_DEPTH: usize = 32;

pub(crate) fn build(input: &PolicyInput<'_>) -> Result<cedar::Context, String> {
    let params = match input.params {
        Value::Object(map) => record(map, 1)?,
        Value::Null => record(&Map::new(), 1)?,
        other => return Err(format!("params must be a JSON object, not `{other}`")),
    };
    let mut pairs: Vec<(String, Expr)> = vec![
        (
            "environment".into(),
            Expr::new_string(input.environment.into()),
        ),
        (
            "justification".into(),
            Expr::new_string(input.justification.into()),
        ),
        ("surface".into(), Expr::new_string(input.surface.into())),
        ("params".into(), params),
    ];
    if let Some(extra) = input.extra {
        for (key, value) in extra {
            if RESERVED.contains(&key.as_str()) {
                tracing::debug!(key, "surface context key shadows a holdpoint key; ignored");
                continue;
            }
            if let Some(expr) = convert(value, 1)? {
                pairs.push((key.clone(), expr));
            }
        }
    }
    cedar::Context::from_pairs(pairs).map_err(|e| format!("cannot build the context: {e}"))
}

fn record(map: &Map<String, Value>, depth: usize) -> Result<Expr, String> {
    let mut fields = Vec::with_capacity(map.len());
    for (key, value) in map {
        if let Some(expr) = convert(value, depth + 1)? {
            fields.push((key.clone(), expr));
        }
    }
    Expr::new_record(fields).map_err(|e| format!("cannot build a context record: {e}"))
}

/// One JSON value as a Cedar value; `None` for `null`.
fn convert(value: &Value, depth: usize) -> Result<Option<Expr>, String> {
    if depth > MAX_DEPTH && (value.is_object() || value.is_array()) {
        return Ok(Some(Expr::new_string(value.to_string())));
    }
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::Bool(b) => Expr::new_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(long) => Expr::new_long(long),
            None => Expr::new_string(n.to_string()),
        },
        Value::String(s) => Expr::new_string(s.clone()),
        Value::Array(items) => {
            let mut set = Vec::with_capacity(items.len());
            for item in items {
                if let Some(expr) = convert(item, depth + 1)? {
                    set.push(expr);
                }
            }
            Expr::new_set(set)
        }
        Value::Object(map) => record(map, depth)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdpoint_core::{Principal, PrincipalKind};
    use serde_json::json;

    fn context(params: Value, extra: Option<&Map<String, Value>>) -> cedar::Context {
        let principal = Principal::new(PrincipalKind::Agent, "bot");
        let input = PolicyInput {
            principal: &principal,
            groups: &[],
            kind: "db.read",
            resource: "pg",
            environment: "prod",
            justification: "why",
            surface: "pg",
            params: &params,
            extra,
        };
        build(&input).unwrap()
    }

    fn json_of(ctx: cedar::Context) -> Value {
        ctx.to_json_value().unwrap()
    }

    #[test]
    fn json_maps_to_cedar_values() {
        let extra = json!({"sql": {"kinds": ["ddl"], "unbounded": true}, "surface": "evil"});
        let got = json_of(context(
            json!({"n": 3, "f": 1.5, "big": u64::MAX, "gone": null, "list": [1, null, "a"], "o": {"b": false}}),
            extra.as_object(),
        ));
        assert_eq!(got["environment"], "prod");
        assert_eq!(got["surface"], "pg");
        assert_eq!(got["params"]["n"], 3);
        assert_eq!(got["params"]["f"], "1.5");
        assert_eq!(got["params"]["big"], u64::MAX.to_string());
        assert!(got["params"].get("gone").is_none());
        assert_eq!(got["params"]["list"], json!([1, "a"]));
        assert_eq!(got["params"]["o"]["b"], false);
        assert_eq!(got["sql"]["kinds"], json!(["ddl"]));
        assert_eq!(got["sql"]["unbounded"], true);
    }

    #[test]
    fn deep_json_is_flattened_to_text() {
        let mut deep = json!("leaf");
        for _ in 0..100 {
            deep = json!({ "d": deep });
        }
        let got = json_of(context(json!({ "deep": deep }), None));
        let mut at = &got["params"]["deep"];
        let mut levels = 0;
        while let Some(inner) = at.get("d") {
            at = inner;
            levels += 1;
        }
        assert!(levels < MAX_DEPTH, "{levels}");
        assert!(at.as_str().unwrap().contains("leaf"));
    }
}
