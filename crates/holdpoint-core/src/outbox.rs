//! The outbox: what reviewer channels are to be told, written in the same transaction as
//! the change it tells of, and delivered afterwards by a worker with retries. Nothing on a
//! request path waits for a channel, and a crash loses no message.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// What a channel is told of a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OutboxEvent {
    /// A hold was created: ask the reviewers.
    #[serde(rename = "hold.created")]
    HoldCreated,
    /// A review was recorded on a hold that is still pending.
    #[serde(rename = "hold.reviewed")]
    HoldReviewed,
    /// The hold was decided: approved, rejected, expired, cancelled, or its approval used.
    #[serde(rename = "hold.decided")]
    HoldDecided,
}

impl OutboxEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxEvent::HoldCreated => "hold.created",
            OutboxEvent::HoldReviewed => "hold.reviewed",
            OutboxEvent::HoldDecided => "hold.decided",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxEvent> {
        [
            OutboxEvent::HoldCreated,
            OutboxEvent::HoldReviewed,
            OutboxEvent::HoldDecided,
        ]
        .into_iter()
        .find(|e| e.as_str() == text)
    }
}

/// One message for one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutboxItem {
    /// `msg_…`, unique; also the id a webhook receiver deduplicates on.
    pub id: String,
    /// The configured channel's name, e.g. `webhook:pagerduty`.
    pub channel: String,
    pub event: OutboxEvent,
    pub action_id: String,
    /// The masked message: built only from masked data.
    #[schema(value_type = Object)]
    pub payload: Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An outbox item and how its delivery stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub item: OutboxItem,
    pub attempts: u32,
    /// When the worker tries it next (if not delivered).
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
    /// The last failure, as the channel said it.
    pub last_error: Option<String>,
}
