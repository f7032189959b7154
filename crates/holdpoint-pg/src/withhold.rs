//! The server's words on a listener with masking: errors, notices and notifications.
//!
//! The server quotes row data in its messages in many ways (`invalid input syntax for
//! type integer: "ann@example.com"`, `schema "ann@example" does not exist` from
//! `email::regclass`, a duplicate key's DETAIL, a context line of dynamic SQL, any text
//! a `RAISE` chooses), and no list of SQLSTATEs tells which do. So on a masked listener
//! an ErrorResponse or NoticeResponse keeps its severity, SQLSTATE, position and source
//! location, and its message only when it is one of a short list of the server's own
//! messages whose every quoted part is text the agent itself sent on this connection
//! (`column "nope" does not exist`, `syntax error at or near "FORM"`); any other
//! message becomes a fixed one naming the SQLSTATE. DETAIL and HINT follow the same
//! rule; CONTEXT (where) and the internal query are always dropped; schema, table,
//! column, type and constraint names stay only when the agent sent them too. What is
//! kept still goes through the detectors. holdpoint's own refusals are not the
//! server's words, and pass whole.
//!
//! A notification's payload cannot be traced to any column: where columns are masked
//! it is withheld (`[masked:notification]`); where only the detectors run, it goes
//! through them. Its channel is one the agent listens on, and stays.
//!
//! A setting the server reports during the session (ParameterStatus) can carry a value
//! too: `set_config('application_name', email, false)`. Settings whose values come
//! from a fixed vocabulary pass; any other passes only with a value the agent sent.

use crate::wire::Reader;
use bytes::{BufMut, BytesMut};
use holdpoint_core::mask::Masker;

/// How much of the SQL the agent sent is kept to check quoted parts against.
const SQL_KEPT: usize = 64 * 1024;

/// The SQL text the agent sent on this connection, most recent last.
#[derive(Default)]
pub struct Sent {
    text: String,
}

impl Sent {
    pub fn note(&mut self, sql: &[u8]) {
        let sql = String::from_utf8_lossy(sql).to_lowercase();
        self.text.push('\n');
        self.text.push_str(&sql);
        if self.text.len() > SQL_KEPT {
            let cut = self.text.len() - SQL_KEPT / 2;
            let cut = (cut..self.text.len())
                .find(|i| self.text.is_char_boundary(*i))
                .unwrap_or(self.text.len());
            self.text.drain(..cut);
        }
    }

    /// The agent sent `part` (case aside).
    fn has(&self, part: &str) -> bool {
        let part = part.trim();
        !part.is_empty() && self.text.contains(&part.to_lowercase())
    }
}

/// Messages of the server kept on a masked listener. `{}` is a part the agent must have
/// sent itself (quotes aside); `{sig}` a function or operator signature: its names sent
/// by the agent, its types built-in names.
const KEPT: &[&str] = &[
    "current transaction is aborted, commands ignored until end of transaction block",
    "canceling statement due to user request",
    "canceling statement due to statement timeout",
    "canceling statement due to lock timeout",
    "there is no transaction in progress",
    "there is already a transaction in progress",
    "syntax error at end of input",
    "division by zero",
    "could not serialize access due to concurrent update",
    "could not serialize access due to read/write dependencies among transactions",
    "deadlock detected",
    "cannot insert multiple commands into a prepared statement",
    "syntax error at or near {}",
    "column {} does not exist",
    "column {} of relation {} does not exist",
    "relation {} does not exist",
    "table {} does not exist, skipping",
    "relation {} already exists",
    "relation {} already exists, skipping",
    "schema {} does not exist",
    "type {} does not exist",
    "function {sig} does not exist",
    "operator does not exist: {sig}",
    "missing FROM-clause entry for table {}",
    "column reference {} is ambiguous",
    "permission denied for table {}",
    "permission denied for schema {}",
    "permission denied for view {}",
    "permission denied for sequence {}",
    "permission denied for function {}",
    "prepared statement {} does not exist",
    "prepared statement {} already exists",
    "cursor {} does not exist",
    "cursor {} already exists",
    "portal {} does not exist",
    "null value in column {} of relation {} violates not-null constraint",
    "No function matches the given name and argument types. You might need to add explicit type casts.",
    "No operator matches the given name and argument types. You might need to add explicit type casts.",
    "Perhaps you meant to reference the column {}.",
];

/// Type names the server writes in signatures.
const TYPE_WORDS: &[&str] = &[
    "integer",
    "bigint",
    "smallint",
    "text",
    "numeric",
    "boolean",
    "unknown",
    "character",
    "varying",
    "double",
    "precision",
    "real",
    "date",
    "time",
    "timestamp",
    "with",
    "without",
    "zone",
    "interval",
    "json",
    "jsonb",
    "bytea",
    "uuid",
    "record",
    "oid",
    "name",
    "regclass",
    "anyelement",
    "anyarray",
    "void",
];

/// `message` matches a kept one, every part being the agent's own.
fn kept(message: &str, sent: &Sent) -> bool {
    KEPT.iter().any(|template| matches(template, message, sent))
}

fn matches(template: &str, message: &str, sent: &Sent) -> bool {
    // Literal pieces between the holes, and what each hole is.
    let mut pieces: Vec<&str> = Vec::new();
    let mut holes: Vec<bool> = Vec::new();
    let mut rest = template;
    loop {
        let next = [("{}", false), ("{sig}", true)]
            .iter()
            .filter_map(|(h, sig)| rest.find(h).map(|at| (at, h.len(), *sig)))
            .min_by_key(|(at, ..)| *at);
        match next {
            Some((at, len, sig)) => {
                pieces.push(rest.get(..at).unwrap_or_default());
                holes.push(sig);
                rest = rest.get(at + len..).unwrap_or_default();
            }
            None => {
                pieces.push(rest);
                break;
            }
        }
    }
    let Some((first, tail)) = pieces.split_first() else {
        return false;
    };
    let Some(mut left) = message.strip_prefix(first) else {
        return false;
    };
    for (piece, sig) in tail.iter().zip(holes) {
        // The hole ends where its piece last occurs (or at the end, for the last).
        let end = if piece.is_empty() {
            left.len()
        } else {
            match left.rfind(piece) {
                Some(end) => end,
                None => return false,
            }
        };
        let (hole, after) = left.split_at(end);
        let fits = if sig {
            signature(hole, sent)
        } else {
            identifier(hole, sent)
        };
        if !fits {
            return false;
        }
        left = after.get(piece.len()..).unwrap_or_default();
    }
    left.is_empty()
}

/// A name the agent sent, maybe qualified (`c.nope`, `"public.t"`): each part sent.
fn identifier(hole: &str, sent: &Sent) -> bool {
    hole.trim_matches('"')
        .split('.')
        .all(|part| sent.has(part.trim_matches('"')))
}

/// A signature (`lower(integer)`, `integer = text`): names the agent sent, built-in
/// type names, punctuation and operators.
fn signature(hole: &str, sent: &Sent) -> bool {
    !hole.trim().is_empty()
        && hole
            .split(|c: char| c.is_whitespace() || "(),[]\"".contains(c))
            .filter(|w| !w.is_empty())
            .all(|w| {
                TYPE_WORDS.contains(&w.to_ascii_lowercase().as_str())
                    || w.chars().all(|c| "+-*/<>=~!@#%^&|`?".contains(c))
                    || sent.has(w)
            })
}

/// An ErrorResponse or NoticeResponse body as the agent may see it on a masked
/// listener; `ours` when it is holdpoint's own refusal, raised by the server for it.
pub fn notice(body: &[u8], masker: &dyn Masker, sent: &Sent, ours: bool) -> Vec<u8> {
    let fields: Vec<(u8, String)> = body
        .split(|b| *b == 0)
        .filter_map(|f| f.split_first())
        .map(|(t, v)| (*t, String::from_utf8_lossy(v).into_owned()))
        .collect();
    if ours {
        return body.to_vec();
    }
    let code = fields
        .iter()
        .find(|(t, _)| *t == b'C')
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(body.len());
    for (t, value) in fields {
        let value = match t {
            b'M' if kept(&value, sent) => masker.mask_text(&value),
            b'M' => format!(
                "holdpoint: the server's message is withheld on a masked listener (SQLSTATE {code})"
            ),
            b'D' | b'H' if kept(&value, sent) => masker.mask_text(&value),
            b's' | b't' | b'c' | b'd' | b'n' if sent.has(&value) => value,
            // Severity, SQLSTATE, positions, the server's source file, line and routine.
            b'S' | b'V' | b'C' | b'P' | b'F' | b'L' | b'R' => value,
            _ => continue,
        };
        out.push(t);
        out.extend(value.bytes().filter(|b| *b != 0));
        out.push(0);
    }
    out.push(0);
    out
}

/// A NotificationResponse body as the agent may see it: the payload withheld where
/// columns are masked (`withhold`), else through the detectors. `None`: relay as is.
pub fn notification(body: &[u8], masker: &dyn Masker, withhold: bool) -> Option<BytesMut> {
    let mut r = Reader::new(body);
    let (Ok(pid), Ok(channel), Ok(payload)) = (r.i32(), r.cstr(), r.cstr()) else {
        // Not a notification holdpoint can read: nothing of it passes.
        let mut out = BytesMut::new();
        out.put_i32(0);
        out.put_u8(0);
        out.put_u8(0);
        return Some(out);
    };
    let payload = if withhold && !payload.is_empty() {
        "[masked:notification]".to_string()
    } else {
        let masked = masker.mask_text(payload);
        if masked == payload {
            return None;
        }
        masked
    };
    let mut out = BytesMut::new();
    out.put_i32(pid);
    crate::wire::put_cstr(&mut out, channel);
    crate::wire::put_cstr(&mut out, &payload);
    Some(out)
}

/// Reported settings whose values cannot carry text of the agent's choosing.
const FIXED_VOCABULARY: &[&str] = &[
    "client_encoding",
    "datestyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "intervalstyle",
    "is_superuser",
    "scram_iterations",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
];

/// A ParameterStatus body as the agent may see it during a session on a masked
/// listener; `None`: relay as is.
pub fn parameter(body: &[u8], sent: &Sent) -> Option<BytesMut> {
    let mut r = Reader::new(body);
    let (Ok(name), Ok(value)) = (r.cstr(), r.cstr()) else {
        return None;
    };
    if value.is_empty()
        || FIXED_VOCABULARY.contains(&name.to_ascii_lowercase().as_str())
        || sent.has(value)
    {
        return None;
    }
    let mut out = BytesMut::new();
    crate::wire::put_cstr(&mut out, name);
    crate::wire::put_cstr(&mut out, "[masked:setting]");
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used)]
    use super::*;

    use holdpoint_core::mask::NoMasking as NoDetectors;

    fn sent(sql: &str) -> Sent {
        let mut s = Sent::default();
        s.note(sql.as_bytes());
        s
    }

    fn error(code: &str, fields: &[(u8, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (t, v) in [(b'S', "ERROR"), (b'C', code)].iter().chain(fields) {
            b.push(*t);
            b.extend(v.as_bytes());
            b.push(0);
        }
        b.push(0);
        b
    }

    fn field(body: &[u8], t: u8) -> Option<String> {
        body.split(|b| *b == 0)
            .find(|f| f.first() == Some(&t))
            .map(|f| String::from_utf8_lossy(&f[1..]).into_owned())
    }

    #[test]
    fn a_value_quoted_by_the_server_is_withheld() {
        let s = sent("SELECT email::regclass FROM customers");
        let body = error(
            "3F000",
            &[(b'M', "schema \"ann@example\" does not exist"), (b'P', "8")],
        );
        let out = notice(&body, &NoDetectors, &s, false);
        let m = field(&out, b'M').unwrap();
        assert!(!m.contains("ann"), "{m}");
        assert!(m.contains("3F000"), "{m}");
        assert_eq!(field(&out, b'P').as_deref(), Some("8"));
    }

    #[test]
    fn the_agents_own_names_are_kept() {
        let s = sent("SELECT nope FROM customers c WHERE c.id = lower(1)");
        for m in [
            "column \"nope\" does not exist",
            "column c.nope does not exist",
            "function lower(integer) does not exist",
            "relation \"customers\" does not exist",
        ] {
            let out = notice(&error("42703", &[(b'M', m)]), &NoDetectors, &s, false);
            assert_eq!(field(&out, b'M').as_deref(), Some(m));
        }
    }

    #[test]
    fn raised_text_and_context_are_withheld() {
        let s = sent("DO $$ BEGIN RAISE EXCEPTION '%', (SELECT email FROM customers); END $$");
        let body = error(
            "42703",
            &[
                (b'M', "ann@example.com"),
                (b'D', "Key (email)=(ann@example.com)"),
                (b'W', "PL/pgSQL function inline_code_block line 1 at RAISE"),
                (b'q', "SELECT 'ann@example.com'"),
                (b'c', "ann@example.com"),
                (b't', "customers"),
            ],
        );
        let out = notice(&body, &NoDetectors, &s, false);
        assert!(!String::from_utf8_lossy(&out).contains("ann@"));
        assert_eq!(field(&out, b't').as_deref(), Some("customers"));
        assert!(field(&out, b'W').is_none());
        // A template whose quoted part the agent did not send is withheld too.
        let body = error(
            "42703",
            &[(b'M', "column \"ann@example.com\" does not exist")],
        );
        let out = notice(&body, &NoDetectors, &s, false);
        assert!(!String::from_utf8_lossy(&out).contains("ann@"));
        // holdpoint's own refusal passes whole.
        let body = error("42501", &[(b'M', "holdpoint: denied")]);
        assert_eq!(notice(&body, &NoDetectors, &s, true), body);
    }

    #[test]
    fn settings_carry_only_what_the_agent_sent() {
        let s = sent("SET application_name = 'mine'; SET datestyle = 'sql'");
        let status = |name: &str, value: &str| {
            let mut b = BytesMut::new();
            crate::wire::put_cstr(&mut b, name);
            crate::wire::put_cstr(&mut b, value);
            b
        };
        assert!(parameter(&status("application_name", "mine"), &s).is_none());
        assert!(parameter(&status("DateStyle", "SQL, MDY"), &s).is_none());
        let out = parameter(&status("application_name", "ann@example.com"), &s).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("ann@"));
    }

    #[test]
    fn notification_payloads_are_withheld_where_columns_are_masked() {
        let mut body = BytesMut::new();
        body.put_i32(7);
        crate::wire::put_cstr(&mut body, "chan");
        crate::wire::put_cstr(&mut body, "ann@example.com");
        let out = notification(&body, &NoDetectors, true).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("chan") && !text.contains("ann@"), "{text}");
        assert!(notification(&body, &NoDetectors, false).is_none());
    }
}
