//! What reviewer channels are told, queued with the change itself: [`Gate::commit`] adds
//! an `Op::Enqueue` per configured channel for each hold the change creates, reviews or
//! decides, so the message is written in the same transaction and a crash loses none.
//! The payload is the masked [`ReviewRequest`] and nothing else.

use crate::Gate;
use holdpoint_core::outbox::{OutboxEvent, OutboxItem};
use holdpoint_core::review_request::ReviewRequest;
use holdpoint_core::{ActionRecord, AuditEvent, Change, EventType, Op, Status, StoreError};
use serde_json::json;

impl Gate {
    /// Applies `change` with its outbox items, if any channel is configured.
    pub(crate) async fn commit(&self, mut change: Change) -> Result<Vec<AuditEvent>, StoreError> {
        if !self.settings.channels.is_empty() {
            let items = self.outbox_items(&change);
            change.ops.extend(items.into_iter().map(Op::Enqueue));
        }
        let watched = self.hold_changes.receiver_count() > 0;
        let changes: Vec<crate::HoldChange> = if watched {
            hold_changes(&change)
        } else {
            Vec::new()
        };
        let applied = self.store.apply(change).await;
        if applied.is_ok() {
            self.delivery_kick.notify_one();
            for c in changes {
                // No receiver left is not an error: nobody is watching.
                let _ = self.hold_changes.send(c);
            }
        }
        applied
    }

    fn outbox_items(&self, change: &Change) -> Vec<OutboxItem> {
        let now = self.clock.now();
        let mut items = Vec::new();
        for op in &change.ops {
            let record = match op {
                Op::InsertAction(record) | Op::UpdateAction { record, .. } => record,
                _ => continue,
            };
            let Some(event) = outbox_event(record, change) else {
                continue;
            };
            let request = ReviewRequest::new(
                record,
                self.masker.as_ref(),
                self.settings.public_url.as_deref(),
            );
            let payload = json!({
                "type": event.as_str(),
                "action_id": record.id.to_string(),
                "status": record.status,
                "consumed": record.consumed_by.is_some(),
                "request": request,
            });
            for channel in &self.settings.channels {
                items.push(OutboxItem {
                    id: format!("msg_{}", ulid::Ulid::new()),
                    channel: channel.clone(),
                    event,
                    action_id: record.id.to_string(),
                    payload: payload.clone(),
                    created_at: now,
                });
            }
        }
        items
    }
}

/// The holds a change creates, reviews or decides, for live views.
fn hold_changes(change: &Change) -> Vec<crate::HoldChange> {
    change
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::InsertAction(record) | Op::UpdateAction { record, .. } => Some(record),
            _ => None,
        })
        .filter_map(|record| {
            outbox_event(record, change).map(|event| crate::HoldChange {
                event,
                record: std::sync::Arc::new(record.clone()),
            })
        })
        .collect()
}

/// What a change means for the channels, for one held action it writes.
fn outbox_event(record: &ActionRecord, change: &Change) -> Option<OutboxEvent> {
    record.hold.as_ref()?;
    let types: Vec<EventType> = change
        .events
        .iter()
        .filter(|e| e.action_id.as_ref() == Some(&record.id))
        .map(|e| e.event_type)
        .collect();
    if types.contains(&EventType::HoldCreated) {
        return Some(OutboxEvent::HoldCreated);
    }
    let reviewed = types
        .iter()
        .any(|t| matches!(t, EventType::ReviewApproved | EventType::ReviewRejected));
    match record.status {
        Status::Pending if reviewed => Some(OutboxEvent::HoldReviewed),
        Status::Pending => None,
        _ if types.is_empty() => None,
        _ => Some(OutboxEvent::HoldDecided),
    }
}
