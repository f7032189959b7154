//! `[slack]`: review in Slack. The bot token and the signing secret are never written in
//! the file: each field names the environment variable that holds it.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSection {
    /// The channel id (`C…`) hold messages are posted to.
    pub channel: String,
    /// The environment variable holding the bot token (`xoxb-…`).
    #[serde(default = "default_token_var")]
    pub bot_token: String,
    /// The environment variable holding the app's signing secret.
    #[serde(default = "default_secret_var")]
    pub signing_secret: String,
    /// The Web API's base URL; a stand-in's in tests.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Socket Mode: the gateway opens a WebSocket to Slack instead of serving the
    /// interaction endpoints (no public address needed).
    #[serde(default)]
    pub socket_mode: bool,
    /// With `socket_mode`: the environment variable holding the app-level token (`xapp-…`).
    #[serde(default = "default_app_token_var")]
    pub app_token: String,
}

fn default_app_token_var() -> String {
    "SLACK_APP_TOKEN".into()
}

fn default_token_var() -> String {
    "SLACK_BOT_TOKEN".into()
}

fn default_secret_var() -> String {
    "SLACK_SIGNING_SECRET".into()
}

fn default_api_url() -> String {
    "https://slack.com/api".into()
}

/// What the gateway needs to run the Slack channel.
pub struct Slack {
    pub channel: String,
    pub bot_token: String,
    /// For the HTTP endpoints; `None` in Socket Mode.
    pub signing_secret: Option<String>,
    /// For Socket Mode; `None` otherwise.
    pub app_token: Option<String>,
    pub api_url: String,
}

impl SlackSection {
    pub fn resolve(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<Slack, String> {
        let var = |name: &str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("[slack]: the environment variable `{name}` is not set"))
        };
        let url = url::Url::parse(&self.api_url).map_err(|e| format!("[slack] api_url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("[slack] api_url must be http or https".into());
        }
        if self.channel.is_empty() {
            return Err("[slack] channel is empty".into());
        }
        let (signing_secret, app_token) = if self.socket_mode {
            (None, Some(var(&self.app_token)?))
        } else {
            (Some(var(&self.signing_secret)?), None)
        };
        Ok(Slack {
            channel: self.channel.clone(),
            bot_token: var(&self.bot_token)?,
            signing_secret,
            app_token,
            api_url: self.api_url.clone(),
        })
    }
}
