//! A sign-in between the redirect to the provider and its callback, kept in the browser
//! that started it rather than on the server: a cookie holding the PKCE verifier, the
//! nonce, the `state` and where to go next, signed with a key of this process
//! (HMAC-SHA256). Nothing is stored per sign-in, so nobody can crowd out real sign-ins
//! by starting many; and only the browser holding the cookie can finish one. A sign-in
//! cannot be finished twice: the provider redeems a code once, each nonce signs in once,
//! and the cookie is cleared on success.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What the callback needs of its sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub verifier: String,
    pub nonce: String,
    pub next: String,
    /// When it started (Unix seconds, the gate's clock).
    pub started: i64,
}

/// Signs and reads pending sign-ins.
pub struct Sealer {
    key: [u8; 32],
}

impl Sealer {
    /// A fresh key: sign-ins started before a restart cannot be finished after it.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        Sealer { key }
    }

    /// HMAC takes a key of any length, so this is always `Some`.
    fn mac(&self) -> Option<Hmac<Sha256>> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).ok()
    }

    /// `payload.signature`, both base64url.
    pub fn seal(&self, pending: &Pending) -> Option<String> {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(pending).ok()?);
        let mut mac = self.mac()?;
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        Some(format!("{payload}.{signature}"))
    }

    /// The sign-in in `cookie`, if this process signed it.
    pub fn open(&self, cookie: &str) -> Option<Pending> {
        let (payload, signature) = cookie.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac()?;
        mac.update(payload.as_bytes());
        // `verify_slice` compares in constant time.
        mac.verify_slice(&signature).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_this_process_sealed_opens() {
        let sealer = Sealer::new();
        let pending = Pending {
            state: "s".into(),
            verifier: "v".into(),
            nonce: "n".into(),
            next: "/inbox".into(),
            started: 1,
        };
        let sealed = sealer.seal(&pending).unwrap_or_default();
        assert_eq!(sealer.open(&sealed), Some(pending.clone()));
        assert_eq!(Sealer::new().open(&sealed), None, "another key");
        let (payload, signature) = sealed.split_once('.').unwrap_or_default();
        let mut forged = pending;
        forged.next = "//evil.example".into();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap_or_default());
        assert_eq!(sealer.open(&format!("{forged_payload}.{signature}")), None);
        assert_eq!(sealer.open(payload), None);
        assert_eq!(sealer.open("garbage"), None);
    }
}
