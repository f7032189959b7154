//! The one remote ask-and-wait loop. A held action is long-polled in steps of at most
//! [`POLL`] until it is decided or the caller's wait ends; a 429 (too many requests or
//! long-polls open for this principal) is waited out for its `Retry-After` when that
//! fits in what is left of the wait, and returned otherwise.

use crate::{ActionView, Client, ClientError, Submission};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The longest single long-poll; a longer wait polls again.
pub const POLL: Duration = Duration::from_secs(60);

/// How long a 429 without `Retry-After` is waited out.
const DEFAULT_RETRY: Duration = Duration::from_secs(1);

/// `now + wait`, or a year from now for a wait longer than the clock can count.
fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

impl Client {
    /// Submits `action` and, while it is held, waits up to `wait` in all for its
    /// decision. The answer is the action as it stands then (still pending if the wait
    /// ended first).
    pub async fn ask_and_wait(
        &self,
        action: &Submission,
        wait: Duration,
    ) -> Result<ActionView, ClientError> {
        let deadline = deadline_after(wait);
        let first = wait.min(POLL);
        let answer = self
            .retrying(deadline, || self.submit(action, first))
            .await?;
        self.wait_until(answer, deadline).await
    }

    /// Long-polls `action` until it is decided or `wait` has passed.
    pub async fn wait_for(
        &self,
        action: ActionView,
        wait: Duration,
    ) -> Result<ActionView, ClientError> {
        self.wait_until(action, deadline_after(wait)).await
    }

    async fn wait_until(
        &self,
        mut action: ActionView,
        deadline: Instant,
    ) -> Result<ActionView, ClientError> {
        while action.status.is_pending() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.as_secs() == 0 {
                break;
            }
            let step = Duration::from_secs(left.min(POLL).as_secs());
            let id = action.id.clone();
            action = self.retrying(deadline, || self.action(&id, step)).await?;
        }
        Ok(action)
    }

    /// `attempt`, again after each 429's `Retry-After` while that ends before `deadline`.
    async fn retrying<T, F, Fut>(&self, deadline: Instant, mut attempt: F) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        loop {
            match attempt().await {
                Err(ClientError::Api {
                    status: 429,
                    retry_after,
                    ..
                }) if Instant::now() + retry_after.unwrap_or(DEFAULT_RETRY) < deadline => {
                    tokio::time::sleep(retry_after.unwrap_or(DEFAULT_RETRY)).await;
                }
                other => return other,
            }
        }
    }
}
