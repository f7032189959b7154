//! A running session: the client's messages, judged where they run something and
//! relayed as bytes otherwise; the server's answers are handled in `pump.rs`.
//!
//! - Simple protocol: each Query message is one action.
//! - Extended protocol: Parse is classified (and the class kept under the statement's
//!   name), Bind ties a portal to it, and Execute is judged, with the bound values. A
//!   name is only ever judged as the statement the server has under it: a Parse the
//!   server refuses puts the previous one back (`pump.rs`).
//! - A refused message is replaced by a statement that makes the server itself raise
//!   the refusal (`refusal.rs`), so results, errors and transaction state stay in the
//!   server's own order; in the extended protocol the rest is discarded until Sync.

use crate::classify::Statement;
use crate::listener::Listener;
use crate::pump::{Expect, Undo};
use crate::results::Field;
use crate::server_stream::{ServerRead, ServerStream, ServerWrite};
use crate::shapes::Shape;
use crate::startup::Stream;
use crate::summary::Summary;
use crate::wire::{self, Frame, MAX_CLIENT_MESSAGE, Reader};
use bytes::BytesMut;
use holdpoint_core::Identity;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::watch;

/// A statement prepared with Parse, as classified.
pub struct Prepared {
    pub sql: String,
    pub shape: Arc<Shape>,
    /// Its result columns, once the server described them.
    pub fields: OnceLock<Vec<Field>>,
    /// Computed result columns may carry a masked column.
    pub tainted: bool,
    /// Parameter types: declared in Parse, or described by the server.
    pub param_types: OnceLock<Vec<u32>>,
}

/// A portal made with Bind.
#[derive(Clone)]
pub struct Portal {
    pub prepared: Arc<Prepared>,
    /// The bound values, for reviewers (text, or `\x…` for binary).
    pub parameters: Vec<Value>,
    pub formats: Vec<i16>,
    pub fields: Arc<OnceLock<Vec<Field>>>,
    /// Judged and allowed already: a further Execute fetches more rows.
    pub allowed: bool,
}

/// How a session ended, for the audit log.
pub type Ended = &'static str;

pub struct Session {
    pub(crate) l: Arc<Listener>,
    pub(crate) who: Identity,
    pub(crate) client_r: ReadHalf<Stream>,
    pub(crate) client_w: WriteHalf<Stream>,
    pub(crate) up_r: ServerRead,
    pub(crate) up_w: ServerWrite,
    pub(crate) cbuf: BytesMut,
    pub(crate) ubuf: BytesMut,
    pub(crate) to_client: BytesMut,
    pub(crate) to_server: BytesMut,
    pub(crate) statements: HashMap<String, Arc<Prepared>>,
    pub(crate) portals: HashMap<String, Portal>,
    /// `PREPARE name AS …` (SQL level).
    pub(crate) sql_prepared: HashMap<String, Statement>,
    pub(crate) expect: VecDeque<Expect>,
    /// After a refusal in the extended protocol: drop messages until Sync.
    pub(crate) discarding: bool,
    pub(crate) summary: Summary,
    pub(crate) statements_seen: u64,
    pub(crate) refusals: u64,
    /// The last refusal whose prepared statement was closed after its Sync.
    pub(crate) refusals_closed: u64,
    pub(crate) cancel: watch::Receiver<u64>,
    /// The client left while a statement was held.
    pub(crate) client_gone: bool,
    /// Shapes allowed under the current policy set, when no policy reads values.
    /// Statement shapes allowed before under the policy set in force.
    pub(crate) memo: holdpoint_gate::AllowMemo,
    /// Why a held statement was withdrawn (SQLSTATE and message), for its refusal.
    pub(crate) withdrawn: Option<(&'static str, String)>,
    /// The token the client logged in with, checked again every second.
    pub(crate) token: String,
    /// The server's major version, from its `server_version` at login: syntax its
    /// grammar reads otherwise than the parser's is judged as it reads it.
    pub(crate) server_major: Option<u32>,
    /// The SQL the client sent, to tell the server's messages that quote only it.
    pub(crate) sent: crate::withhold::Sent,
}

impl Session {
    pub fn new(
        l: Arc<Listener>,
        who: Identity,
        client: Stream,
        server: ServerStream,
        cancel: watch::Receiver<u64>,
        token: String,
        announced: &[u8],
    ) -> Session {
        let (client_r, client_w) = tokio::io::split(client);
        let (up_r, up_w) = server.into_split();
        Session {
            l,
            who,
            client_r,
            client_w,
            up_r,
            up_w,
            cbuf: BytesMut::with_capacity(16 * 1024),
            ubuf: BytesMut::with_capacity(16 * 1024),
            to_client: BytesMut::with_capacity(16 * 1024),
            to_server: BytesMut::with_capacity(16 * 1024),
            statements: HashMap::new(),
            portals: HashMap::new(),
            sql_prepared: HashMap::new(),
            expect: VecDeque::new(),
            discarding: false,
            summary: Summary::default(),
            statements_seen: 0,
            refusals: 0,
            refusals_closed: 0,
            cancel,
            client_gone: false,
            memo: holdpoint_gate::AllowMemo::default(),
            withdrawn: None,
            token,
            server_major: crate::grammar::announced_major(announced),
            sent: crate::withhold::Sent::default(),
        }
    }

    /// Runs until either side closes. Returns the number of messages judged and why it
    /// ended.
    pub async fn run(mut self) -> (u64, Ended) {
        let stopping = self.l.stopping.clone();
        let mut tick = tokio::time::interval(crate::summary::EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ended = loop {
            let step = tokio::select! {
                read = self.client_r.read_buf(&mut self.cbuf) => match read {
                    Ok(0) | Err(_) => Err("client closed"),
                    Ok(_) => self.on_client().await,
                },
                read = self.up_r.read_buf(&mut self.ubuf) => match read {
                    Ok(0) | Err(_) => Err("server closed"),
                    Ok(_) => self.on_server().await,
                },
                _ = tick.tick() => {
                    self.flush_summary(false).await;
                    self.check_token().await
                }
                () = stopping.cancelled() => {
                    self.fatal("57P01", "terminating connection: holdpoint is shutting down").await;
                    Err("gateway shut down")
                }
            };
            if let Err(ended) = step {
                break ended;
            }
        };
        self.flush_summary(true).await;
        let _ = self.client_w.shutdown().await;
        (self.statements_seen, ended)
    }

    /// Handles every whole message the client has sent, then sends on what they became.
    async fn on_client(&mut self) -> Result<(), Ended> {
        loop {
            let frame = match wire::take_frame(&mut self.cbuf, MAX_CLIENT_MESSAGE) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    self.fatal("08P01", &format!("holdpoint: {e}")).await;
                    return Err("protocol violation");
                }
            };
            if let Err(e) = self.client_message(frame).await {
                self.fatal("08P01", &format!("holdpoint: {e}")).await;
                return Err("protocol violation");
            }
            if self.client_gone {
                return Err("client closed while held");
            }
        }
        self.send_to_server().await
    }

    /// A revoked or expired token ends its sessions.
    async fn check_token(&mut self) -> Result<(), Ended> {
        // Not a request of the principal: only a token that no longer lets anyone in
        // (401) ends the session; a store that cannot answer leaves it to the next tick,
        // and every statement is checked by the gate as it comes.
        match self.l.gate.recheck_token(&self.token).await {
            Err(holdpoint_gate::GateError::Unauthorized(_)) => {}
            _ => return Ok(()),
        }
        self.fatal(
            "28P01",
            "holdpoint: the token of this session was revoked or expired",
        )
        .await;
        Err("token revoked")
    }

    pub(crate) async fn send_to_server(&mut self) -> Result<(), Ended> {
        if self.to_server.is_empty() {
            return Ok(());
        }
        let out = self.to_server.split();
        self.up_w.write_all(&out).await.map_err(|_| "server closed")
    }

    pub(crate) async fn send_to_client(&mut self) -> Result<(), Ended> {
        if self.to_client.is_empty() {
            return Ok(());
        }
        let out = self.to_client.split();
        self.client_w
            .write_all(&out)
            .await
            .map_err(|_| "client closed")
    }

    /// Tells the client of a fatal error and ends the session.
    pub(crate) async fn fatal(&mut self, code: &str, message: &str) {
        wire::error_response(&mut self.to_client, "FATAL", code, message);
        let _ = self.send_to_client().await;
    }

    async fn client_message(&mut self, frame: Frame) -> io::Result<()> {
        if self.discarding && frame.tag != b'S' {
            return Ok(());
        }
        match frame.tag {
            b'Q' => {
                self.sent.note(sql_bytes(&frame.body));
                let (sql, shape) = self.l.shapes.of_bytes(sql_bytes(&frame.body));
                self.statements_seen += 1;
                self.remember_sql_prepares(&shape.statements);
                let tainted = shape
                    .statements
                    .iter()
                    .any(|s| self.l.rules.taints_computed(s));
                let refused = match self.judge(&sql, &shape, None).await {
                    crate::hold::Verdict::Forward => {
                        wire::put_frame(&mut self.to_server, b'Q', &frame.body);
                        false
                    }
                    crate::hold::Verdict::Refuse(code, message) => {
                        crate::refusal::query(&mut self.to_server, code, &message);
                        true
                    }
                };
                let one = !self.l.rules.is_empty() && shape.statements.len() == 1;
                self.expect.push_back(Expect::Query {
                    tainted,
                    mask: None,
                    shape: Some(shape),
                    refused,
                    sql: one.then_some(sql),
                });
            }
            b'P' => {
                let mut r = Reader::new(&frame.body);
                let _name = r.cstr()?;
                self.sent.note(sql_bytes(r.rest()));
                self.parse(&frame)?
            }
            b'B' => self.bind(&frame).await?,
            b'E' => {
                self.describe_for_masking(&frame)?;
                self.execute(&frame).await?
            }
            b'D' => {
                let mut r = Reader::new(&frame.body);
                let what = r.u8()?;
                let name = r.cstr()?.to_string();
                self.expect.push_back(match what {
                    b'S' => Expect::DescribeStatement(self.statements.get(&name).cloned()),
                    _ => Expect::DescribePortal(self.portals.get(&name).map(|p| p.fields.clone())),
                });
                wire::put_frame(&mut self.to_server, b'D', &frame.body);
            }
            b'C' => {
                let mut r = Reader::new(&frame.body);
                let what = r.u8()?;
                let name = r.cstr()?.to_string();
                let undo = if what == b'S' {
                    Undo::Statement(name.clone(), self.statements.remove(&name))
                } else {
                    Undo::Portal(name.clone(), self.portals.remove(&name))
                };
                self.expect.push_back(Expect::Close(undo));
                wire::put_frame(&mut self.to_server, b'C', &frame.body);
            }
            b'S' => {
                self.discarding = false;
                self.expect.push_back(Expect::Sync);
                wire::put_frame(&mut self.to_server, b'S', &frame.body);
                // A refusal in this batch (the batch ends at it) left its statement:
                // closed now, after the client's Sync, its answers dropped.
                if self.refusals > self.refusals_closed {
                    self.refusals_closed = self.refusals;
                    crate::refusal::close(&mut self.to_server, self.refusals);
                    self.expect.push_back(Expect::Injected(b'3'));
                    self.expect.push_back(Expect::InjectedSync);
                }
            }
            b'F' => {
                // A fast-path function call names a function by oid, past any SQL to judge.
                self.statements_seen += 1;
                self.refusals += 1;
                crate::refusal::query(
                    &mut self.to_server,
                    "42501",
                    "holdpoint: fast-path function calls are refused; call the function in SQL",
                );
                self.expect.push_back(Expect::Query {
                    tainted: false,
                    mask: None,
                    shape: None,
                    refused: true,
                    sql: None,
                });
            }
            b'X' => {
                wire::put_frame(&mut self.to_server, b'X', &frame.body);
                let _ = self.send_to_server().await;
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "terminated",
                ));
            }
            // Flush, and COPY data, done and fail: bytes for the server.
            b'H' | b'd' | b'c' | b'f' => {
                wire::put_frame(&mut self.to_server, frame.tag, &frame.body)
            }
            other => {
                return Err(wire::invalid(format!(
                    "unexpected message type {:?}",
                    char::from(other)
                )));
            }
        }
        Ok(())
    }

    /// Remembers what `PREPARE name AS …` prepares. holdpoint does not wait to learn
    /// whether the server accepted it (it refuses a name already taken), so a name
    /// prepared again keeps every kind it was ever prepared as: `EXECUTE` can only be
    /// judged stricter than what the server holds, never laxer. (DEALLOCATE and DISCARD
    /// forget nothing, for the same reason.)
    pub(crate) fn remember_sql_prepares(&mut self, statements: &[Statement]) {
        for st in statements {
            if let Some((name, inner)) = &st.prepares {
                match self.sql_prepared.get_mut(name) {
                    Some(known) => known.absorb((**inner).clone()),
                    None => {
                        self.sql_prepared.insert(name.clone(), (**inner).clone());
                    }
                }
            }
        }
    }
}

/// A query's text, up to its NUL, as the server reads it.
pub(crate) fn sql_bytes(body: &[u8]) -> &[u8] {
    let end = body.iter().position(|b| *b == 0).unwrap_or(body.len());
    body.get(..end).unwrap_or_default()
}
