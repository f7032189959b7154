//! # holdpoint-webhooks: signed webhooks for every other tool
//!
//! Each `[[webhooks]]` URL (PagerDuty, Jira, a SIEM) receives `hold.created`,
//! `hold.reviewed` and `hold.decided` as JSON, through the outbox, so a slow or dead
//! receiver never slows a hold and a crash loses no event. A tour:
//! - `sign.rs`: the Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`), checked against the specification's test vector.
//! - [`Webhook`] (here): the [`Channel`] that posts one outbox item. 2xx is delivered;
//!   anything else is retried by the worker, after `Retry-After` when a 429 or 503 gives it.
//! - `config.rs`: the `[[webhooks]]` sections of `holdpoint.toml`, each secret read from
//!   the variable its `secret_env` names.
//!
//! The body is `{"type", "timestamp", "data"}`, `data` being the masked payload the gate
//! queued; `webhook-id` is the outbox item's id, the same on every retry, so a receiver
//! can drop duplicates.

pub mod config;
mod sign;

pub use sign::{decode_secret, sign};

use async_trait::async_trait;
use holdpoint_core::Clock;
use holdpoint_core::outbox::OutboxItem;
use holdpoint_notify::{Channel, DeliveryError};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Webhook {
    /// `webhook:{name}`.
    channel: String,
    url: String,
    key: Vec<u8>,
    http: reqwest::Client,
    /// The time in `webhook-timestamp`.
    clock: Arc<dyn Clock>,
}

impl Webhook {
    /// The webhook `name` posting to `url`, signing with `secret` (`whsec_…`) and
    /// stamping each delivery with `clock`'s time.
    pub fn new(
        name: &str,
        url: &str,
        secret: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Webhook, String> {
        let key = decode_secret(secret)?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Webhook {
            channel: format!("webhook:{name}"),
            url: url.to_string(),
            key,
            http,
            clock,
        })
    }

    /// The body of one delivery.
    pub fn body(item: &OutboxItem) -> String {
        json!({
            "type": item.event.as_str(),
            "timestamp": item.created_at,
            "data": item.payload,
        })
        .to_string()
    }
}

#[async_trait]
impl Channel for Webhook {
    fn name(&self) -> &str {
        &self.channel
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Option<String>, DeliveryError> {
        let body = Webhook::body(item);
        let timestamp = self.clock.now().timestamp();
        let signature = sign(&self.key, &item.id, timestamp, &body);
        let failed = |reason: String, retry_after: Option<Duration>| DeliveryError {
            reason,
            retry_after,
        };
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &item.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| failed(format!("cannot reach {}: {e}", self.url), None))?;
        let status = response.status();
        if status.is_success() {
            return Ok(None);
        }
        let retry_after = holdpoint_notify::retry_after(
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
        );
        Err(failed(
            format!("{} answered HTTP {status}", self.url),
            retry_after,
        ))
    }
}
