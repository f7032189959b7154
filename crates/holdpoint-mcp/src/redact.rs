//! [`Redactor`]: the credentials the gateway hands an upstream (env values, header
//! values) never reach the agent. Every message the proxy sends the agent is searched for
//! them, and each occurrence becomes `[credential:NAME]`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Values shorter than this are not treated as secrets: replacing `1` or `true`
/// everywhere would garble answers and protect nothing.
pub const MIN_SECRET_LEN: usize = 8;

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
    /// (name, value), longest value first so a secret containing another is found whole.
    secrets: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut secrets: Vec<(String, String)> = secrets
            .into_iter()
            .filter(|(_, value)| value.len() >= MIN_SECRET_LEN)
            .collect();
        secrets.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
        Redactor { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("[credential:{name}]"));
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
}
