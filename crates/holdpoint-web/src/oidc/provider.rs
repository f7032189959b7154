//! [`Provider`]: one OpenID Connect provider, as the gateway knows it: its discovery
//! document and keys (fetched when first needed, kept an hour, keys fetched again when
//! a token names one not yet seen), the key that signs sign-ins in progress, and the
//! nonces already used.

use super::OidcConfig;
use super::verify::{self, Expected, VerifyError};
use holdpoint_core::{Clock, Timestamp};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a sign-in may take at the provider.
pub const SIGNIN_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a used nonce is remembered: longer than any ID token should live.
const NONCE_MEMORY: Duration = Duration::from_secs(24 * 3600);
/// How long discovery and keys are trusted.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The parts of the discovery document holdpoint uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

pub struct Provider {
    pub config: OidcConfig,
    pub redirect_uri: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    metadata: tokio::sync::Mutex<Option<(Metadata, JwkSet, std::time::Instant)>>,
    /// Signs the sign-ins in progress, which browsers keep.
    pub sealer: super::pending::Sealer,
    used_nonces: Mutex<HashMap<String, Timestamp>>,
}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider answered badly: {0}")]
    BadAnswer(String),
    #[error(transparent)]
    Token(#[from] VerifyError),
    #[error("{0}")]
    Refused(String),
}

impl Provider {
    pub fn new(
        config: OidcConfig,
        public_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        url::Url::parse(&config.issuer).map_err(|e| format!("[web.oidc] issuer: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("[web.oidc]: {e}"))?;
        Ok(Provider {
            redirect_uri: format!("{}/signin/oidc/callback", public_url.trim_end_matches('/')),
            config,
            http,
            clock,
            metadata: tokio::sync::Mutex::new(None),
            sealer: super::pending::Sealer::new(),
            used_nonces: Mutex::new(HashMap::new()),
        })
    }

    pub fn label(&self) -> &str {
        &self.config.label
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(OidcError::BadAnswer(format!(
                "{url}: {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| OidcError::BadAnswer(format!("{url}: {e}")))
    }

    /// Discovery and keys, fetched when missing, stale, or (`refresh`) a token named an
    /// unknown key.
    pub async fn metadata(&self, refresh: bool) -> Result<(Metadata, JwkSet), OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some((meta, keys, at)) = cached.as_ref()
            && !refresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok((meta.clone(), keys.clone()));
        }
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let meta: Metadata = self.get_json(&discovery).await?;
        if meta.issuer != self.config.issuer {
            return Err(OidcError::BadAnswer(format!(
                "the discovery document names issuer `{}`, not `{}`",
                meta.issuer, self.config.issuer
            )));
        }
        let keys: JwkSet = self.get_json(&meta.jwks_uri).await?;
        *cached = Some((meta.clone(), keys.clone(), std::time::Instant::now()));
        Ok((meta, keys))
    }

    /// Exchanges the code (with the PKCE verifier) and returns the ID token's verified
    /// claims.
    pub async fn redeem(
        &self,
        code: &str,
        pending: &super::pending::Pending,
    ) -> Result<Value, OidcError> {
        let (meta, _) = self.metadata(false).await?;
        let response = self
            .http
            .post(&meta.token_endpoint)
            .basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(&self.config.client_secret)),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect_uri),
                ("code_verifier", &pending.verifier),
            ])
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| OidcError::BadAnswer(format!("token endpoint: {e}")))?;
        if !status.is_success() {
            return Err(OidcError::Refused(format!(
                "the token endpoint refused the code ({status}): {}",
                body.get("error")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("no reason given")
            )));
        }
        let id_token = body
            .get("id_token")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| OidcError::BadAnswer("no id_token in the token response".into()))?;
        self.check(id_token, &pending.nonce).await
    }

    /// Verifies an ID token for the sign-in that sent `nonce`, and uses the nonce up.
    pub async fn check(&self, id_token: &str, nonce: &str) -> Result<Value, OidcError> {
        let expected = Expected {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
        };
        let (_, keys) = self.metadata(false).await?;
        let claims = match verify::verify(id_token, &keys, &expected) {
            Err(VerifyError::UnknownKey(_)) => {
                let (_, keys) = self.metadata(true).await?;
                verify::verify(id_token, &keys, &expected)?
            }
            other => other?,
        };
        self.use_nonce(nonce)?;
        Ok(claims)
    }

    /// Each nonce signs in once: an ID token that comes back a second time is refused.
    fn use_nonce(&self, nonce: &str) -> Result<(), OidcError> {
        let now = self.clock.now();
        let mut used = self.used_nonces.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|_, at| (now - *at).to_std().is_ok_and(|d| d < NONCE_MEMORY));
        if used.insert(crate::secret::key_of(nonce), now).is_some() {
            return Err(OidcError::Token(VerifyError::Invalid(
                "its nonce was already used".into(),
            )));
        }
        Ok(())
    }
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before Basic auth.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
