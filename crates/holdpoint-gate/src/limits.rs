//! Per-principal limits, so one agent cannot exhaust the gateway: a request rate (token
//! bucket), pending holds, and concurrent long-polls. Each refusal is a 429 with a
//! `Retry-After`, and each burst of refusals is audited once (`limit.exceeded`): the
//! first refusal of a principal on a limit writes the event, and the burst lasts until a
//! whole [`BURST_GAP`] passes without a refusal on that limit. (Ending it at the next
//! success would let a client that alternates success and refusal flood the log.)

use crate::{Gate, GateError};
use holdpoint_core::{Actor, Change, EventType, NewEvent, Principal, Timestamp};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The limits, all configurable (`[limits]`). Zero turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Sustained requests per second for one principal.
    pub requests_per_second: u32,
    /// Requests one principal may make at once above the sustained rate.
    pub request_burst: u32,
    /// Pending holds one principal may have.
    pub pending_holds: u32,
    /// Long-polls one principal may have open at once.
    pub long_polls: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            requests_per_second: 50,
            request_burst: 100,
            pending_holds: 100,
            long_polls: 32,
        }
    }
}

/// Which limit refused, as named in events and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Limit {
    Requests,
    PendingHolds,
    LongPolls,
    Connections,
}

impl Limit {
    fn as_str(self) -> &'static str {
        match self {
            Limit::Requests => "requests_per_second",
            Limit::PendingHolds => "pending_holds",
            Limit::LongPolls => "long_polls",
            Limit::Connections => "connections",
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Timestamp,
}

#[derive(Default)]
pub(crate) struct LimitState {
    buckets: Mutex<HashMap<String, Bucket>>,
    polls: Arc<Mutex<HashMap<String, u32>>>,
    /// Holds being created right now, per principal: counted with the stored ones, so
    /// parallel submissions cannot overshoot the pending-holds limit.
    creating: Arc<Mutex<HashMap<String, u32>>>,
    /// (principal, limit) → the last refusal of its burst, which is already audited.
    bursts: Mutex<HashMap<(String, Limit), Timestamp>>,
}

/// A burst of refusals ends after this long without one.
pub const BURST_GAP: Duration = Duration::from_secs(60);

/// Whom connection refusals are counted against: the gateway as a whole.
fn gateway() -> Principal {
    Principal::new(holdpoint_core::PrincipalKind::Agent, "*connections*")
}

fn key(principal: &Principal) -> String {
    format!("{}:{}", principal.kind, principal.name.to_ascii_lowercase())
}

/// One unit of a per-principal count (an open long-poll, a hold being created), given
/// back when dropped.
pub struct Slot {
    counts: Arc<Mutex<HashMap<String, u32>>>,
    key: String,
}

impl Slot {
    /// Takes a slot; returns it with how many the principal held before.
    fn take(counts: &Arc<Mutex<HashMap<String, u32>>>, key: String) -> (Slot, u32) {
        let mut map = counts.lock().unwrap_or_else(PoisonError::into_inner);
        let held = map.entry(key.clone()).or_insert(0);
        let before = *held;
        *held += 1;
        (
            Slot {
                counts: counts.clone(),
                key,
            },
            before,
        )
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

impl LimitState {
    /// Takes one request from the principal's bucket, or says how long until one is there.
    fn take_request(
        &self,
        limits: &Limits,
        principal: &Principal,
        now: Timestamp,
    ) -> Option<Duration> {
        if limits.requests_per_second == 0 {
            return None;
        }
        let rate = f64::from(limits.requests_per_second);
        let capacity = f64::from(limits.request_burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(key(principal)).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = (now - bucket.at)
            .num_microseconds()
            .unwrap_or(i64::MAX)
            .max(0) as f64
            / 1e6;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64(
                ((1.0 - bucket.tokens) / rate).max(0.001),
            ))
        }
    }

    fn open_poll(&self, limits: &Limits, principal: &Principal) -> Option<Slot> {
        let (slot, before) = Slot::take(&self.polls, key(principal));
        (limits.long_polls == 0 || before < limits.long_polls).then_some(slot)
    }

    /// True when this refusal starts a burst (and so is audited).
    fn refused(&self, principal: &Principal, limit: Limit, now: Timestamp) -> bool {
        let mut bursts = self.bursts.lock().unwrap_or_else(PoisonError::into_inner);
        let gap = chrono::Duration::from_std(BURST_GAP).unwrap_or(chrono::Duration::MAX);
        bursts.retain(|_, last| now.signed_duration_since(*last) < gap);
        bursts.insert((key(principal), limit), now).is_none()
    }
}

impl Gate {
    /// Counts one request of `principal` against its rate: inside the gate only, as
    /// each authentication or session look-up happens.
    pub(crate) async fn admit_request(&self, principal: &Principal) -> Result<(), GateError> {
        let now = self.clock.now();
        match self
            .limits
            .take_request(&self.settings.limits, principal, now)
        {
            None => Ok(()),
            Some(wait) => {
                let message = format!(
                    "`{principal}` is over {} requests per second; slow down",
                    self.settings.limits.requests_per_second
                );
                Err(self.refuse(principal, Limit::Requests, message, wait).await)
            }
        }
    }

    /// A long-poll slot for `principal`, held until the returned guard is dropped.
    pub(crate) async fn open_poll(&self, principal: &Principal) -> Result<Slot, GateError> {
        match self.limits.open_poll(&self.settings.limits, principal) {
            Some(slot) => Ok(slot),
            None => {
                let message = format!(
                    "`{principal}` already has {} long-polls open; wait for one to end",
                    self.settings.limits.long_polls
                );
                Err(self
                    .refuse(principal, Limit::LongPolls, message, Duration::from_secs(1))
                    .await)
            }
        }
    }

    /// Refuses a new hold when `principal` already has as many pending as allowed. The
    /// returned slot is held until the new hold is stored: holds being created count too.
    pub(crate) async fn check_pending(&self, principal: &Principal) -> Result<Slot, GateError> {
        let limit = self.settings.limits.pending_holds;
        let (slot, creating) = Slot::take(&self.limits.creating, key(principal));
        if limit == 0 {
            return Ok(slot);
        }
        let pending = self.store.count_pending_by(principal).await?;
        // A hold already stored whose slot is not yet returned counts twice: that can only
        // refuse early, never let one more through.
        if pending + i64::from(creating) < i64::from(limit) {
            return Ok(slot);
        }
        drop(slot);
        let message = format!(
            "`{principal}` already has {pending} pending holds (the limit is {limit}); \
             wait for them to be decided"
        );
        Err(self
            .refuse(
                principal,
                Limit::PendingHolds,
                message,
                Duration::from_secs(30),
            )
            .await)
    }

    /// A connection over the cap was refused; the first of a burst is audited.
    pub async fn connection_refused(&self) {
        let message = "too many connections".to_string();
        let _ = self
            .refuse(
                &gateway(),
                Limit::Connections,
                message,
                Duration::from_secs(1),
            )
            .await;
    }

    /// The 429 for a refusal; the first of a burst is audited.
    async fn refuse(
        &self,
        principal: &Principal,
        limit: Limit,
        message: String,
        retry_after: Duration,
    ) -> GateError {
        crate::metrics::limited(limit.as_str());
        if self.limits.refused(principal, limit, self.clock.now()) {
            tracing::warn!(%principal, limit = limit.as_str(), "limit reached");
            let actor = match limit {
                Limit::Connections => Actor::system(),
                _ => Actor::new(principal.kind.as_str(), &principal.name, "api"),
            };
            let event = NewEvent::new(
                self.clock.now(),
                EventType::LimitExceeded,
                actor,
                None,
                json!({"limit": limit.as_str(), "retry_after_secs": retry_after.as_secs_f64()}),
            );
            if let Err(e) = self.store.apply(Change::new(Vec::new(), vec![event])).await {
                tracing::error!(error = %e, "cannot audit a limit refusal");
            }
        }
        GateError::TooMany {
            message,
            retry_after,
        }
    }
}
