//! Group commit: one writer task applies every [`Change`], many per transaction.
//!
//! `apply` sends its change down a channel and waits for the answer. The writer takes
//! everything queued (up to [`MAX_BATCH`]), opens one transaction, takes the chain lock,
//! reads the chain head, and applies each change inside its own savepoint: a change that
//! fails is rolled back to its savepoint and only its caller hears the error. Then one
//! commit (one fsync on SQLite) answers the whole batch. If the commit fails, every caller
//! in the batch gets `Unavailable`; the next batch reads the head afresh, so nothing the
//! failed batch meant to write is assumed anywhere.

use crate::chain::{self, Head};
use crate::db::{Conn, Db, args};
use crate::{actions, fast, outbox, sessions, tokens};
use holdpoint_core::{AuditEvent, Change, Op, SealedEvent, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Most changes committed in one transaction.
pub(crate) const MAX_BATCH: usize = 512;
/// How much the readiness probe writes.
const PROBE_BYTES: usize = 64 * 1024;
/// Changes that may wait for the writer before `apply` itself waits to enqueue.
const QUEUE: usize = 4 * MAX_BATCH;

pub(crate) type Outcome = Result<Vec<AuditEvent>, StoreError>;

/// A change made ready for the writer: each event's canonical JSON is computed here, in
/// the caller's task, so the single writer only chains and hashes.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub ops: Vec<Op>,
    pub events: Vec<SealedEvent>,
}

impl Prepared {
    fn new(change: Change) -> Self {
        Prepared {
            ops: change.ops,
            events: change.events.into_iter().map(SealedEvent::new).collect(),
        }
    }
}

struct Job {
    change: Prepared,
    reply: oneshot::Sender<Outcome>,
}

/// The handle on the writer task. Without a task (an inspected store), writes are refused.
pub(crate) struct Writer {
    queue: Mutex<Option<mpsc::Sender<Job>>>,
    /// Held while stopping, so a second `stop` waits for the first to finish.
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    refusal: &'static str,
    /// False from a failed batch until a batch or a probe succeeds.
    healthy: Arc<AtomicBool>,
    db: Option<Db>,
    /// The last probe and when it finished: one probe runs at a time, and callers that
    /// waited for it take its outcome, so an unauthenticated `/readyz` flood costs at most
    /// one probe in flight.
    last_probe: tokio::sync::Mutex<Option<(std::time::Instant, Result<(), StoreError>)>>,
}

impl Writer {
    /// Starts the writer task on `db`.
    pub(crate) fn start(db: Db) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let healthy = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn(run(db.clone(), rx, healthy.clone()));
        Writer {
            queue: Mutex::new(Some(tx)),
            task: tokio::sync::Mutex::new(Some(task)),
            refusal: "the store is closed",
            healthy,
            db: Some(db),
            last_probe: tokio::sync::Mutex::new(None),
        }
    }

    /// A writer that refuses every change.
    pub(crate) fn read_only() -> Self {
        Writer {
            queue: Mutex::new(None),
            task: tokio::sync::Mutex::new(None),
            refusal: "the store was opened for inspection and does not write",
            healthy: Arc::new(AtomicBool::new(false)),
            db: None,
            last_probe: tokio::sync::Mutex::new(None),
        }
    }

    /// False while the last batch failed.
    pub(crate) fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Writes and commits the probe row on a connection of its own; on success the store
    /// counts as writable again.
    pub(crate) async fn probe(&self) -> Result<(), StoreError> {
        let asked = std::time::Instant::now();
        let mut last = self.last_probe.lock().await;
        if let Some((finished, outcome)) = last.as_ref()
            && *finished >= asked
        {
            return outcome.clone();
        }
        let outcome = self.probe_now().await;
        *last = Some((std::time::Instant::now(), outcome.clone()));
        outcome
    }

    async fn probe_now(&self) -> Result<(), StoreError> {
        let Some(db) = &self.db else {
            return Err(StoreError::Unavailable(self.refusal.into()));
        };
        let mut tx = db.begin_write().await.map_err(unavailable)?;
        #[expect(
            clippy::disallowed_methods,
            reason = "the probe row's time only marks the write; nothing is decided by it"
        )]
        let at = crate::time::to_micros(chrono::Utc::now());
        // Larger than any one change, so success means real changes fit again.
        let pad = "0".repeat(PROBE_BYTES);
        let written = tx
            .conn()
            .execute(
                "INSERT INTO store_probe (id, at, pad) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
                crate::db::args![at, pad],
            )
            .await;
        match written {
            Ok(_) => tx.commit().await.map_err(unavailable)?,
            Err(e) => {
                tx.discard().await;
                return Err(unavailable(e));
            }
        }
        self.healthy.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Hands `change` to the writer and waits until it is committed or refused.
    pub(crate) async fn submit(&self, change: Change) -> Outcome {
        let queue = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(queue) = queue else {
            return Err(StoreError::Unavailable(self.refusal.into()));
        };
        let (reply, answer) = oneshot::channel();
        queue
            .send(Job {
                change: Prepared::new(change),
                reply,
            })
            .await
            .map_err(|_| StoreError::Unavailable("the store writer has stopped".into()))?;
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the store writer stopped before answering".into(),
            ))
        })
    }

    /// Stops taking changes, lets the writer commit everything already queued, and waits
    /// for it to finish. Calling it again does nothing.
    pub(crate) async fn stop(&self) {
        drop(
            self.queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let mut task = self.task.lock().await;
        if let Some(handle) = task.take()
            && let Err(err) = handle.await
        {
            tracing::error!(error = %err, "the store writer ended abnormally");
        }
    }
}

/// The writer task: runs until every sender is gone and the queue is empty.
async fn run(db: Db, mut rx: mpsc::Receiver<Job>, healthy: Arc<AtomicBool>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (changes, replies): (Vec<Prepared>, Vec<_>) =
            jobs.drain(..).map(|job| (job.change, job.reply)).unzip();
        let size = changes.len();
        match write_batch(&db, changes).await {
            Ok(outcomes) => {
                let failed = outcomes.iter().filter(|o| o.is_err()).count();
                let unavailable = outcomes
                    .iter()
                    .any(|o| matches!(o, Err(StoreError::Unavailable(_))));
                healthy.store(!unavailable, Ordering::Relaxed);
                tracing::trace!(batch = size, failed, "store batch committed");
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The caller may have gone away; its change is committed regardless.
                    let _ = reply.send(outcome);
                }
            }
            Err(err) => {
                healthy.store(false, Ordering::Relaxed);
                tracing::warn!(batch = size, error = %err, "store batch failed; nothing was written");
                for reply in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }
}

/// One transaction for the whole batch. `Err` means nothing was committed; `Ok` holds one
/// outcome per change, in order. The fast path writes the batch with multi-row inserts and
/// no savepoints; if any change in it fails, it is rolled back whole and the batch is
/// written again here, one savepoint per change, so only the failing change fails.
async fn write_batch(db: &Db, changes: Vec<Prepared>) -> Result<Vec<Outcome>, StoreError> {
    if let Some(outcomes) = fast::write(db, &changes).await? {
        return Ok(outcomes);
    }
    write_carefully(db, changes).await
}

async fn write_carefully(db: &Db, changes: Vec<Prepared>) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = db.begin_write().await.map_err(unavailable)?;
    let mut head = chain::head(&mut tx.conn()).await.map_err(batch_error)?;
    let mut outcomes = Vec::with_capacity(changes.len());
    for change in changes {
        let mut conn = tx.conn();
        savepoint(&mut conn, "SAVEPOINT change").await?;
        match apply_change(&mut conn, &head, change).await {
            Ok((events, next)) => {
                savepoint(&mut conn, "RELEASE SAVEPOINT change").await?;
                head = next;
                outcomes.push(Ok(events));
            }
            Err(err) => {
                // If even the rollback fails, the transaction is lost: fail the batch.
                savepoint(&mut conn, "ROLLBACK TO SAVEPOINT change").await?;
                savepoint(&mut conn, "RELEASE SAVEPOINT change").await?;
                outcomes.push(Err(err));
            }
        }
    }
    tx.commit().await.map_err(unavailable)?;
    Ok(outcomes)
}

async fn savepoint(conn: &mut Conn<'_>, sql: &'static str) -> Result<(), StoreError> {
    conn.execute(sql, args![])
        .await
        .map(|_| ())
        .map_err(unavailable)
}

/// Applies one change's ops, then chains and inserts its events after `head`.
async fn apply_change(
    conn: &mut Conn<'_>,
    head: &Head,
    change: Prepared,
) -> Result<(Vec<AuditEvent>, Head), StoreError> {
    for op in &change.ops {
        apply_op(conn, op).await?;
    }
    chain::append(conn, head, change.events).await
}

/// Applies one op on its own.
pub(crate) async fn apply_op(conn: &mut Conn<'_>, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::InsertAction(record) => actions::insert(conn, record).await,
        Op::UpdateAction {
            record,
            expected_version,
        } => actions::update(conn, record, *expected_version).await,
        Op::InsertToken(token) => tokens::insert(conn, token).await,
        Op::RevokeToken { name, at } => tokens::revoke(conn, name, *at).await,
        Op::Enqueue(item) => outbox::enqueue(conn, item).await,
        Op::RecordChannelMessage {
            action_id,
            channel,
            reference,
            at,
        } => outbox::record_message(conn, action_id, channel, reference, *at).await,
        Op::RecordAttempt {
            id,
            delivered_at,
            next_attempt_at,
            error,
        } => {
            outbox::record_attempt(conn, id, *delivered_at, *next_attempt_at, error.as_deref())
                .await
        }
        Op::InsertSession {
            session,
            max_per_principal,
            max_total,
        } => sessions::insert(conn, session, *max_per_principal, *max_total).await,
        Op::TouchSession { key, at } => sessions::touch(conn, key, *at).await,
        Op::EndSession { key } => sessions::end(conn, key).await,
        Op::PurgeExpired { now } => sessions::purge(conn, *now).await,
        Op::Vouch(vouch) => sessions::vouch(conn, vouch).await,
        Op::Unvouch(principal) => sessions::unvouch(conn, principal).await,
    }
}

/// Any failure of the batch as a whole is the store being unavailable.
pub(crate) fn unavailable(err: sqlx::Error) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

pub(crate) fn batch_error(err: StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(_) => err,
        other => StoreError::Unavailable(other.to_string()),
    }
}
