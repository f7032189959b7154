//! The audit events each change writes. Only masked data enters them; the digest proves
//! the unmasked action.

use holdpoint_core::{ActionRecord, Actor, EventType, Identity, NewEvent, Review, Timestamp};
use serde_json::{Value, json};

/// The actor of a caller through a channel.
pub fn actor(caller: &Identity, channel: &str) -> Actor {
    Actor::new(
        caller.principal.kind.as_str(),
        &caller.principal.name,
        channel,
    )
}

pub fn event(
    record: &ActionRecord,
    t: EventType,
    actor: &Actor,
    now: Timestamp,
    data: Value,
) -> NewEvent {
    NewEvent::new(now, t, actor.clone(), Some(&record.id), data)
}

/// `action.submitted`: the masked action and the digest of the unmasked one. The
/// record's justification is already masked; its resource and params are shown masked.
pub fn submitted(record: &ActionRecord, actor: &Actor) -> NewEvent {
    event(
        record,
        EventType::ActionSubmitted,
        actor,
        record.created_at,
        json!({
            "principal": record.principal,
            "owner": record.owner,
            "kind": record.kind,
            "resource": record.masked_resource,
            "environment": record.environment,
            "params": record.masked_params,
            "justification": record.justification,
            "digest": record.digest,
            "surface": record.surface,
        }),
    )
}

/// `action.allowed`, `action.denied` or `hold.created`, from the verdict.
pub fn verdict(record: &ActionRecord, t: EventType, actor: &Actor) -> NewEvent {
    let mut data = json!({ "verdict": record.verdict });
    if let (Some(hold), Some(obj)) = (&record.hold, data.as_object_mut()) {
        obj.insert("requirements".into(), json!(hold.requirements));
        obj.insert("expires_at".into(), json!(hold.expires_at));
        obj.insert("separate".into(), json!(hold.separate));
        obj.insert(
            "grant_window_secs".into(),
            json!(hold.grant_window.map(|d| d.as_secs())),
        );
    }
    if let (Some(by), Some(obj)) = (&record.granted_by, data.as_object_mut()) {
        obj.insert("granted_by".into(), json!(by));
    }
    event(record, t, actor, record.created_at, data)
}

/// `review.approved` or `review.rejected`; the review's comment is already masked.
pub fn review(record: &ActionRecord, review: &Review, actor: &Actor) -> NewEvent {
    let t = match review.decision {
        holdpoint_core::Decision::Approve => EventType::ReviewApproved,
        holdpoint_core::Decision::Reject => EventType::ReviewRejected,
    };
    event(
        record,
        t,
        actor,
        review.at,
        json!({"comment": review.comment, "groups": review.groups, "digest": record.digest}),
    )
}
