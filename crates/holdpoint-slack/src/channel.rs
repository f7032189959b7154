//! [`SlackChannel`]: the outbox's Slack deliveries. A created hold is posted with
//! `chat.postMessage`, and the message's channel and `ts` are stored with the hold, so
//! that every later review and the outcome (from Slack, the CLI, the API or expiry, on
//! this gateway or another on the same store) update it in place with `chat.update`.

use crate::api::SlackApi;
use crate::blocks;
use crate::json::{at, str_at};
use async_trait::async_trait;
use holdpoint_core::Store;
use holdpoint_core::outbox::{OutboxEvent, OutboxItem};
use holdpoint_notify::{Channel, DeliveryError};
use serde_json::{Value, json};
use std::sync::Arc;

/// The outbox channel name.
pub const CHANNEL: &str = "slack";

pub struct SlackChannel {
    pub api: SlackApi,
    /// Where hold messages are posted (a channel id, `C…`).
    pub channel: String,
    pub store: Arc<dyn Store>,
    /// To mention an agent's owner by their `slack_id` in the outcome's threaded reply.
    pub directory: holdpoint_gate::Directory,
}

fn failed(reason: impl Into<String>) -> DeliveryError {
    DeliveryError {
        reason: reason.into(),
        retry_after: None,
    }
}

impl SlackChannel {
    /// The outcome, in the message's thread, for the agent's owner.
    async fn tell_owner(&self, payload: &Value, reference: &Value) -> Result<(), DeliveryError> {
        // Once, for the decision: not again when an approval is used.
        let Some(owner) = str_at(payload, "/request/owner") else {
            return Ok(());
        };
        if at(payload, "/consumed") == true {
            return Ok(());
        }
        let who = match self.directory.user(owner).and_then(|u| u.slack_id.clone()) {
            Some(id) => format!("<@{}>", blocks::escape(&id)),
            None => format!("`{}`", blocks::escape(owner)),
        };
        let status = str_at(payload, "/status").unwrap_or("decided");
        let agent = blocks::escape(str_at(payload, "/request/requester/name").unwrap_or_default());
        let text = format!(
            "{who}: the hold of your agent `{agent}` is {}.",
            blocks::escape(status)
        );
        self.api
            .call(
                "chat.postMessage",
                &json!({"channel": at(reference, "/channel"), "thread_ts": at(reference, "/ts"), "text": text}),
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Channel for SlackChannel {
    fn name(&self) -> &str {
        CHANNEL
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Option<String>, DeliveryError> {
        let (text, blocks) = blocks::message(&item.payload);
        let posted = self
            .store
            .channel_message(&item.action_id, CHANNEL)
            .await
            .map_err(|e| failed(e.to_string()))?;
        match (item.event, posted) {
            (OutboxEvent::HoldCreated, None) => {
                // The policy's `@slack_channel`, else the configured one.
                let channel =
                    str_at(&item.payload, "/request/slack_channel").unwrap_or(&self.channel);
                let answer = self
                    .api
                    .call(
                        "chat.postMessage",
                        &json!({"channel": channel, "text": text, "blocks": blocks}),
                    )
                    .await?;
                // Remembered by the worker with this attempt.
                let reference =
                    json!({"channel": at(&answer, "/channel"), "ts": at(&answer, "/ts")});
                Ok(Some(reference.to_string()))
            }
            // Posted already (a retry after the answer was lost): bring it up to date.
            (_, Some(reference)) => {
                let reference: Value = serde_json::from_str(&reference)
                    .map_err(|e| failed(format!("the stored Slack message is unreadable: {e}")))?;
                self.api
                    .call(
                        "chat.update",
                        &json!({"channel": at(&reference, "/channel"), "ts": at(&reference, "/ts"),
                                "text": text, "blocks": blocks}),
                    )
                    .await?;
                if item.event == OutboxEvent::HoldDecided {
                    self.tell_owner(&item.payload, &reference).await?;
                }
                Ok(None)
            }
            // A review or an outcome before the message is up: wait for it.
            (_, None) => Err(failed("the hold's Slack message is not posted yet")),
        }
    }
}
