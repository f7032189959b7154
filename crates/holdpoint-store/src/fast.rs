//! The writer's fast path: a whole batch with one multi-row insert for its new actions and
//! one for its audit events, no savepoints. Any change that fails (a version conflict, a
//! duplicate) makes the whole attempt roll back, and the writer redoes the batch one
//! savepoint per change. Failures are rare (lost races between reviewers), so nearly
//! every batch takes this path.

use crate::db::{Arg, Conn, Db};
use crate::writer::{Outcome, Prepared, apply_op, batch_error, unavailable};
use crate::{actions, bulk, chain, outbox};
use holdpoint_core::{Op, StoreError};

const EVENT_WIDTH: usize = 10;

/// Writes the batch, or returns `None` (having written nothing) when a change failed.
pub(crate) async fn write(
    db: &Db,
    changes: &[Prepared],
) -> Result<Option<Vec<Outcome>>, StoreError> {
    let mut tx = db.begin_write().await.map_err(unavailable)?;
    let attempt = {
        let mut conn = tx.conn();
        attempt(&mut conn, changes).await
    };
    match attempt {
        Ok(Some(outcomes)) => {
            tx.commit().await.map_err(unavailable)?;
            Ok(Some(outcomes))
        }
        Ok(None) => {
            tx.rollback().await.map_err(unavailable)?;
            Ok(None)
        }
        Err(err) => {
            // The batch failed as a whole: its connection is not reused.
            tx.discard().await;
            Err(err)
        }
    }
}

async fn attempt(
    conn: &mut Conn<'_>,
    changes: &[Prepared],
) -> Result<Option<Vec<Outcome>>, StoreError> {
    let mut head = chain::head(conn).await.map_err(batch_error)?;
    let mut new_actions: Vec<Vec<Arg>> = Vec::new();
    // Outbox items reference nothing and nothing references them: inserted last, at once.
    let mut new_items: Vec<Vec<Arg>> = Vec::new();
    let mut events = Vec::new();
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        for op in &change.ops {
            if let Op::InsertAction(record) = op {
                match actions::row(record) {
                    Ok(row) => new_actions.push(row),
                    Err(_) => return Ok(None),
                }
                continue;
            }
            if let Op::Enqueue(item) = op {
                match outbox::row(item) {
                    Ok(row) => new_items.push(row),
                    Err(_) => return Ok(None),
                }
                continue;
            }
            // Keep the order of writes: earlier inserts land before a later update.
            if !insert_actions(conn, &mut new_actions).await? {
                return Ok(None);
            }
            match apply_op(conn, op).await {
                Ok(()) => {}
                Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => return Ok(None),
                Err(e) => return Err(batch_error(e)),
            }
        }
        let chained = chain::link(&mut head, change.events.clone());
        events.extend(chained.iter().map(chain::row));
        outcomes.push(Ok(chained));
    }
    if !insert_actions(conn, &mut new_actions).await? {
        return Ok(None);
    }
    if !new_items.is_empty() {
        let expected = new_items.len() as u64;
        let inserted = bulk::insert(
            conn,
            "outbox",
            outbox::INSERT_COLUMNS,
            outbox::INSERT_WIDTH,
            new_items,
            true,
        )
        .await
        .map_err(unavailable)?;
        if inserted != expected {
            return Ok(None);
        }
    }
    let expected = events.len() as u64;
    let inserted = bulk::insert(conn, "audit", chain::COLUMNS, EVENT_WIDTH, events, false)
        .await
        .map_err(unavailable)?;
    if inserted != expected {
        return Err(StoreError::Unavailable(format!(
            "audit insert wrote {inserted} of {expected} events"
        )));
    }
    Ok(Some(outcomes))
}

/// Inserts the queued new actions; false when any of them already existed.
async fn insert_actions(conn: &mut Conn<'_>, rows: &mut Vec<Vec<Arg>>) -> Result<bool, StoreError> {
    if rows.is_empty() {
        return Ok(true);
    }
    let expected = rows.len() as u64;
    let inserted = bulk::insert(
        conn,
        "actions",
        actions::COLUMNS,
        actions::WIDTH,
        std::mem::take(rows),
        true,
    )
    .await
    .map_err(unavailable)?;
    Ok(inserted == expected)
}
