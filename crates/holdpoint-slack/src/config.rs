//! `[slack]`: review in Slack, as `holdpoint.toml` gives it. The bot token, the signing
//! secret and the app-level token are never written in the file: `bot_token_env`,
//! `signing_secret_env` and `app_token_env` name the variables that hold them.
//!
//! The older keys `bot_token`, `signing_secret` and `app_token` took the same names but
//! invited pasting the secret itself: they still work, with a warning at load. A value
//! that is not a plausible variable name, or that starts like a Slack token (`xoxb-`,
//! `xapp-`, …), is refused at load without being repeated, so it never reaches a log.

use crate::api::SlackApiError;
use holdpoint_core::env::{Env, NameError, var_name};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSection {
    /// The channel id (`C…`) hold messages are posted to.
    pub channel: String,
    /// The environment variable holding the bot token (`xoxb-…`); `SLACK_BOT_TOKEN`
    /// when unset.
    #[serde(default)]
    pub bot_token_env: Option<String>,
    /// The environment variable holding the app's signing secret; `SLACK_SIGNING_SECRET`
    /// when unset.
    #[serde(default)]
    pub signing_secret_env: Option<String>,
    /// With `socket_mode`: the environment variable holding the app-level token
    /// (`xapp-…`); `SLACK_APP_TOKEN` when unset.
    #[serde(default)]
    pub app_token_env: Option<String>,
    /// Deprecated names of the three above.
    #[serde(default)]
    pub bot_token: Option<String>,
    #[serde(default)]
    pub signing_secret: Option<String>,
    #[serde(default)]
    pub app_token: Option<String>,
    /// The Web API's base URL; a stand-in's in tests.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Socket Mode: the gateway opens a WebSocket to Slack instead of serving the
    /// interaction endpoints (no public address needed).
    #[serde(default)]
    pub socket_mode: bool,
}

fn default_api_url() -> String {
    "https://slack.com/api".into()
}

/// What the gateway needs to run the Slack channel.
pub struct SlackSettings {
    pub channel: String,
    pub bot_token: String,
    /// For the HTTP endpoints; `None` in Socket Mode.
    pub signing_secret: Option<String>,
    /// For Socket Mode; `None` otherwise.
    pub app_token: Option<String>,
    pub api_url: String,
}

/// Shows where the secrets came from, never the secrets.
impl std::fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSettings")
            .field("channel", &self.channel)
            .field("api_url", &self.api_url)
            .field("socket_mode", &self.app_token.is_some())
            .finish_non_exhaustive()
    }
}

/// What is wrong with `[slack]`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[slack] {key}: {error}")]
    NotAName { key: &'static str, error: NameError },
    #[error("[slack]: set `{new}` only (`{old}` is its old name)")]
    Both {
        new: &'static str,
        old: &'static str,
    },
    #[error("[slack]: the environment variable `{0}` is not set")]
    Unset(String),
    #[error("[slack] api_url: {0}")]
    ApiUrl(url::ParseError),
    #[error("[slack] api_url: must be http or https")]
    ApiScheme,
    #[error("[slack] channel is empty")]
    NoChannel,
    #[error("[slack]: {0}")]
    Api(#[from] SlackApiError),
}

/// One secret's key: its name now, its old name, and the variable read when neither is set.
struct Key {
    new: &'static str,
    old: &'static str,
    default: &'static str,
}

const BOT_TOKEN: Key = Key {
    new: "bot_token_env",
    old: "bot_token",
    default: "SLACK_BOT_TOKEN",
};
const SIGNING_SECRET: Key = Key {
    new: "signing_secret_env",
    old: "signing_secret",
    default: "SLACK_SIGNING_SECRET",
};
const APP_TOKEN: Key = Key {
    new: "app_token_env",
    old: "app_token",
    default: "SLACK_APP_TOKEN",
};

/// The variable `key` names (under its new or its old name, or by default), checked to
/// be a plausible name.
fn var<'a>(
    key: &Key,
    new: &'a Option<String>,
    old: &'a Option<String>,
) -> Result<&'a str, ConfigError> {
    let (used, value) = match (new, old) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Both {
                new: key.new,
                old: key.old,
            });
        }
        (Some(value), None) => (key.new, value.as_str()),
        (None, Some(value)) => (key.old, value.as_str()),
        (None, None) => return Ok(key.default),
    };
    var_name(value).map_err(|error| ConfigError::NotAName { key: used, error })
}

impl SlackSection {
    /// Each secret's key, with the value of its new and of its old name.
    fn keys(&self) -> [(&'static Key, &Option<String>, &Option<String>); 3] {
        [
            (&BOT_TOKEN, &self.bot_token_env, &self.bot_token),
            (
                &SIGNING_SECRET,
                &self.signing_secret_env,
                &self.signing_secret,
            ),
            (&APP_TOKEN, &self.app_token_env, &self.app_token),
        ]
    }

    /// What can be checked without the environment, run when the config is loaded; the
    /// warnings to log once (an old key in use).
    pub fn check(&self) -> Result<Vec<String>, ConfigError> {
        let url = url::Url::parse(&self.api_url).map_err(ConfigError::ApiUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::ApiScheme);
        }
        if self.channel.is_empty() {
            return Err(ConfigError::NoChannel);
        }
        let mut warnings = Vec::new();
        for (key, new, old) in self.keys() {
            var(key, new, old)?;
            if old.is_some() {
                warnings.push(format!(
                    "[slack] `{}` is deprecated: call it `{}` (it names the environment \
                     variable, never the secret)",
                    key.old, key.new
                ));
            }
        }
        Ok(warnings)
    }

    /// The settings, with the secrets read from `env`.
    pub fn resolve(&self, env: &dyn Env) -> Result<SlackSettings, ConfigError> {
        self.check()?;
        let [bot, signing, app] = self.keys();
        let secret = |(key, new, old): (&Key, &Option<String>, &Option<String>)| {
            let name = var(key, new, old)?;
            env.var(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ConfigError::Unset(name.to_string()))
        };
        let (signing_secret, app_token) = if self.socket_mode {
            (None, Some(secret(app)?))
        } else {
            (Some(secret(signing)?), None)
        };
        Ok(SlackSettings {
            channel: self.channel.clone(),
            bot_token: secret(bot)?,
            signing_secret,
            app_token,
            api_url: self.api_url.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use holdpoint_core::env::MapEnv;

    fn section(text: &str) -> SlackSection {
        toml::from_str(&format!("channel = \"C1\"\n{text}")).unwrap()
    }

    #[test]
    fn secrets_come_from_the_variables_the_env_keys_name() {
        let env = MapEnv::new()
            .with("BOT", "xoxb-1")
            .with("SLACK_SIGNING_SECRET", "sig");
        let settings = section("bot_token_env = \"BOT\"").resolve(&env).unwrap();
        assert_eq!(settings.bot_token, "xoxb-1");
        assert_eq!(settings.signing_secret.as_deref(), Some("sig"));
        assert!(
            section("bot_token_env = \"BOT\"")
                .check()
                .unwrap()
                .is_empty()
        );
        let err = section("bot_token_env = \"NOPE\"")
            .resolve(&env)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "[slack]: the environment variable `NOPE` is not set"
        );
    }

    #[test]
    fn the_old_keys_still_work_with_a_warning() {
        let env = MapEnv::new()
            .with("BOT", "xoxb-1")
            .with("APP", "xapp-1")
            .with("SLACK_SIGNING_SECRET", "sig");
        let old = section("bot_token = \"BOT\"\nsocket_mode = true\napp_token = \"APP\"");
        let warnings = old.check().unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("`bot_token` is deprecated: call it `bot_token_env`"));
        assert!(warnings[1].contains("`app_token_env`"));
        let settings = old.resolve(&env).unwrap();
        assert_eq!(settings.bot_token, "xoxb-1");
        assert_eq!(settings.app_token.as_deref(), Some("xapp-1"));
        let both = section("bot_token = \"BOT\"\nbot_token_env = \"BOT\"");
        assert!(
            both.check()
                .unwrap_err()
                .to_string()
                .contains("set `bot_token_env` only")
        );
    }

    #[test]
    fn a_pasted_token_is_refused_without_being_repeated() {
        for (key, value) in [
            ("bot_token", "xoxb-1234567890-abcdefghij"),
            ("bot_token_env", "xoxb-1234567890-abcdefghij"),
            ("signing_secret", "8f742231b10e8888abcd99yyyzzz85a5"),
            ("app_token_env", "xapp-1-A0123-456-deadbeef"),
        ] {
            let err = section(&format!("{key} = \"{value}\""))
                .check()
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(&format!("[slack] {key}:")), "{err}");
            for piece in value.split('-').filter(|p| p.len() >= 3) {
                assert!(!err.contains(piece), "{piece} in {err}");
            }
        }
    }
}
