//! The extended protocol: Parse is classified and kept under the statement's name,
//! Bind ties a portal to it with the bound values, and Execute is judged. A name is
//! judged as the statement the server holds under it: when the Parse or Bind that made
//! it was sent in an earlier batch, its answer is awaited first ([`Session::settle`]).

use crate::pump::{Expect, Undo};
use crate::session::{Portal, Prepared, Session, sql_bytes};
use crate::shapes::Shape;
use crate::wire::{self, Frame, Reader};
use serde_json::Value;
use std::io;
use std::sync::{Arc, OnceLock};
use tokio::io::AsyncReadExt;

impl Session {
    pub(crate) fn parse(&mut self, frame: &Frame) -> io::Result<()> {
        let mut r = Reader::new(&frame.body);
        let name = r.cstr()?.to_string();
        let (sql, shape) = self.l.shapes.of_bytes(sql_bytes(r.rest()));
        let _ = r.cstr()?;
        let declared: Vec<u32> = (0..r.count()?)
            .map(|_| r.u32())
            .collect::<io::Result<_>>()?;
        let tainted = shape
            .statements
            .iter()
            .any(|s| self.l.rules.taints_computed(s));
        let param_types = OnceLock::new();
        if !declared.is_empty() && declared.iter().all(|t| *t != 0) {
            let _ = param_types.set(declared);
        }
        let prepared = Arc::new(Prepared {
            sql,
            shape,
            fields: OnceLock::new(),
            tainted,
            param_types,
        });
        let previous = self.statements.insert(name.clone(), prepared);
        self.expect
            .push_back(Expect::Parse(Undo::Statement(name, previous)));
        wire::put_frame(&mut self.to_server, b'P', &frame.body);
        Ok(())
    }

    pub(crate) async fn bind(&mut self, frame: &Frame) -> io::Result<()> {
        let mut r = Reader::new(&frame.body);
        let portal = r.cstr()?.to_string();
        let statement = r.cstr()?.to_string();
        self.settle(|e| matches!(e, Expect::Parse(Undo::Statement(s, _)) if *s == statement))
            .await?;
        let param_formats: Vec<i16> = (0..r.count()?)
            .map(|_| r.i16())
            .collect::<io::Result<_>>()?;
        let types = self
            .statements
            .get(&statement)
            .and_then(|p| p.param_types.get().cloned())
            .unwrap_or_default();
        let n = r.count()?;
        let mut parameters = Vec::with_capacity(n);
        for i in 0..n {
            let len = r.i32()?;
            let binary = match param_formats.as_slice() {
                [] => false,
                [one] => *one == 1,
                many => many.get(i).is_some_and(|f| *f == 1),
            };
            parameters.push(match usize::try_from(len) {
                Ok(len) => {
                    let raw = r.bytes(len)?;
                    Value::String(crate::params::shown(raw, binary, types.get(i).copied()))
                }
                Err(_) => Value::Null,
            });
        }
        let formats: Vec<i16> = (0..r.count()?)
            .map(|_| r.i16())
            .collect::<io::Result<_>>()?;
        // A portal of a statement holdpoint never saw parsed is judged unknown.
        let prepared = self.statements.get(&statement).cloned().unwrap_or_else(|| {
            Arc::new(Prepared {
                sql: String::new(),
                shape: Shape::unknown(&format!(
                    "the statement `{statement}`, which it never saw prepared"
                )),
                fields: OnceLock::new(),
                tainted: true,
                param_types: OnceLock::new(),
            })
        });
        // SQL-level PREPARE shares the server's namespace: a name it (re)prepared is
        // judged as that too, whatever the protocol-level record says.
        let prepared = match self.sql_prepared.get(&statement) {
            Some(also) => Arc::new(Prepared {
                sql: prepared.sql.clone(),
                shape: prepared.shape.with(also.clone()),
                fields: OnceLock::new(),
                tainted: true,
                param_types: OnceLock::new(),
            }),
            None => prepared,
        };
        let new = Portal {
            prepared,
            parameters,
            formats,
            fields: Arc::new(OnceLock::new()),
            allowed: false,
        };
        let previous = self.portals.insert(portal.clone(), new);
        self.expect
            .push_back(Expect::Bind(Undo::Portal(portal, previous)));
        wire::put_frame(&mut self.to_server, b'B', &frame.body);
        Ok(())
    }

    pub(crate) async fn execute(&mut self, frame: &Frame) -> io::Result<()> {
        let mut r = Reader::new(&frame.body);
        let name = r.cstr()?.to_string();
        self.settle(|e| matches!(e, Expect::Bind(Undo::Portal(p, _)) if *p == name))
            .await?;
        let portal = match self.portals.get(&name) {
            Some(portal) => portal.clone(),
            None => Portal {
                prepared: Arc::new(Prepared {
                    sql: String::new(),
                    shape: Shape::unknown(&format!(
                        "the portal `{name}`, which it never saw bound"
                    )),
                    fields: OnceLock::new(),
                    tainted: true,
                    param_types: OnceLock::new(),
                }),
                parameters: Vec::new(),
                formats: Vec::new(),
                fields: Arc::new(OnceLock::new()),
                allowed: false,
            },
        };
        if !portal.allowed {
            self.statements_seen += 1;
            let shape = portal.prepared.shape.clone();
            self.remember_sql_prepares(&shape.statements);
            let verdict = self
                .judge(
                    &portal.prepared.sql,
                    &shape,
                    Some(portal.parameters.clone()),
                )
                .await;
            if let crate::hold::Verdict::Refuse(code, message) = verdict {
                self.refusals += 1;
                crate::refusal::extended(&mut self.to_server, self.refusals, code, &message);
                self.expect.push_back(Expect::Injected(b'1'));
                self.expect.push_back(Expect::Injected(b'2'));
                self.expect.push_back(Expect::Execute(None));
                self.discarding = true;
                return Ok(());
            }
            if let Some(p) = self.portals.get_mut(&name) {
                p.allowed = true;
            }
        }
        self.expect
            .push_back(Expect::Execute(Some(crate::pump::Results {
                portal,
                mask: None,
            })));
        wire::put_frame(&mut self.to_server, b'E', &frame.body);
        Ok(())
    }
}

impl Session {
    /// When a Parse or Bind that (re)made a name the next message uses was sent in an
    /// earlier batch and its answer has not come yet, waits for that answer: if the
    /// server refused it, the name still holds what it held before, and that is what
    /// is judged. (Within one batch nothing needs waiting for: after a refused message
    /// the server skips the rest of the batch.)
    async fn settle(&mut self, made_it: impl Fn(&Expect) -> bool) -> io::Result<()> {
        let Some(at) = self.expect.iter().rposition(&made_it) else {
            return Ok(());
        };
        if !self
            .expect
            .iter()
            .skip(at)
            .any(|e| matches!(e, Expect::Sync))
        {
            return Ok(());
        }
        wire::put_frame(&mut self.to_server, b'H', &[]);
        self.send_to_server()
            .await
            .map_err(|e| io::Error::new(io::ErrorKind::BrokenPipe, e))?;
        while self.expect.iter().any(&made_it) {
            if self.up_r.read_buf(&mut self.ubuf).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.on_server()
                .await
                .map_err(|e| io::Error::new(io::ErrorKind::BrokenPipe, e))?;
        }
        Ok(())
    }
}
