//! Bearer tokens. Only the SHA-256 of a token is ever stored.

use crate::Timestamp;
use crate::principal::PrincipalKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Every token starts with this, so secret scanners and the masker can find it.
pub const TOKEN_PREFIX: &str = "hp_";

/// A stored token: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenRecord {
    /// The principal's name; unique among live tokens.
    pub name: String,
    pub kind: PrincipalKind,
    pub groups: Vec<String>,
    /// For an agent: the human who owns it.
    pub owner: Option<String>,
    /// `sha256:` + hex of the token.
    #[serde(skip_serializing)]
    #[serde(default)]
    pub hash: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TokenRecord {
    /// A token is live until it is revoked or expires.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}
