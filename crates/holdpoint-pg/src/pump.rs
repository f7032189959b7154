//! The server's answers. Every message the proxy sends that the server answers is
//! remembered, in order, as an [`Expect`]: so the proxy knows which answer is which,
//! drops the answers to its own injected messages, masks the rows of each result, and
//! puts back what a refused Parse, Bind or Close had replaced (the server skips
//! everything after an error until Sync, and so does this queue).
//!
//! On a listener with masking, an Execute whose columns were never described is
//! preceded by a Describe of holdpoint's own (its answer dropped), so every result's
//! columns are traced; errors, notices and notifications go through `withhold.rs`.

use crate::origins::{Origin, plan, tables};
use crate::results::{self, RowMask};
use crate::session::{Ended, Portal, Prepared, Session};
use crate::shapes::Shape;
use crate::wire::{self, Frame, MAX_SERVER_MESSAGE};
use std::sync::{Arc, OnceLock};

/// What to put back if the server refuses a message.
pub enum Undo {
    Statement(String, Option<Arc<Prepared>>),
    Portal(String, Option<Portal>),
}

/// An Execute's results: whose rows, and how they are masked (planned at the first row).
pub struct Results {
    pub portal: Portal,
    pub mask: Option<RowMask>,
}

/// An answer the server owes.
pub enum Expect {
    Parse(Undo),
    Bind(Undo),
    Close(Undo),
    DescribeStatement(Option<Arc<Prepared>>),
    DescribePortal(Option<Arc<OnceLock<Vec<results::Field>>>>),
    /// `None`: holdpoint's own refusal, answered by an error.
    Execute(Option<Results>),
    /// ParseComplete (`1`) or BindComplete (`2`) of holdpoint's own message: dropped.
    Injected(u8),
    /// holdpoint's own Describe of a portal about to run: its answer (RowDescription
    /// or NoData) is kept for masking, and dropped.
    InjectedDescribe(Arc<OnceLock<Vec<results::Field>>>),
    Sync,
    /// holdpoint's own Sync (after closing a refusal): its ReadyForQuery is dropped.
    InjectedSync,
    /// A simple query: its result sets, each masked by the plan its RowDescription made.
    Query {
        tainted: bool,
        mask: Option<RowMask>,
        /// What it was classified as (`None`: holdpoint's own message).
        shape: Option<Arc<Shape>>,
        /// Replaced by holdpoint's refusal: the error is holdpoint's.
        refused: bool,
        /// Its text, when it is one statement on a listener with masking.
        sql: Option<String>,
    },
}

impl Session {
    /// Handles every whole message the server has sent, then sends on what they became.
    pub(crate) async fn on_server(&mut self) -> Result<(), Ended> {
        loop {
            let frame = match wire::take_frame(&mut self.ubuf, MAX_SERVER_MESSAGE) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    self.fatal("08P01", &format!("holdpoint: the server sent {e}"))
                        .await;
                    return Err("server protocol violation");
                }
            };
            self.server_message(frame).await?;
        }
        self.send_to_client().await
    }

    async fn server_message(&mut self, frame: Frame) -> Result<(), Ended> {
        let masking = !self.l.rules.is_empty();
        match frame.tag {
            b'1' | b'2' | b'3' => match self.expect.pop_front() {
                Some(Expect::Injected(tag)) if tag == frame.tag => return Ok(()),
                Some(Expect::Parse(_) | Expect::Bind(_) | Expect::Close(_)) => {}
                other => self.out_of_step(other),
            },
            b't' => {
                if let Some(Expect::DescribeStatement(Some(p))) = self.expect.front() {
                    let _ = p.param_types.set(crate::params::description(&frame.body));
                }
            }
            b'T' => {
                let describing = matches!(
                    self.expect.front(),
                    Some(Expect::DescribeStatement(_) | Expect::DescribePortal(_))
                );
                let query = match self.expect.front() {
                    Some(Expect::Query {
                        tainted,
                        shape,
                        sql,
                        ..
                    }) if masking => Some((*tainted, tables(shape.as_deref()), sql.clone())),
                    _ => None,
                };
                if let Some(Expect::InjectedDescribe(_)) = self.expect.front() {
                    if let Some(Expect::InjectedDescribe(f)) = self.expect.pop_front() {
                        let _ = f.set(results::row_description(&frame.body).unwrap_or_default());
                    }
                    return Ok(());
                }
                if describing {
                    let fields = results::row_description(&frame.body).unwrap_or_default();
                    match self.expect.pop_front() {
                        Some(Expect::DescribeStatement(Some(p))) => {
                            let _ = p.fields.set(fields);
                        }
                        Some(Expect::DescribePortal(Some(f))) => {
                            let _ = f.set(fields);
                        }
                        _ => {}
                    }
                } else if let Some((tainted, tables, sql)) = query {
                    let fields = results::row_description(&frame.body).unwrap_or_default();
                    let formats: Vec<i16> = fields.iter().map(|f| f.format).collect();
                    let origin = Origin {
                        tainted,
                        tables,
                        sql,
                    };
                    let plan = plan(&self.l.clone(), &fields, &formats, &origin).await;
                    if let Some(Expect::Query { mask, .. }) = self.expect.front_mut() {
                        *mask = Some(plan);
                    }
                }
            }
            b'n' => {
                if let Some(Expect::InjectedDescribe(f)) = self.expect.front() {
                    let _ = f.set(Vec::new());
                    self.expect.pop_front();
                    return Ok(());
                }
                if matches!(
                    self.expect.front(),
                    Some(Expect::DescribeStatement(_) | Expect::DescribePortal(_))
                ) {
                    self.expect.pop_front();
                }
            }
            b'D' if masking => {
                if let Some(body) = self.mask_row(&frame.body).await? {
                    wire::put_frame(&mut self.to_client, b'D', &body);
                    return Ok(());
                }
            }
            b'C' | b'I' | b's' => match self.expect.front_mut() {
                Some(Expect::Execute(_)) => {
                    self.expect.pop_front();
                }
                Some(Expect::Query { mask, .. }) => *mask = None,
                _ => {}
            },
            b'E' | b'N' if masking => {
                // holdpoint's own refusal, raised by the server in its place.
                let ours = matches!(
                    self.expect.front(),
                    Some(Expect::Execute(None) | Expect::Query { refused: true, .. })
                );
                if frame.tag == b'E' {
                    self.on_error();
                }
                let masker = self.l.gate.masker().clone();
                let body = crate::withhold::notice(&frame.body, masker.as_ref(), &self.sent, ours);
                wire::put_frame(&mut self.to_client, frame.tag, &body);
                return Ok(());
            }
            b'A' if masking => {
                let masker = self.l.gate.masker().clone();
                let withhold = self.l.rules.masks_columns();
                if let Some(body) =
                    crate::withhold::notification(&frame.body, masker.as_ref(), withhold)
                {
                    wire::put_frame(&mut self.to_client, b'A', &body);
                    return Ok(());
                }
            }
            b'E' => self.on_error(),
            b'Z' => loop {
                match self.expect.pop_front() {
                    Some(Expect::Sync | Expect::Query { .. }) | None => break,
                    Some(Expect::InjectedSync) => return Ok(()),
                    other => self.out_of_step(other),
                }
            },
            b'S' => {
                self.check_parameter(&frame.body).await?;
                if masking && let Some(body) = crate::withhold::parameter(&frame.body, &self.sent) {
                    wire::put_frame(&mut self.to_client, b'S', &body);
                    return Ok(());
                }
            }
            _ => {}
        }
        wire::put_frame(&mut self.to_client, frame.tag, &frame.body);
        Ok(())
    }

    /// An error: the server skips to the next Sync, so the answers it owed until then
    /// will not come, and what those messages replaced is put back, newest first.
    fn on_error(&mut self) {
        let mut skipped = Vec::new();
        while let Some(front) = self.expect.front() {
            if matches!(
                front,
                Expect::Sync | Expect::InjectedSync | Expect::Query { .. }
            ) {
                break;
            }
            if let Some(e) = self.expect.pop_front() {
                skipped.push(e);
            }
        }
        for e in skipped.into_iter().rev() {
            match e {
                Expect::Parse(undo) | Expect::Bind(undo) | Expect::Close(undo) => self.undo(undo),
                _ => {}
            }
        }
        // The server aborted the batch; holdpoint's own discarding ends with it.
    }

    fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Statement(name, Some(p)) => {
                self.statements.insert(name, p);
            }
            Undo::Statement(name, None) => {
                self.statements.remove(&name);
            }
            Undo::Portal(name, Some(p)) => {
                self.portals.insert(name, p);
            }
            Undo::Portal(name, None) => {
                self.portals.remove(&name);
            }
        }
    }

    fn out_of_step(&mut self, got: Option<Expect>) {
        // Put back what the message replaced: it is not known to have succeeded.
        if let Some(Expect::Parse(undo) | Expect::Bind(undo) | Expect::Close(undo)) = got {
            self.undo(undo);
        }
        tracing::warn!(listener = %self.l.name, "the server's answers are out of step with holdpoint's record");
    }

    /// A server that starts reading SQL differently (encoding, string escapes) would no
    /// longer run what holdpoint judged: end the session.
    async fn check_parameter(&mut self, body: &[u8]) -> Result<(), Ended> {
        let mut r = wire::Reader::new(body);
        let (Ok(name), Ok(value)) = (r.cstr(), r.cstr()) else {
            return Ok(());
        };
        if crate::reading::unsafe_setting(name, value) {
            self.fatal(
                "42501",
                &format!("holdpoint: the server's {name} became {value}; the session is closed"),
            )
            .await;
            return Err("unsafe server parameter");
        }
        Ok(())
    }

    /// The masked DataRow, or `None` to relay it as is.
    async fn mask_row(&mut self, body: &[u8]) -> Result<Option<bytes::BytesMut>, Ended> {
        // Plan an Execute's masking at its first row, when its columns are known.
        let planned = match self.expect.front() {
            Some(Expect::Execute(Some(Results { portal, mask: None }))) => {
                let fields = portal
                    .fields
                    .get()
                    .or_else(|| portal.prepared.fields.get())
                    .cloned();
                // The text is what the server runs only when the name holds one
                // statement (not also one a SQL-level PREPARE made).
                let one = portal.prepared.shape.statements.len() == 1;
                let origin = Origin {
                    tainted: portal.prepared.tainted,
                    tables: tables(Some(&portal.prepared.shape)),
                    sql: one.then(|| portal.prepared.sql.clone()),
                };
                Some((fields, portal.formats.clone(), origin))
            }
            _ => None,
        };
        if let Some((fields, formats, origin)) = planned {
            let plan = match fields {
                Some(fields) => plan(&self.l.clone(), &fields, &formats, &origin).await,
                None => RowMask::unknown_columns(&self.l.rules, &formats, origin.tainted),
            };
            if let Some(Expect::Execute(Some(results))) = self.expect.front_mut() {
                results.mask = Some(plan);
            }
        }
        let mask = match self.expect.front() {
            Some(Expect::Execute(Some(Results { mask: Some(m), .. })))
            | Some(Expect::Query { mask: Some(m), .. }) => m,
            // Rows with no plan (out of step): mask them as unknown columns.
            _ => {
                let plan = RowMask::unknown_columns(&self.l.rules, &[], true);
                return plan
                    .apply(body, self.l.gate.masker().as_ref())
                    .map_err(|_| "bad DataRow");
            }
        };
        if mask.keep_all() {
            return Ok(None);
        }
        mask.apply(body, self.l.gate.masker().as_ref())
            .map_err(|_| "bad DataRow")
    }
}
