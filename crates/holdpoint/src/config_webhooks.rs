//! `[[webhooks]]`: URLs that receive hold events, signed (Standard Webhooks). The secret
//! is never written in the file: `secret` names the environment variable holding it.

use holdpoint_notify::Channel;
use holdpoint_webhooks::Webhook;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// The channel is `webhook:{name}`.
    pub name: String,
    pub url: String,
    /// The environment variable that holds the `whsec_…` secret.
    pub secret: String,
}

/// A channel per section, or the first problem; names must be unique.
pub fn channels(
    sections: &[WebhookSection],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Arc<dyn Channel>>, String> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Arc<dyn Channel>> = Vec::new();
    for section in sections {
        let name = &section.name;
        let ctx = |e: String| format!("[[webhooks]] `{name}`: {e}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(ctx("`name` must be letters, digits, `-` or `_`".into()));
        }
        if !seen.insert(name.as_str()) {
            return Err(ctx("named twice".into()));
        }
        let url = url::Url::parse(&section.url).map_err(|e| ctx(format!("`url`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ctx("`url` must be http or https".into()));
        }
        let secret = lookup(&section.secret).ok_or_else(|| {
            ctx(format!(
                "the environment variable `{}` is not set",
                section.secret
            ))
        })?;
        let webhook = Webhook::new(name, &section.url, &secret, Arc::new(holdpoint_core::SystemClock))
            .map_err(ctx)?;
        out.push(Arc::new(webhook));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_come_from_the_environment_and_must_be_whsec() {
        let section = |text: &str| -> WebhookSection { toml::from_str(text).unwrap() };
        let ok = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret = \"S\"");
        let lookup =
            |v: &str| (v == "S").then(|| "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string());
        let channels = channels(&[ok], lookup).unwrap();
        assert_eq!(channels[0].name(), "webhook:siem");
        let missing = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret = \"NOPE\"");
        assert!(
            super::channels(&[missing], lookup)
                .err()
                .unwrap()
                .contains("`NOPE` is not set")
        );
        let weak = |_: &str| Some("whsec_c2hvcnQ=".to_string());
        let short = section("name = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret = \"S\"");
        assert!(
            super::channels(&[short], weak)
                .err()
                .unwrap()
                .contains("16 bytes")
        );
        let ftp = section("name = \"siem\"\nurl = \"ftp://127.0.0.1/h\"\nsecret = \"S\"");
        assert!(super::channels(&[ftp], lookup).is_err());
    }
}
