//! Expiry: one task sleeps until the earliest pending hold is due, expires what is due,
//! and sleeps again. A new hold wakes it early. No request is needed for a hold to expire,
//! and holds that fell due while the gateway was down expire at its next start.

use crate::Gate;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How many due holds are expired per store round trip.
const EXPIRY_BATCH: u32 = 100;
/// How long to wait before trying again when the store fails.
const RETRY_AFTER: Duration = Duration::from_secs(1);

impl Gate {
    /// Runs until `shutdown` completes.
    pub async fn run_expiry(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let next = match self.expire_due().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "expiry pass failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(RETRY_AFTER) => continue,
                        _ = &mut shutdown => return,
                    }
                }
            };
            let clock = self.clock.clone();
            let sleep = async move {
                match next {
                    Some(at) => clock.sleep_until(at).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = sleep => {}
                _ = self.expiry_kick.notified() => {}
                _ = &mut shutdown => return,
            }
        }
    }

    /// Expires every hold that is due and returns when the next one falls due.
    async fn expire_due(&self) -> Result<Option<holdpoint_core::Timestamp>, crate::GateError> {
        loop {
            let due = self
                .store
                .due_for_expiry(self.clock.now(), EXPIRY_BATCH)
                .await?;
            let full = due.len() as u32 == EXPIRY_BATCH;
            for record in due {
                self.expire(record).await?;
            }
            if !full {
                return Ok(self.store.next_expiry().await?);
            }
        }
    }
}
