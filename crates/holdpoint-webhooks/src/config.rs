//! `[[webhooks]]`: URLs that receive hold events, signed (Standard Webhooks), as
//! `holdpoint.toml` gives them. The secret is never written in the file: `secret_env`
//! names the environment variable holding it.
//!
//! The older key `secret` took the same name but invited pasting the secret itself: it
//! still works, with a warning at load. A value that is not a plausible variable name,
//! or that starts like a secret (`whsec_…`), is refused at load without being repeated.

use crate::{Webhook, WebhookError};
use holdpoint_core::Clock;
use holdpoint_core::env::{Env, NameError, var_name};
use holdpoint_notify::Channel;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// The channel is `webhook:{name}`.
    pub name: String,
    pub url: String,
    /// The environment variable that holds the `whsec_…` secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// The deprecated name of `secret_env`.
    #[serde(default)]
    pub secret: Option<String>,
}

/// What is wrong with the `[[webhooks]]` sections.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[[webhooks]] `{0}`: `name` must be letters, digits, `-` or `_`")]
    BadName(String),
    #[error("[[webhooks]] `{0}`: named twice")]
    Twice(String),
    #[error("[[webhooks]] `{name}`: `url`: {error}")]
    Url {
        name: String,
        error: url::ParseError,
    },
    #[error("[[webhooks]] `{0}`: `url`: must be http or https")]
    Scheme(String),
    #[error(
        "[[webhooks]] `{0}`: `secret_env` is missing: the name of the environment variable \
         holding the `whsec_…` secret"
    )]
    NoSecret(String),
    #[error("[[webhooks]] `{0}`: set `secret_env` only (`secret` is its old name)")]
    Both(String),
    #[error("[[webhooks]] `{name}`: {key}: {error}")]
    NotAName {
        name: String,
        key: &'static str,
        error: NameError,
    },
    #[error("[[webhooks]] `{name}`: the environment variable `{var}` is not set")]
    Unset { name: String, var: String },
    #[error("[[webhooks]] `{name}`: {error}")]
    Webhook { name: String, error: WebhookError },
}

impl WebhookSection {
    /// The variable holding the secret, checked to be a plausible name.
    fn var(&self) -> Result<&str, ConfigError> {
        let (key, value) = match (&self.secret_env, &self.secret) {
            (Some(_), Some(_)) => return Err(ConfigError::Both(self.name.clone())),
            (Some(value), None) => ("secret_env", value),
            (None, Some(value)) => ("secret", value),
            (None, None) => return Err(ConfigError::NoSecret(self.name.clone())),
        };
        var_name(value).map_err(|error| ConfigError::NotAName {
            name: self.name.clone(),
            key,
            error,
        })
    }

    /// What can be checked without the environment, run when the config is loaded; the
    /// warnings to log once (the old key in use).
    pub fn check(&self) -> Result<Vec<String>, ConfigError> {
        let name = &self.name;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(ConfigError::BadName(name.clone()));
        }
        let url = url::Url::parse(&self.url).map_err(|error| ConfigError::Url {
            name: name.clone(),
            error,
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Scheme(name.clone()));
        }
        self.var()?;
        Ok(match self.secret {
            Some(_) => vec![format!(
                "[[webhooks]] `{name}`: `secret` is deprecated: call it `secret_env` (it names \
                 the environment variable, never the secret)"
            )],
            None => Vec::new(),
        })
    }

    /// The channel, with its secret read from `env`.
    pub fn channel(&self, env: &dyn Env, clock: Arc<dyn Clock>) -> Result<Webhook, ConfigError> {
        self.check()?;
        let var = self.var()?;
        let secret = env.var(var).ok_or_else(|| ConfigError::Unset {
            name: self.name.clone(),
            var: var.to_string(),
        })?;
        Webhook::new(&self.name, &self.url, &secret, clock).map_err(|error| ConfigError::Webhook {
            name: self.name.clone(),
            error,
        })
    }
}

/// Every section checked without the environment; names must be unique. The warnings
/// to log once.
pub fn check(sections: &[WebhookSection]) -> Result<Vec<String>, ConfigError> {
    let mut seen = HashSet::new();
    let mut warnings = Vec::new();
    for section in sections {
        warnings.extend(section.check()?);
        if !seen.insert(section.name.as_str()) {
            return Err(ConfigError::Twice(section.name.clone()));
        }
    }
    Ok(warnings)
}

/// A channel per section, or the first problem.
pub fn channels(
    sections: &[WebhookSection],
    env: &dyn Env,
    clock: Arc<dyn Clock>,
) -> Result<Vec<Arc<dyn Channel>>, ConfigError> {
    check(sections)?;
    sections
        .iter()
        .map(|s| Ok(Arc::new(s.channel(env, clock.clone())?) as Arc<dyn Channel>))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use holdpoint_core::SystemClock;
    use holdpoint_core::env::MapEnv;

    fn section(text: &str) -> WebhookSection {
        toml::from_str(text).unwrap()
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn secrets_come_from_the_environment_and_must_be_whsec() {
        let clock = || Arc::new(SystemClock) as Arc<dyn Clock>;
        let env = MapEnv::new().with("S", SECRET);
        let ok = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret_env = \"S\"");
        let channels = channels(&[ok], &env, clock()).unwrap();
        assert_eq!(channels[0].name(), "webhook:siem");
        let missing =
            section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret_env = \"NOPE\"");
        assert!(
            super::channels(&[missing], &env, clock())
                .err()
                .unwrap()
                .to_string()
                .contains("`NOPE` is not set")
        );
        let weak = MapEnv::new().with("S", "whsec_c2hvcnQ=");
        let short = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret_env = \"S\"");
        assert!(
            super::channels(&[short], &weak, clock())
                .err()
                .unwrap()
                .to_string()
                .contains("16 bytes")
        );
        let ftp = section("name = \"siem\"\nurl = \"ftp://127.0.0.1/h\"\nsecret_env = \"S\"");
        assert!(super::channels(&[ftp], &env, clock()).is_err());
        let none = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"");
        assert!(
            none.check()
                .unwrap_err()
                .to_string()
                .contains("`secret_env` is missing")
        );
    }

    #[test]
    fn the_old_key_still_works_with_a_warning() {
        let env = MapEnv::new().with("S", SECRET);
        let old = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret = \"S\"");
        let warnings = check(std::slice::from_ref(&old)).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("`secret` is deprecated: call it `secret_env`"));
        assert!(old.channel(&env, Arc::new(SystemClock)).is_ok());
    }

    #[test]
    fn a_pasted_secret_is_refused_without_being_repeated() {
        for key in ["secret", "secret_env"] {
            let pasted = section(&format!(
                "name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\n{key} = \"{SECRET}\""
            ));
            let err = pasted.check().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("[[webhooks]] `siem`: {key}:")),
                "{err}"
            );
            assert!(!err.contains("whsec") && !err.contains("MfKQ9r8"), "{err}");
        }
    }
}
