//! The delivery worker: sends every queued outbox item to its channel, outside any
//! request. A failure is recorded (attempts, the error, when to try again) and retried
//! with exponential backoff, honouring a channel's `Retry-After`; because the state is in
//! the store, a restarted gateway resumes where it stopped. An item is marked delivered
//! only after its channel accepted it, so a crash in between sends it again: receivers
//! deduplicate on the item's id.

use async_trait::async_trait;
use holdpoint_core::outbox::{Delivery, OutboxItem};
use holdpoint_core::{Change, Clock, Op, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Items sent per pass.
const BATCH: u32 = 64;
/// The longest wait between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The longest the worker sleeps with nothing due (it is also woken by new items).
const IDLE: Duration = Duration::from_secs(30);

/// Why a delivery did not go through; every failure is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub reason: String,
    /// When the channel said to try again (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
}

/// Why a pass of the worker could not run; it tries again shortly.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The due items could not be read from the store.
    #[error(transparent)]
    Outbox(#[from] StoreError),
}

/// A reviewer channel the worker delivers to.
#[async_trait]
pub trait Channel: Send + Sync + 'static {
    /// The name outbox items carry, e.g. `webhook:pagerduty`.
    fn name(&self) -> &str;
    /// Sends one item; `Ok` once the channel has accepted it, with the reference of the
    /// message it posted (Slack's channel and `ts`) when there is one to remember: it is
    /// stored with the attempt, for later updates.
    async fn deliver(&self, item: &OutboxItem) -> Result<Option<String>, DeliveryError>;
}

pub struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    channels: HashMap<String, Arc<dyn Channel>>,
    kick: Arc<Notify>,
}

/// A `Retry-After` header's value in seconds (the form channels send), as a duration.
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// How long to wait after the `attempts`-th failure: 1 s, 2 s, 4 s, … up to
/// [`MAX_BACKOFF`], or what the channel asked for (within the same bound).
pub fn backoff(attempts: u32, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(asked) => asked.min(MAX_BACKOFF),
        None => Duration::from_secs(1u64 << attempts.min(16)).min(MAX_BACKOFF),
    }
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        channels: Vec<Arc<dyn Channel>>,
        kick: Arc<Notify>,
    ) -> Worker {
        let channels = channels
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect();
        Worker {
            store,
            clock,
            channels,
            kick,
        }
    }

    /// Delivers until `shutdown` completes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.pass().await {
                Ok(true) => Duration::ZERO,
                Ok(false) => self.until_next().await,
                Err(e) => {
                    tracing::warn!(error = %e, "the outbox cannot be read; trying again");
                    Duration::from_secs(1)
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.kick.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass over the due items; true when there may be more due at once.
    pub async fn pass(&self) -> Result<bool, WorkerError> {
        let now = self.clock.now();
        let due = self.store.due_deliveries(now, BATCH).await?;
        let full = due.len() == BATCH as usize;
        // Sent side by side (a channel hears of one hold in order: the store hands out only
        // the first undelivered item of each), and recorded in one change.
        let attempts =
            futures::future::join_all(due.into_iter().map(|delivery| self.attempt(delivery))).await;
        self.record(attempts).await;
        if let Ok(depth) = self.store.outbox_depth().await {
            metrics::gauge!("holdpoint_outbox_depth").set(depth as f64);
        }
        Ok(full)
    }

    /// Records the attempts in one change; if that fails (another worker recorded one of
    /// them first), one change each.
    async fn record(&self, attempts: Vec<Vec<Op>>) {
        if attempts.is_empty() {
            return;
        }
        let all: Vec<Op> = attempts.iter().flatten().cloned().collect();
        if self.store.apply(Change::new(all, Vec::new())).await.is_ok() {
            return;
        }
        for ops in attempts {
            if let Err(e) = self.store.apply(Change::new(ops, Vec::new())).await {
                tracing::warn!(error = %e, "cannot record a delivery attempt");
            }
        }
    }

    /// Sends one item; the ops that record how it went.
    async fn attempt(&self, delivery: Delivery) -> Vec<Op> {
        let item = &delivery.item;
        let outcome = match self.channels.get(&item.channel) {
            Some(channel) => channel.deliver(item).await,
            None => Err(DeliveryError {
                reason: format!("no channel `{}` is configured", item.channel),
                retry_after: None,
            }),
        };
        let now = self.clock.now();
        match outcome {
            Ok(reference) => {
                let mut ops = vec![Op::RecordAttempt {
                    id: item.id.clone(),
                    delivered_at: Some(now),
                    next_attempt_at: now,
                    error: None,
                }];
                if let Some(reference) = reference {
                    ops.push(Op::RecordChannelMessage {
                        action_id: item.action_id.clone(),
                        channel: item.channel.clone(),
                        reference,
                        at: now,
                    });
                }
                ops
            }
            Err(e) => {
                let wait = backoff(delivery.attempts, e.retry_after);
                metrics::counter!("holdpoint_delivery_failures_total", "channel" => item.channel.clone())
                    .increment(1);
                tracing::warn!(
                    channel = %item.channel,
                    item = %item.id,
                    action = %item.action_id,
                    attempts = delivery.attempts + 1,
                    retry_in_secs = wait.as_secs(),
                    error = %e.reason,
                    "delivery failed; it will be retried"
                );
                let next = now
                    + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(300));
                vec![Op::RecordAttempt {
                    id: item.id.clone(),
                    delivered_at: None,
                    next_attempt_at: next,
                    error: Some(e.reason),
                }]
            }
        }
    }

    /// How long until the next item is due (at most [`IDLE`]).
    async fn until_next(&self) -> Duration {
        match self.store.next_delivery().await {
            Ok(Some(at)) => (at - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(10), IDLE),
            _ => IDLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes_and_honours_retry_after() {
        assert_eq!(backoff(0, None), Duration::from_secs(1));
        assert_eq!(backoff(3, None), Duration::from_secs(8));
        assert_eq!(backoff(40, None), MAX_BACKOFF);
        assert_eq!(
            backoff(0, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(86400))), MAX_BACKOFF);
    }
}
