//! Submit: validate, digest, evaluate, then allow, deny, pass on a grant, or hold.

use crate::events::{self, actor};
use crate::{Gate, GateError, metrics};
use holdpoint_core::digest::{Binding, action_digest, pin_of};
use holdpoint_core::{
    ActionId, ActionRecord, ActionRequest, Change, Evaluation, EventType, Hold, Identity, Op,
    Outcome, Principal, PrincipalKind, Status,
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
    /// True when the surface executes the action itself (tokens, proxies): reading an
    /// approved action then hands nothing over; the surface's own resubmission uses it.
    pub executes: bool,
}

impl SurfaceContext {
    /// The surface and context a stored action came with.
    pub fn of_record(record: &ActionRecord) -> Self {
        SurfaceContext {
            surface: record.surface.clone(),
            extra: record.context.clone(),
            executes: record.executed_by_gateway,
        }
    }

    /// A surface whose client executes the action itself (API, CLI, hooks).
    pub fn named(surface: &str) -> Self {
        SurfaceContext {
            surface: surface.to_string(),
            extra: None,
            executes: false,
        }
    }
}

/// Admins manage holdpoint; they do not submit (DESIGN §1), whatever the surface.
pub fn may_submit(caller: &Identity) -> Result<(), GateError> {
    match caller.principal.kind {
        PrincipalKind::Agent | PrincipalKind::User => Ok(()),
        PrincipalKind::Admin => Err(GateError::Forbidden(
            "admin tokens manage holdpoint; submit actions with an agent or user token".into(),
        )),
    }
}

impl Gate {
    /// What policy says of `request` from `caller` now, writing nothing: for a surface
    /// that lets an allowed action through without recording each one (the PostgreSQL
    /// proxy's reads) or shows what a tool would need (MCP's `tools/list`). Refuses
    /// admins, as [`Gate::submit`] does.
    pub fn check(
        &self,
        caller: &Identity,
        request: &ActionRequest,
        ctx: &SurfaceContext,
    ) -> Result<Evaluation, GateError> {
        may_submit(caller)?;
        Ok(self.evaluate(caller, request, ctx))
    }

    /// Policy's verdict for an action of `subject` (the caller, or with `principal`
    /// another principal as they are now, which only an admin may ask), with `groups`
    /// added, holding nothing. Only humans explain.
    pub async fn explain(
        &self,
        caller: &Identity,
        principal: Option<Principal>,
        groups: Vec<String>,
        request: &ActionRequest,
        surface: &str,
    ) -> Result<(Identity, Evaluation), GateError> {
        if !caller.principal.kind.is_human() {
            return Err(GateError::Forbidden("agents may not do this".into()));
        }
        let mut subject = match principal {
            None => caller.clone(),
            Some(principal) => {
                // Another principal's groups are the admins' business only.
                if caller.principal.kind != PrincipalKind::Admin && !caller.is(&principal) {
                    return Err(GateError::Forbidden(
                        "only an admin may explain policy for another principal".into(),
                    ));
                }
                match self.live_identity(&principal).await? {
                    Some(identity) => identity,
                    None => Identity {
                        principal,
                        groups: Vec::new(),
                        owner: None,
                    },
                }
            }
        };
        subject.groups.extend(groups);
        request.validate().map_err(GateError::Invalid)?;
        let evaluation = self.evaluate(&subject, request, &SurfaceContext::named(surface));
        Ok((subject, evaluation))
    }

    /// Evaluates `request` for `caller` against the current policy set.
    pub(crate) fn evaluate(
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
        let mut evaluation = match crate::parts::parts_of(ctx.extra.as_ref()) {
            Ok(parts) if parts.is_empty() => self.policy.evaluate(&input),
            Ok(parts) => {
                let mut all = vec![self.policy.evaluate(&input)];
                for part in &parts {
                    let merged = part.context_over(ctx.extra.as_ref());
                    all.push(self.policy.evaluate(&PolicyInput {
                        kind: &part.kind,
                        resource: &part.resource,
                        extra: merged.as_ref().or(ctx.extra.as_ref()),
                        ..input
                    }));
                }
                crate::parts::strictest(all)
            }
            Err(message) => Evaluation::deny(message),
        };
        metrics::policy_evaluation(started.elapsed());
        // The reason is shown to agents and stored: nothing raw from the action in it.
        if evaluation.outcome() == Outcome::Deny {
            evaluation = evaluation.map_reason(|r| self.masker.mask_text(r));
        }
        evaluation
    }

    /// Submits an action. The returned record is already durable, with its audit events.
    /// Admins are refused ([`may_submit`]). Surfaces that wait for a hold use
    /// [`Gate::ask`], which submits through here.
    pub async fn submit(
        &self,
        caller: &Identity,
        request: ActionRequest,
        ctx: SurfaceContext,
    ) -> Result<ActionRecord, GateError> {
        may_submit(caller)?;
        self.submit_as(caller, request, ctx).await
    }

    /// [`Gate::submit`] for any principal: only the gate's own token requests, which
    /// admins make, come through here directly.
    pub(crate) async fn submit_as(
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
            Binding {
                surface: &ctx.surface,
                pin: pin_of(ctx.extra.as_ref()),
            },
        );
        let mut record = ActionRecord {
            id: ActionId::new(),
            status: Status::Denied,
            version: 1,
            principal: caller.principal.clone(),
            owner: caller.owner.clone(),
            masked_params: self.masker.mask_value(&request.params),
            // Policy and the digest saw the raw resource; only this one is shown.
            masked_resource: self.masker.mask_resource(&request.resource),
            kind: request.kind,
            resource: request.resource,
            environment: request.environment,
            params: request.params,
            // Stored masked: only the params are needed raw, to prove and execute.
            justification: self.masker.mask_text(&request.justification),
            digest,
            surface: ctx.surface,
            verdict: evaluation.verdict().clone(),
            hold: None,
            grant_until: None,
            consumed_by: None,
            granted_by: None,
            created_at: now,
            decided_at: Some(now),
            approval_until: None,
            context: ctx.extra,
            executed_by_gateway: ctx.executes,
        };
        let actor = actor(caller, &record.surface);
        let submitted = events::submitted(&record, &actor);

        let (verdict, terms) = evaluation.into_parts();
        match terms {
            Some(terms) => self.hold(caller, record, terms, actor, submitted).await,
            None => {
                let (status, event_type) = match verdict.outcome {
                    Outcome::Allow => (Status::Allowed, EventType::ActionAllowed),
                    _ => (Status::Denied, EventType::ActionDenied),
                };
                record.status = status;
                let decided = events::verdict(&record, event_type, &actor);
                self.commit(Change::new(
                    vec![Op::InsertAction(record.clone())],
                    vec![submitted, decided],
                ))
                .await?;
                metrics::decision(status.as_str());
                Ok(record)
            }
        }
    }

    /// A held action: passed at once on an earlier approval that still satisfies
    /// policy, answered with the same pending hold when it repeats one, or held anew.
    async fn hold(
        &self,
        caller: &Identity,
        mut record: ActionRecord,
        terms: holdpoint_core::HoldTerms,
        actor: holdpoint_core::Actor,
        submitted: holdpoint_core::NewEvent,
    ) -> Result<ActionRecord, GateError> {
        let now = record.created_at;
        if let Some(passed) = self
            .pass_on_grant(caller, &mut record, &terms, &actor, &submitted)
            .await?
        {
            metrics::decision("allowed");
            return Ok(passed);
        }
        // A repeat of a call that is already held (an agent retrying, a hook run
        // again) is answered with that hold: reviewers see one request, and its
        // approval passes the repeat that follows. Only when that hold asks for at least
        // what this evaluation asks: the same digest may come with another surface's
        // context (a statement's tables) that policy holds for more people, and a decoy
        // opened without it must not stand in for it.
        //
        // The digest covers the surface, so the repeat comes from the same principal
        // through the same surface: a hold opened through `POST /v1/actions` (wording
        // the agent chose) is never joined by a proxy's call. Each join is audited
        // (`hold.joined`), so the log shows every submission waiting on the hold.
        if let Some(held) = self
            .store
            .pending_with_digest(&record.principal, &record.digest)
            .await?
            .filter(|held| held.hold.as_ref().is_some_and(|h| asks_at_least(h, &terms)))
        {
            let joined = events::event(
                &held,
                EventType::HoldJoined,
                &actor,
                now,
                serde_json::json!({
                    "surface": record.surface,
                    "principal": record.principal,
                    "same_context": held.context == record.context,
                }),
            );
            self.commit(Change::new(Vec::new(), vec![joined])).await?;
            return Ok(held);
        }
        let _creating = self.check_pending(&record.principal).await?;
        let expires_at = crate::grant::after(now, terms.expires)
            .ok_or_else(|| GateError::Invalid("hold expiry is too long".into()))?;
        record.status = Status::Pending;
        record.decided_at = None;
        record.hold = Some(Hold {
            title: terms.title,
            requirements: terms.requirements,
            expires_at,
            reviews: Vec::new(),
            separate: terms.separate,
            grant_window: terms.grant,
            slack_channel: terms.slack_channel,
        });
        let created = events::verdict(&record, EventType::HoldCreated, &actor);
        self.commit(Change::new(
            vec![Op::InsertAction(record.clone())],
            vec![submitted, created],
        ))
        .await?;
        metrics::hold_opened();
        self.expiry_kick.notify_one();
        Ok(record)
    }
}

/// True when `hold` asks for at least what `terms` ask: every requirement of the terms
/// among its own, and `@separate` if they say so.
fn asks_at_least(hold: &Hold, terms: &holdpoint_core::HoldTerms) -> bool {
    terms
        .requirements
        .iter()
        .all(|r| hold.requirements.contains(r))
        && (hold.separate || !terms.separate)
}
