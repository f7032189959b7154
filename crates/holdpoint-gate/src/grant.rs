//! Earlier approvals: when one passes a new submission, and how an approval is handed
//! over exactly once.
//!
//! A prior approval passes a held submission only if what policy asks for *now* is met
//! by the reviews recorded on that approval (DESIGN §2.4):
//! - a `@grant` window: the same principal, kind, resource and environment, the same
//!   surface and pin (`context.pin`: an MCP tool's fingerprint), a window the current
//!   policy still opens (a shorter `@grant` now shortens it), and
//! - a single-use approval: the same digest (so the same environment, surface and pin),
//!   neither used nor lapsed (`approval_until`);
//!
//! and in both cases its approving reviewers, each counted with the groups they had when
//! they approved *and* still have (the current directory and tokens), fill every current
//! requirement with distinct people, none of them the requester or, under `@separate`,
//! the requesting agent's owner. Otherwise the submission is held afresh.
//!
//! A single-use approval is consumed, with an `action.consumed` event, by exactly one of:
//! a resubmission of the same digest that it passes, or (for surfaces whose client
//! executes the action) the first answer that shows its requester the approved action
//! with `proceed: true` ([`Gate::deliver`]). A retry after a lost answer sees
//! `proceed: false`: there is no second pass. Delivery applies the same test as a
//! resubmission, against policy as it is now, so no path is more lenient than another.

use crate::events;
use crate::{Answer, Gate, GateError};
use holdpoint_core::digest::pin_of;
use holdpoint_core::review::{Approval, may_count, requirements_met};
use holdpoint_core::{
    ActionRecord, Actor, Change, Decision, EventType, HoldTerms, Identity, NewEvent, Op, Outcome,
    Status, StoreError, Timestamp,
};
use serde_json::json;
use std::time::Duration;

/// `at + d`, or `None` when that is beyond what a timestamp can hold.
pub(crate) fn after(at: Timestamp, d: Duration) -> Option<Timestamp> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
}

impl Gate {
    /// A held action passes at once when an earlier approval still satisfies policy.
    pub(crate) async fn pass_on_grant(
        &self,
        caller: &Identity,
        record: &mut ActionRecord,
        terms: &HoldTerms,
        actor: &Actor,
        submitted: &NewEvent,
    ) -> Result<Option<ActionRecord>, GateError> {
        let now = record.created_at;
        // A window passes other params; for a surface that executes the action itself
        // (a token with other groups, say) only the exact digest may pass.
        let window = terms.grant.filter(|_| !record.executed_by_gateway);
        if let Some(window) = window {
            let candidates = self
                .store
                .window_grants(
                    &record.principal,
                    &record.kind,
                    &record.resource,
                    &record.environment,
                    now,
                )
                .await?;
            for grant in candidates {
                // A window opened on one surface passes nothing on another (wording the
                // agent chose through the API must not stand for a proxy's call), nor a
                // changed tool.
                if grant.environment != record.environment
                    || grant.surface != record.surface
                    || pin_of(grant.context.as_ref()) != pin_of(record.context.as_ref())
                {
                    continue;
                }
                let open_until = grant
                    .decided_at
                    .and_then(|d| after(d, window))
                    .into_iter()
                    .chain(grant.grant_until)
                    .min();
                if open_until.is_some_and(|until| now < until)
                    && self.still_satisfies(&grant, terms, caller).await?
                {
                    return self.pass(record, grant, false, actor, submitted).await;
                }
            }
        }
        let candidates = self
            .store
            .unused_approvals(&record.principal, &record.digest, now)
            .await?;
        for approval in candidates {
            if approval.environment == record.environment
                && self.still_satisfies(&approval, terms, caller).await?
                && let Some(passed) = self.pass(record, approval, true, actor, submitted).await?
            {
                return Ok(Some(passed));
            }
        }
        Ok(None)
    }

    /// Writes the passed action (and, for a single-use approval, its consumption).
    /// `None` when another submission used the approval first.
    async fn pass(
        &self,
        record: &mut ActionRecord,
        grant: ActionRecord,
        single_use: bool,
        actor: &Actor,
        submitted: &NewEvent,
    ) -> Result<Option<ActionRecord>, GateError> {
        let now = record.created_at;
        let held = (record.status, record.verdict.reason.clone());
        record.status = Status::Allowed;
        record.granted_by = Some(grant.id.clone());
        record.verdict.reason = format!("{} (approved in {})", record.verdict.reason, grant.id);
        let mut ops = vec![Op::InsertAction(record.clone())];
        let mut evs = vec![
            submitted.clone(),
            events::verdict(record, EventType::ActionAllowed, actor),
        ];
        if single_use {
            let (op, ev) = consume(grant, &record.id, actor, now, "resubmission")?;
            ops.push(op);
            evs.push(ev);
        }
        match self.commit(Change::new(ops, evs)).await {
            Ok(_) => Ok(Some(record.clone())),
            Err(StoreError::Conflict(_)) => {
                (record.status, record.verdict.reason) = held;
                record.granted_by = None;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// True when policy now would still let `approval` proceed: not forbidden, and if held,
    /// its reviews meet what is asked now (and a window is still open under the current
    /// `@grant`). The same test a resubmission passes, so no path is more lenient.
    async fn still_allowed(
        &self,
        approval: &ActionRecord,
        requester: &Identity,
        now: Timestamp,
    ) -> Result<bool, GateError> {
        let evaluation = self.reevaluate(approval).await?;
        match (evaluation.outcome(), evaluation.terms()) {
            (Outcome::Allow, _) => Ok(true),
            (Outcome::Hold, Some(terms)) => {
                if approval.grant_until.is_some() {
                    let open = terms
                        .grant
                        .and_then(|w| approval.decided_at.and_then(|d| after(d, w)))
                        .is_some_and(|until| now < until);
                    if !open {
                        return Ok(false);
                    }
                }
                self.still_satisfies(approval, terms, requester).await
            }
            _ => Ok(false),
        }
    }

    /// True when the approving reviews of `approval` meet every requirement of `terms`,
    /// counting each reviewer with the groups they had then and still have now.
    pub(crate) async fn still_satisfies(
        &self,
        approval: &ActionRecord,
        terms: &HoldTerms,
        requester: &Identity,
    ) -> Result<bool, GateError> {
        let Some(hold) = &approval.hold else {
            return Ok(false);
        };
        let mut counted = Vec::new();
        for review in hold
            .reviews
            .iter()
            .filter(|r| r.decision == Decision::Approve)
        {
            let name = &review.reviewer.name;
            let counts = may_count(
                &review.reviewer,
                &requester.principal,
                requester.owner.as_deref(),
                terms.separate,
            );
            if counts.is_err() {
                continue;
            }
            let Some(now) = self.live_identity(&review.reviewer).await? else {
                continue;
            };
            let groups = review
                .groups
                .iter()
                .filter(|g| now.in_group(g))
                .cloned()
                .collect();
            counted.push(Approval {
                reviewer: name.to_ascii_lowercase(),
                groups,
            });
        }
        Ok(requirements_met(&terms.requirements, &counted))
    }

    /// The action as answered to `caller`. When `caller` is the requester of an approved
    /// single-use action whose client executes it, the first such answer hands the
    /// approval over (`proceed: true`) and consumes it; every later answer, and any answer
    /// to anyone else, shows `proceed: false`. A `@grant` approval shows `proceed: true`
    /// to its requester while its window is open.
    pub async fn deliver(
        &self,
        caller: &Identity,
        record: ActionRecord,
    ) -> Result<Answer, GateError> {
        let now = self.clock.now();
        let mine = record.requested_by(&caller.principal);
        if !mine || record.status != Status::Approved || record.executed_by_gateway {
            return Ok(Answer::plain(record));
        }
        let usable = match record.grant_until {
            Some(until) => now < until,
            None => record.unused_approval_at(now),
        };
        if !usable || !self.still_allowed(&record, caller, now).await? {
            return Ok(Answer::plain(record));
        }
        if record.grant_until.is_some() {
            return Ok(Answer {
                proceed: true,
                record,
            });
        }
        let actor = crate::events::actor(caller, &record.surface);
        let (op, ev) = consume(record.clone(), &record.id, &actor, now, "delivery")?;
        match self.commit(Change::new(vec![op], vec![ev])).await {
            Ok(_) => Ok(Answer {
                proceed: true,
                record,
            }),
            // Used by someone else first: show it as it now is.
            Err(StoreError::Conflict(_)) => {
                let current = self.get(caller, &record.id).await?;
                Ok(Answer::plain(current))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Marks `approval` used by `by` and audits it.
fn consume(
    mut approval: ActionRecord,
    by: &holdpoint_core::ActionId,
    actor: &Actor,
    now: Timestamp,
    via: &str,
) -> Result<(Op, NewEvent), GateError> {
    let expected_version = approval.version;
    // A revision of an approved action: its status stays, its version moves on.
    approval
        .advance(Status::Approved, now)
        .map_err(crate::review::transition_refused)?;
    approval.consumed_by = Some(by.clone());
    let ev = events::event(
        &approval,
        EventType::ActionConsumed,
        actor,
        now,
        json!({"consumed_by": by, "digest": approval.digest, "via": via}),
    );
    Ok((
        Op::UpdateAction {
            record: approval,
            expected_version,
        },
        ev,
    ))
}
