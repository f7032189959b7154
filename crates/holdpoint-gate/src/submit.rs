//! Submit: validate, digest, evaluate, then allow, deny, pass on a grant, or hold.

use crate::events::{self, actor};
use crate::{Gate, GateError, metrics};
use holdpoint_core::digest::action_digest;
use holdpoint_core::{
    ActionId, ActionRecord, ActionRequest, Change, Evaluation, EventType, Hold, Identity, Op,
    Outcome, Status, StoreError,
};
use holdpoint_policy::PolicyInput;
use serde_json::{Map, Value};
use std::time::Instant;

/// What a surface adds to an action: its name and the context only it knows
/// (`sql`, `mcp`, `command`, …), visible to policies as top-level context keys.
#[derive(Debug, Clone, Default)]
pub struct SurfaceContext {
    pub surface: String,
    pub extra: Option<Map<String, Value>>,
}

impl SurfaceContext {
    pub fn named(surface: &str) -> Self {
        SurfaceContext {
            surface: surface.to_string(),
            extra: None,
        }
    }
}

impl Gate {
    /// Evaluates `request` for `caller` against the current policy set.
    pub fn evaluate(
        &self,
        caller: &Identity,
        request: &ActionRequest,
        ctx: &SurfaceContext,
    ) -> Evaluation {
        let groups = caller.all_groups();
        let input = PolicyInput {
            principal: &caller.principal,
            groups: &groups,
            kind: &request.kind,
            resource: &request.resource,
            environment: &request.environment,
            justification: &request.justification,
            surface: &ctx.surface,
            params: &request.params,
            extra: ctx.extra.as_ref(),
        };
        let started = Instant::now();
        let evaluation = self.policy.evaluate(&input);
        metrics::policy_evaluation(started.elapsed());
        evaluation
    }

    /// Submits an action. The returned record is already durable, with its audit events.
    pub async fn submit(
        &self,
        caller: &Identity,
        request: ActionRequest,
        ctx: SurfaceContext,
    ) -> Result<ActionRecord, GateError> {
        request.validate().map_err(GateError::Invalid)?;
        let evaluation = self.evaluate(caller, &request, &ctx);
        let now = self.clock.now();
        let digest = action_digest(
            &caller.principal,
            &request.kind,
            &request.resource,
            &request.environment,
            &request.params,
        );
        let mut record = ActionRecord {
            id: ActionId::new(),
            status: Status::Denied,
            version: 1,
            principal: caller.principal.clone(),
            owner: caller.owner.clone(),
            masked_params: self.masker.mask_value(&request.params),
            kind: request.kind,
            resource: request.resource,
            environment: request.environment,
            params: request.params,
            justification: request.justification,
            digest,
            surface: ctx.surface,
            verdict: evaluation.verdict.clone(),
            hold: None,
            grant_until: None,
            consumed_by: None,
            granted_by: None,
            created_at: now,
            decided_at: Some(now),
        };
        let actor = actor(caller, &record.surface);
        let justification = self.masker.mask_text(&record.justification);
        let submitted = events::submitted(&record, &actor, &justification);

        match (evaluation.verdict.outcome, evaluation.terms) {
            (Outcome::Hold, Some(terms)) => {
                if let Some(passed) = self.pass_on_grant(&mut record, &actor, &submitted).await? {
                    metrics::decision("allowed");
                    return Ok(passed);
                }
                let expires = chrono::Duration::from_std(terms.expires)
                    .map_err(|_| GateError::Invalid("hold expiry is too long".into()))?;
                record.status = Status::Pending;
                record.decided_at = None;
                record.hold = Some(Hold {
                    title: terms.title,
                    requirements: terms.requirements,
                    expires_at: now + expires,
                    reviews: Vec::new(),
                    separate: terms.separate,
                    grant_window: terms.grant,
                });
                let created = events::verdict(&record, EventType::HoldCreated, &actor);
                self.store
                    .apply(Change::new(
                        vec![Op::InsertAction(record.clone())],
                        vec![submitted, created],
                    ))
                    .await?;
                metrics::hold_opened();
                self.expiry_kick.notify_one();
                self.notifier.hold_created(&record).await;
                Ok(record)
            }
            (outcome, _) => {
                // INVARIANT: a hold verdict always carries terms; if it does not, deny.
                let (status, event_type) = match outcome {
                    Outcome::Allow => (Status::Allowed, EventType::ActionAllowed),
                    _ => (Status::Denied, EventType::ActionDenied),
                };
                if outcome == Outcome::Hold {
                    record.verdict = holdpoint_core::Verdict::deny(
                        "hold without requirements: denied to fail closed",
                        record.verdict.policies.clone(),
                    );
                }
                record.status = status;
                let decided = events::verdict(&record, event_type, &actor);
                self.store
                    .apply(Change::new(
                        vec![Op::InsertAction(record.clone())],
                        vec![submitted, decided],
                    ))
                    .await?;
                metrics::decision(status.as_str());
                Ok(record)
            }
        }
    }

    /// A held action passes at once when an approval already covers it: a `@grant`
    /// window for the same principal, kind and resource, or an unused single-use
    /// approval of the very same digest (which this submission then uses up).
    async fn pass_on_grant(
        &self,
        record: &mut ActionRecord,
        actor: &holdpoint_core::Actor,
        submitted: &holdpoint_core::NewEvent,
    ) -> Result<Option<ActionRecord>, GateError> {
        let now = record.created_at;
        let window = self
            .store
            .window_grant(&record.principal, &record.kind, &record.resource, now)
            .await?;
        let single = match window {
            Some(_) => None,
            None => {
                self.store
                    .unused_approval(&record.principal, &record.digest)
                    .await?
            }
        };
        let Some(grant) = window.clone().or(single.clone()) else {
            return Ok(None);
        };
        let held_reason = record.verdict.reason.clone();
        record.status = Status::Allowed;
        record.granted_by = Some(grant.id.clone());
        record.verdict.reason = format!("{} (approved in {})", record.verdict.reason, grant.id);
        let mut ops = vec![Op::InsertAction(record.clone())];
        let mut evs = vec![
            submitted.clone(),
            events::verdict(record, EventType::ActionAllowed, actor),
        ];
        if let Some(mut used) = single {
            let expected_version = used.version;
            used.version += 1;
            used.consumed_by = Some(record.id.clone());
            evs.push(events::event(
                &used,
                EventType::ActionConsumed,
                actor,
                now,
                serde_json::json!({"consumed_by": record.id, "digest": used.digest}),
            ));
            ops.push(Op::UpdateAction {
                record: used,
                expected_version,
            });
        }
        match self.store.apply(Change::new(ops, evs)).await {
            Ok(_) => Ok(Some(record.clone())),
            // Someone else used the approval first: this submission is held like any other.
            Err(StoreError::Conflict(_)) => {
                record.granted_by = None;
                record.verdict.reason = held_reason;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}
