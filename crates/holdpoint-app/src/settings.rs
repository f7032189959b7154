//! `[approvals]` and `[limits]`, and what they become: the policy engine's hold
//! defaults, the gate's settings and the server's connection limits.

use crate::Config;
use crate::error::ConfigError;
use serde::Deserialize;
use std::time::Duration;

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

fn default_approvers() -> Vec<String> {
    vec!["admins".into()]
}

fn default_expiry() -> String {
    "15m".into()
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

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(message.into())
}

fn positive(what: &str, text: &str) -> Result<Duration, ConfigError> {
    let d = holdpoint_core::duration::parse_duration(text)
        .map_err(|e| invalid(format!("{what}: {e}")))?;
    if d.is_zero() {
        return Err(invalid(format!("{what} must be longer than zero")));
    }
    Ok(d)
}

fn bounded(what: &str, text: &str, max: Duration) -> Result<Duration, ConfigError> {
    let d = positive(what, text)?;
    if d > max {
        return Err(invalid(format!(
            "{what} must be at most {}",
            holdpoint_core::duration::format_duration(max)
        )));
    }
    Ok(d)
}

impl Config {
    pub fn hold_defaults(&self) -> Result<holdpoint_policy::HoldDefaults, ConfigError> {
        let expiry = holdpoint_core::duration::parse_duration(&self.approvals.default_expiry)
            .map_err(|e| invalid(format!("[approvals] default_expiry: {e}")))?;
        if expiry.is_zero() {
            return Err(invalid(
                "[approvals] default_expiry must be longer than zero: every hold expires",
            ));
        }
        let max_duration = bounded(
            "[approvals] max_duration",
            &self.approvals.max_duration,
            Duration::from_secs(366 * 24 * 3600),
        )?;
        if expiry > max_duration {
            return Err(invalid(
                "[approvals] default_expiry is longer than max_duration",
            ));
        }
        Ok(holdpoint_policy::HoldDefaults {
            approvers: self.approvals.default_approvers.clone(),
            expiry,
            max_duration,
        })
    }

    /// The gate's settings from `[approvals]` and `[limits]`; no channels yet.
    pub fn gate_settings(&self) -> Result<holdpoint_gate::GateSettings, ConfigError> {
        let l = &self.limits;
        let approval_ttl = positive("[approvals] approval_ttl", &self.approvals.approval_ttl)?;
        let max_duration = positive("[approvals] max_duration", &self.approvals.max_duration)?;
        if approval_ttl > max_duration {
            return Err(invalid(
                "[approvals] approval_ttl is longer than max_duration",
            ));
        }
        Ok(holdpoint_gate::GateSettings {
            approval_ttl,
            max_token_ttl: bounded(
                "[limits] max_token_ttl",
                &l.max_token_ttl,
                Duration::from_secs(100 * 366 * 24 * 3600),
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
    ) -> Result<holdpoint_server::ServerLimits, ConfigError> {
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
        if header_timeout > Duration::from_secs(600) {
            return Err(invalid("[limits] header_timeout must be at most 10m"));
        }
        Ok(holdpoint_server::ServerLimits {
            connections,
            header_timeout,
        })
    }
}
