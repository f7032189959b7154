//! Bearer tokens and the people behind them. Tokens are stored as SHA-256 hashes; the
//! secret is shown once, at creation. Lookups are cached briefly; revocation through this
//! gateway clears the cache at once, and a lookup that was in flight during a revocation
//! is not cached. Names are lowercased at creation and compared case-insensitively.

use crate::events::actor;
use crate::{Gate, GateError};
use holdpoint_core::token::{TOKEN_PREFIX, hash_token};
use holdpoint_core::{
    Actor, Change, EventType, Identity, NewEvent, Op, Principal, PrincipalKind, TokenRecord,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a token lookup is trusted before the store is asked again. Revocation on
/// another replica takes at most this long to be seen here.
const CACHE_TTL: Duration = Duration::from_secs(5);
/// Longest token name.
const MAX_NAME: usize = 64;

/// One person of the static `[[users]]` directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryUser {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub slack_id: Option<String>,
}

/// The static directory: the groups a human has beyond those on their token.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    users: HashMap<String, DirectoryUser>,
}

impl Directory {
    pub fn new(users: Vec<DirectoryUser>) -> Self {
        Directory {
            users: users
                .into_iter()
                .map(|u| (u.name.to_ascii_lowercase(), u))
                .collect(),
        }
    }

    /// The directory user with this Slack id.
    pub fn by_slack_id(&self, slack_id: &str) -> Option<&DirectoryUser> {
        self.users
            .values()
            .find(|u| u.slack_id.as_deref() == Some(slack_id))
    }

    /// The directory user with this email (compared without case).
    pub fn by_email(&self, email: &str) -> Option<&DirectoryUser> {
        self.users.values().find(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }

    /// The directory entry of `name`, whatever its case.
    pub fn user(&self, name: &str) -> Option<&DirectoryUser> {
        self.users.get(&name.to_ascii_lowercase())
    }
}

/// What `token create` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewToken {
    pub name: String,
    pub kind: PrincipalKind,
    pub groups: Vec<String>,
    pub owner: Option<String>,
    pub ttl: Option<Duration>,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    by_hash: Mutex<HashMap<String, (TokenRecord, Instant)>>,
    /// Bumped by every revocation; a lookup that started before one is not cached.
    epoch: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Caches `record` unless a revocation happened since `epoch` was read.
    fn put_if_current(&self, record: TokenRecord, epoch: u64) {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        if self.epoch() == epoch {
            map.insert(record.hash.clone(), (record, Instant::now()));
        }
    }

    fn get(&self, hash: &str) -> Option<TokenRecord> {
        let map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(t, _)| t.clone())
    }

    fn forget_name(&self, name: &str) {
        let mut map = self.by_hash.lock().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        map.retain(|_, (t, _)| !t.name.eq_ignore_ascii_case(name));
    }
}

/// A name holdpoint accepts for a principal or group: 1 to 64 letters, digits, `-`,
/// `_`, `.` or `@`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

fn validate_name(name: &str, what: &str) -> Result<(), GateError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(GateError::Invalid(format!(
            "bad {what} `{name}`: use 1 to {MAX_NAME} letters, digits, `-`, `_`, `.` or `@`"
        )))
    }
}

/// `agents`, `users` or `admins` in any case: groups that only a principal's kind gives.
pub fn is_implicit_group(group: &str) -> bool {
    ["agents", "users", "admins"].contains(&group.to_ascii_lowercase().as_str())
}

/// A new random token: `hp_` and 64 hex digits (256 bits).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

impl Gate {
    /// The identity behind a bearer token, or 401. Each call is one request of that
    /// principal: it counts against their request rate (429 when over it), so every
    /// surface authenticates each request it makes on a principal's behalf (an HTTP
    /// request, a PostgreSQL statement) and every surface pays the same limit.
    pub async fn authenticate(&self, token: &str) -> Result<Identity, GateError> {
        self.authenticate_hash(&hash_token(token.trim())).await
    }

    /// The identity behind the token with this hash ([`hash_token`]), or 401: for whoever
    /// keeps the hash and not the secret, such as a web session signed in with a token.
    /// Counts one request, as [`Gate::authenticate`] does.
    pub async fn authenticate_hash(&self, hash: &str) -> Result<Identity, GateError> {
        let identity = self.identity_by_hash(hash).await?;
        self.admit_request(&identity.principal).await?;
        Ok(identity)
    }

    /// The identity behind a token a surface already let in, without counting a
    /// request: for a surface's periodic check that a session it holds open may go on
    /// (401 once the token is revoked or expired). Every request the session makes is
    /// still counted where it is made.
    pub async fn recheck_token(&self, token: &str) -> Result<Identity, GateError> {
        self.identity_by_hash(&hash_token(token.trim())).await
    }

    async fn identity_by_hash(&self, hash: &str) -> Result<Identity, GateError> {
        let record = match self.tokens.get(hash) {
            Some(r) => r,
            None => {
                let epoch = self.tokens.epoch();
                let found = self.store.token_by_hash(hash).await?;
                let record =
                    found.ok_or_else(|| GateError::Unauthorized("unknown token".into()))?;
                self.tokens.put_if_current(record.clone(), epoch);
                record
            }
        };
        if !record.is_live(self.clock.now()) {
            return Err(GateError::Unauthorized(format!(
                "token `{}` is revoked or expired",
                record.name
            )));
        }
        Ok(self.identity_of(&record))
    }

    /// A token's identity: its groups plus, for humans, their directory groups. The
    /// implicit groups (`agents`, `users`, `admins`) come from the kind alone: listed on a
    /// token or in the directory, they are dropped.
    pub fn identity_of(&self, record: &TokenRecord) -> Identity {
        let mut groups = record.groups.clone();
        if let Some(user) = self
            .directory
            .user(&record.name)
            .filter(|_| record.kind.is_human())
        {
            groups.extend(user.groups.iter().cloned());
        }
        groups.retain(|g| !is_implicit_group(g));
        groups.sort();
        groups.dedup();
        Identity {
            principal: Principal::new(record.kind, record.name.clone()),
            groups,
            owner: record.owner.clone(),
        }
    }

    /// Checks a token request: names, an owner who is a known human, a bounded ttl.
    /// Returns it with the name and owner lowercased.
    pub async fn check_token_request(&self, mut request: NewToken) -> Result<NewToken, GateError> {
        validate_name(&request.name, "token name")?;
        request.name = request.name.to_ascii_lowercase();
        // A person an identity provider signed in has this name: a token under it would
        // be another principal with their name (or, for a user, their requests).
        if self.vouched_name(&request.name).await? {
            return Err(GateError::Conflict(format!(
                "`{}` is the name of a person signed in with the identity provider",
                request.name
            )));
        }
        // Names are unique across kinds: an agent named after a `[[users]]` person would
        // let that person review "their own" agent's requests as someone else.
        if request.kind == PrincipalKind::Agent && self.directory.user(&request.name).is_some() {
            return Err(GateError::Conflict(format!(
                "`{}` is the name of a person in `[[users]]`; an agent needs a name of its own",
                request.name
            )));
        }
        for g in &request.groups {
            validate_name(g, "group")?;
            // The implicit groups mean a kind: a user listed in `admins` would review as one.
            if is_implicit_group(g) {
                return Err(GateError::Invalid(format!(
                    "group `{g}` is implicit: every {} is in it by kind, and no token can be put in it",
                    g.trim_end_matches('s')
                )));
            }
        }
        request.groups.sort();
        request.groups.dedup();
        if let Some(owner) = &request.owner {
            validate_name(owner, "owner")?;
            let owner = owner.to_ascii_lowercase();
            let human_token = self
                .store
                .token_by_name(&owner)
                .await?
                .is_some_and(|t| t.kind.is_human() && t.is_live(self.clock.now()));
            if !human_token && self.directory.user(&owner).is_none() {
                return Err(GateError::Invalid(format!(
                    "owner `{owner}` is neither a user in `[[users]]` nor a live user or admin token: \
                     an agent's owner must be a known human"
                )));
            }
            request.owner = Some(owner);
        }
        if let Some(ttl) = request.ttl
            && (ttl.is_zero() || ttl > self.settings.max_token_ttl || ttl.subsec_nanos() != 0)
        {
            return Err(GateError::Invalid(format!(
                "ttl must be whole seconds, longer than zero and at most {}",
                holdpoint_core::duration::format_duration(self.settings.max_token_ttl)
            )));
        }
        Ok(request)
    }

    /// Creates a token at once, without asking policy; returns the secret (shown once)
    /// and the stored record. Only for the first admin and the operator's local
    /// bootstrap; the API goes through [`Gate::request_token`].
    pub async fn create_token(
        &self,
        by: &Actor,
        request: NewToken,
    ) -> Result<(String, TokenRecord), GateError> {
        let request = self.check_token_request(request).await?;
        let (secret, record, change) = self.token_change(by, request).await?;
        self.apply_token_change(&record, change).await?;
        Ok((secret, record))
    }

    /// The new token and the change that stores it (with `token.created`, and the
    /// retirement of an expired token of the same name).
    pub(crate) async fn token_change(
        &self,
        by: &Actor,
        request: NewToken,
    ) -> Result<(String, TokenRecord, Change), GateError> {
        let now = self.clock.now();
        let expires_at = match request.ttl {
            Some(ttl) => Some(
                crate::grant::after(now, ttl)
                    .ok_or_else(|| GateError::Invalid("ttl is too long".into()))?,
            ),
            None => None,
        };
        let secret = new_secret();
        let record = TokenRecord {
            name: request.name,
            kind: request.kind,
            groups: request.groups,
            owner: request.owner,
            hash: hash_token(&secret),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        let ev = NewEvent::new(
            now,
            EventType::TokenCreated,
            by.clone(),
            None,
            json!({"name": record.name, "kind": record.kind, "groups": record.groups,
                   "owner": record.owner, "expires_at": record.expires_at}),
        );
        // An expired token still holds its name until it is revoked: retire it here,
        // in the same transaction and with its own audit event.
        let mut ops = Vec::new();
        let mut events = Vec::new();
        let expired = self
            .store
            .token_by_name(&record.name)
            .await?
            .is_some_and(|t| !t.is_live(now));
        if expired {
            ops.push(Op::RevokeToken {
                name: record.name.clone(),
                at: now,
            });
            events.push(NewEvent::new(
                now,
                EventType::TokenRevoked,
                Actor::system(),
                None,
                json!({"name": record.name, "reason": "expired; replaced"}),
            ));
        }
        ops.push(Op::InsertToken(record.clone()));
        events.push(ev);
        Ok((secret, record, Change::new(ops, events)))
    }

    pub(crate) async fn apply_token_change(
        &self,
        record: &TokenRecord,
        change: Change,
    ) -> Result<(), GateError> {
        self.store.apply(change).await.map_err(|e| match e {
            holdpoint_core::StoreError::Conflict(_) => {
                GateError::Conflict(format!("a live token named `{}` exists", record.name))
            }
            other => other.into(),
        })?;
        Ok(())
    }

    /// Revokes the live token `name`; only an admin may.
    pub async fn revoke_token(
        &self,
        caller: &Identity,
        name: &str,
        channel: &str,
    ) -> Result<(), GateError> {
        crate::admin::admin_only(caller)?;
        let now = self.clock.now();
        let ev = NewEvent::new(
            now,
            EventType::TokenRevoked,
            actor(caller, channel),
            None,
            json!({"name": name}),
        );
        let change = Change::new(
            vec![Op::RevokeToken {
                name: name.to_string(),
                at: now,
            }],
            vec![ev],
        );
        let result = self.store.apply(change).await;
        self.tokens.forget_name(name);
        result.map(|_| ()).map_err(|e| match e {
            holdpoint_core::StoreError::NotFound(_) => {
                GateError::NotFound(format!("no live token named `{name}`"))
            }
            other => other.into(),
        })
    }

    /// True when at least one live admin token exists.
    pub async fn has_live_admin(&self) -> Result<bool, GateError> {
        let now = self.clock.now();
        Ok(self
            .store
            .tokens()
            .await?
            .iter()
            .any(|t| t.kind == PrincipalKind::Admin && t.is_live(now)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(name: &str) -> TokenRecord {
        TokenRecord {
            name: name.into(),
            kind: PrincipalKind::Agent,
            groups: Vec::new(),
            owner: None,
            hash: hash_token("hp_secret"),
            created_at: chrono::DateTime::UNIX_EPOCH,
            expires_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_lookup_in_flight_during_a_revocation_is_not_cached() {
        let cache = TokenCache::default();
        // A lookup starts and reads the token from the store (still live there) ...
        let epoch = cache.epoch();
        // ... while the token is revoked, which empties the cache ...
        cache.forget_name("ci-bot");
        // ... and then the lookup finishes: it must not put the token back.
        cache.put_if_current(record("ci-bot"), epoch);
        assert!(cache.get(&hash_token("hp_secret")).is_none());
        // Without a revocation in between, it is cached.
        let epoch = cache.epoch();
        cache.put_if_current(record("ci-bot"), epoch);
        assert!(cache.get(&hash_token("hp_secret")).is_some());
        cache.forget_name("CI-BOT");
        assert!(
            cache.get(&hash_token("hp_secret")).is_none(),
            "names match whatever the case"
        );
    }
}
