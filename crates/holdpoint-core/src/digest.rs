//! The digest an approval is bound to: `sha256:` + hex of SHA-256 over the RFC 8785
//! canonical JSON of principal, kind, resource, environment and params.

use crate::principal::Principal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Digest of the unmasked action. Two actions with the same digest are the same action.
pub fn action_digest(
    principal: &Principal,
    kind: &str,
    resource: &str,
    environment: &str,
    params: &Value,
) -> String {
    let doc = json!({
        "principal": {"kind": principal.kind.as_str(), "name": principal.name},
        "kind": kind,
        "resource": resource,
        "environment": environment,
        "params": params,
    });
    // INVARIANT: a serde_json::Value always serialises; the fallback is never reached
    // but keeps this function total.
    let canonical = serde_jcs::to_vec(&doc).unwrap_or_else(|_| doc.to_string().into_bytes());
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::PrincipalKind;

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
}
