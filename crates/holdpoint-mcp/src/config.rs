//! `[[mcp]]`: the MCP upstreams the gateway hosts at `/mcp/{name}`, as `holdpoint.toml`
//! gives them. Credentials are never written in the file: `env` and `headers` name
//! variables of the gateway's environment, read at start, and a missing one stops the
//! start with its name. A value that looks like a credential rather than a variable's
//! name is refused without being repeated.

use crate::{ProxyConfig, ProxyConfigError, Target};
use holdpoint_core::env::{Env, NameError, var_name};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpSection {
    pub name: String,
    /// A program and its arguments, started for each agent session.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Or a remote streamable-HTTP MCP server.
    #[serde(default)]
    pub url: Option<String>,
    /// For `command`: variables of the gateway's environment passed to it, by name.
    #[serde(default)]
    pub env: Vec<String>,
    /// For `url`: header name → the variable of the gateway's environment holding its value.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub environment: String,
    #[serde(default = "default_hold_wait")]
    pub hold_wait: String,
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: String,
    /// The most sessions (each with its own upstream) one principal may hold open.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// The roots the upstream is told of (absolute paths or `file://` URIs), served by
    /// the gateway; without them it is told of no roots. The agent's never reach it.
    #[serde(default)]
    pub roots: Option<Vec<String>>,
    /// Lets the upstream ask the agent's client for sampling (`mcp.sampling`, gated).
    #[serde(default)]
    pub allow_sampling: bool,
    /// Lets the upstream ask the agent's client for input (`mcp.elicitation`, gated).
    #[serde(default)]
    pub allow_elicitation: bool,
}

fn default_max_sessions() -> usize {
    8
}

fn default_hold_wait() -> String {
    "5m".into()
}

fn default_idle_timeout() -> String {
    "10m".into()
}

/// One hosted upstream, as the server runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedUpstream {
    pub proxy: ProxyConfig,
    /// An agent session with no request for this long is closed, with its upstream.
    pub idle_timeout: Duration,
    /// The most sessions one principal may hold open on this upstream.
    pub max_sessions: usize,
}

/// What is wrong with the `[[mcp]]` sections.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("[[mcp]] `{0}` is named twice")]
    Twice(String),
    #[error("[[mcp]] `{0}`: `command` is empty")]
    EmptyCommand(String),
    #[error("[[mcp]] `{0}`: `headers` are for a `url` upstream")]
    HeadersWithCommand(String),
    #[error("[[mcp]] `{0}`: `env` is for a `command` upstream; use `headers`")]
    EnvWithUrl(String),
    #[error("[[mcp]] `{name}`: `url`: {error}")]
    Url {
        name: String,
        error: url::ParseError,
    },
    #[error("[[mcp]] `{0}`: give exactly one of `command` and `url`")]
    NotOneTarget(String),
    #[error("[[mcp]] `{name}`: `{field}`: {problem}")]
    Duration {
        name: String,
        field: &'static str,
        /// From [`holdpoint_core::duration::parse_duration`].
        problem: String,
    },
    #[error("[[mcp]] `{0}`: `idle_timeout` must be more than 0")]
    ZeroIdleTimeout(String),
    #[error("[[mcp]] `{name}`: {error}")]
    Proxy {
        name: String,
        error: ProxyConfigError,
    },
    #[error("[[mcp]] `{0}`: `max_sessions` must be at least 1")]
    NoSessions(String),
    #[error("[[mcp]] `{name}`: {key}: {error}")]
    NotAName {
        name: String,
        key: String,
        error: NameError,
    },
    #[error("[[mcp]] `{name}`: the environment variable `{var}` is not set")]
    Unset { name: String, var: String },
    /// The value is a credential: it is not repeated.
    #[error(
        "[[mcp]] `{name}`: the value of `{var}` is shorter than {min} characters (or, after \
         a scheme such as `Bearer`, its credential is). Every `env` and `headers` value is a \
         credential that holdpoint keeps from the agent by finding \
         it in the upstream's answers, and one this short cannot be told from ordinary text: \
         use a longer credential",
        min = crate::redact::MIN_SECRET_LEN
    )]
    ShortSecret { name: String, var: String },
    #[error(
        "[[mcp]] `{name}`: `roots`: `{root}` is neither an absolute path nor a `file://` URI of this host"
    )]
    BadRoot { name: String, root: String },
}

/// A configured root as the `file://` URI the upstream is given.
fn root_uri(root: &str) -> Option<String> {
    if root.starts_with("file://") {
        // `file://srv/data` names the folder `/data` on a host `srv`: not a folder here.
        return url::Url::parse(root)
            .ok()
            .filter(|u| u.scheme() == "file")
            .filter(|u| matches!(u.host_str(), None | Some("") | Some("localhost")))
            .map(String::from);
    }
    url::Url::from_file_path(root).ok().map(String::from)
}

impl McpSection {
    /// What can be checked without the environment: run when the config is loaded.
    pub fn check(&self) -> Result<(), ConfigError> {
        let not_a_name = |key: String| {
            move |error| ConfigError::NotAName {
                name: self.name.clone(),
                key,
                error,
            }
        };
        for var in &self.env {
            var_name(var).map_err(not_a_name("env".into()))?;
        }
        for (header, var) in &self.headers {
            var_name(var).map_err(not_a_name(format!("headers.{header}")))?;
        }
        self.roots()?;
        Ok(())
    }

    fn roots(&self) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(roots) = &self.roots else {
            return Ok(None);
        };
        roots
            .iter()
            .map(|root| {
                root_uri(root).ok_or_else(|| ConfigError::BadRoot {
                    name: self.name.clone(),
                    root: root.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn short(&self, var: &str) -> ConfigError {
        ConfigError::ShortSecret {
            name: self.name.clone(),
            var: var.to_string(),
        }
    }

    /// The upstream as the server runs it, with its credentials read from `env`.
    pub fn upstream(&self, env: &dyn Env) -> Result<HostedUpstream, ConfigError> {
        self.check()?;
        let var = |var: &String| {
            let value = env.var(var).ok_or_else(|| ConfigError::Unset {
                name: self.name.clone(),
                var: var.clone(),
            })?;
            if !crate::redact::long_enough(&value) {
                return Err(self.short(var));
            }
            Ok(value)
        };
        // A header's credential after its scheme (`Bearer tk_…`) is searched for alone too.
        let header_var = |name: &String| {
            let value = var(name)?;
            let parts = crate::redact::credential_parts(&value);
            if !parts.into_iter().all(crate::redact::long_enough) {
                return Err(self.short(name));
            }
            Ok(value)
        };
        let target = match (&self.command, &self.url) {
            (Some(command), None) => {
                let (program, args) = command
                    .split_first()
                    .ok_or_else(|| ConfigError::EmptyCommand(self.name.clone()))?;
                if !self.headers.is_empty() {
                    return Err(ConfigError::HeadersWithCommand(self.name.clone()));
                }
                let mut vars = Vec::new();
                for base in crate::upstream::BASE_ENV {
                    if let Some(value) = env.var(base) {
                        vars.push((base.to_string(), value));
                    }
                }
                for name in &self.env {
                    vars.push((name.clone(), var(name)?));
                }
                Target::Command {
                    program: program.clone(),
                    args: args.to_vec(),
                    env: vars,
                    inherit_env: false,
                }
            }
            (None, Some(url)) => {
                if !self.env.is_empty() {
                    return Err(ConfigError::EnvWithUrl(self.name.clone()));
                }
                url::Url::parse(url).map_err(|error| ConfigError::Url {
                    name: self.name.clone(),
                    error,
                })?;
                let mut headers = Vec::new();
                for (header, name) in &self.headers {
                    headers.push((header.clone(), header_var(name)?));
                }
                Target::Remote {
                    url: url.clone(),
                    headers,
                }
            }
            _ => return Err(ConfigError::NotOneTarget(self.name.clone())),
        };
        let duration = |field: &'static str, text: &str| {
            holdpoint_core::duration::parse_duration(text).map_err(|problem| {
                ConfigError::Duration {
                    name: self.name.clone(),
                    field,
                    problem,
                }
            })
        };
        let hold_wait = duration("hold_wait", &self.hold_wait)?;
        let idle_timeout = duration("idle_timeout", &self.idle_timeout)?;
        if idle_timeout.is_zero() {
            return Err(ConfigError::ZeroIdleTimeout(self.name.clone()));
        }
        let proxy = ProxyConfig {
            name: self.name.clone(),
            environment: self.environment.clone(),
            hold_wait,
            target,
            asks: crate::Asks {
                roots: self.roots()?,
                sampling: self.allow_sampling,
                elicitation: self.allow_elicitation,
            },
        };
        proxy.check().map_err(|error| ConfigError::Proxy {
            name: self.name.clone(),
            error,
        })?;
        if self.max_sessions == 0 {
            return Err(ConfigError::NoSessions(self.name.clone()));
        }
        Ok(HostedUpstream {
            proxy,
            idle_timeout,
            max_sessions: self.max_sessions,
        })
    }
}

/// Every section checked without the environment; names must be unique.
pub fn check(sections: &[McpSection]) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for section in sections {
        if !seen.insert(section.name.as_str()) {
            return Err(ConfigError::Twice(section.name.clone()));
        }
        section.check()?;
    }
    Ok(())
}

/// Every upstream, or the first problem.
pub fn upstreams(
    sections: &[McpSection],
    env: &dyn Env,
) -> Result<Vec<HostedUpstream>, ConfigError> {
    check(sections)?;
    sections.iter().map(|s| s.upstream(env)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use holdpoint_core::env::MapEnv;

    fn section(toml_text: &str) -> McpSection {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn credentials_come_from_the_environment_by_name() {
        let env = MapEnv::new().with("GH_TOKEN", "ghp_secret_value");
        let ok = section("name = \"gh\"\ncommand = [\"gh-mcp\", \"stdio\"]\nenv = [\"GH_TOKEN\"]");
        let upstream = ok.upstream(&env).unwrap();
        let Target::Command {
            env: vars,
            inherit_env,
            ..
        } = &upstream.proxy.target
        else {
            panic!("not a command");
        };
        assert!(!inherit_env);
        assert!(vars.contains(&("GH_TOKEN".into(), "ghp_secret_value".into())));
        assert_eq!(upstream.proxy.hold_wait, Duration::from_secs(300));

        let missing = section("name = \"gh\"\ncommand = [\"x\"]\nenv = [\"NOPE\"]");
        assert!(
            missing
                .upstream(&env)
                .unwrap_err()
                .to_string()
                .contains("`NOPE` is not set")
        );
        let both = section("name = \"gh\"\ncommand = [\"x\"]\nurl = \"http://127.0.0.1:1/mcp\"");
        assert!(
            both.upstream(&env)
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        let rooted = section(
            "name = \"fs\"\ncommand = [\"x\"]\nroots = [\"/srv/data\", \"file:///tmp/x\"]\nallow_sampling = true",
        );
        let asks = rooted.upstream(&env).unwrap().proxy.asks;
        assert_eq!(
            asks.roots,
            Some(vec!["file:///srv/data".into(), "file:///tmp/x".into()])
        );
        assert!(asks.sampling && !asks.elicitation);
        assert_eq!(
            ok.upstream(&env).unwrap().proxy.asks,
            crate::Asks::default()
        );
        for bad in ["relative/path", "https://example.com/x", "file://srv/data"] {
            let err = section(&format!(
                "name = \"fs\"\ncommand = [\"x\"]\nroots = [\"{bad}\"]"
            ))
            .check()
            .unwrap_err()
            .to_string();
            assert!(err.contains("neither an absolute path"), "{err}");
        }
        // A credential too short to be found in answers is refused, without its value.
        let short_env = MapEnv::new().with("GH_TOKEN", "ab\"c\\d");
        let err = ok.upstream(&short_env).unwrap_err().to_string();
        assert!(err.contains("`GH_TOKEN` is shorter than 8"), "{err}");
        assert!(!err.contains("ab\""), "{err}");
        let short_header = section(
            "name = \"t\"\nurl = \"http://127.0.0.1:1/mcp\"\n[headers]\nAuthorization = \"AUTH\"",
        );
        let env = MapEnv::new().with("AUTH", "Bearer abc");
        let err = short_header.upstream(&env).unwrap_err().to_string();
        assert!(
            err.contains("`AUTH`") && err.contains("shorter than 8"),
            "{err}"
        );
        assert!(!err.contains("abc"), "{err}");
        let env = MapEnv::new().with("AUTH", "Bearer abcdefgh1");
        assert!(short_header.upstream(&env).is_ok());
        let bad_name = section("name = \"g/h\"\ncommand = [\"x\"]");
        assert!(bad_name.upstream(&env).is_err());
        let long_wait = section("name = \"gh\"\ncommand = [\"x\"]\nhold_wait = \"2h\"");
        assert!(long_wait.upstream(&env).is_err());
        let twice = [
            section("name = \"a\"\ncommand = [\"x\"]"),
            section("name = \"a\"\ncommand = [\"y\"]"),
        ];
        assert!(
            upstreams(&twice, &env)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
    }

    #[test]
    fn a_pasted_credential_is_refused_without_being_repeated() {
        let pasted = section(
            "name = \"gh\"\nurl = \"http://127.0.0.1:1/mcp\"\n[headers]\nAuthorization = \"Bearer ghp_abcdef123456\"",
        );
        let err = pasted.check().unwrap_err().to_string();
        assert!(
            err.starts_with("[[mcp]] `gh`: headers.Authorization:"),
            "{err}"
        );
        assert!(!err.contains("ghp_") && !err.contains("abcdef"), "{err}");
        let pasted = section("name = \"gh\"\ncommand = [\"x\"]\nenv = [\"ghp_abcdef123456\"]");
        assert!(!pasted.check().unwrap_err().to_string().contains("abcdef"));
    }
}
