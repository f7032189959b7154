//! The checks every ID token passes before anyone is signed in (OpenID Connect Core
//! §3.1.3.7): a signature by one of the issuer's keys under an asymmetric algorithm,
//! `iss`, `aud` (and `azp` when there are several audiences), `exp` and `iat`, and the
//! `nonce` this sign-in sent. Tokens signed with a shared secret (HS*) or none are
//! refused.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

/// What the token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// Signed with a key the set does not hold: fetch the keys again, once.
    #[error("the ID token is signed with an unknown key `{0}`")]
    UnknownKey(String),
    #[error("the ID token is refused: {0}")]
    Invalid(String),
}

const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The verified claims of `id_token`.
pub fn verify(id_token: &str, keys: &JwkSet, expected: &Expected) -> Result<Value, VerifyError> {
    let invalid = |m: String| VerifyError::Invalid(m);
    let header = decode_header(id_token).map_err(|e| invalid(format!("malformed: {e}")))?;
    if !ALGORITHMS.contains(&header.alg) && header.alg != Algorithm::EdDSA {
        return Err(invalid(format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let jwk = match &header.kid {
        Some(kid) => keys
            .find(kid)
            .ok_or_else(|| VerifyError::UnknownKey(kid.clone()))?,
        None => match keys.keys.as_slice() {
            [only] => only,
            _ => return Err(VerifyError::UnknownKey("(no kid)".into())),
        },
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(format!("unusable key: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 60;
    let claims = decode::<Value>(id_token, &key, &validation)
        .map_err(|e| invalid(e.to_string()))?
        .claims;
    let several_audiences = claims
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > 1);
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        if azp != expected.client_id {
            return Err(invalid(format!("it was issued to `{azp}`")));
        }
    } else if several_audiences {
        return Err(invalid("several audiences and no `azp`".into()));
    }
    match claims.get("nonce").and_then(Value::as_str) {
        Some(nonce) if crate::secret::same(nonce, expected.nonce) => Ok(claims),
        Some(_) => Err(invalid("its nonce is not this sign-in's".into())),
        None => Err(invalid("it has no nonce".into())),
    }
}
