//! The Standard Webhooks signature: `v1,` + base64 of HMAC-SHA256, keyed by the secret's
//! bytes, over `{webhook-id}.{webhook-timestamp}.{body}`. A secret is written
//! `whsec_` + base64 of its bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Why a webhook secret is refused. The secret itself is never repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a webhook secret is `whsec_` followed by base64")]
    NotBase64,
    #[error("a webhook secret must hold at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
}

/// The fewest bytes a secret may hold.
pub const MIN_SECRET_BYTES: usize = 16;

/// The bytes of a `whsec_…` secret (the prefix is optional); at least 16 of them.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| SecretError::NotBase64)?;
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort);
    }
    Ok(bytes)
}

/// The `webhook-signature` header value for one delivery.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The reference test vector of the Standard Webhooks specification.
    #[test]
    fn the_standard_webhooks_test_vector_passes() {
        let key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_ne!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_331,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn short_or_malformed_secrets_are_refused() {
        assert_eq!(decode_secret("whsec_c2hvcnQ="), Err(SecretError::TooShort));
        assert_eq!(
            decode_secret("whsec_not base64!"),
            Err(SecretError::NotBase64)
        );
    }
}
