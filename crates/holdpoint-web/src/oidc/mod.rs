//! Sign-in with an OpenID Connect provider (authorization code flow, PKCE S256 and a
//! `nonce`). A tour:
//! - `provider.rs`: [`Provider`], the discovery document and signing keys (fetched when
//!   first needed, so a provider that is down does not stop the gateway).
//! - `pending.rs`: a sign-in in progress, kept in the browser in a signed cookie, so
//!   the server keeps nothing per sign-in.
//! - `verify.rs`: every check an ID token passes: signature by a key of the issuer,
//!   issuer, audience (and `azp`), expiry, and the nonce of this very sign-in, once.
//! - `claims.rs`: the person the claims name, their groups (merged with `[[users]]`)
//!   and whether a configured claim makes them an admin.
//! - `flow.rs`: `GET /signin/oidc` and its callback.

mod claims;
pub mod flow;
mod pending;
mod provider;
pub mod verify;

pub use claims::AdminRule;
pub use provider::Provider;

/// `[web.oidc]`.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer, exactly as its discovery document and ID tokens name it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The claim that names the person (`preferred_username` by default).
    pub username_claim: String,
    /// The claim that lists their groups (`groups` by default).
    pub groups_claim: String,
    /// Who is an admin.
    pub admin: Option<AdminRule>,
    /// The provider's name on the sign-in button.
    pub label: String,
}

impl OidcConfig {
    pub fn new(issuer: &str, client_id: &str, client_secret: &str) -> Self {
        OidcConfig {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            scopes: vec!["profile".into(), "email".into(), "groups".into()],
            username_claim: "preferred_username".into(),
            groups_claim: "groups".into(),
            admin: None,
            label: "your identity provider".into(),
        }
    }
}
