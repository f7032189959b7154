//! Server-side sessions. The browser holds only a random 256-bit id in an HttpOnly,
//! SameSite=Lax cookie (Secure off loopback); the gateway keeps what it means, keyed by
//! the id's SHA-256, so signing out or ending a session takes effect at the next request.
//! A session ends after `idle` without a request and after `absolute` in any case,
//! measured on the gate's clock.

use crate::secret;
use holdpoint_core::{Clock, Identity, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most sessions kept at once; past it the least recently used one is ended.
const MAX_SESSIONS: usize = 10_000;
/// The most sessions one person keeps; past it their own oldest is ended, so nobody can
/// push everyone else's sessions out by signing in over and over.
const MAX_PER_PRINCIPAL: usize = 20;

/// How the person signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// With a user or admin token: its hash, checked again at every request so that
    /// revoking the token ends the session.
    Token { hash: String },
    /// With the identity provider; the identity is the one built at sign-in.
    Oidc,
}

impl Via {
    pub fn label(&self) -> &'static str {
        match self {
            Via::Token { .. } => "token",
            Via::Oidc => "oidc",
        }
    }
}

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub identity: Identity,
    pub via: Via,
    /// The anti-forgery token every form of this session carries.
    pub csrf: String,
    pub created: Timestamp,
    pub last_seen: Timestamp,
}

/// What an admin sees of a session (never its id).
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub key: String,
    pub name: String,
    pub via: &'static str,
    pub created: Timestamp,
    pub last_seen: Timestamp,
}

pub struct Sessions {
    /// The key of every session that ends by sign-out or an admin, so live streams of
    /// that session end at once.
    ended: tokio::sync::broadcast::Sender<String>,
    clock: Arc<dyn Clock>,
    idle: chrono::Duration,
    absolute: chrono::Duration,
    by_key: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(clock: Arc<dyn Clock>, idle: Duration, absolute: Duration) -> Self {
        let chrono = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Sessions {
            ended: tokio::sync::broadcast::channel(256).0,
            clock,
            idle: chrono(idle),
            absolute: chrono(absolute),
            by_key: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_key.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When a session started now ends at the latest (its absolute timeout).
    pub fn deadline(&self) -> Timestamp {
        self.clock
            .now()
            .checked_add_signed(self.absolute)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    }

    /// Starts a session; returns the id for the cookie.
    pub fn create(&self, identity: Identity, via: Via) -> String {
        let id = secret::random_hex(32);
        let now = self.clock.now();
        let session = Session {
            identity,
            via,
            csrf: secret::random_hex(32),
            created: now,
            last_seen: now,
        };
        let mut map = self.map();
        map.retain(|_, s| self.live(s, now));
        let theirs: Vec<(String, Timestamp)> = map
            .iter()
            .filter(|(_, s)| s.identity.principal == session.identity.principal)
            .map(|(k, s)| (k.clone(), s.last_seen))
            .collect();
        if theirs.len() >= MAX_PER_PRINCIPAL
            && let Some((oldest, _)) = theirs.iter().min_by_key(|(_, seen)| *seen)
        {
            map.remove(oldest);
        }
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(secret::key_of(&id), session);
        id
    }

    fn live(&self, s: &Session, now: Timestamp) -> bool {
        now.signed_duration_since(s.last_seen) < self.idle
            && now.signed_duration_since(s.created) < self.absolute
    }

    /// The live session behind `id`. With `touch`, the request counts as activity (a
    /// page or a form); a live-update stream looks without touching, so an open tab
    /// still idles out. An expired session is ended here.
    pub fn get(&self, id: &str, touch: bool) -> Option<Session> {
        let key = secret::key_of(id);
        let now = self.clock.now();
        let mut map = self.map();
        let live = map.get(&key).map(|s| self.live(s, now))?;
        if !live {
            map.remove(&key);
            return None;
        }
        let session = map.get_mut(&key)?;
        if touch {
            session.last_seen = now;
        }
        Some(session.clone())
    }

    /// Signs the session behind `id` out.
    pub fn end(&self, id: &str) {
        self.end_key(&secret::key_of(id));
    }

    /// Ends a session by its key (as listed to admins); the session, if there was one.
    pub fn end_key(&self, key: &str) -> Option<Session> {
        let ended = self.map().remove(key);
        if ended.is_some() {
            // Nobody listening is fine.
            let _ = self.ended.send(key.to_string());
        }
        ended
    }

    /// Keys of sessions ended from now on.
    pub fn watch_ended(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.ended.subscribe()
    }

    /// The key a session id is kept under.
    pub fn key_of(id: &str) -> String {
        secret::key_of(id)
    }

    /// Live sessions, most recently active first.
    pub fn list(&self) -> Vec<SessionSummary> {
        let now = self.clock.now();
        let mut out: Vec<SessionSummary> = self
            .map()
            .iter()
            .filter(|(_, s)| self.live(s, now))
            .map(|(k, s)| SessionSummary {
                key: k.clone(),
                name: s.identity.principal.name.clone(),
                via: s.via.label(),
                created: s.created,
                last_seen: s.last_seen,
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdpoint_core::{ManualClock, Principal, PrincipalKind};

    fn alice() -> Identity {
        Identity {
            principal: Principal::new(PrincipalKind::User, "alice"),
            groups: vec!["dba".into()],
            owner: None,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_too_old_and_at_sign_out() {
        let clock = Arc::new(ManualClock::starting_now());
        let sessions = Sessions::new(
            clock.clone(),
            Duration::from_secs(60),
            Duration::from_secs(150),
        );
        let id = sessions.create(alice(), Via::Oidc);
        clock.advance(Duration::from_secs(59));
        assert!(
            sessions.get(&id, true).is_some(),
            "active within the idle time"
        );
        clock.advance(Duration::from_secs(59));
        assert!(
            sessions.get(&id, false).is_some(),
            "a look without touching"
        );
        clock.advance(Duration::from_secs(2));
        assert!(
            sessions.get(&id, true).is_none(),
            "idle past the timeout: a look does not count as activity"
        );

        let id = sessions.create(alice(), Via::Oidc);
        for _ in 0..5 {
            clock.advance(Duration::from_secs(30));
            let _ = sessions.get(&id, true);
        }
        assert!(
            sessions.get(&id, true).is_none(),
            "the absolute timeout ends an active session"
        );

        let first = sessions.create(alice(), Via::Oidc);
        clock.advance(Duration::from_secs(1));
        let later: Vec<String> = (0..MAX_PER_PRINCIPAL)
            .map(|_| sessions.create(alice(), Via::Oidc))
            .collect();
        assert!(
            sessions.get(&first, false).is_none(),
            "one person's sessions push out only their own oldest"
        );
        assert!(later.iter().all(|id| sessions.get(id, false).is_some()));

        let id = sessions.create(alice(), Via::Oidc);
        sessions.end(&id);
        assert!(sessions.get(&id, true).is_none(), "signed out");
        assert!(sessions.get("not-an-id", true).is_none());
    }
}
