//! Server-side sessions. The browser holds only a random 256-bit id in an HttpOnly,
//! SameSite=Lax cookie (Secure off loopback); the gate keeps what it means in the store,
//! keyed by the id's SHA-256, so a session survives a restart, every gateway on the same
//! database shares it, and signing out or ending a session takes effect at the next
//! request on any of them. A session ends after `idle` without a request (to within the
//! gate's [`touch_step`](holdpoint_gate::touch_step), at most a minute) and after
//! `absolute` in any case, measured on the gate's clock.
//!
//! This process keeps only the id's hashing and a broadcast of the sessions it ended, so
//! that its own live streams of those sessions end at once; a stream of a session ended
//! on another gateway ends at its next check.

use crate::secret;
use holdpoint_core::Identity;
use holdpoint_gate::{Gate, GateError, NewSession, SessionSummary};
use std::sync::Arc;
use std::time::Duration;

pub use holdpoint_core::{SessionRecord as Session, SessionVia as Via};

pub struct Sessions {
    gate: Arc<Gate>,
    /// The key of every session this process ends by sign-out, a new sign-in or an
    /// admin, so live streams of that session end at once.
    ended: tokio::sync::broadcast::Sender<String>,
    idle: Duration,
    absolute: Duration,
}

impl Sessions {
    pub fn new(gate: Arc<Gate>, idle: Duration, absolute: Duration) -> Self {
        Sessions {
            gate,
            ended: tokio::sync::broadcast::channel(256).0,
            idle,
            absolute,
        }
    }

    /// Starts a session, ending the one with id `replaces` (the browser's old cookie) if
    /// it is live; returns the id for the cookie. Only its hash leaves this function.
    pub async fn start(
        &self,
        identity: Identity,
        via: Via,
        replaces: Option<&str>,
    ) -> Result<String, GateError> {
        let id = secret::random_hex(32);
        let replaces = replaces.map(secret::key_of);
        self.gate
            .open_session(NewSession {
                key: secret::key_of(&id),
                identity,
                via,
                csrf: secret::random_hex(32),
                idle: self.idle,
                absolute: self.absolute,
                replaces: replaces.clone(),
            })
            .await?;
        if let Some(old) = replaces {
            // Nobody listening is fine.
            let _ = self.ended.send(old);
        }
        Ok(id)
    }

    /// The live session behind `id`. With `touch`, the request counts as activity (a
    /// page or a form); a live-update request looks without touching, so an open tab
    /// still idles out.
    pub async fn get(&self, id: &str, touch: bool) -> Result<Option<Session>, GateError> {
        let Some(session) = self.gate.session(&secret::key_of(id)).await? else {
            return Ok(None);
        };
        if touch && let Err(e) = self.gate.touch_session(&session).await {
            // The request is still the session's; only its idle clock was not moved.
            tracing::warn!(error = %e, "a web session's activity could not be recorded");
        }
        Ok(Some(session))
    }

    /// Signs the session behind `id` out.
    pub async fn end(&self, id: &str) -> Result<(), GateError> {
        let key = secret::key_of(id);
        if self.gate.end_session(&key).await?.is_some() {
            let _ = self.ended.send(key);
        }
        Ok(())
    }

    /// Ends anyone's session by its key, as listed to admins (the gate refuses anyone
    /// else); the session, if there was one.
    pub async fn end_as_admin(
        &self,
        caller: &Identity,
        key: &str,
    ) -> Result<Option<SessionSummary>, GateError> {
        let ended = self.gate.end_session_as_admin(caller, key).await?;
        if ended.is_some() {
            let _ = self.ended.send(key.to_string());
        }
        Ok(ended)
    }

    /// Live sessions, most recently active first (admins only).
    pub async fn list(&self, caller: &Identity) -> Result<Vec<SessionSummary>, GateError> {
        self.gate.list_sessions(caller).await
    }

    /// Keys of sessions this process ends from now on.
    pub fn watch_ended(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.ended.subscribe()
    }

    /// The key a session id is kept under.
    pub fn key_of(id: &str) -> String {
        secret::key_of(id)
    }
}
