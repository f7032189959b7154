//! `[[postgres]]`: the PostgreSQL proxy's listeners. The upstream URL, with its
//! password, is never written in the file: `upstream_env` names the variable of the
//! gateway's environment that holds it, and a missing one stops the start with its name.

use holdpoint_pg::ListenerConfig;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
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

impl PostgresSection {
    pub fn resolve(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ListenerConfig, String> {
        let ctx = |e: String| format!("[[postgres]] `{}`: {e}", self.name);
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(ctx("the name must be letters, digits, `-` or `_`".into()));
        }
        let upstream_url = lookup(&self.upstream_env).ok_or_else(|| {
            ctx(format!(
                "the environment variable `{}` is not set",
                self.upstream_env
            ))
        })?;
        holdpoint_pg::UpstreamTarget::from_url(&upstream_url)
            .map_err(|e| ctx(format!("`{}`: {e}", self.upstream_env)))?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(holdpoint_pg::tls_acceptor(cert, key).map_err(ctx)?),
            (None, None) => None,
            _ => return Err(ctx("tls_cert and tls_key go together".into())),
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
