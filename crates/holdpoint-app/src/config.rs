//! `holdpoint.toml` (DESIGN §6). Every section is optional; what is missing takes the
//! embedded default. Relative paths are read relative to the config file's folder.
//!
//! The gateway's own sections (`[server]`, `[store]`, `[policy]`, `[approvals]`,
//! `[limits]`, `[[users]]`, `[masking]`) are here and in `settings.rs`; each surface
//! and channel owns its section in its crate, and `sections.rs` is where they are
//! registered.

use crate::error::ConfigError;
use crate::settings::{Approvals, Limits};
use holdpoint_gate::DirectoryUser;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: Server,
    #[serde(default)]
    pub store: Store,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub approvals: Approvals,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub users: Vec<DirectoryUser>,
    #[serde(default)]
    pub masking: holdpoint_mask::MaskConfig,
    // Each surface's and channel's own section, owned by its crate; `sections.rs` checks
    // and builds them.
    /// `[slack]`: review in Slack.
    #[serde(default)]
    pub slack: Option<holdpoint_slack::config::SlackSection>,
    /// `[[webhooks]]`: URLs that receive hold events, signed.
    #[serde(default)]
    pub webhooks: Vec<holdpoint_webhooks::config::WebhookSection>,
    /// `[web]`: the web inbox and its sign-in.
    #[serde(default)]
    pub web: holdpoint_web::config::WebSection,
    /// `[[postgres]]`: the PostgreSQL proxy's listeners.
    #[serde(default)]
    pub postgres: Vec<holdpoint_pg::config::PostgresSection>,
    /// `[[mcp]]`: upstreams served at `/mcp/{name}`.
    #[serde(default)]
    pub mcp: Vec<holdpoint_mcp::config::McpSection>,
    /// `[teams]`: accepted as it is, not acted on yet.
    #[serde(default)]
    pub teams: Option<toml::Value>,
    /// The folder relative paths are read from.
    #[serde(skip)]
    pub base: PathBuf,
    /// What loading found worth a warning (an old key in use), to be logged once.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub listen: Option<String>,
    /// The gateway's address in links sent to channels.
    pub public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub dir: Option<PathBuf>,
}

impl Config {
    /// Reads `path`, or returns the embedded defaults when there is none; every section
    /// is checked as far as it can be without the environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let mut config = Config::from_text(&text, path)?;
        config.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(config)
    }

    /// A config from its text; relative paths are read from the working folder.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_text(text, Path::new("holdpoint.toml"))
    }

    fn from_text(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for user in &config.users {
            if let Some(g) = user
                .groups
                .iter()
                .find(|g| holdpoint_gate::is_implicit_group(g))
            {
                return Err(ConfigError::ImplicitGroup {
                    path: path.to_path_buf(),
                    user: user.name.clone(),
                    group: g.clone(),
                });
            }
        }
        config.warnings = crate::sections::check(&config)?;
        Ok(config)
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    /// The store URL: `[store] url`, or SQLite in the data folder.
    pub fn store_url(&self, data: &Path) -> String {
        match &self.store.url {
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) if !Path::new(path).is_absolute() => {
                    format!("sqlite://{}", self.resolve(Path::new(path)).display())
                }
                _ => url.clone(),
            },
            None => format!("sqlite://{}", data.join("holdpoint.db").display()),
        }
    }

    /// The policy folder, if one is configured; none means the embedded starter set.
    pub fn policy_dir(&self) -> Option<PathBuf> {
        self.policy.dir.as_deref().map(|d| self.resolve(d))
    }

    /// Where the API listens: `[server] listen`, or 127.0.0.1:8470.
    pub fn listen(&self) -> String {
        self.server
            .listen
            .clone()
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
    }
}
