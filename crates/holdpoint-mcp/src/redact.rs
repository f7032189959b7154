//! [`Redactor`]: the credentials the gateway hands an upstream (env values, header
//! values) never reach the agent. Every message the proxy sends the agent is searched for
//! them, in every form of [`crate::secret_forms`] (as they are, JSON-escaped,
//! URL-encoded, base64), and each occurrence becomes `[credential:NAME]`.
//!
//! Values shorter than [`MIN_SECRET_LEN`] cannot be told apart from ordinary text (and
//! their base64 forms are a few characters that turn up in any base64 blob), so they are
//! not searched for: the `[[mcp]]` config refuses them at load instead (see
//! `config.rs`), and a hosted upstream never runs with one.

use regex::{NoExpand, Regex, RegexBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::borrow::Cow;

/// Values shorter than this are not searched for: replacing `1` or `true` everywhere
/// would garble answers and protect nothing. The config refuses shorter credentials.
pub const MIN_SECRET_LEN: usize = 8;

/// The compiled size a secret's pattern may reach (a long key in every form is large).
const PATTERN_SIZE_LIMIT: usize = 1 << 27;

/// What of `value` is searched for: the value, and for an HTTP credential with its
/// scheme (`Bearer tk_…`, `token ghp_…`) the credential alone too, since an upstream may
/// echo it without the scheme. (An `env` value of that shape gets its tail searched for
/// too: more redacted, nothing less.)
pub fn credential_parts(value: &str) -> Vec<&str> {
    let mut parts = vec![value];
    if let Some((scheme, credential)) = value.split_once(' ')
        && !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphabetic())
        && !credential.trim().is_empty()
    {
        parts.push(credential.trim());
    }
    parts
}

/// True when `value` is long enough to be searched for ([`MIN_SECRET_LEN`] characters).
pub fn long_enough(value: &str) -> bool {
    value.chars().count() >= MIN_SECRET_LEN
}

/// Why a message could not be searched for credentials: it is then not sent.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// The message has no JSON form.
    #[error("{0}")]
    Serialize(serde_json::Error),
    #[error("a message with a credential in it could not be redacted: {0}")]
    Rebuild(serde_json::Error),
}

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// The replacement and the pattern of each secret, longest value first so a secret
    /// containing another is found whole.
    secrets: Vec<(String, Regex)>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut secrets: Vec<(String, String)> = secrets
            .into_iter()
            .flat_map(|(name, value)| {
                credential_parts(&value)
                    .into_iter()
                    .map(|part| (name.clone(), part.to_string()))
                    .collect::<Vec<_>>()
            })
            .filter(|(_, value)| long_enough(value))
            .collect();
        secrets.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
        let secrets = secrets
            .into_iter()
            .map(|(name, value)| (format!("[credential:{name}]"), compile(&value)))
            .collect();
        Redactor { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (replacement, pattern) in &self.secrets {
            if let Cow::Owned(replaced) = pattern.replace_all(&out, NoExpand(replacement)) {
                out = replaced;
            }
        }
        out
    }

    /// `message` with every secret in its JSON form replaced. A message that carries no
    /// secret is returned as it was; one that cannot be rebuilt is refused.
    pub fn message<T: Serialize + DeserializeOwned>(&self, message: T) -> Result<T, RedactError> {
        if self.is_empty() {
            return Ok(message);
        }
        let mut json = serde_json::to_value(&message).map_err(RedactError::Serialize)?;
        if !self.value(&mut json) {
            return Ok(message);
        }
        serde_json::from_value(json).map_err(RedactError::Rebuild)
    }

    /// Replaces secrets in place (keys too); true when something changed.
    fn value(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => {
                let redacted = self.text(s);
                let changed = redacted != *s;
                *s = redacted;
                changed
            }
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| self.value(item) | changed),
            Value::Object(map) => {
                let old = std::mem::take(map);
                let mut changed = false;
                for (key, mut item) in old {
                    changed |= self.value(&mut item);
                    let new_key = self.text(&key);
                    changed |= new_key != key;
                    map.insert(new_key, item);
                }
                changed
            }
            _ => false,
        }
    }
}

/// The pattern of one secret in all its forms; the value as it is alone if that pattern
/// is too large to compile, and failing that one that redacts every text (fail closed).
fn compile(value: &str) -> Regex {
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .size_limit(PATTERN_SIZE_LIMIT)
            .build()
    };
    build(&crate::secret_forms::pattern(value))
        .or_else(|e| {
            tracing::warn!(error = %e, "a credential's encoded forms are too many to search for");
            build(&regex::escape(value))
        })
        .unwrap_or_else(|_| everything())
}

#[expect(clippy::expect_used, reason = "a constant pattern that compiles")]
fn everything() -> Regex {
    Regex::new("(?s).+").expect("a valid pattern")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_replaced_wherever_they_appear() {
        let r = Redactor::new([
            ("TOKEN".to_string(), "ghp_0123456789".to_string()),
            ("LONG".to_string(), "ghp_0123456789abc".to_string()),
            ("SHORT".to_string(), "abc".to_string()),
        ]);
        let out: Value = r
            .message(
                json!({"text": "env: TOKEN=ghp_0123456789 x ghp_0123456789abc abc",
                            "ghp_0123456789": [1, "ghp_0123456789"]}),
            )
            .unwrap();
        let text = out.to_string();
        assert!(!text.contains("ghp_0123456789"), "{text}");
        assert!(text.contains("[credential:TOKEN]") && text.contains("[credential:LONG]"));
        assert!(text.contains(" abc"), "short values stay: {text}");
        let untouched = json!({"a": "plain"});
        assert_eq!(r.message(untouched.clone()).unwrap(), untouched);
    }

    /// A secret with a quote, a backslash, a slash, a space and a non-ASCII letter.
    const HARD: &str = "pa\"ss\\wo/rd é+x 42";

    fn hard() -> Redactor {
        Redactor::new([("DB_PASSWORD".to_string(), HARD.to_string())])
    }

    fn assert_redacted(text: &str, form: &str) {
        let out = hard().text(text);
        assert!(
            out.contains("[credential:DB_PASSWORD]"),
            "{form} not redacted: {out}"
        );
        assert!(!out.contains("ss") && !out.contains("42"), "{form}: {out}");
    }

    #[test]
    fn a_secret_is_found_json_escaped_once_or_twice() {
        let once = serde_json::to_string(&json!({"DB_PASSWORD": HARD})).unwrap();
        assert!(once.contains("pa\\\"ss"), "{once}");
        assert_redacted(&once, "JSON-escaped");
        // JSON text inside a JSON string.
        let twice = serde_json::to_string(&json!({ "env": once })).unwrap();
        assert_redacted(&twice, "JSON-escaped twice");
        // `JSON.stringify` writes é as is; other encoders write \u00e9 or \u00E9, and `/`
        // may be written `\/`.
        let other = "pa\\\"ss\\\\wo\\/rd \\u00E9+x 42";
        assert_redacted(other, "\\u-escaped");
        let control = Redactor::new([("K".to_string(), "line1\nline2\ttab".to_string())]);
        let out = control.text(&serde_json::to_string("line1\nline2\ttab").unwrap());
        assert!(
            out.contains("[credential:K]") && !out.contains("line1"),
            "{out}"
        );
    }

    #[test]
    fn a_secret_is_found_url_encoded_in_either_case_and_with_plus() {
        let upper: String = HARD
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert!(upper.contains("%22") && upper.contains("%C3%A9"), "{upper}");
        assert_redacted(&format!("https://x/?p={upper}&q=1"), "percent-encoded");
        assert_redacted(&upper.to_lowercase(), "lower-case percent-encoded");
        let plus = upper.replace("%20", "+");
        assert_redacted(&plus, "form-encoded");
        // Every byte encoded, letters too.
        let all: String = HARD.bytes().map(|b| format!("%{b:02x}")).collect();
        assert_redacted(&all, "fully percent-encoded");
    }

    #[test]
    fn a_secret_is_found_in_base64_at_every_alignment_and_alphabet() {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        for prefix in ["", "u:", "user:"] {
            for suffix in ["", "!", "!!", "!!!"] {
                let text = format!("{prefix}{HARD}{suffix}");
                for encoded in [
                    STANDARD.encode(&text),
                    URL_SAFE_NO_PAD.encode(&text),
                    STANDARD.encode(HARD),
                ] {
                    let out = hard().text(&format!("Authorization: Basic {encoded}"));
                    assert!(
                        out.contains("[credential:DB_PASSWORD]"),
                        "{prefix:?} {suffix:?}: {out}"
                    );
                    // What is left of the encoded secret cannot be decoded back to it.
                    let left = out.rsplit(' ').next().unwrap_or_default();
                    assert!(left.len() < encoded.len(), "{out}");
                }
            }
        }
        let whole = STANDARD.encode(HARD);
        assert_eq!(hard().text(&whole), "[credential:DB_PASSWORD]");
    }

    #[test]
    fn a_header_credential_is_found_without_its_scheme() {
        let r = Redactor::new([("AUTH".to_string(), "Bearer tk_0123456789".to_string())]);
        assert_eq!(r.text("got tk_0123456789"), "got [credential:AUTH]");
        assert_eq!(
            r.text("Bearer tk_0123456789"),
            "[credential:AUTH]",
            "the whole value first"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "pa ss wo rd 42 %22 \\\" cGFzcw== {\"a\": [1, 2]}";
        assert_eq!(hard().text(text), text);
    }
}
