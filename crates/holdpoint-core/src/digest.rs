//! The digest an approval is bound to: `sha256:` + hex of SHA-256 over the RFC 8785
//! canonical JSON of principal, kind, resource, environment, params, the surface the
//! action came through and its pin (`context.pin`, see [`PIN_KEY`]), when it has one.
//!
//! The surface is covered so that an action asked for on one surface (with wording the
//! agent chose, through `POST /v1/actions`) is never the same action as one a proxy makes
//! on another: it neither joins a hold nor uses an approval of the other surface. The pin
//! names what the reviewer saw besides the params (an MCP tool's fingerprint), so an
//! approval passes only the thing that was reviewed.
//!
//! RFC 8785 writes every number as an IEEE double, so the digest is injective only on
//! numbers a double holds exactly and distinguishes: [`check_params`] refuses the rest
//! before anything is evaluated or stored. Accepted are integers within ±(2^53 − 1) and
//! numbers with a fraction (`0.5`, `1e-3`). Refused: larger integers (send them as
//! strings) and whole numbers written as floats (`5.0`, `1e20`, `-0.0`: write `5`),
//! which the canonical form could not tell from the integer while policy can.

use crate::principal::Principal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The context key a surface sets to a string naming what was reviewed besides the
/// params (an MCP tool's fingerprint): the digest covers it, and a `@grant` window passes
/// only actions with the same pin.
pub const PIN_KEY: &str = "pin";

/// The pin of an action's context, if it has one.
pub fn pin_of(context: Option<&serde_json::Map<String, Value>>) -> Option<&str> {
    context.and_then(|c| c.get(PIN_KEY)).and_then(Value::as_str)
}

/// What the digest covers besides the request: the surface and the pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    pub surface: &'a str,
    pub pin: Option<&'a str>,
}

/// Digest of the unmasked action. Two actions with the same digest are the same action.
pub fn action_digest(
    principal: &Principal,
    kind: &str,
    resource: &str,
    environment: &str,
    params: &Value,
    binding: Binding<'_>,
) -> String {
    let mut doc = json!({
        "principal": {"kind": principal.kind.as_str(), "name": principal.name},
        "kind": kind,
        "resource": resource,
        "environment": environment,
        "params": params,
        "surface": binding.surface,
    });
    if let (Some(pin), Some(map)) = (binding.pin, doc.as_object_mut()) {
        map.insert("pin".into(), Value::String(pin.to_string()));
    }
    // INVARIANT: a serde_json::Value always serialises; the fallback is never reached
    // but keeps this function total.
    let canonical = serde_jcs::to_vec(&doc).unwrap_or_else(|_| doc.to_string().into_bytes());
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

/// The largest integer a double holds exactly, with its neighbours: 2^53 − 1.
pub const MAX_EXACT_INTEGER: u64 = (1 << 53) - 1;
/// Deeper params are refused: nothing walks agent input without bound.
pub const MAX_PARAMS_DEPTH: usize = 128;

/// Refuses params whose numbers the digest could not keep apart (see the module docs).
/// The message names the path of the first bad value.
pub fn check_params(params: &Value) -> Result<(), String> {
    check(params, &mut String::from("params"), 0)
}

fn check(value: &Value, path: &mut String, depth: usize) -> Result<(), String> {
    if depth > MAX_PARAMS_DEPTH {
        return Err(format!(
            "`{path}` is nested deeper than {MAX_PARAMS_DEPTH} levels"
        ));
    }
    match value {
        Value::Number(n) => check_number(n, path),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let result = check(item, path, depth + 1);
            path.truncate(len);
            result
        }),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let len = path.len();
            path.push('.');
            path.push_str(key);
            let result = check(item, path, depth + 1);
            path.truncate(len);
            result
        }),
        _ => Ok(()),
    }
}

fn check_number(n: &serde_json::Number, path: &str) -> Result<(), String> {
    if let Some(u) = n.as_u64() {
        return if u <= MAX_EXACT_INTEGER {
            Ok(())
        } else {
            Err(too_big(path))
        };
    }
    if let Some(i) = n.as_i64() {
        return if i.unsigned_abs() <= MAX_EXACT_INTEGER {
            Ok(())
        } else {
            Err(too_big(path))
        };
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() != 0.0 => Ok(()),
        Some(f) if f.is_finite() && f.abs() <= MAX_EXACT_INTEGER as f64 => Err(format!(
            "`{path}` is a whole number written as a float: write it without a fraction \
             (`5`, not `5.0`)"
        )),
        _ => Err(too_big(path)),
    }
}

/// The message names the place, never the value (it may be a secret).
fn too_big(path: &str) -> String {
    format!(
        "`{path}` is a number outside ±{MAX_EXACT_INTEGER}, where numbers stop being exact: \
         send it as a string"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::PrincipalKind;

    const API: Binding<'static> = Binding {
        surface: "api",
        pin: None,
    };

    fn action_digest(p: &Principal, k: &str, r: &str, e: &str, params: &Value) -> String {
        super::action_digest(p, k, r, e, params, API)
    }

    #[test]
    fn the_surface_and_the_pin_change_the_digest() {
        let p = Principal::new(PrincipalKind::Agent, "ci-bot");
        let params = serde_json::json!({"a": 1});
        let api = action_digest(&p, "mcp.call", "mcp/fs/write", "", &params);
        let mcp = Binding {
            surface: "mcp",
            pin: None,
        };
        let on_mcp = super::action_digest(&p, "mcp.call", "mcp/fs/write", "", &params, mcp);
        assert_ne!(api, on_mcp);
        let pinned = |pin| {
            super::action_digest(
                &p,
                "mcp.call",
                "mcp/fs/write",
                "",
                &params,
                Binding {
                    pin: Some(pin),
                    ..mcp
                },
            )
        };
        assert_ne!(pinned("sha256:1"), on_mcp);
        assert_ne!(pinned("sha256:1"), pinned("sha256:2"));
        assert_eq!(pinned("sha256:1"), pinned("sha256:1"));
    }

    #[test]
    fn key_order_does_not_change_the_digest_but_values_do() {
        let p = Principal::new(PrincipalKind::Agent, "ci-bot");
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"y":2,"x":1}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"x":1,"y":2},"a":1}"#).unwrap();
        let d1 = action_digest(&p, "db.ddl", "pg/prod", "prod", &a);
        assert_eq!(d1, action_digest(&p, "db.ddl", "pg/prod", "prod", &b));
        assert!(d1.starts_with("sha256:") && d1.len() == 7 + 64);
        let c = serde_json::json!({"a": 2, "b": {"x": 1, "y": 2}});
        assert_ne!(d1, action_digest(&p, "db.ddl", "pg/prod", "prod", &c));
        assert_ne!(d1, action_digest(&p, "db.ddl", "pg/prod", "staging", &a));
        let other = Principal::new(PrincipalKind::Agent, "other-bot");
        assert_ne!(d1, action_digest(&other, "db.ddl", "pg/prod", "prod", &a));
    }

    #[test]
    fn numbers_the_digest_cannot_tell_apart_are_refused() {
        let refused: Vec<Value> = vec![
            serde_json::from_str(r#"{"account_id": 1800000000000000001}"#).unwrap(),
            serde_json::from_str(r#"{"n": -9007199254740992}"#).unwrap(),
            serde_json::from_str(r#"{"n": 5.0}"#).unwrap(),
            serde_json::from_str(r#"{"n": -0.0}"#).unwrap(),
            serde_json::from_str(r#"{"n": 1e20}"#).unwrap(),
            serde_json::from_str(r#"{"deep": {"list": [1, 2, 1e300]}}"#).unwrap(),
        ];
        for params in refused {
            assert!(check_params(&params).is_err(), "{params}");
        }
        let err = check_params(&serde_json::json!({"a": {"b": [0, 5.0]}})).unwrap_err();
        assert!(err.contains("`params.a.b[1]`"), "{err}");
        for ok in [
            serde_json::json!({"n": 9007199254740991_u64, "m": -9007199254740991_i64}),
            serde_json::json!({"f": 0.5, "g": -1e-3, "s": "1800000000000000001"}),
        ] {
            assert!(check_params(&ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn params_nested_without_bound_are_refused() {
        let mut deep = serde_json::json!(1);
        for _ in 0..200 {
            deep = serde_json::json!([deep]);
        }
        assert!(
            check_params(&serde_json::json!({ "d": deep }))
                .unwrap_err()
                .contains("deeper")
        );
    }
}
