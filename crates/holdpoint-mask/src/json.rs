//! JSON params walked as a tree. A value under a secret-named key (or a `fields` entry)
//! is masked whole, whatever its type; an exempt key and its value are left alone;
//! every other string, and every key, goes through text masking.

use crate::Redactor;
use crate::fingerprint::{is_mask, masks_in};
use crate::kind::Kind;
use crate::names::{is_secret_name, listed};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// Numbers this large may be card numbers written without quotes.
const LONG_NUMBER: u64 = 1_000_000_000_000;

impl Redactor {
    /// `value` masked; `secret` is the kind to mask every leaf as, when under a secret key.
    pub(crate) fn walk(&self, value: &Value, secret: Option<Kind>) -> Value {
        match (value, secret) {
            (Value::Null, _) => Value::Null,
            (Value::Bool(b), Some(kind)) => self.leaf(kind, if *b { "true" } else { "false" }),
            (Value::Bool(b), None) => Value::Bool(*b),
            (Value::Number(n), Some(kind)) => self.leaf(kind, &n.to_string()),
            (Value::Number(n), None) => self.number(n),
            (Value::String(s), Some(_)) if s.is_empty() || is_mask(s) => Value::String(s.clone()),
            (Value::String(s), Some(kind)) => self.leaf(kind, s),
            (Value::String(s), None) => Value::String(self.mask_str(s).into_owned()),
            (Value::Array(items), _) => {
                Value::Array(items.iter().map(|v| self.walk(v, secret)).collect())
            }
            (Value::Object(map), _) => Value::Object(self.object(map, secret)),
        }
    }

    fn leaf(&self, kind: Kind, raw: &str) -> Value {
        Value::String(self.mask_as(kind, raw))
    }

    /// A long integer is read as text, so a card number in a JSON number is found too.
    fn number(&self, n: &Number) -> Value {
        if n.as_u64().is_some_and(|v| v >= LONG_NUMBER) {
            let text = n.to_string();
            if let Cow::Owned(masked) = self.mask_str(&text) {
                return Value::String(masked);
            }
        }
        Value::Number(n.clone())
    }

    fn object(&self, map: &Map<String, Value>, secret: Option<Kind>) -> Map<String, Value> {
        let service_account = map.get("type").and_then(Value::as_str) == Some("service_account");
        let mut out = Map::new();
        for (key, value) in map {
            if listed(&self.exempt, key) {
                out.insert(key.clone(), value.clone());
                continue;
            }
            let mut masked_key = self.mask_str(key).into_owned();
            // Judged on the masked key without its masks, so a second pass (which sees
            // only the masked key) judges alike: `[github_token:…]` names no secret.
            let child =
                secret.or_else(|| self.secret_key(&without_masks(&masked_key), service_account));
            // Two keys may mask alike; neither value may vanish from the view.
            let mut n = 2;
            while out.contains_key(&masked_key) {
                masked_key = format!("{} ({n})", self.mask_str(key));
                n += 1;
            }
            out.insert(masked_key, self.walk(value, child));
        }
        out
    }

    /// The kind to mask everything under `key` as, if it names a secret.
    fn secret_key(&self, key: &str, service_account: bool) -> Option<Kind> {
        if service_account
            && (key == "private_key" || key == "private_key_id")
            && self.enabled(Kind::GcpServiceAccount)
        {
            return Some(Kind::GcpServiceAccount);
        }
        let secret =
            listed(&self.fields, key) || (self.enabled(Kind::SecretField) && is_secret_name(key));
        secret.then_some(Kind::SecretField)
    }
}

/// `text` with its masks cut out.
fn without_masks(text: &str) -> Cow<'_, str> {
    let masks = masks_in(text);
    if masks.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end) in masks {
        out.push_str(text.get(pos..start).unwrap_or_default());
        out.push(' ');
        pos = end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    Cow::Owned(out)
}
