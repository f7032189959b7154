//! Long-poll waiters: an agent waiting on a hold is woken by the change that decides it,
//! not by a polling loop.

use holdpoint_core::ActionId;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Default)]
pub struct Waiters {
    by_action: Mutex<HashMap<ActionId, watch::Sender<()>>>,
}

impl Waiters {
    /// Registers interest before the caller reads the store, so no wake-up is missed.
    pub fn subscribe(&self, id: &ActionId) -> watch::Receiver<()> {
        let mut map = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.clone())
            .or_insert_with(|| watch::channel(()).0)
            .subscribe()
    }

    /// Wakes everyone waiting on `id`.
    pub fn wake(&self, id: &ActionId) {
        let sender = {
            let mut map = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
            map.remove(id)
        };
        if let Some(sender) = sender {
            sender.send_replace(());
        }
    }

    /// Drops the entry of an action nobody waits on any more.
    pub fn forget_if_unwatched(&self, id: &ActionId) {
        let mut map = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(id).is_some_and(|s| s.receiver_count() == 0) {
            map.remove(id);
        }
    }
}

impl crate::Gate {
    /// The action as answered to `caller` (see [`crate::Gate::deliver`]), after waiting up
    /// to `timeout` for a pending one to be decided. The deciding change wakes the waiter
    /// directly. A long-poll takes one of the caller's long-poll slots while it waits.
    pub async fn wait(
        &self,
        caller: &holdpoint_core::Identity,
        id: &ActionId,
        timeout: std::time::Duration,
    ) -> Result<crate::Answer, crate::GateError> {
        // The slot is taken before the waiter registers, so a registered waiter always
        // holds one.
        let slot = if timeout.is_zero() {
            None
        } else {
            Some(self.open_poll(&caller.principal).await?)
        };
        let mut rx = self.waiters.subscribe(id);
        let record = self.get(caller, id).await;
        let pending = matches!(&record, Ok(r) if r.status.is_pending());
        if !pending || slot.is_none() {
            drop(rx);
            self.waiters.forget_if_unwatched(id);
            return self.deliver(caller, record?).await;
        }
        let _ = tokio::time::timeout(timeout, rx.changed()).await;
        drop(rx);
        drop(slot);
        self.waiters.forget_if_unwatched(id);
        let record = self.get(caller, id).await?;
        self.deliver(caller, record).await
    }
}

impl Waiters {
    /// How many callers wait on `id` right now.
    pub fn count(&self, id: &ActionId) -> usize {
        let map = self.by_action.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id).map_or(0, |s| s.receiver_count())
    }
}

impl crate::Gate {
    /// How many callers are long-polling `id` right now.
    pub fn waiters_on(&self, id: &ActionId) -> usize {
        self.waiters.count(id)
    }
}
