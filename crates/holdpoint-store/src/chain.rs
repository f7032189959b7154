//! Appending to the audit chain, inside the writer's transaction.

use crate::db::{Conn, args};
use crate::error::from_sqlx;
use crate::time::to_micros;
use holdpoint_core::audit::GENESIS_HASH;
use holdpoint_core::{AuditEvent, SealedEvent, StoreError};

/// The last event of the chain: where the next one attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    fn genesis() -> Self {
        Head {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// Reads the head. Called under the writer's lock, at the start of every batch, so a
/// failed batch or another replica's commit is always seen.
pub(crate) async fn head(conn: &mut Conn<'_>) -> Result<Head, StoreError> {
    let last: Option<(i64, String)> = conn
        .fetch_optional(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            args![],
        )
        .await
        .map_err(from_sqlx)?;
    Ok(last.map_or_else(Head::genesis, |(seq, hash)| Head { seq, hash }))
}

const INSERT: &str = "INSERT INTO audit \
    (seq, time, type, actor_kind, actor_name, actor_channel, action_id, data, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Chains `events` after `head` and inserts them. Returns them as chained and the new head;
/// the caller keeps the old head if anything later in the same change fails.
pub(crate) async fn append(
    conn: &mut Conn<'_>,
    head: &Head,
    events: Vec<SealedEvent>,
) -> Result<(Vec<AuditEvent>, Head), StoreError> {
    let mut next = head.clone();
    let chained = link(&mut next, events);
    for ev in &chained {
        conn.execute(INSERT, row(ev)).await.map_err(from_sqlx)?;
    }
    Ok((chained, next))
}

/// Columns of the audit table, in the order of [`row`].
pub(crate) const COLUMNS: &str =
    "seq, time, type, actor_kind, actor_name, actor_channel, action_id, data, prev_hash, hash";

/// Chains `events` after `head` in memory, without writing them.
pub(crate) fn link(head: &mut Head, events: Vec<SealedEvent>) -> Vec<AuditEvent> {
    events
        .into_iter()
        .map(|event| {
            let ev = event.chain(head.seq, &head.hash);
            head.seq = ev.seq;
            head.hash.clone_from(&ev.hash);
            ev
        })
        .collect()
}

/// The column values of an event, in the order of [`COLUMNS`].
pub(crate) fn row(ev: &AuditEvent) -> Vec<crate::db::Arg> {
    args![
        ev.seq,
        to_micros(ev.time),
        ev.event_type.as_str(),
        &ev.actor.kind,
        &ev.actor.name,
        &ev.actor.channel,
        ev.action_id.as_ref().map(|id| id.0.clone()),
        ev.data.to_string(),
        &ev.prev_hash,
        &ev.hash,
    ]
}
