//! `holdpoint.toml` (DESIGN §6). Every section is optional; what is missing takes the
//! embedded default. Relative paths are read relative to the config file's folder.

use anyhow::Context;
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
    /// Sections of channels and surfaces that later issues fill in; accepted as they are.
    /// `[slack]`: review in Slack.
    #[serde(default)]
    pub slack: Option<crate::config_slack::SlackSection>,
    #[serde(default)]
    pub teams: Option<toml::Value>,
    #[serde(default)]
    pub postgres: Vec<crate::config_pg::PostgresSection>,
    /// `[[webhooks]]`: URLs that receive hold events, signed.
    #[serde(default)]
    pub webhooks: Vec<crate::config_webhooks::WebhookSection>,
    /// `[[mcp]]`: upstreams served at `/mcp/{name}`.
    #[serde(default)]
    pub mcp: Vec<crate::config_mcp::McpSection>,
    /// `[web]`: the web inbox and its sign-in.
    #[serde(default)]
    pub web: crate::config_web::WebSection,
    #[serde(default)]
    pub masking: holdpoint_mask::MaskConfig,
    /// The folder relative paths are read from.
    #[serde(skip)]
    pub base: PathBuf,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approvals {
    #[serde(default = "default_approvers")]
    pub default_approvers: Vec<String>,
    #[serde(default = "default_expiry")]
    pub default_expiry: String,
    /// How long an approved single-use action waits to be used before it lapses.
    #[serde(default = "default_approval_ttl")]
    pub approval_ttl: String,
    /// The longest `@expires` or `@grant` a policy may ask for.
    #[serde(default = "default_max_duration")]
    pub max_duration: String,
}

impl Default for Approvals {
    fn default() -> Self {
        Approvals {
            default_approvers: default_approvers(),
            default_expiry: default_expiry(),
            approval_ttl: default_approval_ttl(),
            max_duration: default_max_duration(),
        }
    }
}

fn default_approval_ttl() -> String {
    "15m".into()
}

fn default_max_duration() -> String {
    "30d".into()
}

/// `[limits]`: what one principal, and all connections together, may use. Zero turns a
/// per-principal limit off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub requests_per_second: u32,
    pub request_burst: u32,
    pub pending_holds: u32,
    pub long_polls: u32,
    /// Connections served at once; never more than the descriptor limit allows.
    pub connections: Option<usize>,
    pub header_timeout: String,
    pub max_token_ttl: String,
}

impl Default for Limits {
    fn default() -> Self {
        let gate = holdpoint_gate::Limits::default();
        Limits {
            requests_per_second: gate.requests_per_second,
            request_burst: gate.request_burst,
            pending_holds: gate.pending_holds,
            long_polls: gate.long_polls,
            connections: None,
            header_timeout: "10s".into(),
            max_token_ttl: "366d".into(),
        }
    }
}

fn default_approvers() -> Vec<String> {
    vec!["admins".into()]
}

fn default_expiry() -> String {
    "15m".into()
}

impl Config {
    /// Reads `path`, or returns the embedded defaults when there is none.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config `{}`", path.display()))?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("config `{}`: {e}", path.display()))?;
        config.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for user in &config.users {
            if let Some(g) = user
                .groups
                .iter()
                .find(|g| holdpoint_gate::is_implicit_group(g))
            {
                anyhow::bail!(
                    "config `{}`: [[users]] `{}` lists the group `{g}`, which only a token's kind gives \
                     (an admin token is in `admins`); remove it",
                    path.display(),
                    user.name
                );
            }
        }
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

    /// The masker: the deployment's key (created in the data folder on first use) and
    /// `[masking]`.
    pub fn redactor(&self, data: &Path) -> anyhow::Result<holdpoint_mask::Redactor> {
        let key = holdpoint_mask::load_or_create_key(data).map_err(|e| anyhow::anyhow!("{e}"))?;
        holdpoint_mask::Redactor::new(&key, &self.masking)
            .map_err(|e| anyhow::anyhow!("[masking]: {e}"))
    }

    /// Sections this build accepts but does not act on yet, so start-up can say so.
    pub fn inactive_sections(&self) -> Vec<&'static str> {
        [("teams", self.teams.is_some())]
            .into_iter()
            .filter_map(|(name, present)| present.then_some(name))
            .collect()
    }

    pub fn listen(&self) -> String {
        self.server
            .listen
            .clone()
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string())
    }

    pub fn hold_defaults(&self) -> anyhow::Result<holdpoint_policy::HoldDefaults> {
        let expiry = holdpoint_core::duration::parse_duration(&self.approvals.default_expiry)
            .map_err(|e| anyhow::anyhow!("[approvals] default_expiry: {e}"))?;
        if expiry.is_zero() {
            anyhow::bail!(
                "[approvals] default_expiry must be longer than zero: every hold expires"
            );
        }
        let max_duration = bounded(
            "[approvals] max_duration",
            &self.approvals.max_duration,
            std::time::Duration::from_secs(366 * 24 * 3600),
        )?;
        if expiry > max_duration {
            anyhow::bail!("[approvals] default_expiry is longer than max_duration");
        }
        Ok(holdpoint_policy::HoldDefaults {
            approvers: self.approvals.default_approvers.clone(),
            expiry,
            max_duration,
        })
    }

    /// The gate's settings from `[approvals]` and `[limits]`.
    pub fn gate_settings(&self) -> anyhow::Result<holdpoint_gate::GateSettings> {
        let l = &self.limits;
        let approval_ttl = positive("[approvals] approval_ttl", &self.approvals.approval_ttl)?;
        let max_duration = positive("[approvals] max_duration", &self.approvals.max_duration)?;
        if approval_ttl > max_duration {
            anyhow::bail!("[approvals] approval_ttl is longer than max_duration");
        }
        Ok(holdpoint_gate::GateSettings {
            approval_ttl,
            max_token_ttl: bounded(
                "[limits] max_token_ttl",
                &l.max_token_ttl,
                std::time::Duration::from_secs(100 * 366 * 24 * 3600),
            )?,
            channels: Vec::new(),
            public_url: self.server.public_url.clone(),
            limits: holdpoint_gate::Limits {
                requests_per_second: l.requests_per_second,
                request_burst: l.request_burst,
                pending_holds: l.pending_holds,
                long_polls: l.long_polls,
            },
        })
    }

    /// The server's limits: `connections` at most the descriptor limit less a reserve
    /// for the store, files and the refusals themselves.
    pub fn server_limits(
        &self,
        descriptors: Option<u64>,
    ) -> anyhow::Result<holdpoint_server::ServerLimits> {
        const RESERVE: u64 = 64;
        let wanted = self
            .limits
            .connections
            .unwrap_or(holdpoint_server::ServerLimits::default().connections);
        let ceiling = descriptors.map(|n| n.saturating_sub(RESERVE).max(1) as usize);
        let connections = match ceiling {
            Some(ceiling) if wanted > ceiling => {
                if self.limits.connections.is_some() {
                    tracing::warn!(
                        wanted,
                        ceiling,
                        "[limits] connections is above what the descriptor limit allows; using the lower"
                    );
                }
                ceiling
            }
            _ => wanted,
        };
        let header_timeout = positive("[limits] header_timeout", &self.limits.header_timeout)?;
        if header_timeout > std::time::Duration::from_secs(600) {
            anyhow::bail!("[limits] header_timeout must be at most 10m");
        }
        Ok(holdpoint_server::ServerLimits {
            connections,
            header_timeout,
        })
    }
}

fn bounded(
    what: &str,
    text: &str,
    max: std::time::Duration,
) -> anyhow::Result<std::time::Duration> {
    let d = positive(what, text)?;
    if d > max {
        anyhow::bail!(
            "{what} must be at most {}",
            holdpoint_core::duration::format_duration(max)
        );
    }
    Ok(d)
}

fn positive(what: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    let d = holdpoint_core::duration::parse_duration(text)
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    if d.is_zero() {
        anyhow::bail!("{what} must be longer than zero");
    }
    Ok(d)
}

/// The starter config written by `holdpoint init`.
pub const STARTER_CONFIG: &str = r#"# holdpoint configuration. Every section is optional.

[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470"     # used in links sent to reviewers

[store]
url = "sqlite://holdpoint-data/holdpoint.db"   # or postgres://user@host/db

[policy]
dir = "policies"                         # every .cedar file here; reloaded on change

[approvals]
default_approvers = ["admins"]           # groups asked when a @hold names no @approvers
default_expiry = "15m"                   # when a @hold names no @expires
approval_ttl = "15m"                     # an unused single-use approval lapses after this
max_duration = "30d"                     # the longest @expires or @grant a policy may ask

# What one principal, and all connections together, may use (429 with Retry-After).
[limits]
requests_per_second = 50                 # per principal, sustained (0 = no limit)
request_burst = 100                      # per principal, above the sustained rate
pending_holds = 100                      # per principal
long_polls = 32                          # per principal, open at once
# connections = 4096                     # at once; capped below the descriptor limit
header_timeout = "10s"                   # to send a request's headers
max_token_ttl = "366d"                   # the longest token ttl

# Masking: secrets and personal data are masked before anything leaves the gate.
# [masking]
# disable = ["phone"]                    # detectors to turn off (see docs/masking.md)
# fields = ["internal_ref"]              # more field names whose values are secret
# exempt_fields = ["request_id"]         # field names never masked
# [[masking.patterns]]
# name = "employee_id"
# regex = "EMP-[0-9]{6}"

# Humans and their groups, beyond the groups on their tokens.
# [[users]]
# name = "alice"
# email = "alice@example.com"
# groups = ["dba"]
"#;
