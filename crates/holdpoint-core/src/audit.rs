//! The audit log: append-only events linked by a SHA-256 hash chain.
//!
//! `hash = sha256(canonical JSON of {seq, time, type, actor, action_id, data, prev_hash})`,
//! with `time` in microseconds since the epoch. Editing, deleting, inserting or reordering
//! any event breaks the chain at the first event touched, and [`ChainVerifier`] names it.

use crate::Timestamp;
use crate::action::ActionId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use utoipa::ToSchema;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

macro_rules! event_types {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// Every kind of audit event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        pub enum EventType {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $name,)* }
            }

            pub fn parse(text: &str) -> Option<EventType> {
                match text { $($name => Some(EventType::$variant),)* _ => None }
            }
        }
    };
}

event_types! {
    ActionSubmitted => "action.submitted",
    ActionAllowed => "action.allowed",
    ActionDenied => "action.denied",
    HoldCreated => "hold.created",
    ReviewApproved => "review.approved",
    ReviewRejected => "review.rejected",
    HoldApproved => "hold.approved",
    HoldRejected => "hold.rejected",
    HoldExpired => "hold.expired",
    ActionCancelled => "action.cancelled",
    ActionReleased => "action.released",
    ActionConsumed => "action.consumed",
    ActionExecuted => "action.executed",
    ActionFailed => "action.failed",
    LimitExceeded => "limit.exceeded",
    PolicyLoaded => "policy.loaded",
    PolicyRefused => "policy.refused",
    TokenCreated => "token.created",
    TokenRevoked => "token.revoked",
    ConnectionOpened => "connection.opened",
    ConnectionClosed => "connection.closed",
    StatementsAllowed => "statements.allowed",
    SessionStarted => "session.started",
    SessionEnded => "session.ended",
    IdentityVouched => "identity.vouched",
    IdentityUnvouched => "identity.unvouched",
    HoldJoined => "hold.joined",
    ToolChanged => "tool.changed",
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused an event, and through which channel (`api`, `cli`, `slack`, `system`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub kind: String,
    pub name: String,
    pub channel: String,
}

impl Actor {
    pub fn new(
        kind: impl Into<String>,
        name: impl Into<String>,
        channel: impl Into<String>,
    ) -> Self {
        Actor {
            kind: kind.into(),
            name: name.into(),
            channel: channel.into(),
        }
    }

    /// holdpoint itself: expiry, policy reloads, first start.
    pub fn system() -> Self {
        Actor::new("system", "holdpoint", "system")
    }
}

/// An event before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub time: Timestamp,
    pub event_type: EventType,
    pub actor: Actor,
    pub action_id: Option<ActionId>,
    /// Masked: nothing secret ever enters the log.
    pub data: Value,
}

impl NewEvent {
    pub fn new(
        time: Timestamp,
        event_type: EventType,
        actor: Actor,
        action_id: Option<&ActionId>,
        data: Value,
    ) -> Self {
        NewEvent {
            time: truncate_to_micros(time),
            event_type,
            actor,
            action_id: action_id.cloned(),
            data,
        }
    }
}

/// The store keeps microseconds; hashing the same precision keeps the chain reproducible.
pub fn truncate_to_micros(t: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// An event in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub seq: i64,
    pub time: chrono::DateTime<chrono::Utc>,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub actor: Actor,
    #[schema(value_type = Option<String>)]
    pub action_id: Option<ActionId>,
    #[schema(value_type = Object)]
    pub data: Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    /// Places `event` after (`prev_seq`, `prev_hash`) and computes its hash.
    pub fn chain(event: NewEvent, prev_seq: i64, prev_hash: &str) -> AuditEvent {
        SealedEvent::new(event).chain(prev_seq, prev_hash)
    }

    /// The hash this event should carry, from everything but the hash itself.
    pub fn compute_hash(&self) -> String {
        let doc = json!({
            "seq": self.seq,
            "time": self.time.timestamp_micros(),
            "type": self.event_type.as_str(),
            "actor": self.actor,
            "action_id": self.action_id,
            "data": self.data,
            "prev_hash": self.prev_hash,
        });
        // INVARIANT: a serde_json::Value always serialises.
        let canonical = serde_jcs::to_vec(&doc).unwrap_or_else(|_| doc.to_string().into_bytes());
        format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
    }
}

/// An event with the parts of its canonical JSON that do not depend on its place in the
/// chain already computed, so the store's single writer only adds `prev_hash` and `seq`
/// and hashes. RFC 8785 sorts keys, and `prev_hash` and `seq` fall between `data` and
/// `time`, so the canonical text is `before` + `"prev_hash":…,"seq":…,` + `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedEvent {
    event: NewEvent,
    before: String,
    after: String,
}

impl SealedEvent {
    pub fn new(event: NewEvent) -> SealedEvent {
        let event = NewEvent {
            time: truncate_to_micros(event.time),
            ..event
        };
        let jcs = |v: &Value| serde_jcs::to_string(v).unwrap_or_else(|_| v.to_string());
        let before = format!(
            "{{\"action_id\":{},\"actor\":{},\"data\":{},",
            jcs(&json!(event.action_id)),
            jcs(&json!(event.actor)),
            jcs(&event.data),
        );
        let after = format!(
            "\"time\":{},\"type\":{}}}",
            event.time.timestamp_micros(),
            jcs(&json!(event.event_type.as_str())),
        );
        SealedEvent {
            event,
            before,
            after,
        }
    }

    /// Places the event after (`prev_seq`, `prev_hash`) and computes its hash.
    pub fn chain(self, prev_seq: i64, prev_hash: &str) -> AuditEvent {
        let seq = prev_seq + 1;
        let mut hasher = Sha256::new();
        hasher.update(self.before.as_bytes());
        hasher.update(b"\"prev_hash\":");
        hasher.update(
            serde_jcs::to_string(prev_hash)
                .unwrap_or_default()
                .as_bytes(),
        );
        hasher.update(format!(",\"seq\":{seq},").as_bytes());
        hasher.update(self.after.as_bytes());
        AuditEvent {
            seq,
            time: self.event.time,
            event_type: self.event.event_type,
            actor: self.event.actor,
            action_id: self.event.action_id,
            data: self.event.data,
            prev_hash: prev_hash.to_string(),
            hash: format!("sha256:{}", hex::encode(hasher.finalize())),
        }
    }
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// The result of verifying a whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainReport {
    pub ok: bool,
    /// Events read.
    pub events: i64,
    /// Hash of the last good event.
    pub head: String,
    /// The first bad seq, when not ok.
    pub bad_seq: Option<i64>,
    pub reason: Option<String>,
}

/// Checks events one at a time, in the order the store returns them (by seq).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
    events: i64,
    broken: Option<ChainBreak>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            events: 0,
            broken: None,
        }
    }
}

impl ChainVerifier {
    /// Feeds the next event. After the first break, further events are ignored.
    pub fn push(&mut self, ev: &AuditEvent) {
        if self.broken.is_some() {
            return;
        }
        self.events += 1;
        let fail = |reason: String| ChainBreak {
            seq: self.next_seq.min(ev.seq),
            reason,
        };
        let problem = if ev.seq != self.next_seq {
            Some(fail(format!(
                "expected seq {} but found seq {} (an event was removed, inserted or reordered)",
                self.next_seq, ev.seq
            )))
        } else if ev.prev_hash != self.prev_hash {
            Some(fail("prev_hash does not match the previous event's hash (an event was removed, inserted or reordered)".into()))
        } else if ev.compute_hash() != ev.hash {
            Some(fail(
                "the event's content does not match its hash (it was edited)".into(),
            ))
        } else {
            None
        };
        match problem {
            Some(b) => self.broken = Some(b),
            None => {
                self.next_seq += 1;
                self.prev_hash = ev.hash.clone();
            }
        }
    }

    pub fn finish(self) -> ChainReport {
        ChainReport {
            ok: self.broken.is_none(),
            events: self.events,
            head: self.prev_hash,
            bad_seq: self.broken.as_ref().map(|b| b.seq),
            reason: self.broken.map(|b| b.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let (seq, prev) = out
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.to_string()));
            let ev = NewEvent::new(
                crate::Clock::now(&crate::SystemClock),
                EventType::ActionSubmitted,
                Actor::system(),
                None,
                json!({"i": i}),
            );
            out.push(AuditEvent::chain(ev, seq, &prev));
        }
        out
    }

    fn verify(events: &[AuditEvent]) -> ChainReport {
        let mut v = ChainVerifier::default();
        events.iter().for_each(|e| v.push(e));
        v.finish()
    }

    #[test]
    fn sealed_hashing_equals_hashing_the_whole_canonical_document() {
        let tricky = json!({"z": [1, 2.5, "é\u{1F600}\"\\"], "a": {"y": null, "b": true}, "n": -7});
        for (i, data) in [json!({}), tricky, json!({"sql": "SELECT '\n'"})]
            .into_iter()
            .enumerate()
        {
            let id = ActionId(format!("act_{i}"));
            let ev = NewEvent::new(
                crate::Clock::now(&crate::SystemClock),
                EventType::ReviewApproved,
                Actor::new("user", "ålice", "api"),
                (i != 1).then_some(&id),
                data,
            );
            let chained = SealedEvent::new(ev).chain(41, GENESIS_HASH);
            assert_eq!(chained.seq, 42);
            assert_eq!(chained.hash, chained.compute_hash());
        }
    }

    #[test]
    fn an_intact_chain_verifies() {
        let report = verify(&chain(5));
        assert!(report.ok);
        assert_eq!(report.events, 5);
    }

    #[test]
    fn edit_delete_and_reorder_name_the_first_bad_seq() {
        let mut edited = chain(5);
        edited[2].data = json!({"i": 99});
        assert_eq!(verify(&edited).bad_seq, Some(3));

        let mut deleted = chain(5);
        deleted.remove(3);
        assert_eq!(verify(&deleted).bad_seq, Some(4));

        let mut reordered = chain(5);
        reordered.swap(1, 2);
        assert_eq!(verify(&reordered).bad_seq, Some(2));
    }
}
