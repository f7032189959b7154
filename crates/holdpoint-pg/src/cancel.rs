//! Cancel requests. Each client gets a key of holdpoint's own (never the server's);
//! a cancel request with it withdraws the statement's hold if one is waiting, and is
//! passed on to the server with the server's key for a statement that is running.

use crate::server_stream::ServerAddr;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Default)]
pub struct Cancels {
    sessions: Mutex<HashMap<(i32, i32), Entry>>,
}

struct Entry {
    upstream: ServerAddr,
    key: (i32, i32),
    requested: watch::Sender<u64>,
}

/// A session's place in the registry; removed when dropped.
pub struct Registration<'a> {
    cancels: &'a Cancels,
    pub key: (i32, i32),
    /// Changes on every cancel request for this session.
    pub requested: watch::Receiver<u64>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut s) = self.cancels.sessions.lock() {
            s.remove(&self.key);
        }
    }
}

impl Cancels {
    /// Registers a session whose server connection is `upstream` with key `key`.
    pub fn register(&self, upstream: ServerAddr, key: (i32, i32)) -> Registration<'_> {
        let (tx, rx) = watch::channel(0u64);
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ours = loop {
            let candidate = (rand::random::<i32>() & i32::MAX, rand::random::<i32>());
            if !sessions.contains_key(&candidate) {
                break candidate;
            }
        };
        sessions.insert(
            ours,
            Entry {
                upstream,
                key,
                requested: tx,
            },
        );
        Registration {
            cancels: self,
            key: ours,
            requested: rx,
        }
    }

    /// Handles a cancel request: tells the session, and returns the server and key to
    /// pass it on to. An unknown key is ignored, as PostgreSQL does.
    pub fn cancel(&self, key: (i32, i32)) -> Option<(ServerAddr, (i32, i32))> {
        let sessions = self.sessions.lock().ok()?;
        let entry = sessions.get(&key)?;
        entry.requested.send_modify(|n| *n += 1);
        Some((entry.upstream.clone(), entry.key))
    }
}
