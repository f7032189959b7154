//! Reading the audit log back, and verifying the whole chain.

use crate::db::{Db, args};
use crate::error::{corrupt, from_sqlx};
use crate::time::from_micros;
use holdpoint_core::audit::{ChainReport, ChainVerifier, EventType};
use holdpoint_core::{ActionId, Actor, AuditEvent, StoreError};

const PAGE: i64 = 1000;

const EVENTS_AFTER: &str = "SELECT seq, time, type AS event_type, actor_kind, actor_name, \
    actor_channel, action_id, data, prev_hash, hash \
    FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2";

/// The first page of a verification: from the lowest seq, whatever it is.
const FIRST_EVENTS: &str = "SELECT seq, time, type AS event_type, actor_kind, actor_name, \
    actor_channel, action_id, data, prev_hash, hash \
    FROM audit ORDER BY seq LIMIT $1";

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    time: i64,
    event_type: String,
    actor_kind: String,
    actor_name: String,
    actor_channel: String,
    action_id: Option<String>,
    data: String,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    fn into_event(self) -> Result<AuditEvent, StoreError> {
        let what = |field: &str| format!("audit event {} {field}", self.seq);
        let event_type = EventType::parse(&self.event_type).ok_or_else(|| {
            corrupt(
                &what("type"),
                format!("unknown event type `{}`", self.event_type),
            )
        })?;
        let time = from_micros(self.time, &what("time"))?;
        let data = serde_json::from_str(&self.data).map_err(|e| corrupt(&what("data"), e))?;
        Ok(AuditEvent {
            seq: self.seq,
            time,
            event_type,
            actor: Actor::new(self.actor_kind, self.actor_name, self.actor_channel),
            action_id: self.action_id.map(ActionId),
            data,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Events with `seq > after`, in order, at most `limit`.
pub(crate) async fn events_after(
    db: &Db,
    after: i64,
    limit: u32,
) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<AuditRow> = db
        .fetch_all(EVENTS_AFTER, args![after, i64::from(limit)])
        .await
        .map_err(from_sqlx)?;
    rows.into_iter().map(AuditRow::into_event).collect()
}

/// Verifies the whole chain, page by page. Unlike the trait's default it also reads rows
/// at seq 0 or below (an event slipped in before the first one), and it reports a row that
/// no longer parses as a break at that seq rather than failing the whole verification.
pub(crate) async fn verify(db: &Db) -> Result<ChainReport, StoreError> {
    let mut verifier = ChainVerifier::default();
    let mut after: Option<i64> = None;
    loop {
        let page = match after {
            None => db.fetch_all(FIRST_EVENTS, args![PAGE]).await,
            Some(after) => db.fetch_all(EVENTS_AFTER, args![after, PAGE]).await,
        };
        let rows: Vec<AuditRow> = page.map_err(from_sqlx)?;
        let Some(last) = rows.last() else { break };
        after = Some(last.seq);
        for row in rows {
            let seq = row.seq;
            match row.into_event() {
                Ok(event) => verifier.push(&event),
                Err(err) => return Ok(unreadable(verifier, seq, &err)),
            }
        }
    }
    Ok(verifier.finish())
}

/// The report when the event at `seq` cannot be read: an edit the hash cannot even be
/// computed for. A break found earlier still wins.
fn unreadable(verifier: ChainVerifier, seq: i64, err: &StoreError) -> ChainReport {
    let report = verifier.finish();
    if !report.ok {
        return report;
    }
    let expected = report.events + 1;
    ChainReport {
        ok: false,
        events: report.events + 1,
        head: report.head,
        bad_seq: Some(expected.min(seq)),
        reason: Some(format!(
            "the event at seq {seq} cannot be read (it was edited): {err}"
        )),
    }
}
