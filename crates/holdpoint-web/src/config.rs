//! `[web]`: the web inbox, on by default, as `holdpoint.toml` gives it. `[web.oidc]` adds
//! sign-in with an OpenID Connect provider; its client secret is never written in the
//! file: `client_secret_env` names the variable that holds it, and a value that looks
//! like the secret itself is refused at load without being repeated.

use crate::{OidcConfig, WebConfig, oidc::AdminRule};
use holdpoint_core::env::{Env, NameError, var_name};
use serde::Deserialize;
use std::time::Duration;

/// The longest a session may last.
const MAX_SESSION: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
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

/// What is wrong with `[web]`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[web] {field}: {problem}")]
    Duration {
        field: &'static str,
        problem: String,
    },
    #[error("[web] {0} must be longer than zero")]
    Zero(&'static str),
    #[error("[web] absolute_timeout may be at most 30d")]
    TooLong,
    #[error("[web] idle_timeout is longer than absolute_timeout")]
    IdleOverAbsolute,
    #[error("[web.oidc]: set both admin_claim and admin_value, or neither")]
    AdminPair,
    #[error("[web.oidc] client_secret_env: {0}")]
    NotAName(NameError),
    #[error("[web.oidc]: the client secret is read from `{0}`, which is not set")]
    Unset(String),
}

/// The two session timeouts, checked.
fn timeouts(section: &WebSection) -> Result<(Duration, Duration), ConfigError> {
    let duration = |field: &'static str, text: &str| {
        let d = holdpoint_core::duration::parse_duration(text)
            .map_err(|problem| ConfigError::Duration { field, problem })?;
        if d.is_zero() {
            return Err(ConfigError::Zero(field));
        }
        Ok(d)
    };
    let idle = duration("idle_timeout", &section.idle_timeout)?;
    let absolute = duration("absolute_timeout", &section.absolute_timeout)?;
    if absolute > MAX_SESSION {
        return Err(ConfigError::TooLong);
    }
    if idle > absolute {
        return Err(ConfigError::IdleOverAbsolute);
    }
    Ok((idle, absolute))
}

impl WebSection {
    /// What can be checked without the environment: run when the config is loaded.
    pub fn check(&self) -> Result<(), ConfigError> {
        timeouts(self)?;
        if let Some(oidc) = &self.oidc {
            var_name(&oidc.client_secret_env).map_err(ConfigError::NotAName)?;
            if oidc.admin_claim.is_some() != oidc.admin_value.is_some() {
                return Err(ConfigError::AdminPair);
            }
        }
        Ok(())
    }

    /// The web inbox's settings, with the client secret read from `env`; `None` when
    /// the pages are off.
    pub fn resolve(&self, env: &dyn Env) -> Result<Option<WebSettings>, ConfigError> {
        self.check()?;
        if !self.enabled {
            return Ok(None);
        }
        let (idle_timeout, absolute_timeout) = timeouts(self)?;
        let oidc = match &self.oidc {
            Some(oidc) => {
                let secret = env
                    .var(&oidc.client_secret_env)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| ConfigError::Unset(oidc.client_secret_env.clone()))?;
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
                    _ => None,
                };
                Some(c)
            }
            None => None,
        };
        Ok(Some(WebSettings {
            idle_timeout,
            absolute_timeout,
            oidc,
        }))
    }
}

/// The web inbox's settings, but for the address browsers reach it at.
#[derive(Clone)]
pub struct WebSettings {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
    pub oidc: Option<OidcConfig>,
}

/// Names the provider, never the client secret.
impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("idle_timeout", &self.idle_timeout)
            .field("absolute_timeout", &self.absolute_timeout)
            .field("oidc", &self.oidc.as_ref().map(|o| &o.issuer))
            .finish()
    }
}

impl WebSettings {
    /// The settings of an inbox reached at `public_url`.
    pub fn at(self, public_url: &str) -> WebConfig {
        let mut config = WebConfig::new(public_url);
        config.idle_timeout = self.idle_timeout;
        config.absolute_timeout = self.absolute_timeout;
        config.oidc = self.oidc;
        config
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use holdpoint_core::env::MapEnv;

    fn section(text: &str) -> WebSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_client_secret_comes_from_the_variable_it_names() {
        let text = "[oidc]\nissuer = \"https://idp.test\"\nclient_id = \"hp\"\nclient_secret_env = \"OIDC\"";
        let env = MapEnv::new().with("OIDC", "s3cret");
        let settings = section(text).resolve(&env).unwrap().unwrap();
        let config = settings.at("http://127.0.0.1:1");
        assert_eq!(config.public_url, "http://127.0.0.1:1");
        assert_eq!(config.oidc.unwrap().client_secret, "s3cret");
        assert!(section("enabled = false").resolve(&env).unwrap().is_none());
        let err = section(text).resolve(&MapEnv::new()).unwrap_err();
        assert!(err.to_string().contains("`OIDC`, which is not set"));
        assert!(
            section("idle_timeout = \"2h\"\nabsolute_timeout = \"1h\"")
                .check()
                .is_err()
        );
    }

    #[test]
    fn a_pasted_secret_is_refused_without_being_repeated() {
        let text = "[oidc]\nissuer = \"https://idp.test\"\nclient_id = \"hp\"\nclient_secret_env = \"Zq8-hunter2-x\"";
        let err = section(text).check().unwrap_err().to_string();
        assert!(err.starts_with("[web.oidc] client_secret_env:"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
