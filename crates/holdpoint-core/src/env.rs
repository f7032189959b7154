//! The process environment, injected: config reads variables only through [`Env`], so
//! tests hand it a [`MapEnv`] instead of changing the process's environment.
//!
//! Secrets are never written in `holdpoint.toml`: a key ending in `_env` names the
//! variable that holds one. [`var_name`] refuses a value that cannot be such a name, or
//! that starts like a known token, without ever repeating the value, so a secret pasted
//! into the file does not end up in the logs too.

use std::collections::BTreeMap;

/// Where config reads environment variables from.
pub trait Env: Send + Sync {
    /// The variable's value, if it is set (and valid Unicode).
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment. The one place in holdpoint that reads it.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one reader of the process environment; everything else asks an `Env`"
    )]
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MapEnv(BTreeMap<String, String>);

impl MapEnv {
    pub fn new() -> Self {
        MapEnv::default()
    }

    /// The same, with `name` set to `value`.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_string(), value.to_string());
        self
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for MapEnv {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        MapEnv(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// How secrets of well-known services begin. A value starting so is a secret, not the
/// name of the variable holding one, even where it would pass as a name (`whsec_…`).
pub const SECRET_PREFIXES: &[&str] = &[
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxe-",
    "xoxs-",
    "xapp-",
    "whsec_",
    "hp_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "glpat-",
    "sk-",
    "sk_live_",
    "rk_live_",
    "AKIA",
];

/// Why a config value is not the name of an environment variable. Its message never
/// contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "this names no environment variable and looks like a secret itself (the value is not \
         shown): put the secret in a variable and give the variable's name here, letters, \
         digits and `_`"
    )]
    LooksLikeSecret,
}

/// `name` if it can be the name of an environment variable (`[A-Za-z_][A-Za-z0-9_]*`),
/// does not start like a known secret, and is not a long run of lower-case letters and
/// digits with no `_` (a hex or base62 secret; names are words).
pub fn var_name(name: &str) -> Result<&str, NameError> {
    let mut chars = name.chars();
    let plausible = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    let random = name.len() >= 20
        && !name.contains('_')
        && name.chars().any(|c| c.is_ascii_digit())
        && name.chars().any(|c| c.is_ascii_lowercase());
    if !plausible || random || SECRET_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return Err(NameError::LooksLikeSecret);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pass_and_secrets_are_refused_without_being_repeated() {
        for name in [
            "SLACK_BOT_TOKEN",
            "_X",
            "a1",
            "PROD_DATABASE_URL",
            "HOLDPOINT_OIDC_CLIENT_SECRET2",
        ] {
            assert_eq!(var_name(name), Ok(name));
        }
        for value in [
            "xoxb-1234-5678-abcdefgh",
            "xapp-1-A0-123-abc",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "postgres://u:pw@db/prod",
            "1ABC",
            "abcdef0123456789abcdef0123456789",
            "",
            "with space",
            "caf\u{e9}",
        ] {
            let refusal = var_name(value).unwrap_err().to_string();
            assert!(
                value.is_empty() || !refusal.contains(value),
                "{value}: {refusal}"
            );
            // Not even a piece of it.
            for piece in value.split(['-', '_', ':', '/', '@']) {
                assert!(
                    piece.len() < 4 || !refusal.contains(piece),
                    "{piece}: {refusal}"
                );
            }
        }
    }

    #[test]
    fn a_map_stands_in_for_the_process() {
        let env = MapEnv::new().with("A", "1");
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert_eq!(env.var("B"), None);
        let env: MapEnv = [("B", "2")].into_iter().collect();
        assert_eq!(env.var("B").as_deref(), Some("2"));
    }
}
