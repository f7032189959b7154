//! `[web]`: the web inbox, on by default. `[web.oidc]` adds sign-in with an OpenID
//! Connect provider; its client secret is never written in the file: `client_secret_env`
//! names the variable that holds it.

use holdpoint_web::{OidcConfig, WebConfig, oidc::AdminRule};
use serde::Deserialize;

/// The longest a session may last.
const MAX_SESSION: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSection {
    /// Serve the pages (`/inbox`, `/actions/{id}`, …).
    pub enabled: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: String,
    /// A session ends this long after sign-in.
    pub absolute_timeout: String,
    pub oidc: Option<OidcSection>,
}

impl Default for WebSection {
    fn default() -> Self {
        WebSection {
            enabled: true,
            idle_timeout: "30m".into(),
            absolute_timeout: "12h".into(),
            oidc: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSection {
    pub issuer: String,
    pub client_id: String,
    /// The variable holding the client secret.
    #[serde(default = "default_secret_var")]
    pub client_secret_env: String,
    /// Scopes asked for besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// With `admin_value`: people whose claim holds it sign in as admins.
    #[serde(default)]
    pub admin_claim: Option<String>,
    #[serde(default)]
    pub admin_value: Option<String>,
    /// The provider's name on the sign-in button.
    #[serde(default = "default_label")]
    pub label: String,
}

fn default_secret_var() -> String {
    "HOLDPOINT_OIDC_CLIENT_SECRET".into()
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into(), "groups".into()]
}

fn default_username_claim() -> String {
    "preferred_username".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_label() -> String {
    "your identity provider".into()
}

impl WebSection {
    /// The web inbox's settings for a gateway reached at `public_url`.
    pub fn resolve(
        &self,
        public_url: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<WebConfig, String> {
        let duration = |field: &str, text: &str| {
            let d = holdpoint_core::duration::parse_duration(text)
                .map_err(|e| format!("[web] {field}: {e}"))?;
            if d.is_zero() {
                return Err(format!("[web] {field} must be longer than zero"));
            }
            Ok(d)
        };
        let mut config = WebConfig::new(public_url);
        config.idle_timeout = duration("idle_timeout", &self.idle_timeout)?;
        config.absolute_timeout = duration("absolute_timeout", &self.absolute_timeout)?;
        if config.absolute_timeout > MAX_SESSION {
            return Err("[web] absolute_timeout may be at most 30d".into());
        }
        if config.idle_timeout > config.absolute_timeout {
            return Err("[web] idle_timeout is longer than absolute_timeout".into());
        }
        if let Some(oidc) = &self.oidc {
            let secret = lookup(&oidc.client_secret_env)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    format!(
                        "[web.oidc]: the client secret is read from `{}`, which is not set",
                        oidc.client_secret_env
                    )
                })?;
            let mut c = OidcConfig::new(&oidc.issuer, &oidc.client_id, &secret);
            c.scopes = oidc.scopes.clone();
            c.username_claim = oidc.username_claim.clone();
            c.groups_claim = oidc.groups_claim.clone();
            c.label = oidc.label.clone();
            c.admin = match (&oidc.admin_claim, &oidc.admin_value) {
                (Some(claim), Some(value)) => Some(AdminRule {
                    claim: claim.clone(),
                    value: value.clone(),
                }),
                (None, None) => None,
                _ => {
                    return Err(
                        "[web.oidc]: set both admin_claim and admin_value, or neither".into(),
                    );
                }
            };
            config.oidc = Some(c);
        }
        Ok(config)
    }
}
