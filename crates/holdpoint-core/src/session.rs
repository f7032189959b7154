//! Web inbox sessions and vouched identities, as the store keeps them: state that must
//! survive a restart and be shared by replicas (DESIGN §7), so it lives in the store and
//! not in one process.

use crate::Timestamp;
use crate::principal::{Identity, Principal, same_name};
use std::time::Duration;

/// How a person signed in to the web inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionVia {
    /// With a user or admin token: the token's stored hash ([`crate::token::hash_token`]),
    /// checked again at every request so that revoking the token ends the session.
    Token { hash: String },
    /// With the identity provider; the identity is the one built at sign-in.
    Oidc,
}

impl SessionVia {
    pub fn label(&self) -> &'static str {
        match self {
            SessionVia::Token { .. } => "token",
            SessionVia::Oidc => "oidc",
        }
    }
}

/// One signed-in browser. Only the SHA-256 of the id the browser holds is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the session id (the cookie's value); the id itself is never stored.
    pub key: String,
    pub identity: Identity,
    pub via: SessionVia,
    /// The anti-forgery token every form of this session carries.
    pub csrf: String,
    pub created_at: Timestamp,
    /// The last request that counted as activity (to within the touch step the gate uses).
    pub last_seen: Timestamp,
    /// The session ends after this long without activity.
    pub idle: Duration,
    /// The session ends then, however active (sign-in plus the absolute timeout).
    pub expires_at: Timestamp,
}

impl SessionRecord {
    /// When the session ends unless a request counts as activity before.
    pub fn idle_deadline(&self) -> Timestamp {
        chrono::Duration::from_std(self.idle)
            .ok()
            .and_then(|idle| self.last_seen.checked_add_signed(idle))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    }

    /// Live until the idle or the absolute deadline, whichever comes first.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at && now < self.idle_deadline()
    }
}

/// What an identity provider said of a person (name, kind, groups), good until `until`:
/// their reviews count with these groups when a hold is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VouchRecord {
    pub identity: Identity,
    /// When it was said.
    pub at: Timestamp,
    pub until: Timestamp,
}

impl VouchRecord {
    /// True when this vouch is for `principal` (name in any case, same kind) at `now`.
    pub fn holds_for(&self, principal: &Principal, now: Timestamp) -> bool {
        self.identity.principal.kind == principal.kind
            && same_name(&self.identity.principal.name, &principal.name)
            && now < self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrincipalKind;

    fn session(now: Timestamp) -> SessionRecord {
        SessionRecord {
            key: "k".into(),
            identity: Identity {
                principal: Principal::new(PrincipalKind::User, "alice"),
                groups: vec!["dba".into()],
                owner: None,
            },
            via: SessionVia::Oidc,
            csrf: "c".into(),
            created_at: now,
            last_seen: now,
            idle: Duration::from_secs(60),
            expires_at: now + chrono::Duration::seconds(150),
        }
    }

    #[test]
    fn a_session_lives_until_its_idle_or_absolute_deadline() {
        let t0 = chrono::DateTime::UNIX_EPOCH;
        let s = session(t0);
        assert!(s.is_live(t0 + chrono::Duration::seconds(59)));
        assert!(!s.is_live(t0 + chrono::Duration::seconds(60)), "idle");
        let mut active = s.clone();
        active.last_seen = t0 + chrono::Duration::seconds(120);
        assert!(active.is_live(t0 + chrono::Duration::seconds(149)));
        assert!(
            !active.is_live(t0 + chrono::Duration::seconds(150)),
            "absolute"
        );
    }

    #[test]
    fn a_vouch_holds_for_the_same_kind_and_name_in_any_case_until_its_deadline() {
        let t0 = chrono::DateTime::UNIX_EPOCH;
        let vouch = VouchRecord {
            identity: session(t0).identity,
            at: t0,
            until: t0 + chrono::Duration::seconds(10),
        };
        let alice = Principal::new(PrincipalKind::User, "ALICE");
        assert!(vouch.holds_for(&alice, t0));
        assert!(!vouch.holds_for(&alice, t0 + chrono::Duration::seconds(10)));
        assert!(!vouch.holds_for(&Principal::new(PrincipalKind::Admin, "alice"), t0));
        assert!(!vouch.holds_for(&Principal::new(PrincipalKind::User, "bob"), t0));
    }
}
