//! Web inbox sessions, kept in the store so that they survive a restart and every
//! gateway on the same database shares them: a session ended anywhere is refused
//! everywhere at its next request.
//!
//! The web crate holds the session id (the cookie's value) and gives the gate only its
//! SHA-256 (the key), so the id never reaches the store. Sign-in, sign-out and an admin
//! ending a session each commit with their audit event (`session.started`,
//! `session.ended`); sessions that time out or are pushed out by a cap are simply
//! deleted. Activity moves `last_seen` forward at most once per [`touch_step`], so
//! page views do not each write: the idle timeout is exact to within that step.

use crate::events::actor;
use crate::{Gate, GateError};
use holdpoint_core::audit::truncate_to_micros;
use holdpoint_core::{
    Actor, Change, EventType, Identity, NewEvent, Op, Principal, PrincipalKind, SessionRecord,
    SessionVia, StoreError, Timestamp, VouchRecord,
};
use serde_json::{Value, json};
use std::time::Duration;

/// The most sessions kept at once; past it the least recently active one is ended.
pub const MAX_SESSIONS: u32 = 10_000;
/// The most sessions one person keeps; past it their own least recently active is
/// ended, so nobody can push everyone else's sessions out by signing in over and over.
pub const MAX_SESSIONS_PER_PRINCIPAL: u32 = 20;
/// The longest `last_seen` may lag behind the last activity.
const MAX_TOUCH_STEP: Duration = Duration::from_secs(60);
/// The channel sessions belong to, in audit events.
const CHANNEL: &str = "web";

/// How stale `last_seen` may get before a request writes it again: a tenth of the idle
/// timeout, at most a minute. A session may so end up to one step before `idle` has
/// passed since its last request, never after.
pub fn touch_step(idle: Duration) -> Duration {
    (idle / 10).min(MAX_TOUCH_STEP)
}

/// A session to start.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Hex SHA-256 of the session id the browser holds; the id itself never reaches the
    /// gate.
    pub key: String,
    pub identity: Identity,
    pub via: SessionVia,
    /// The anti-forgery token of the session's forms.
    pub csrf: String,
    /// The session ends after this long without activity.
    pub idle: Duration,
    /// And this long after sign-in in any case.
    pub absolute: Duration,
    /// The key of the session the browser had, ended in the same change (a sign-in
    /// always starts a new session: no fixation).
    pub replaces: Option<String>,
}

/// What an admin sees of a session: never its anti-forgery token or token hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub key: String,
    pub principal: Principal,
    /// `token` or `oidc`.
    pub via: &'static str,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    pub expires_at: Timestamp,
}

impl From<&SessionRecord> for SessionSummary {
    fn from(s: &SessionRecord) -> Self {
        SessionSummary {
            key: s.key.clone(),
            principal: s.identity.principal.clone(),
            via: s.via.label(),
            created_at: s.created_at,
            last_seen: s.last_seen,
            expires_at: s.expires_at,
        }
    }
}

/// How a session is named in the audit log: the start of its key, enough to match a
/// start with its end.
fn short(key: &str) -> &str {
    key.get(..16).unwrap_or(key)
}

fn admin_only(caller: &Identity, what: &str) -> Result<(), GateError> {
    if caller.principal.kind == PrincipalKind::Admin {
        Ok(())
    } else {
        Err(GateError::Forbidden(format!("only admins may {what}")))
    }
}

fn ended(
    session: &SessionRecord,
    by: Actor,
    now: Timestamp,
    reason: &str,
    more: Value,
) -> NewEvent {
    let mut data = json!({
        "session": short(&session.key),
        "principal": session.identity.principal,
        "via": session.via.label(),
        "reason": reason,
    });
    if let (Some(data), Value::Object(more)) = (data.as_object_mut(), more) {
        data.extend(more);
    }
    NewEvent::new(now, EventType::SessionEnded, by, None, data)
}

impl Gate {
    /// Starts a web session for a human: with their token's hash (the session is then
    /// the token's principal, 401 if it is not live), or vouched for by an identity
    /// provider (then what it said is recorded too, until the session's
    /// absolute deadline, so their reviews count at release). Ends the session it
    /// replaces, makes room under the caps, and purges what has expired, all in one
    /// change with `session.started`. A provider's name that is a live token's is
    /// refused (409): principals are told apart by name.
    pub async fn open_session(&self, mut new: NewSession) -> Result<SessionRecord, GateError> {
        // A token sign-in is whoever the token says, checked here as at every request.
        if let SessionVia::Token { hash } = &new.via {
            new.identity = self.authenticate_hash(hash).await?;
        }
        let principal = &new.identity.principal;
        if !principal.kind.is_human() {
            return Err(GateError::Forbidden(
                "agents cannot sign in: agents never review".into(),
            ));
        }
        if new.key.is_empty() || new.csrf.is_empty() {
            return Err(GateError::Invalid(
                "a session needs a key and an anti-forgery token".into(),
            ));
        }
        if new.idle.is_zero() || new.absolute.is_zero() {
            return Err(GateError::Invalid(
                "a session's timeouts must be longer than zero".into(),
            ));
        }
        let now = truncate_to_micros(self.clock.now());
        if new.via == SessionVia::Oidc
            && self
                .store
                .token_by_name(&principal.name)
                .await?
                .is_some_and(|t| t.is_live(now))
        {
            return Err(GateError::Conflict(format!(
                "`{}` is the name of a live token",
                principal.name
            )));
        }
        let expires_at = chrono::Duration::from_std(new.absolute)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .map(truncate_to_micros)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
        let record = SessionRecord {
            key: new.key,
            identity: new.identity,
            via: new.via,
            csrf: new.csrf,
            created_at: now,
            last_seen: now,
            idle: new.idle.min(new.absolute),
            expires_at,
        };
        let mut replaced = match &new.replaces {
            Some(old) => self.store.session(old).await?.filter(|s| s.is_live(now)),
            None => None,
        };
        loop {
            let change = self.start_change(&record, replaced.as_ref(), now);
            match self.store.apply(change).await {
                Ok(_) => return Ok(record),
                // The session it replaces ended meanwhile: start without ending it.
                Err(StoreError::NotFound(_)) if replaced.is_some() => replaced = None,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn start_change(
        &self,
        record: &SessionRecord,
        replaced: Option<&SessionRecord>,
        now: Timestamp,
    ) -> Change {
        let by = actor(&record.identity, CHANNEL);
        let mut ops = vec![Op::PurgeExpired { now }];
        let mut events = Vec::new();
        if let Some(old) = replaced {
            ops.push(Op::EndSession {
                key: old.key.clone(),
            });
            events.push(ended(
                old,
                by.clone(),
                now,
                "a new sign-in in the same browser",
                json!({}),
            ));
        }
        ops.push(Op::InsertSession {
            session: record.clone(),
            max_per_principal: MAX_SESSIONS_PER_PRINCIPAL,
            max_total: MAX_SESSIONS,
        });
        let vouched = record.via == SessionVia::Oidc;
        if vouched {
            ops.push(Op::Vouch(VouchRecord {
                identity: record.identity.clone(),
                at: now,
                until: record.expires_at,
            }));
        }
        events.push(NewEvent::new(
            now,
            EventType::SessionStarted,
            by,
            None,
            json!({
                "session": short(&record.key),
                "principal": record.identity.principal,
                "via": record.via.label(),
                "groups": record.identity.groups,
                "expires_at": record.expires_at,
                "idle_timeout_secs": record.idle.as_secs(),
                "vouched": vouched,
            }),
        ));
        Change::new(ops, events)
    }

    /// The live session with this key, as the person is now: a token sign-in is checked
    /// against its token at every call, and a revoked or expired token ends the session.
    /// `None` for no session, one that timed out, or one ended here or on another
    /// gateway.
    pub async fn session(&self, key: &str) -> Result<Option<SessionRecord>, GateError> {
        let now = self.clock.now();
        let Some(mut session) = self.store.session(key).await?.filter(|s| s.is_live(now)) else {
            return Ok(None);
        };
        // Each look-up is one request of the person signed in: it counts against their
        // rate (through the token's authentication for a token sign-in).
        match &session.via {
            SessionVia::Token { hash } => match self.authenticate_hash(hash).await {
                Ok(identity) if identity.principal.kind.is_human() => session.identity = identity,
                Ok(_) | Err(GateError::Unauthorized(_)) => {
                    self.end_lapsed(&session).await;
                    return Ok(None);
                }
                Err(e) => return Err(e),
            },
            SessionVia::Oidc => self.admit_request(&session.identity.principal).await?,
        }
        Ok(Some(session))
    }

    /// Ends a session whose token no longer lets it in. It is refused either way; a
    /// store that cannot write leaves it to the purge.
    async fn end_lapsed(&self, session: &SessionRecord) {
        let ev = ended(
            session,
            Actor::system(),
            self.clock.now(),
            "its token is revoked or expired",
            json!({}),
        );
        let change = Change::new(
            vec![Op::EndSession {
                key: session.key.clone(),
            }],
            vec![ev],
        );
        match self.store.apply(change).await {
            Ok(_) | Err(StoreError::NotFound(_)) => {}
            Err(e) => tracing::warn!(error = %e, "a lapsed web session could not be ended"),
        }
    }

    /// Counts a request as activity: moves the session's `last_seen` to now when it is
    /// at least one [`touch_step`] old (no audit event). True when it wrote.
    pub async fn touch_session(&self, session: &SessionRecord) -> Result<bool, GateError> {
        let now = truncate_to_micros(self.clock.now());
        let stale = now
            .signed_duration_since(session.last_seen)
            .to_std()
            .is_ok_and(|since| since >= touch_step(session.idle));
        if !stale || !session.is_live(now) {
            return Ok(false);
        }
        let touch = Op::TouchSession {
            key: session.key.clone(),
            at: now,
        };
        self.store
            .apply(Change::new(vec![touch], Vec::new()))
            .await?;
        Ok(true)
    }

    /// Signs the session with this key out, with `session.ended`; the session, if there
    /// was one.
    pub async fn end_session(&self, key: &str) -> Result<Option<SessionRecord>, GateError> {
        let Some(session) = self.store.session(key).await? else {
            return Ok(None);
        };
        let by = actor(&session.identity, CHANNEL);
        let ev = ended(&session, by, self.clock.now(), "signed out", json!({}));
        let change = Change::new(
            vec![Op::EndSession {
                key: session.key.clone(),
            }],
            vec![ev],
        );
        match self.store.apply(change).await {
            Ok(_) => Ok(Some(session)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Live web sessions, most recently active first (admins only).
    pub async fn list_sessions(&self, caller: &Identity) -> Result<Vec<SessionSummary>, GateError> {
        admin_only(caller, "list web sessions")?;
        let sessions = self.store.sessions(self.clock.now(), MAX_SESSIONS).await?;
        Ok(sessions.iter().map(SessionSummary::from).collect())
    }

    /// Ends anyone's session by its key (admins only), with `session.ended`. What a
    /// provider said of the person no longer counts for their reviews either, until
    /// they sign in again. The session, if there was one.
    pub async fn end_session_as_admin(
        &self,
        caller: &Identity,
        key: &str,
    ) -> Result<Option<SessionSummary>, GateError> {
        admin_only(caller, "end another person's web session")?;
        let Some(session) = self.store.session(key).await? else {
            return Ok(None);
        };
        let unvouch = session.via == SessionVia::Oidc;
        let mut ops = vec![Op::EndSession {
            key: session.key.clone(),
        }];
        if unvouch {
            ops.push(Op::Unvouch(session.identity.principal.clone()));
        }
        let ev = ended(
            &session,
            actor(caller, CHANNEL),
            self.clock.now(),
            "ended by an admin",
            json!({"unvouched": unvouch}),
        );
        match self.store.apply(Change::new(ops, vec![ev])).await {
            Ok(_) => Ok(Some(SessionSummary::from(&session))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_touch_step_is_a_tenth_of_the_idle_timeout_and_at_most_a_minute() {
        assert_eq!(
            touch_step(Duration::from_secs(30 * 60)),
            Duration::from_secs(60)
        );
        assert_eq!(
            touch_step(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(short("0123456789abcdef0123"), "0123456789abcdef");
        assert_eq!(short("abc"), "abc");
    }
}
