//! Time, injected: the system clock in production, a manual clock in tests, so expiry is
//! tested without real minutes passing.

use crate::Timestamp;
use async_trait::async_trait;
use std::sync::Mutex;
use tokio::sync::watch;

#[async_trait]
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
    /// Returns once `now() >= deadline`.
    async fn sleep_until(&self, deadline: Timestamp);
}

/// Wall-clock time; sleeps with tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one reader of the wall clock; everything else asks a `Clock`"
    )]
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }

    async fn sleep_until(&self, deadline: Timestamp) {
        loop {
            let left = deadline - self.now();
            match left.to_std() {
                Ok(d) if !d.is_zero() => tokio::time::sleep(d).await,
                _ => return,
            }
        }
    }
}

/// A clock that moves only when a test says so; sleepers wake when it passes their deadline.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
    tick: watch::Sender<Timestamp>,
}

impl ManualClock {
    /// A manual clock that starts at the system's time.
    pub fn starting_now() -> Self {
        ManualClock::new(SystemClock.now())
    }

    pub fn new(start: Timestamp) -> Self {
        let (tick, _) = watch::channel(start);
        ManualClock {
            now: Mutex::new(start),
            tick,
        }
    }

    pub fn advance(&self, by: std::time::Duration) {
        let delta = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let next = {
            let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
            *now = now
                .checked_add_signed(delta)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
            *now
        };
        self.tick.send_replace(next);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sleep_until(&self, deadline: Timestamp) {
        let mut rx = self.tick.subscribe();
        // The sender lives as long as `self`, so `wait_for` only ends when the time comes.
        let _ = rx.wait_for(|now| *now >= deadline).await;
    }
}
