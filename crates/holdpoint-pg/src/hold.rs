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
use holdpoint_core::{ActionRecord, Outcome, Status};
use holdpoint_gate::{Answer, GateError};
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
        let policy = gate.policy().current();
        let head = shape
            .statements
            .iter()
            .map(Statement::head)
            .max()
            .unwrap_or(Kind::Read);
        // A shape allowed before, under this policy set, which reads no values: allowed.
        let reusable = shape.cacheable
            && !policy.reads_values()
            && shape
                .statements
                .iter()
                .all(|s| s.calls.is_empty() && s.executes.is_none());
        if reusable && self.verdicts.allowed(shape.id, &policy) {
            self.count_allowed(sql, shape, head).await;
            return Verdict::Forward;
        }
        let statements = if shape
            .statements
            .iter()
            .all(|s| s.calls.is_empty() && s.executes.is_none())
        {
            shape.statements.clone()
        } else {
            judge::resolve(
                shape.statements.clone(),
                &self.sql_prepared,
                &self.l.catalog,
            )
            .await
        };
        if statements.iter().any(|s| s.kinds.contains(&Kind::Ddl)) {
            self.l.catalog.invalidate();
        }
        if statements.iter().any(|s| s.copies_out) && !self.l.rules.is_empty() {
            return Verdict::Refuse(
                "42501",
                "holdpoint: result masking is on for this database, and COPY ... TO would send rows unmasked; use SELECT".into(),
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
        let evaluation = gate.evaluate(&self.who, &request, &ctx);
        if evaluation.verdict.outcome == Outcome::Allow {
            if reusable {
                self.verdicts.remember(shape.id, &policy);
            }
            let head = statements.iter().map(Statement::head).max().unwrap_or(head);
            self.count_allowed(sql, shape, head).await;
            return Verdict::Forward;
        }
        let notes = masker.mask_text(&judge::notes(&statements));
        let record = match gate.submit(&self.who, request, ctx).await {
            Ok(record) => record,
            Err(e) => return Verdict::Refuse("42501", cannot_check(&e)),
        };
        if record.proceed() {
            return Verdict::Forward;
        }
        if record.status != Status::Pending {
            return Verdict::Refuse("42501", describe(&record, &notes, gate.masker().as_ref()));
        }
        self.wait(record, &notes).await
    }

    /// Waits for the hold on `record`, relaying the server meanwhile.
    async fn wait(&mut self, record: ActionRecord, notes: &str) -> Verdict {
        let gate = self.l.gate.clone();
        let id = record.id.clone();
        let title = record
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
            let _ = gate.cancel(&self.who, &id, SURFACE).await;
            return Verdict::Refuse("57014", format!("holdpoint: {id} was withdrawn"));
        }
        // Only a cancel request from now on withdraws this hold.
        self.cancel.borrow_and_update();
        let who = self.who.clone();
        let stopping = self.l.stopping.clone();
        loop {
            let waited = {
                let wait = gate.wait(&who, &id, WAIT_STEP);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        answer = &mut wait => break answer,
                        read = self.client_r.read_buf(&mut self.cbuf) => {
                            if matches!(read, Ok(0) | Err(_)) {
                                self.client_gone = true;
                                if let Err(e) = gate.cancel(&self.who, &id, SURFACE).await {
                                    tracing::warn!(action = %id, error = %e, "could not withdraw a held statement");
                                }
                                return Verdict::Refuse("57014", format!("holdpoint: the client left; {id} was withdrawn"));
                            }
                        }
                        read = self.up_r.read_buf(&mut self.ubuf) => {
                            if matches!(read, Ok(0) | Err(_)) || self.on_server().await.is_err() {
                                let _ = gate.cancel(&self.who, &id, SURFACE).await;
                                return Verdict::Refuse("08006", format!("holdpoint: the server closed the connection; {id} was withdrawn"));
                            }
                        }
                        () = stopping.cancelled() => {
                            let _ = gate.cancel(&self.who, &id, SURFACE).await;
                            return Verdict::Refuse("57P01", format!("holdpoint is shutting down; {id} was withdrawn"));
                        }
                        changed = self.cancel.changed() => {
                            if changed.is_ok() {
                                let _ = gate.cancel(&self.who, &id, SURFACE).await;
                                return Verdict::Refuse("57014", format!("canceling statement due to user request: holdpoint withdrew {id}"));
                            }
                        }
                    }
                }
            };
            let answer = match waited {
                Ok(answer) => answer,
                Err(GateError::TooMany { .. }) => match gate.get(&self.who, &id).await {
                    Ok(record) => Answer::plain(record),
                    Err(e) => return Verdict::Refuse("42501", cannot_check(&e)),
                },
                Err(e) => return Verdict::Refuse("42501", cannot_check(&e)),
            };
            match answer.record.status {
                Status::Pending => continue,
                Status::Approved if answer.proceed => return Verdict::Forward,
                Status::Approved => {
                    // Used by the proxy's own resubmission: bound to this digest, once.
                    let (request, ctx) = (
                        answer.record.request(),
                        holdpoint_gate::SurfaceContext::of_record(&answer.record),
                    );
                    return match gate.submit(&self.who, request, ctx).await {
                        Ok(again) if again.proceed() => Verdict::Forward,
                        // The approval went to another connection running the same
                        // statement (an agent's retry): this one waits for its own.
                        Ok(again) if again.status == Status::Pending => {
                            Box::pin(self.wait(again, notes)).await
                        }
                        Ok(again) => Verdict::Refuse(
                            "42501",
                            describe(&again, notes, gate.masker().as_ref()),
                        ),
                        Err(e) => Verdict::Refuse("42501", cannot_check(&e)),
                    };
                }
                _ => {
                    return Verdict::Refuse(
                        "42501",
                        describe(&answer.record, notes, gate.masker().as_ref()),
                    );
                }
            }
        }
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

/// The shapes a session has seen allowed under one policy set. Used only when no policy
/// of the set reads an action's values: then an allow depends on the shape alone.
#[derive(Default)]
pub struct Verdicts {
    under: Option<Arc<holdpoint_policy::PolicySet>>,
    allowed: std::collections::HashSet<u64>,
}

impl Verdicts {
    fn allowed(&mut self, shape: u64, policy: &Arc<holdpoint_policy::PolicySet>) -> bool {
        match &self.under {
            Some(under) if Arc::ptr_eq(under, policy) => self.allowed.contains(&shape),
            _ => false,
        }
    }

    fn remember(&mut self, shape: u64, policy: &Arc<holdpoint_policy::PolicySet>) {
        if !self.under.as_ref().is_some_and(|u| Arc::ptr_eq(u, policy))
            || self.allowed.len() > 10_000
        {
            self.under = Some(policy.clone());
            self.allowed.clear();
        }
        self.allowed.insert(shape);
    }
}

fn cannot_check(e: &GateError) -> String {
    format!("holdpoint could not check this statement, so it was not run: {e}")
}

/// Why a statement did not run, for the agent: the hold id and the reviewers' comments.
fn describe(
    record: &ActionRecord,
    notes: &str,
    masker: &dyn holdpoint_core::mask::Masker,
) -> String {
    let id = &record.id;
    let comments = record.review_comments(masker);
    let why = match record.status {
        Status::Denied => format!(
            "denied by policy ({id}): {}",
            masker.mask_text(&record.verdict.reason)
        ),
        Status::Rejected if comments.is_empty() => format!("rejected by a reviewer ({id})"),
        Status::Rejected => format!("rejected by a reviewer ({id}): {}", comments.join("; ")),
        Status::Expired => format!("the hold {id} expired before anyone approved it"),
        Status::Cancelled => format!("{id} was withdrawn"),
        status => format!("{id} is {status}"),
    };
    if notes.is_empty() {
        format!("holdpoint: {why}")
    } else {
        format!("holdpoint: {why} ({notes})")
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
