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
    pub users: Vec<DirectoryUser>,
    /// Sections of channels and surfaces that later issues fill in; accepted as they are.
    #[serde(default)]
    pub slack: Option<toml::Value>,
    #[serde(default)]
    pub teams: Option<toml::Value>,
    #[serde(default)]
    pub postgres: Option<toml::Value>,
    #[serde(default)]
    pub mcp: Option<toml::Value>,
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
    #[expect(
        dead_code,
        reason = "used in links sent to reviewers once a channel sends them"
    )]
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
}

impl Default for Approvals {
    fn default() -> Self {
        Approvals {
            default_approvers: default_approvers(),
            default_expiry: default_expiry(),
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
        [
            ("slack", self.slack.is_some()),
            ("teams", self.teams.is_some()),
            ("postgres", self.postgres.is_some()),
            ("mcp", self.mcp.is_some()),
        ]
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
        Ok(holdpoint_policy::HoldDefaults {
            approvers: self.approvals.default_approvers.clone(),
            expiry,
        })
    }
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
