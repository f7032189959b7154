//! # holdpoint-gate: where an action's fate is decided
//!
//! Every surface (HTTP API, MCP, PostgreSQL, hooks, CLI) and channel hands actions to one
//! [`Gate`], the only door: the store is reached through its methods alone, and each
//! method checks its caller itself (admins never submit, every authentication counts
//! against the request rate, admin-only reads refuse everyone else). A tour:
//! - [`submit`](Gate::submit) and [`check`](Gate::check) (`submit.rs`): validate, digest,
//!   evaluate policy, then allow, deny, pass on an earlier grant, or hold; a repeat of
//!   a pending action (same digest, so the same surface) joins its hold (`hold.joined`).
//!   The record and its audit events commit together. Also [`explain`](Gate::explain).
//! - `ask.rs`: the one ask-and-wait path every surface takes ([`Gate::ask`], [`Asking`],
//!   [`Gate::follow`], [`Gate::decide`]): an approval taken exactly once, a full long-poll
//!   budget waited out, refusals described; and [`AllowMemo`] for allows a surface
//!   remembers under one policy set.
//! - `admin.rs`: the audit log, its verification, deliveries and the token list, for
//!   admins only.
//! - `grant.rs`: when an earlier approval passes a new submission (only if its reviews
//!   meet what policy asks for now), and [`deliver`](Gate::deliver), which hands an
//!   approval to its requester exactly once.
//! - [`review`](Gate::review) and [`cancel`](Gate::cancel) (`review.rs`): the rules of
//!   DESIGN §2 via [`holdpoint_core::review::apply_review`], quorum, and the release re-check.
//! - `wait.rs`: long-polling agents are woken by the deciding change itself.
//! - `expiry.rs`: a task that expires holds on time, with no request to trigger it.
//! - `tokens.rs`: bearer tokens (stored hashed), the `[[users]]` directory, authentication.
//! - `vouched.rs`: people an identity provider signed in, known with their groups until
//!   their sign-in lapses, so their reviews count when a hold is released (in the store).
//! - `sessions.rs`: web inbox sessions in the store, shared by replicas: sign-in,
//!   activity, sign-out, the caps, and admins listing and ending them.
//! - `token_requests.rs`: `POST /v1/tokens` as an action (`token.create.{kind}`), held
//!   like any other and executed by the gate once it may proceed.
//! - `limits.rs`: per-principal request rate, pending holds and long-polls (429).
//! - `events.rs`: the audit events each change writes.
//! - `outbox.rs`: [`Gate::commit`](Gate), which queues what reviewer channels are told
//!   (hold created, reviewed, decided) in the same transaction as the change.
//! - `parts.rs`: an action that touches several resources under several kinds
//!   (`context.parts`) is judged by each, and the strictest verdict wins.
//! - `error.rs`: [`GateError`], one variant per answer a caller can get.
//! - `testing.rs` (feature `test-util`): `TestGate`, the one gate tests build.

mod admin;
mod ask;
mod error;
mod events;
mod expiry;
mod grant;
mod limits;
mod metrics;
mod outbox;
mod parts;
mod review;
mod sessions;
mod submit;
#[cfg(feature = "test-util")]
pub mod testing;
mod token_requests;
mod tokens;
mod vouched;
mod wait;

pub use admin::DeliveryList;
pub use ask::{AllowMemo, Asking, PolicyEpoch, Ruling, refusal_reason};
pub use error::GateError;
pub use limits::{Limits, Slot};
pub use parts::{MAX_PARTS, PARTS_KEY};
pub use sessions::{
    MAX_SESSIONS, MAX_SESSIONS_PER_PRINCIPAL, NewSession, SessionSummary, touch_step,
};
pub use submit::{SurfaceContext, may_submit};
pub use token_requests::TokenOutcome;
pub use tokens::{Directory, DirectoryUser, NewToken, is_implicit_group, valid_name};

use holdpoint_core::mask::Masker;
use holdpoint_core::store::ActionFilter;
use holdpoint_core::{ActionId, ActionRecord, Clock, Identity, PrincipalKind, Store};
use holdpoint_policy::PolicyEngine;
use std::sync::Arc;

/// Everything the gate is built from. Only the binary picks concrete implementations.
pub struct GateParts {
    pub store: Arc<dyn Store>,
    pub policy: Arc<PolicyEngine>,
    pub clock: Arc<dyn Clock>,
    pub masker: Arc<dyn Masker>,
    pub directory: Directory,
    pub settings: GateSettings,
}

/// The gate's tunables, from `[approvals]` and `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateSettings {
    /// How long an approved single-use action waits to be used before it lapses.
    pub approval_ttl: std::time::Duration,
    /// The longest `ttl` a new token may have.
    pub max_token_ttl: std::time::Duration,
    pub limits: Limits,
    /// The names of the configured reviewer channels (`webhook:pagerduty`, …): each hold's
    /// creation, reviews and outcome are queued in the outbox once per channel.
    pub channels: Vec<String>,
    /// The gateway's public address, for links in channel messages.
    pub public_url: Option<String>,
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings {
            approval_ttl: std::time::Duration::from_secs(15 * 60),
            max_token_ttl: std::time::Duration::from_secs(366 * 24 * 3600),
            limits: Limits::default(),
            channels: Vec::new(),
            public_url: None,
        }
    }
}

/// An action as answered to one caller. `proceed` is true for an allowed action, and for
/// an approved one only in the single answer that hands the approval to its requester.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub record: ActionRecord,
    pub proceed: bool,
}

impl Answer {
    /// The answer for anyone but the requester collecting an approval.
    pub fn plain(record: ActionRecord) -> Self {
        Answer {
            proceed: record.proceed(),
            record,
        }
    }
}

/// The gate. Cheap to share behind an `Arc`; every method is safe to call concurrently.
pub struct Gate {
    store: Arc<dyn Store>,
    policy: Arc<PolicyEngine>,
    clock: Arc<dyn Clock>,
    masker: Arc<dyn Masker>,
    waiters: wait::Waiters,
    expiry_kick: tokio::sync::Notify,
    tokens: tokens::TokenCache,
    directory: Directory,
    settings: GateSettings,
    limits: limits::LimitState,
    /// Woken after each commit that may have queued outbox items.
    delivery_kick: Arc<tokio::sync::Notify>,
    /// Every hold created, reviewed or decided through this gate, for live views.
    hold_changes: tokio::sync::broadcast::Sender<HoldChange>,
}

/// A hold this gateway created, reviewed or decided, as committed.
#[derive(Debug, Clone)]
pub struct HoldChange {
    pub event: holdpoint_core::outbox::OutboxEvent,
    pub record: Arc<ActionRecord>,
}

impl Gate {
    pub fn new(parts: GateParts) -> Arc<Gate> {
        Arc::new(Gate {
            store: parts.store,
            policy: parts.policy,
            clock: parts.clock,
            masker: parts.masker,
            waiters: wait::Waiters::default(),
            expiry_kick: tokio::sync::Notify::new(),
            tokens: tokens::TokenCache::default(),
            directory: parts.directory,
            settings: parts.settings,
            limits: limits::LimitState::default(),
            delivery_kick: Arc::new(tokio::sync::Notify::new()),
            hold_changes: tokio::sync::broadcast::channel(1024).0,
        })
    }

    /// Holds created, reviewed or decided from now on, through this gateway. A receiver
    /// that falls more than 1,024 changes behind is told it lagged.
    pub fn watch_holds(&self) -> tokio::sync::broadcast::Receiver<HoldChange> {
        self.hold_changes.subscribe()
    }

    /// The store, for tests that look behind the gate (`test-util`). Nothing else
    /// reaches the store except through the gate's own methods.
    #[cfg(feature = "test-util")]
    pub fn store_for_tests(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The policy engine, for tests that reload it by hand (`test-util`).
    #[cfg(feature = "test-util")]
    pub fn policy_for_tests(&self) -> &Arc<PolicyEngine> {
        &self.policy
    }

    /// Ready when the store answers and can write: after a failed write, each call
    /// probes with a real write until one succeeds.
    pub async fn ready(&self) -> Result<(), GateError> {
        self.store
            .ping()
            .await
            .map_err(|_| GateError::Unavailable("the store does not answer".into()))?;
        if !self.store.writable() {
            self.store
                .probe_write()
                .await
                .map_err(|_| GateError::Unavailable("the store cannot write".into()))?;
        }
        Ok(())
    }

    /// The policy set in force now, as a handle a surface may keep to learn whether an
    /// allow it remembers still stands (see [`AllowMemo`]).
    pub fn policy_epoch(&self) -> PolicyEpoch {
        PolicyEpoch(self.policy.current())
    }

    pub fn masker(&self) -> &Arc<dyn Masker> {
        &self.masker
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// What the delivery worker waits on: notified after each commit that may have queued
    /// outbox items.
    pub fn delivery_kick(&self) -> Arc<tokio::sync::Notify> {
        self.delivery_kick.clone()
    }

    /// The `[[users]]` directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// A directory user as a reviewer: their directory groups, and those of their live
    /// token if they have one.
    pub async fn directory_identity(&self, user: &DirectoryUser) -> Result<Identity, GateError> {
        let principal = holdpoint_core::Principal::new(PrincipalKind::User, &user.name);
        Ok(self.live_identity(&principal).await?.unwrap_or(Identity {
            principal,
            groups: user.groups.clone(),
            owner: None,
        }))
    }

    pub fn settings(&self) -> &GateSettings {
        &self.settings
    }

    /// Sets the pending-holds gauge from the store; call once at start.
    pub async fn init_metrics(&self) -> Result<(), GateError> {
        let pending = self
            .store
            .count_by_status(holdpoint_core::Status::Pending)
            .await?;
        metrics::set_pending(pending);
        Ok(())
    }

    /// The action, if `caller` may see it: its requester, a reviewer of its hold, or an admin.
    pub async fn get(&self, caller: &Identity, id: &ActionId) -> Result<ActionRecord, GateError> {
        let record = self
            .store
            .action(id)
            .await?
            .ok_or_else(|| GateError::NotFound(format!("no action `{id}`")))?;
        if may_see(caller, &record) {
            Ok(record)
        } else {
            Err(GateError::NotFound(format!("no action `{id}`")))
        }
    }

    /// Actions the caller requested or may review, newest first.
    pub async fn list(
        &self,
        caller: &Identity,
        mut filter: ActionFilter,
    ) -> Result<Vec<ActionRecord>, GateError> {
        filter.requester = Some(caller.principal.clone());
        filter.reviewer_groups = if caller.principal.kind.is_human() {
            caller.all_groups()
        } else {
            Vec::new()
        };
        Ok(self.store.actions(&filter).await?)
    }

    /// History: what [`list`](Gate::list) shows, except that an admin sees every action.
    pub async fn history(
        &self,
        caller: &Identity,
        filter: ActionFilter,
    ) -> Result<Vec<ActionRecord>, GateError> {
        if caller.principal.kind == PrincipalKind::Admin {
            Ok(self.store.actions(&filter).await?)
        } else {
            self.list(caller, filter).await
        }
    }

    /// Pending holds `caller` is asked to review (their groups are among its approvers),
    /// newest first; holds they requested are left out. With the holds, the cursor of
    /// the next page when there may be one: taken before their own are left out, so a
    /// page of nothing but their own requests does not end the listing.
    pub async fn inbox(
        &self,
        caller: &Identity,
        before: Option<ActionId>,
        limit: u32,
    ) -> Result<(Vec<ActionRecord>, Option<ActionId>), GateError> {
        if !caller.principal.kind.is_human() {
            return Ok((Vec::new(), None));
        }
        let filter = ActionFilter {
            status: Some(holdpoint_core::Status::Pending),
            reviewer_groups: caller.all_groups(),
            before,
            limit,
            ..ActionFilter::default()
        };
        let mut records = self.store.actions(&filter).await?;
        let next = (records.len() as u32 == limit)
            .then(|| records.last().map(|r| r.id.clone()))
            .flatten();
        records.retain(|r| !r.requested_by(&caller.principal));
        Ok((records, next))
    }
}

/// The requester, an admin, or a human in one of the hold's approver groups.
pub fn may_see(caller: &Identity, record: &ActionRecord) -> bool {
    record.requested_by(&caller.principal)
        || caller.principal.kind == PrincipalKind::Admin
        || (caller.principal.kind.is_human()
            && record.approver_groups().iter().any(|g| caller.in_group(g)))
}

impl Gate {
    /// Audits what a surface saw outside any one action: a connection opened or closed,
    /// a summary of allowed statements. `caller` is the principal on the connection.
    pub async fn record_surface_events(
        &self,
        caller: &Identity,
        surface: &str,
        events: Vec<(holdpoint_core::EventType, serde_json::Value)>,
    ) -> Result<(), GateError> {
        if events.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let actor = events::actor(caller, surface);
        let events = events
            .into_iter()
            .map(|(t, data)| holdpoint_core::NewEvent::new(now, t, actor.clone(), None, data))
            .collect();
        self.store
            .apply(holdpoint_core::Change::new(Vec::new(), events))
            .await?;
        Ok(())
    }

    /// Audits a policy load or refusal (`policy.loaded` / `policy.refused`).
    pub async fn record_policy_load(
        &self,
        result: Result<Vec<String>, String>,
    ) -> Result<(), GateError> {
        let now = self.clock.now();
        let (event_type, data) = match result {
            Ok(ids) => {
                tracing::info!(policies = ids.len(), "policy set loaded");
                (
                    holdpoint_core::EventType::PolicyLoaded,
                    serde_json::json!({"policies": ids}),
                )
            }
            Err(error) => {
                tracing::error!(%error, "policy set refused; the previous set stays in force");
                (
                    holdpoint_core::EventType::PolicyRefused,
                    serde_json::json!({"error": error}),
                )
            }
        };
        let ev = holdpoint_core::NewEvent::new(
            now,
            event_type,
            holdpoint_core::Actor::system(),
            None,
            data,
        );
        self.store
            .apply(holdpoint_core::Change::new(Vec::new(), vec![ev]))
            .await?;
        Ok(())
    }
}
