//! [`Sessions`]: how many agent sessions each principal holds open on one upstream. Each
//! gateway-hosted session starts its own upstream (for a command, its own process), so
//! an agent that opens sessions without end would exhaust the gateway's host; past the
//! limit, `initialize` is refused until one of its sessions ends or idles out.
//!
//! [`SessionEnds`]: how a session learns it has ended. rmcp lets a closed session's
//! requests run on (and cancels them only once they have drained, seconds later), so
//! a held call would still be forwarded if approved in between. Each session's proxy
//! registers a token under its session id; `DELETE` of the session fires it at once, as
//! does the gateway stopping (every token is a child of its stop token), and a session
//! that idles out fires its own the moment its transport ends (`ending.rs`). Each gated request counts as in
//! flight while it waits, so a stopping gateway can wait for its withdrawals
//! ([`SessionEnds::settled`]) before it closes the store.

use holdpoint_core::Principal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why no more sessions may open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionsError {
    #[error(
        "{principal} already has {limit} MCP sessions open on this server, the most allowed; \
         close one (or let it idle out) first"
    )]
    Full { principal: Principal, limit: usize },
}

#[derive(Debug)]
pub struct Sessions {
    limit: usize,
    open: Mutex<HashMap<Principal, usize>>,
    /// Shared by every hosted upstream of the gateway.
    pub ends: Arc<SessionEnds>,
}

/// The end token of each open session, by session id.
#[derive(Debug, Default)]
pub struct SessionEnds {
    stop: CancellationToken,
    tokens: Mutex<HashMap<String, CancellationToken>>,
    in_flight: AtomicUsize,
    settle: tokio::sync::Notify,
}

/// One gated request in flight; dropping it (the request answered) counts it out.
#[derive(Debug)]
pub struct InFlight(Arc<SessionEnds>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.settle.notify_waiters();
        }
    }
}

/// Sessions registered at most; past it a session ends only when rmcp ends it.
const MAX_ENDS: usize = 100_000;

impl SessionEnds {
    /// Ends of their own, for one session beside the agent: [`SessionEnds::stopper`]
    /// fires them.
    pub fn alone() -> Arc<SessionEnds> {
        SessionEnds::new(&CancellationToken::new())
    }

    /// The token that fires every end.
    pub fn stopper(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Ends whose tokens all fire when `stop` does.
    pub fn new(stop: &CancellationToken) -> Arc<SessionEnds> {
        Arc::new(SessionEnds {
            stop: stop.clone(),
            ..SessionEnds::default()
        })
    }

    /// Counts one gated request in flight until the guard drops.
    pub fn in_flight(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Waits, up to `wait`, until no gated request is in flight: after the stop token
    /// fired, until each has withdrawn its hold. True when none is left.
    pub async fn settled(&self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.settle.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.in_flight.load(Ordering::SeqCst) == 0;
            }
        }
    }

    /// A new token for a session whose id is not known yet; fires when the gateway stops.
    pub fn token(&self) -> CancellationToken {
        self.stop.child_token()
    }

    /// Files `token` under the session `id`, once it is known.
    pub fn register(&self, id: &str, token: &CancellationToken) {
        let mut tokens = self.lock();
        if tokens.len() < MAX_ENDS {
            tokens
                .entry(id.to_string())
                .or_insert_with(|| token.clone());
        }
    }

    /// The session `id` ended: its token fires.
    pub fn end(&self, id: &str) {
        if let Some(token) = self.lock().remove(id) {
            token.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One open session; dropping it (the session ended) frees its place.
#[derive(Debug)]
pub struct SessionSlot {
    sessions: Arc<Sessions>,
    principal: Principal,
}

impl Sessions {
    pub fn new(limit: usize, ends: Arc<SessionEnds>) -> Arc<Sessions> {
        Arc::new(Sessions {
            limit,
            open: Mutex::new(HashMap::new()),
            ends,
        })
    }

    /// A place for one more session of `principal`, or why not.
    pub fn open(self: &Arc<Self>, principal: &Principal) -> Result<SessionSlot, SessionsError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(principal.clone()).or_insert(0);
        if *count >= self.limit {
            return Err(SessionsError::Full {
                principal: principal.clone(),
                limit: self.limit,
            });
        }
        *count += 1;
        Ok(SessionSlot {
            sessions: self.clone(),
            principal: principal.clone(),
        })
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self.sessions.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.principal) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.principal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use holdpoint_core::PrincipalKind;

    #[test]
    fn each_principal_has_its_own_limit_and_ended_sessions_free_their_place() {
        let sessions = Sessions::new(2, Arc::default());
        let bot = Principal::new(PrincipalKind::Agent, "bot");
        let other = Principal::new(PrincipalKind::Agent, "other");
        let a = sessions.open(&bot).unwrap();
        let _b = sessions.open(&bot).unwrap();
        assert_eq!(
            sessions.open(&bot).unwrap_err().to_string(),
            "agent:bot already has 2 MCP sessions open on this server, the most allowed; \
             close one (or let it idle out) first"
        );
        let _c = sessions.open(&other).unwrap();
        drop(a);
        assert!(sessions.open(&bot).is_ok());
    }

    #[test]
    fn a_session_end_and_the_gateway_stopping_fire_its_token() {
        let stop = CancellationToken::new();
        let ends = SessionEnds::new(&stop);
        let (a, b, c) = (ends.token(), ends.token(), ends.token());
        ends.register("s-a", &a);
        ends.register("s-b", &b);
        ends.end("s-a");
        assert!(a.is_cancelled() && !b.is_cancelled());
        ends.end("unknown");
        stop.cancel();
        assert!(b.is_cancelled() && c.is_cancelled());
    }

    #[tokio::test]
    async fn settled_waits_for_the_requests_in_flight() {
        let ends = SessionEnds::new(&CancellationToken::new());
        assert!(ends.settled(Duration::from_secs(1)).await);
        let guard = ends.in_flight();
        // A request in flight: the deadline passes unsettled.
        assert!(!ends.settled(Duration::from_millis(20)).await);
        let waiting = tokio::spawn({
            let ends = ends.clone();
            async move { ends.settled(Duration::from_secs(60)).await }
        });
        tokio::task::yield_now().await;
        drop(guard);
        assert!(waiting.await.unwrap());
    }
}
