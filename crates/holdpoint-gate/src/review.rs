//! Reviews, cancellation and expiry: every way a hold ends.

use crate::events::{self, actor};
use crate::submit::SurfaceContext;
use crate::{Gate, GateError, metrics};
use holdpoint_core::review::{HoldState, apply_review};
use holdpoint_core::{
    ActionId, ActionRecord, Actor, Change, Decision, EventType, Identity, NewEvent, Op, Outcome,
    Principal, Status, StoreError, Timestamp,
};
use serde_json::json;

/// A move the status machine refuses: the action was decided in the meantime (409).
pub(crate) fn transition_refused(e: holdpoint_core::TransitionError) -> GateError {
    GateError::Conflict(e.to_string())
}

/// How often a review is retried when another change to the same action wins the race.
const REVIEW_ATTEMPTS: usize = 3;

impl Gate {
    /// Records one human's review. Refusals (DESIGN §2.2) change nothing.
    pub async fn review(
        &self,
        caller: &Identity,
        id: &ActionId,
        decision: Decision,
        comment: &str,
        channel: &str,
    ) -> Result<ActionRecord, GateError> {
        holdpoint_core::review::may_review(&caller.principal)?;
        // Stored masked, like every text that is persisted (DESIGN §2.7).
        let comment = self.masker.mask_text(comment);
        for _ in 0..REVIEW_ATTEMPTS {
            let record = self.get(caller, id).await?;
            let now = self.clock.now();
            let (hold, state) =
                match apply_review(&record, caller, decision, &comment, channel, now) {
                    Err(holdpoint_core::review::ReviewRefusal::Expired(at)) => {
                        self.expire(record).await?;
                        return Err(GateError::Conflict(format!("the hold expired at {at}")));
                    }
                    other => other?,
                };
            let mut next = record.clone();
            next.hold = Some(hold);
            let actor = actor(caller, channel);
            let mut evs = Vec::new();
            let to = match state {
                HoldState::Waiting => Status::Pending,
                HoldState::Rejected => Status::Rejected,
                HoldState::Approved => self.release(&mut next, &mut evs, &actor, now).await?,
            };
            next.advance(to, now).map_err(transition_refused)?;
            if let Some(review) = next.hold.as_ref().and_then(|h| h.reviews.last()) {
                evs.insert(0, events::review(&next, review, &actor));
            }
            if to == Status::Rejected {
                evs.push(events::event(
                    &next,
                    EventType::HoldRejected,
                    &actor,
                    now,
                    json!({}),
                ));
            }
            let change = Change::new(
                vec![Op::UpdateAction {
                    record: next.clone(),
                    expected_version: record.version,
                }],
                evs,
            );
            match self.commit(change).await {
                Ok(_) => {
                    if next.status != Status::Pending {
                        self.decided(&next).await;
                    }
                    return Ok(next);
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(GateError::Conflict(
            "the action kept changing while the review was recorded; try again".into(),
        ))
    }

    /// Quorum is met: check policy once more (DESIGN §2.9) and say what the hold becomes:
    /// approved, denied if the policy set now forbids the action, or still pending if it
    /// now asks for more. Sets what an approval grants on `next`; the caller advances it.
    async fn release(
        &self,
        next: &mut ActionRecord,
        evs: &mut Vec<NewEvent>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Status, GateError> {
        let evaluation = self.reevaluate(next).await?;
        if let Some(terms) = evaluation.terms() {
            if let Some(hold) = next.hold.as_mut() {
                hold.requirements = terms.requirements.clone();
                hold.separate |= terms.separate;
            }
            // Reviewers count with the groups they had and still have, the requester and
            // (under `@separate`) the owner never: the same test as on every other path.
            let met = match self.live_identity(&next.principal).await? {
                Some(requester) => self.still_satisfies(next, terms, &requester).await?,
                None => false,
            };
            if !met {
                // Policy now asks for more than the approvals give: keep waiting.
                let data = json!({"requirements": terms.requirements,
                                  "reason": "the approvals do not meet what policy asks now"});
                evs.push(events::event(
                    next,
                    EventType::HoldCreated,
                    &Actor::system(),
                    now,
                    data,
                ));
                return Ok(Status::Pending);
            }
        }
        evs.push(events::event(
            next,
            EventType::HoldApproved,
            actor,
            now,
            json!({}),
        ));
        if evaluation.outcome() == Outcome::Deny {
            let verdict = evaluation.verdict();
            next.verdict = holdpoint_core::Verdict::deny(
                format!(
                    "policy changed while the action was held: {}",
                    verdict.reason
                ),
                verdict.policies.clone(),
            );
            evs.push(events::event(
                next,
                EventType::ActionDenied,
                &Actor::system(),
                now,
                json!({"verdict": next.verdict, "at": "release"}),
            ));
            return Ok(Status::Denied);
        }
        // A window the current policy shortened (or dropped) is the window given.
        let asked = next.hold.as_ref().and_then(|h| h.grant_window);
        let window = match evaluation.terms() {
            Some(terms) => asked.zip(terms.grant).map(|(a, b)| a.min(b)),
            None => asked,
        }
        // A surface that executes the action itself gets the exact action, once: a window
        // would let other params (a token with other groups) through unreviewed.
        .filter(|_| !next.executed_by_gateway);
        next.grant_until = window.and_then(|w| crate::grant::after(now, w));
        next.approval_until = match next.grant_until {
            Some(_) => None,
            None => crate::grant::after(now, self.settings.approval_ttl),
        };
        evs.push(events::event(
            next,
            EventType::ActionReleased,
            &Actor::system(),
            now,
            json!({"digest": next.digest, "grant_until": next.grant_until,
                   "approval_until": next.approval_until}),
        ));
        Ok(Status::Approved)
    }

    /// Withdraws a pending action; only its requester may.
    pub async fn cancel(
        &self,
        caller: &Identity,
        id: &ActionId,
        channel: &str,
    ) -> Result<ActionRecord, GateError> {
        let record = self.get(caller, id).await?;
        if !record.requested_by(&caller.principal) {
            return Err(GateError::Forbidden(
                "only the requester may cancel an action".into(),
            ));
        }
        if record.status != Status::Pending {
            return Err(GateError::Conflict(format!(
                "the action is {}, not pending",
                record.status
            )));
        }
        let now = self.clock.now();
        let mut next = record.clone();
        next.advance(Status::Cancelled, now)
            .map_err(transition_refused)?;
        let ev = events::event(
            &next,
            EventType::ActionCancelled,
            &actor(caller, channel),
            now,
            json!({}),
        );
        self.commit(Change::new(
            vec![Op::UpdateAction {
                record: next.clone(),
                expected_version: record.version,
            }],
            vec![ev],
        ))
        .await?;
        self.decided(&next).await;
        Ok(next)
    }

    /// Marks a pending hold expired. Losing a race to a review is fine: it was decided.
    pub(crate) async fn expire(&self, record: ActionRecord) -> Result<(), GateError> {
        if record.status != Status::Pending {
            return Ok(());
        }
        let now = self.clock.now();
        let mut next = record.clone();
        next.advance(Status::Expired, now)
            .map_err(transition_refused)?;
        let expires_at = next.hold.as_ref().map(|h| h.expires_at);
        let ev = events::event(
            &next,
            EventType::HoldExpired,
            &Actor::system(),
            now,
            json!({"expires_at": expires_at}),
        );
        let change = Change::new(
            vec![Op::UpdateAction {
                record: next.clone(),
                expected_version: record.version,
            }],
            vec![ev],
        );
        match self.commit(change).await {
            Ok(_) => {
                self.decided(&next).await;
                Ok(())
            }
            Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// After a hold ends: wake the waiting agent, count it, tell the channels.
    async fn decided(&self, record: &ActionRecord) {
        self.waiters.wake(&record.id);
        metrics::hold_closed(record.status.as_str());
        if let Some(took) = record
            .decided_at
            .and_then(|d| (d - record.created_at).to_std().ok())
        {
            metrics::time_to_decision(took);
        }
    }

    /// Policy's verdict on `record` now, for its requester as they are now and with the
    /// surface's context (so a forbid on `context.sql` is not skipped). A requester
    /// without a live token is denied.
    pub(crate) async fn reevaluate(
        &self,
        record: &ActionRecord,
    ) -> Result<holdpoint_core::Evaluation, GateError> {
        let Some(requester) = self.live_identity(&record.principal).await? else {
            return Ok(holdpoint_core::Evaluation::deny(format!(
                "the requester `{}` no longer has a live token",
                record.principal
            )));
        };
        Ok(self.evaluate(
            &requester,
            &record.request(),
            &SurfaceContext::of_record(record),
        ))
    }

    /// A principal as they are now: their live token and directory groups; for someone
    /// an identity provider vouched for ([`Gate::vouch`]), what it said, while that
    /// holds; for a user with no live token who is in the `[[users]]` directory (a Slack
    /// reviewer, say), the directory's groups. `None` for anyone else.
    pub async fn live_identity(
        &self,
        principal: &Principal,
    ) -> Result<Option<Identity>, GateError> {
        let now = self.clock.now();
        let token = self
            .store
            .token_by_name(&principal.name)
            .await?
            .filter(|t| t.kind == principal.kind && t.is_live(now));
        if let Some(token) = token {
            return Ok(Some(self.identity_of(&token)));
        }
        if let Some(vouched) = self.vouched_identity(principal, now).await? {
            return Ok(Some(vouched));
        }
        if principal.kind != holdpoint_core::PrincipalKind::User {
            return Ok(None);
        }
        Ok(self.directory.user(&principal.name).map(|user| Identity {
            principal: principal.clone(),
            groups: user.groups.clone(),
            owner: None,
        }))
    }
}
