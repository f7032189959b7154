//! The one ask-and-wait path. Every surface that lets an agent wait for a hold (the
//! HTTP API, the Claude Code hook, the MCP proxy, the PostgreSQL proxy) asks here:
//!
//! 1. [`Gate::ask`] submits the action and gives an [`Asking`] with its first
//!    [`Ruling`]: proceed, held, or refused with a reason the agent can show.
//! 2. While held, [`Asking::wait`] waits one step on the gate's waiters. The deciding
//!    change wakes it. When the caller's long-poll slots are all taken, it waits out the
//!    limit's `Retry-After` (within the step) and reads the action once: never a busy
//!    loop, never over the limit.
//! 3. Approved, the approval is taken exactly once: by this very read
//!    ([`Gate::deliver`]) for a surface whose client executes the action, or by one
//!    resubmission of the same request (bound to the digest) for a surface that
//!    executes it itself. If another caller's resubmission took the approval first (an
//!    agent's retry on a second connection), that resubmission is held afresh and this
//!    caller waits for its own approval.
//! 4. [`Asking::withdraw`] cancels the hold when the agent gives up (it left, it sent a
//!    cancel, the gateway stops).
//!
//! A surface keeps its own loop only for what its protocol needs while it waits
//! (progress notifications, relaying a server), and calls [`Asking::wait`] inside it;
//! [`Gate::decide`] is that loop for a surface with nothing else to do.
//!
//! Also here: [`AllowMemo`], the allows a surface may remember under one policy set
//! (the PostgreSQL proxy's per-session shapes), so it never holds the policy set itself.

use crate::submit::SurfaceContext;
use crate::{Answer, Gate, GateError};
use holdpoint_core::mask::Masker;
use holdpoint_core::{ActionRecord, ActionRequest, Identity, Status};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What a surface does with an action now.
#[derive(Debug, Clone, PartialEq)]
pub enum Ruling {
    /// Go ahead: allowed, or approved and handed to this caller (used).
    Proceed(ActionRecord),
    /// Held for approval, still pending.
    Held(ActionRecord),
    /// Not to be done: denied by policy, rejected, expired or withdrawn. `reason` is
    /// masked and ready to show the agent (without a surface's own prefix).
    Refused {
        record: ActionRecord,
        reason: String,
    },
}

impl Ruling {
    /// The action the ruling is about.
    pub fn record(&self) -> &ActionRecord {
        match self {
            Ruling::Proceed(record) | Ruling::Held(record) | Ruling::Refused { record, .. } => {
                record
            }
        }
    }
}

/// Why an action did not go ahead, for the agent: the id, and the policy's reason or the
/// reviewers' comments, masked.
pub fn refusal_reason(record: &ActionRecord, masker: &dyn Masker) -> String {
    let id = &record.id;
    let comments = record.review_comments(masker);
    let reason = masker.mask_text(&record.verdict.reason);
    match record.status {
        Status::Denied => format!("denied by policy ({id}): {reason}"),
        Status::Rejected if comments.is_empty() => format!("rejected by a reviewer ({id})"),
        Status::Rejected => format!("rejected by a reviewer ({id}): {}", comments.join("; ")),
        Status::Expired => format!("the hold {id} expired before anyone approved it"),
        Status::Cancelled => format!("{id} was withdrawn"),
        status => format!("{id} is {status}: {reason}"),
    }
}

/// One action being asked for by one caller, from its submission to its ruling.
pub struct Asking<'g> {
    gate: &'g Gate,
    caller: Identity,
    /// The surface executes the action itself: an approval is taken by resubmitting.
    executes: bool,
    record: ActionRecord,
    ruling: Ruling,
}

impl Gate {
    /// Submits `request` as `caller` through `ctx`'s surface: the first step of the one
    /// ask-and-wait path (see the module docs).
    pub async fn ask(
        &self,
        caller: &Identity,
        request: ActionRequest,
        ctx: SurfaceContext,
    ) -> Result<Asking<'_>, GateError> {
        let executes = ctx.executes;
        let record = self.submit(caller, request, ctx).await?;
        let ruling = self.rule(record.clone(), record.proceed());
        Ok(Asking {
            gate: self,
            caller: caller.clone(),
            executes,
            record,
            ruling,
        })
    }

    /// Asks, then waits up to `wait` for a hold to be decided, in steps, until `cancel`
    /// resolves (then the hold is withdrawn). Pending at the end is [`Ruling::Held`].
    pub async fn decide(
        &self,
        caller: &Identity,
        request: ActionRequest,
        ctx: SurfaceContext,
        wait: Duration,
        cancel: impl Future<Output = ()>,
    ) -> Result<Ruling, GateError> {
        let mut asking = self.ask(caller, request, ctx).await?;
        let deadline = tokio::time::Instant::now() + wait;
        tokio::pin!(cancel);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !matches!(asking.ruling(), Ruling::Held(_)) || left.is_zero() {
                return Ok(asking.ruling().clone());
            }
            tokio::select! {
                ruling = asking.wait(left) => { ruling?; }
                () = &mut cancel => {
                    asking.withdraw().await?;
                    return Ok(asking.ruling().clone());
                }
            }
        }
    }

    /// One step of waiting on the held action `id` of `caller`: up to `step` for its
    /// decision, then where it stands, an approval taken exactly once (by this read, or
    /// when `executes`, by one resubmission). The waiter is registered before the store
    /// is read, so no decision is missed. For a surface that keeps only the action's id
    /// between steps (the MCP proxy, behind its own trait); others use
    /// [`Asking::wait`].
    pub async fn follow(
        &self,
        caller: &Identity,
        id: &holdpoint_core::ActionId,
        step: Duration,
        executes: bool,
    ) -> Result<Ruling, GateError> {
        let answer = match self.wait(caller, id, step).await {
            Ok(answer) => answer,
            Err(GateError::TooMany { retry_after, .. }) => {
                // Every long-poll slot of this caller is taken: wait out the limit
                // without one, then read once.
                tokio::time::sleep(retry_after.min(step)).await;
                let record = self.get(caller, id).await?;
                self.deliver(caller, record).await?
            }
            Err(e) => return Err(e),
        };
        let Answer { record, proceed } = answer;
        if !(executes && record.status == Status::Approved && !proceed) {
            return Ok(self.rule(record, proceed));
        }
        // The surface executes the action itself: its own resubmission, bound to the
        // digest, takes the approval once. Held again means another caller took it.
        let again = self
            .submit(caller, record.request(), SurfaceContext::of_record(&record))
            .await?;
        let proceed = again.proceed();
        Ok(self.rule(again, proceed))
    }

    fn rule(&self, record: ActionRecord, proceed: bool) -> Ruling {
        if proceed {
            Ruling::Proceed(record)
        } else if record.status.is_pending() {
            Ruling::Held(record)
        } else {
            Ruling::Refused {
                reason: refusal_reason(&record, self.masker.as_ref()),
                record,
            }
        }
    }
}

impl Asking<'_> {
    /// Where the action stands.
    pub fn ruling(&self) -> &Ruling {
        &self.ruling
    }

    /// The action as stored when last read.
    pub fn record(&self) -> &ActionRecord {
        &self.record
    }

    /// Waits up to `step` for a held action to be decided and returns where it then
    /// stands (see [`Gate::follow`]). A decided action is returned at once.
    pub async fn wait(&mut self, step: Duration) -> Result<&Ruling, GateError> {
        if !matches!(self.ruling, Ruling::Held(_)) {
            return Ok(&self.ruling);
        }
        self.ruling = self
            .gate
            .follow(&self.caller, &self.record.id, step, self.executes)
            .await?;
        self.record = self.ruling.record().clone();
        Ok(&self.ruling)
    }

    /// Withdraws the hold (the agent left or gave up): the ruling becomes refused.
    /// Losing the race to a decision is fine: the ruling is then what was decided,
    /// except that an approval is not taken.
    pub async fn withdraw(&mut self) -> Result<(), GateError> {
        if !matches!(self.ruling, Ruling::Held(_)) {
            return Ok(());
        }
        let surface = self.record.surface.clone();
        let record = match self
            .gate
            .cancel(&self.caller, &self.record.id, &surface)
            .await
        {
            Ok(record) => record,
            Err(GateError::Conflict(_)) => self.gate.get(&self.caller, &self.record.id).await?,
            Err(e) => return Err(e),
        };
        self.ruling = Ruling::Refused {
            reason: refusal_reason(&record, self.gate.masker.as_ref()),
            record: record.clone(),
        };
        self.record = record;
        Ok(())
    }
}

/// The policy set in force at one moment, as an opaque handle: equal handles mean the
/// same set, so an allow remembered under one still stands.
#[derive(Clone)]
pub struct PolicyEpoch(pub(crate) Arc<holdpoint_policy::PolicySet>);

impl PolicyEpoch {
    /// True when some policy of the set reads an action's values (params, context),
    /// so an allow depends on more than an action's shape.
    pub fn reads_values(&self) -> bool {
        self.0.reads_values()
    }

    pub fn same_as(&self, other: &PolicyEpoch) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Allows a surface remembers under one policy set, by a key of its own (a statement's
/// shape): used only when no policy of the set reads values, so an allow then depends
/// on the key alone. A new policy set forgets them all.
#[derive(Default)]
pub struct AllowMemo {
    under: Option<PolicyEpoch>,
    allowed: HashSet<u64>,
}

/// The most keys one memo keeps before it starts over.
const MEMO_CAP: usize = 10_000;

impl AllowMemo {
    /// True when `key` was allowed under the policy set in force now.
    pub fn allowed(&self, key: u64, now: &PolicyEpoch) -> bool {
        match &self.under {
            Some(under) if under.same_as(now) => self.allowed.contains(&key),
            _ => false,
        }
    }

    /// Remembers that `key` was allowed under `now`; ignored when the set reads values.
    pub fn remember(&mut self, key: u64, now: &PolicyEpoch) {
        if now.reads_values() {
            return;
        }
        if !self.under.as_ref().is_some_and(|u| u.same_as(now)) || self.allowed.len() > MEMO_CAP {
            self.under = Some(now.clone());
            self.allowed.clear();
        }
        self.allowed.insert(key);
    }
}
