//! `[[postgres]]`: the proxy's listeners, as `holdpoint.toml` gives them. The upstream
//! URL, with its password, is never written in the file: `upstream_env` names the
//! variable of the gateway's environment that holds it, and a missing one stops the
//! start with its name. A value that looks like the URL itself is refused without
//! being repeated.

use crate::{ListenerConfig, TlsError, UpstreamUrlError};
use holdpoint_core::env::{Env, NameError, var_name};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSection {
    pub name: String,
    /// Where agents connect, e.g. `127.0.0.1:6432`.
    pub listen: String,
    /// The variable holding `postgres://user:password@host:port/database`.
    pub upstream_env: String,
    #[serde(default)]
    pub environment: String,
    /// PEM certificate chain and key for TLS on the listener; needed off loopback.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// `table.column` or `*.column`, masked in every result.
    #[serde(default)]
    pub mask_columns: Vec<String>,
    /// Mask whatever the masking detectors flag in results.
    #[serde(default)]
    pub mask_results: bool,
}

/// What is wrong with one `[[postgres]]` section.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[[postgres]] `{0}`: the name must be letters, digits, `-` or `_`")]
    BadName(String),
    #[error("[[postgres]] `{name}`: upstream_env: {error}")]
    NotAName { name: String, error: NameError },
    #[error("[[postgres]] `{name}`: the environment variable `{var}` is not set")]
    Unset { name: String, var: String },
    #[error("[[postgres]] `{name}`: `{var}`: {error}")]
    BadUpstream {
        name: String,
        var: String,
        error: UpstreamUrlError,
    },
    #[error("[[postgres]] `{0}`: tls_cert and tls_key go together")]
    TlsPair(String),
    #[error("[[postgres]] `{name}`: {error}")]
    Tls { name: String, error: TlsError },
}

impl PostgresSection {
    /// What can be checked without the environment: run when the config is loaded.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(ConfigError::BadName(self.name.clone()));
        }
        var_name(&self.upstream_env).map_err(|error| ConfigError::NotAName {
            name: self.name.clone(),
            error,
        })?;
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::TlsPair(self.name.clone()));
        }
        Ok(())
    }

    /// The listener's settings, with the upstream URL read from `env`.
    pub fn resolve(&self, env: &dyn Env) -> Result<ListenerConfig, ConfigError> {
        self.check()?;
        let upstream_url = env
            .var(&self.upstream_env)
            .ok_or_else(|| ConfigError::Unset {
                name: self.name.clone(),
                var: self.upstream_env.clone(),
            })?;
        crate::UpstreamTarget::from_url(&upstream_url).map_err(|error| {
            ConfigError::BadUpstream {
                name: self.name.clone(),
                var: self.upstream_env.clone(),
                error,
            }
        })?;
        let tls =
            match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(crate::tls_acceptor(cert, key).map_err(
                    |error| ConfigError::Tls {
                        name: self.name.clone(),
                        error,
                    },
                )?),
                _ => None,
            };
        Ok(ListenerConfig {
            name: self.name.clone(),
            listen: self.listen.clone(),
            environment: self.environment.clone(),
            upstream_url,
            tls,
            mask_columns: self.mask_columns.clone(),
            mask_results: self.mask_results,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use holdpoint_core::env::MapEnv;

    fn section(text: &str) -> PostgresSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_upstream_comes_from_the_variable_it_names() {
        let env = MapEnv::new().with("PROD_URL", "postgres://agent:pw@127.0.0.1:5432/prod");
        let ok = section("name = \"prod\"\nlisten = \"127.0.0.1:0\"\nupstream_env = \"PROD_URL\"");
        let config = ok.resolve(&env).unwrap();
        assert_eq!(
            config.upstream_url,
            "postgres://agent:pw@127.0.0.1:5432/prod"
        );
        let missing = section("name = \"prod\"\nlisten = \"x\"\nupstream_env = \"NOPE\"");
        let err = missing.resolve(&env).err().unwrap().to_string();
        assert!(err.contains("`NOPE` is not set"), "{err}");
        let bad = section("name = \"p/q\"\nlisten = \"x\"\nupstream_env = \"PROD_URL\"");
        assert!(bad.check().is_err());
    }

    #[test]
    fn a_pasted_url_is_refused_without_being_repeated() {
        let pasted = section(
            "name = \"prod\"\nlisten = \"x\"\nupstream_env = \"postgres://agent:s3cretpw@db/prod\"",
        );
        let err = pasted.check().err().unwrap().to_string();
        assert!(
            err.starts_with("[[postgres]] `prod`: upstream_env:"),
            "{err}"
        );
        assert!(
            !err.contains("s3cretpw") && !err.contains("agent:"),
            "{err}"
        );
    }
}
