//! `[[mcp]]`: the MCP upstreams `serve` hosts at `/mcp/{name}`. Credentials are never
//! written in the file: `env` and `headers` name variables of the gateway's environment,
//! read at start, and a missing one stops the start with its name.

use holdpoint_mcp::{ProxyConfig, Target};
use holdpoint_server::McpUpstream;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
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

impl McpSection {
    /// The upstream as the server runs it, with its credentials read from `lookup`.
    pub fn upstream(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<McpUpstream, String> {
        let name = &self.name;
        let ctx = |e: String| format!("[[mcp]] `{name}`: {e}");
        let var = |var: &String| {
            lookup(var).ok_or_else(|| ctx(format!("the environment variable `{var}` is not set")))
        };
        let target = match (&self.command, &self.url) {
            (Some(command), None) => {
                let (program, args) = command
                    .split_first()
                    .ok_or_else(|| ctx("`command` is empty".into()))?;
                if !self.headers.is_empty() {
                    return Err(ctx("`headers` are for a `url` upstream".into()));
                }
                let mut env = Vec::new();
                for base in holdpoint_mcp::upstream::BASE_ENV {
                    if let Some(value) = lookup(base) {
                        env.push((base.to_string(), value));
                    }
                }
                for name in &self.env {
                    env.push((name.clone(), var(name)?));
                }
                Target::Command {
                    program: program.clone(),
                    args: args.to_vec(),
                    env,
                    inherit_env: false,
                }
            }
            (None, Some(url)) => {
                if !self.env.is_empty() {
                    return Err(ctx(
                        "`env` is for a `command` upstream; use `headers`".into()
                    ));
                }
                url::Url::parse(url).map_err(|e| ctx(format!("`url`: {e}")))?;
                let mut headers = Vec::new();
                for (header, name) in &self.headers {
                    headers.push((header.clone(), var(name)?));
                }
                Target::Remote {
                    url: url.clone(),
                    headers,
                }
            }
            _ => return Err(ctx("give exactly one of `command` and `url`".into())),
        };
        let duration = |field: &str, text: &str| {
            holdpoint_core::duration::parse_duration(text)
                .map_err(|e| ctx(format!("`{field}`: {e}")))
        };
        let hold_wait = duration("hold_wait", &self.hold_wait)?;
        let idle_timeout = duration("idle_timeout", &self.idle_timeout)?;
        if idle_timeout.is_zero() {
            return Err(ctx("`idle_timeout` must be more than 0".into()));
        }
        let proxy = ProxyConfig {
            name: name.clone(),
            environment: self.environment.clone(),
            hold_wait,
            target,
        };
        proxy.check().map_err(ctx)?;
        if self.max_sessions == 0 {
            return Err(ctx("`max_sessions` must be at least 1".into()));
        }
        Ok(McpUpstream {
            proxy,
            idle_timeout,
            max_sessions: self.max_sessions,
        })
    }
}

/// Every upstream, or the first problem; names must be unique.
pub fn upstreams(
    sections: &[McpSection],
    lookup: impl Fn(&str) -> Option<String> + Copy,
) -> Result<Vec<McpUpstream>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for section in sections {
        if !seen.insert(section.name.as_str()) {
            return Err(format!("[[mcp]] `{}` is named twice", section.name));
        }
        out.push(section.upstream(lookup)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn section(toml_text: &str) -> McpSection {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn credentials_come_from_the_environment_by_name() {
        let lookup = |v: &str| (v == "GH_TOKEN").then(|| "ghp_secret_value".to_string());
        let ok = section("name = \"gh\"\ncommand = [\"gh-mcp\", \"stdio\"]\nenv = [\"GH_TOKEN\"]");
        let upstream = ok.upstream(lookup).unwrap();
        let Target::Command {
            env, inherit_env, ..
        } = &upstream.proxy.target
        else {
            panic!("not a command");
        };
        assert!(!inherit_env);
        assert!(env.contains(&("GH_TOKEN".into(), "ghp_secret_value".into())));
        assert_eq!(upstream.proxy.hold_wait, Duration::from_secs(300));

        let missing = section("name = \"gh\"\ncommand = [\"x\"]\nenv = [\"NOPE\"]");
        assert!(
            missing
                .upstream(lookup)
                .unwrap_err()
                .contains("`NOPE` is not set")
        );
        let both = section("name = \"gh\"\ncommand = [\"x\"]\nurl = \"http://127.0.0.1:1/mcp\"");
        assert!(both.upstream(lookup).unwrap_err().contains("exactly one"));
        let bad_name = section("name = \"g/h\"\ncommand = [\"x\"]");
        assert!(bad_name.upstream(lookup).is_err());
        let long_wait = section("name = \"gh\"\ncommand = [\"x\"]\nhold_wait = \"2h\"");
        assert!(long_wait.upstream(lookup).is_err());
        let twice = [
            section("name = \"a\"\ncommand = [\"x\"]"),
            section("name = \"a\"\ncommand = [\"y\"]"),
        ];
        assert!(upstreams(&twice, lookup).unwrap_err().contains("twice"));
    }
}
