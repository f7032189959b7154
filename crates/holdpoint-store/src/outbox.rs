//! The outbox table: messages queued with the change they tell of (`Op::Enqueue`), their
//! delivery attempts (`Op::RecordAttempt`), and the worker's reads.

use crate::db::{Arg, Conn, Db, args};
use crate::error::{corrupt, from_sqlx};
use crate::time::{from_micros, opt_from_micros, opt_to_micros, to_micros};
use holdpoint_core::outbox::{Delivery, OutboxEvent, OutboxItem};
use holdpoint_core::{StoreError, Timestamp};

const COLUMNS: &str = "id, channel, event, action_id, payload, created_at, attempts, \
    next_attempt_at, delivered_at, last_error";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    channel: String,
    event: String,
    action_id: String,
    payload: String,
    created_at: i64,
    attempts: i64,
    next_attempt_at: i64,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

impl Row {
    fn into_delivery(self) -> Result<Delivery, StoreError> {
        let what = format!("outbox item `{}`", self.id);
        let event = OutboxEvent::parse(&self.event)
            .ok_or_else(|| corrupt(&what, format!("unknown event `{}`", self.event)))?;
        Ok(Delivery {
            item: OutboxItem {
                payload: serde_json::from_str(&self.payload).map_err(|e| corrupt(&what, e))?,
                created_at: from_micros(self.created_at, &what)?,
                id: self.id,
                channel: self.channel,
                event,
                action_id: self.action_id,
            },
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_at: from_micros(self.next_attempt_at, &what)?,
            delivered_at: opt_from_micros(self.delivered_at, &what)?,
            last_error: self.last_error,
        })
    }
}

/// The columns [`row`] fills, for multi-row inserts.
pub(crate) const INSERT_COLUMNS: &str =
    "id, channel, event, action_id, payload, created_at, attempts, next_attempt_at";
pub(crate) const INSERT_WIDTH: usize = 8;

/// One new item as insert arguments: due at once, no attempt yet.
pub(crate) fn row(item: &OutboxItem) -> Result<Vec<Arg>, StoreError> {
    let payload = serde_json::to_string(&item.payload)
        .map_err(|e| StoreError::Unavailable(format!("cannot encode an outbox item: {e}")))?;
    let at = to_micros(item.created_at);
    Ok(args![
        &item.id,
        &item.channel,
        item.event.as_str(),
        &item.action_id,
        payload,
        at,
        0_i64,
        at
    ])
}

/// `Op::Enqueue`: due at once.
pub(crate) async fn enqueue(conn: &mut Conn<'_>, item: &OutboxItem) -> Result<(), StoreError> {
    let values: Vec<String> = (1..=INSERT_WIDTH).map(|i| format!("${i}")).collect();
    conn.execute(
        sqlx::AssertSqlSafe(format!(
            "INSERT INTO outbox ({INSERT_COLUMNS}) VALUES ({})",
            values.join(", ")
        )),
        row(item)?,
    )
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// `Op::RecordAttempt`: [`StoreError::NotFound`] for an unknown or delivered item, so an
/// attempt recorded twice (two workers) counts once.
pub(crate) async fn record_attempt(
    conn: &mut Conn<'_>,
    id: &str,
    delivered_at: Option<Timestamp>,
    next_attempt_at: Timestamp,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let changed = conn
        .execute(
            "UPDATE outbox SET attempts = attempts + 1, delivered_at = $2, next_attempt_at = $3, \
             last_error = $4 WHERE id = $1 AND delivered_at IS NULL",
            args![
                id,
                opt_to_micros(delivered_at),
                to_micros(next_attempt_at),
                error.map(str::to_string)
            ],
        )
        .await
        .map_err(from_sqlx)?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!(
            "no undelivered outbox item `{id}`"
        )));
    }
    Ok(())
}

/// `Op::RecordChannelMessage`.
pub(crate) async fn record_message(
    conn: &mut Conn<'_>,
    action_id: &str,
    channel: &str,
    reference: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM channel_messages WHERE action_id = $1 AND channel = $2",
        args![action_id, channel],
    )
    .await
    .map_err(from_sqlx)?;
    conn.execute(
        "INSERT INTO channel_messages (action_id, channel, reference, created_at) \
         VALUES ($1, $2, $3, $4)",
        args![action_id, channel, reference, to_micros(at)],
    )
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

pub(crate) async fn message(
    db: &Db,
    action_id: &str,
    channel: &str,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = db
        .fetch_optional(
            "SELECT reference FROM channel_messages WHERE action_id = $1 AND channel = $2",
            args![action_id, channel],
        )
        .await
        .map_err(from_sqlx)?;
    Ok(row.map(|(r,)| r))
}

/// Due items, each only once every earlier item of its action and channel is delivered:
/// a channel hears of one hold in order, whatever failed and was retried.
pub(crate) async fn due(db: &Db, now: Timestamp, limit: u32) -> Result<Vec<Delivery>, StoreError> {
    let rows: Vec<Row> = db
        .fetch_all(
            sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM outbox earlier WHERE earlier.delivered_at IS NULL \
                   AND earlier.action_id = outbox.action_id AND earlier.channel = outbox.channel \
                   AND (earlier.created_at < outbox.created_at \
                        OR (earlier.created_at = outbox.created_at AND earlier.id < outbox.id))) \
                 ORDER BY next_attempt_at, id LIMIT $2"
            )),
            args![to_micros(now), i64::from(limit)],
        )
        .await
        .map_err(from_sqlx)?;
    rows.into_iter().map(Row::into_delivery).collect()
}

pub(crate) async fn next(db: &Db) -> Result<Option<Timestamp>, StoreError> {
    let row: Option<(Option<i64>,)> = db
        .fetch_optional(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE delivered_at IS NULL",
            args![],
        )
        .await
        .map_err(from_sqlx)?;
    match row.and_then(|(at,)| at) {
        Some(at) => Ok(Some(from_micros(at, "the outbox")?)),
        None => Ok(None),
    }
}

pub(crate) async fn list(
    db: &Db,
    undelivered: bool,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let filter = if undelivered {
        "WHERE delivered_at IS NULL "
    } else {
        ""
    };
    let rows: Vec<Row> = db
        .fetch_all(
            sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM outbox {filter}ORDER BY id DESC LIMIT $1"
            )),
            args![i64::from(limit)],
        )
        .await
        .map_err(from_sqlx)?;
    rows.into_iter().map(Row::into_delivery).collect()
}

pub(crate) async fn depth(db: &Db) -> Result<i64, StoreError> {
    let (count,): (i64,) = db
        .fetch_optional(
            "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL",
            args![],
        )
        .await
        .map_err(from_sqlx)?
        .unwrap_or((0,));
    Ok(count)
}
