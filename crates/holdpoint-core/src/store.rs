//! The store trait: actions, tokens, web sessions, vouched identities and the audit chain,
//! with every state change and its audit events committed in one transaction (DESIGN §2.6).

use crate::Timestamp;
use crate::action::{ActionId, ActionRecord, Status};
use crate::audit::{AuditEvent, ChainReport, ChainVerifier, NewEvent};
use crate::outbox::{Delivery, OutboxItem};
use crate::principal::Principal;
use crate::session::{SessionRecord, VouchRecord};
use crate::token::TokenRecord;
use async_trait::async_trait;

/// One state change. Applied together with the events of its [`Change`], or not at all.
#[derive(Debug, Clone)]
pub enum Op {
    InsertAction(ActionRecord),
    /// Replaces the stored action if its version is still `expected_version`;
    /// `record.version` must be `expected_version + 1`. Otherwise [`StoreError::Conflict`].
    UpdateAction {
        record: ActionRecord,
        expected_version: i64,
    },
    /// [`StoreError::Conflict`] if a live token has the name.
    InsertToken(TokenRecord),
    /// [`StoreError::NotFound`] if no live token has the name.
    RevokeToken {
        name: String,
        at: Timestamp,
    },
    /// Queues a message for a channel, due at once.
    Enqueue(OutboxItem),
    /// Remembers the message a channel posted for an action (Slack: `{"channel", "ts"}`),
    /// replacing an earlier one.
    RecordChannelMessage {
        action_id: String,
        channel: String,
        reference: String,
        at: Timestamp,
    },
    /// Records one delivery attempt: delivered at `delivered_at`, or failed with `error`
    /// and due again at `next_attempt_at`.
    RecordAttempt {
        id: String,
        delivered_at: Option<Timestamp>,
        next_attempt_at: Timestamp,
        error: Option<String>,
    },
    /// Starts a web session. Among the sessions live at `session.created_at`, first ends
    /// the least recently active of the same principal (name in any case, same kind)
    /// while they hold `max_per_principal` or more, then the least recently active of
    /// anyone while there are `max_total` or more. [`StoreError::Conflict`] if a session
    /// has the key.
    InsertSession {
        session: SessionRecord,
        max_per_principal: u32,
        max_total: u32,
    },
    /// Moves a session's `last_seen` forward to `at` (never back); nothing if the
    /// session has ended.
    TouchSession {
        key: String,
        at: Timestamp,
    },
    /// [`StoreError::NotFound`] if no session has the key.
    EndSession {
        key: String,
    },
    /// Deletes the sessions whose idle or absolute deadline is at or before `now`, and
    /// the vouches whose deadline is.
    PurgeExpired {
        now: Timestamp,
    },
    /// Records what an identity provider said of a person, replacing any earlier vouch
    /// for the same name (in any case).
    Vouch(VouchRecord),
    /// Withdraws the vouch for this principal (name in any case, same kind); nothing if
    /// there is none.
    Unvouch(Principal),
}

/// A unit of work: its ops and its audit events commit in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub ops: Vec<Op>,
    pub events: Vec<NewEvent>,
}

impl Change {
    pub fn new(ops: Vec<Op>, events: Vec<NewEvent>) -> Self {
        Change { ops, events }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A version check or uniqueness rule failed; nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The database cannot be reached or cannot write (full disk, locked, gone).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data cannot be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Which actions a listing returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub status: Option<Status>,
    /// Actions requested by this principal, or (with `reviewer_groups`) reviewable by them.
    pub requester: Option<Principal>,
    /// Actions whose hold names any of these groups.
    pub reviewer_groups: Vec<String>,
    /// Only ids before this one (the cursor).
    pub before: Option<ActionId>,
    pub limit: u32,
    /// History filters: requested by a principal of this name (any kind), of this kind,
    /// in this environment, created at or after `since` and before `until`.
    pub principal_name: Option<String>,
    pub kind: Option<String>,
    pub environment: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Commits the ops and appends the events to the chain, atomically.
    /// Returns the events as chained.
    async fn apply(&self, change: Change) -> Result<Vec<AuditEvent>, StoreError>;

    async fn action(&self, id: &ActionId) -> Result<Option<ActionRecord>, StoreError>;
    async fn actions(&self, filter: &ActionFilter) -> Result<Vec<ActionRecord>, StoreError>;
    async fn count_by_status(&self, status: Status) -> Result<i64, StoreError>;

    /// The earliest `expires_at` of any pending hold.
    async fn next_expiry(&self) -> Result<Option<Timestamp>, StoreError>;
    /// Pending holds whose `expires_at <= now`, at most `limit`.
    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, StoreError>;

    /// Approved actions with an open window (`grant_until > now`) for this principal,
    /// kind, resource and environment: a few candidates, longest window first.
    async fn window_grants(
        &self,
        principal: &Principal,
        kind: &str,
        resource: &str,
        environment: &str,
        now: Timestamp,
    ) -> Result<Vec<ActionRecord>, StoreError>;
    /// Approved, single-use, unused approvals with this digest whose `approval_until` is
    /// after `now`: a few candidates, oldest first.
    async fn unused_approvals(
        &self,
        principal: &Principal,
        digest: &str,
        now: Timestamp,
    ) -> Result<Vec<ActionRecord>, StoreError>;
    /// The oldest pending hold of this principal with this digest, if any: a repeat of a
    /// held call is answered with it instead of a second hold.
    async fn pending_with_digest(
        &self,
        principal: &Principal,
        digest: &str,
    ) -> Result<Option<ActionRecord>, StoreError>;
    /// How many holds of this principal are pending.
    async fn count_pending_by(&self, principal: &Principal) -> Result<i64, StoreError>;

    /// Undelivered outbox items due at `now`, oldest first, at most `limit`.
    async fn due_deliveries(&self, now: Timestamp, limit: u32)
    -> Result<Vec<Delivery>, StoreError>;
    /// The soonest `next_attempt_at` of an undelivered item.
    async fn next_delivery(&self) -> Result<Option<Timestamp>, StoreError>;
    /// Outbox items, newest first; with `undelivered`, only those not yet delivered.
    async fn deliveries(&self, undelivered: bool, limit: u32) -> Result<Vec<Delivery>, StoreError>;
    /// How many outbox items are not delivered yet.
    async fn outbox_depth(&self) -> Result<i64, StoreError>;
    /// The message `channel` posted for the action, if any.
    async fn channel_message(
        &self,
        action_id: &str,
        channel: &str,
    ) -> Result<Option<String>, StoreError>;

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// The token of this name that is not revoked (it may have expired); names are
    /// compared case-insensitively.
    async fn token_by_name(&self, name: &str) -> Result<Option<TokenRecord>, StoreError>;
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// The web session with this key (the SHA-256 of its id), live or not: the caller
    /// decides.
    async fn session(&self, key: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Web sessions live at `now`, most recently active first, at most `limit`.
    async fn sessions(&self, now: Timestamp, limit: u32) -> Result<Vec<SessionRecord>, StoreError>;
    /// The vouch for this name (in any case), whatever its kind and deadline: the
    /// caller decides.
    async fn vouch(&self, name: &str) -> Result<Option<VouchRecord>, StoreError>;

    /// Events with `seq > after`, in order, at most `limit`.
    async fn audit_events(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>, StoreError>;

    /// Cheap check that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// False while the last write failed: a store that cannot write is not ready.
    fn writable(&self) -> bool {
        true
    }

    /// Writes a probe row, to learn whether a store that failed can write again.
    async fn probe_write(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Reads the whole chain in pages and verifies it.
    async fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = self.audit_events(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            page.iter().for_each(|e| verifier.push(e));
        }
        Ok(verifier.finish())
    }
}
