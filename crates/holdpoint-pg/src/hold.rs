//! Judging one message, and a held statement waiting on its open connection.
//!
//! Policy is asked first without writing anything: an allowed message goes on at once
//! and is counted in the connection's summary. Anything else is submitted as a full
//! action. A hold waits, relaying whatever the server still sends, until it is decided,
//! the client sends a cancel request (the hold is withdrawn, SQLSTATE 57014) or leaves
//! (withdrawn too). An approval is used by the proxy's own resubmission, bound to the
//! statement's digest, so it passes exactly this statement once.

use crate::classify::Statement;
use crate::judge::{self, SURFACE};
use crate::kind::Kind;
use crate::session::Session;
use crate::shapes::Shape;
use crate::wire;
use holdpoint_core::Outcome;
use holdpoint_gate::{Asking, GateError, Ruling};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How long one wait on the gate lasts before the session looks again.
const WAIT_STEP: Duration = Duration::from_secs(30);

pub enum Verdict {
    Forward,
    /// SQLSTATE and message.
    Refuse(&'static str, String),
}

impl Session {
    pub(crate) async fn judge(
        &mut self,
        sql: &str,
        shape: &Arc<Shape>,
        parameters: Option<Vec<Value>>,
    ) -> Verdict {
        if shape.statements.iter().any(|s| s.ends_portals) {
            // The server may close or replace named portals (CLOSE, DECLARE, the end of a
            // transaction): an Execute of one from now on is judged afresh, or unknown.
            self.portals.retain(|name, _| name.is_empty());
        }
        let gate = self.l.gate.clone();
        let policy = gate.policy_epoch();
        let head = shape
            .statements
            .iter()
            .map(Statement::head)
            .max()
            .unwrap_or(Kind::Read);
        // Judged from the shape alone: nothing to ask the catalog or the prepared
        // statements, and a server whose grammar the parser's covers.
        let settled = crate::grammar::supported(self.server_major)
            && !shape
                .statements
                .iter()
                .any(|s| s.needs_resolving(self.server_major));
        // A shape allowed before, under this policy set, which reads no values: allowed.
        let reusable = shape.cacheable && !policy.reads_values() && settled;
        if reusable && self.memo.allowed(shape.id, &policy) {
            self.count_allowed(sql, shape, head).await;
            return Verdict::Forward;
        }
        if let Err(refusal) = self.admit().await {
            return refusal;
        }
        let statements = if settled {
            shape.statements.clone()
        } else {
            crate::resolve::resolve(
                shape.statements.clone(),
                &self.sql_prepared,
                &self.l.catalog,
                self.server_major,
            )
            .await
        };
        if statements.iter().any(|s| s.kinds.contains(&Kind::Ddl)) {
            self.l.catalog.invalidate();
            self.l.lineage.invalidate();
        }
        if statements.iter().any(|s| s.copies_out) && !self.l.rules.is_empty() {
            return Verdict::Refuse(
                "42501",
                "holdpoint: result masking is on for this database, and COPY ... TO would send rows unmasked; use SELECT".into(),
            );
        }
        if !self.l.rules.is_empty()
            && let Some(catalog) = statements
                .iter()
                .flat_map(|s| s.tables.iter())
                .find_map(|t| crate::lineage::statistics(t))
        {
            return Verdict::Refuse(
                "42501",
                format!(
                    "holdpoint: result masking is on for this database, and {catalog} holds sample values of table columns (most common values, histogram bounds); reading planner statistics is refused here"
                ),
            );
        }
        let masker = gate.masker().clone();
        let (request, ctx) = judge::action(
            &self.l.name,
            &self.l.environment,
            sql,
            parameters,
            &statements,
            masker.as_ref(),
        );
        let evaluation = match gate.check(&self.who, &request, &ctx) {
            Ok(evaluation) => evaluation,
            Err(e) => return Verdict::Refuse("42501", cannot_check(&e)),
        };
        if evaluation.outcome() == Outcome::Allow {
            if reusable {
                self.memo.remember(shape.id, &policy);
            }
            let head = statements.iter().map(Statement::head).max().unwrap_or(head);
            self.count_allowed(sql, shape, head).await;
            return Verdict::Forward;
        }
        let notes = masker.mask_text(&judge::notes(&statements));
        self.ask(request, ctx, &notes).await
    }

    /// Every statement the gate judges is one request of the session's principal: the
    /// gate counts it against their rate (53400 over it, the connection kept) and sees a
    /// revoked or expired token at once. (A shape the gate allowed before costs the gate
    /// nothing and is not counted; the session's periodic token check still sees a
    /// revocation.)
    async fn admit(&mut self) -> Result<(), Verdict> {
        match self.l.gate.authenticate(&self.token).await {
            Ok(who) => {
                self.who = who;
                Ok(())
            }
            Err(GateError::TooMany {
                message,
                retry_after,
            }) => Err(Verdict::Refuse(
                "53400",
                format!(
                    "holdpoint: {message}; the statement was not run (retry after {} ms)",
                    retry_after.as_millis().max(1)
                ),
            )),
            Err(e) => Err(Verdict::Refuse("28000", cannot_check(&e))),
        }
    }

    /// Submits a statement the gate did not simply allow, on the gate's one
    /// ask-and-wait path, and waits for it on the open connection when held.
    async fn ask(
        &mut self,
        request: holdpoint_core::ActionRequest,
        ctx: holdpoint_gate::SurfaceContext,
        notes: &str,
    ) -> Verdict {
        let gate = self.l.gate.clone();
        let mut asking = match gate.ask(&self.who, request, ctx).await {
            Ok(asking) => asking,
            Err(e) => return Verdict::Refuse("42501", cannot_check(&e)),
        };
        if matches!(asking.ruling(), Ruling::Held(_)) {
            self.wait(&mut asking).await;
        }
        match asking.ruling() {
            Ruling::Proceed(_) => Verdict::Forward,
            Ruling::Refused { reason, .. } if self.withdrawn.is_none() => {
                Verdict::Refuse("42501", with_notes(reason, notes))
            }
            Ruling::Refused { record, .. } => {
                let (code, why) = self
                    .withdrawn
                    .take()
                    .unwrap_or(("57014", format!("holdpoint: {} was withdrawn", record.id)));
                Verdict::Refuse(code, why)
            }
            Ruling::Held(record) => Verdict::Refuse(
                "42501",
                format!("holdpoint: {} is still pending", record.id),
            ),
        }
    }

    /// Waits on the gate's one ask-and-wait path for a held statement, relaying what
    /// the server still sends meanwhile, until it is decided or the client gives up
    /// (it leaves, sends a cancel request, or the gateway stops): then the hold is
    /// withdrawn and `self.withdrawn` says why.
    async fn wait(&mut self, asking: &mut Asking<'_>) {
        let id = asking.record().id.clone();
        let title = asking
            .record()
            .hold
            .as_ref()
            .map(|h| h.title.clone())
            .unwrap_or_default();
        let mut notice = bytes::BytesMut::new();
        notice_response(
            &mut notice,
            &format!("holdpoint: held for approval as {id} ({title}); waiting for a decision"),
        );
        self.to_client.extend_from_slice(&notice);
        if self.send_to_client().await.is_err() || self.send_to_server().await.is_err() {
            self.client_gone = true;
            self.withdraw(asking, "57014", format!("holdpoint: {id} was withdrawn"))
                .await;
            return;
        }
        // Only a cancel request from now on withdraws this hold.
        self.cancel.borrow_and_update();
        let stopping = self.l.stopping.clone();
        while matches!(asking.ruling(), Ruling::Held(_)) {
            // Held again after an approval another connection took: this is its own hold.
            let id = asking.record().id.clone();
            let gave_up: Option<(&'static str, String)> = {
                let wait = asking.wait(WAIT_STEP);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        waited = &mut wait => {
                            break match waited {
                                Ok(_) => None,
                                Err(e) => {
                                    tracing::warn!(action = %id, error = %e, "could not follow a held statement");
                                    Some(("42501", format!("holdpoint could not follow {id}, so the statement was not run")))
                                }
                            };
                        }
                        read = self.client_r.read_buf(&mut self.cbuf) => {
                            if matches!(read, Ok(0) | Err(_)) {
                                self.client_gone = true;
                                break Some(("57014", format!("holdpoint: the client left; {id} was withdrawn")));
                            }
                        }
                        read = self.up_r.read_buf(&mut self.ubuf) => {
                            if matches!(read, Ok(0) | Err(_)) || self.on_server().await.is_err() {
                                break Some(("08006", format!("holdpoint: the server closed the connection; {id} was withdrawn")));
                            }
                        }
                        () = stopping.cancelled() => {
                            break Some(("57P01", format!("holdpoint is shutting down; {id} was withdrawn")));
                        }
                        changed = self.cancel.changed() => {
                            if changed.is_ok() {
                                break Some(("57014", format!("canceling statement due to user request: holdpoint withdrew {id}")));
                            }
                        }
                    }
                }
            };
            if let Some((code, why)) = gave_up {
                self.withdraw(asking, code, why).await;
                return;
            }
        }
    }

    /// Withdraws the hold; the refusal the client gets is `code` and `why`.
    async fn withdraw(&mut self, asking: &mut Asking<'_>, code: &'static str, why: String) {
        if let Err(e) = asking.withdraw().await {
            tracing::warn!(action = %asking.record().id, error = %e, "could not withdraw a held statement");
        }
        // Decided first (approved, say) and not taken: still refused, with this reason.
        self.withdrawn = Some((code, why));
    }

    async fn count_allowed(&mut self, sql: &str, shape: &Shape, head: Kind) {
        let masker = self.l.gate.masker().clone();
        self.summary
            .add(&shape.fingerprint, sql, head, masker.as_ref());
        if self.summary.due() {
            self.flush_summary(false).await;
        }
    }

    /// Writes the allowed-statement summary to the audit log (awaited when `last`).
    pub(crate) async fn flush_summary(&mut self, last: bool) {
        if !(last || self.summary.due()) {
            return;
        }
        let Some(data) = self.summary.take(&self.l.name) else {
            return;
        };
        let gate = self.l.gate.clone();
        let who = self.who.clone();
        let write = async move {
            if let Err(e) = gate
                .record_surface_events(
                    &who,
                    SURFACE,
                    vec![(holdpoint_core::EventType::StatementsAllowed, data)],
                )
                .await
            {
                tracing::error!(error = %e, "could not audit allowed PostgreSQL statements");
            }
        };
        if last {
            write.await;
        } else {
            tokio::spawn(write);
        }
    }
}

fn cannot_check(e: &GateError) -> String {
    format!("holdpoint could not check this statement, so it was not run: {e}")
}

/// Why a statement did not run, for the agent: the gate's reason and what the proxy
/// read of the statement.
fn with_notes(reason: &str, notes: &str) -> String {
    if notes.is_empty() {
        format!("holdpoint: {reason}")
    } else {
        format!("holdpoint: {reason} ({notes})")
    }
}

fn notice_response(out: &mut bytes::BytesMut, message: &str) {
    let mut body = bytes::BytesMut::new();
    wire::error_response(&mut body, "NOTICE", "01000", message);
    // error_response frames as 'E'; a notice is the same fields under 'N'.
    if let Some(frame) = wire::take_frame(&mut body, usize::MAX).ok().flatten() {
        wire::put_frame(out, b'N', &frame.body);
    }
}
