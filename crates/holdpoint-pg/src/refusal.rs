//! A refused statement is not answered by holdpoint: it is replaced by a statement that
//! makes the server raise the refusal itself (SQLSTATE 42501 and holdpoint's message).
//! So the error arrives in the server's own order among the other answers, and a
//! transaction block is aborted exactly as a failed statement would abort it.
//!
//! The replacement is a `DO` block (PL/pgSQL, which every database has unless an
//! administrator removed it; without it the client gets the server's error instead,
//! and the statement still does not run). The message is dollar-quoted with a random
//! tag that it does not contain.

use crate::wire::{put_cstr, put_frame};
use bytes::{BufMut, BytesMut};

/// The `DO` statement raising `code` with `message`.
pub fn raise_sql(code: &str, message: &str) -> String {
    let message: String = message
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    let code: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(5)
        .collect();
    let tag = loop {
        let tag = format!("hp{:016x}", rand::random::<u64>());
        if !message.contains(&tag) {
            break tag;
        }
    };
    format!(
        "DO $o{tag}$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}', MESSAGE = ${tag}${message}${tag}$; END $o{tag}$"
    )
}

/// A Query message that raises the refusal (simple protocol, fast-path calls).
pub fn query(out: &mut BytesMut, code: &str, message: &str) {
    let mut body = BytesMut::new();
    put_cstr(&mut body, &raise_sql(code, message));
    put_frame(out, b'Q', &body);
}

/// Parse, Bind and Execute of the refusal, under names of its own (extended protocol).
/// The server answers ParseComplete and BindComplete, which the pump drops, then the
/// error; it then skips to the client's Sync, after which [`close`] drops the statement.
pub fn extended(out: &mut BytesMut, n: u64, code: &str, message: &str) {
    let name = format!("holdpoint_refusal_{n}");
    let mut parse = BytesMut::new();
    put_cstr(&mut parse, &name);
    put_cstr(&mut parse, &raise_sql(code, message));
    parse.put_i16(0);
    put_frame(out, b'P', &parse);
    let mut bind = BytesMut::new();
    put_cstr(&mut bind, &name);
    put_cstr(&mut bind, &name);
    bind.put_i16(0);
    bind.put_i16(0);
    bind.put_i16(0);
    put_frame(out, b'B', &bind);
    let mut execute = BytesMut::new();
    put_cstr(&mut execute, &name);
    execute.put_i32(0);
    put_frame(out, b'E', &execute);
}

/// Close of the statement of refusal `n`, and a Sync of holdpoint's own: sent after
/// the client's Sync (before it the server skips everything after the error), so no
/// refusal is left prepared on the server. Closing a name that does not exist (a
/// fast-path refusal made none) is no error.
pub fn close(out: &mut BytesMut, n: u64) {
    let mut close = BytesMut::new();
    close.put_u8(b'S');
    put_cstr(&mut close, &format!("holdpoint_refusal_{n}"));
    put_frame(out, b'C', &close);
    put_frame(out, b'S', &[]);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_message_cannot_end_the_quoting() {
        let sql = raise_sql("42501", "it's $$ fine $hp$ \u{0}\u{7}");
        assert!(sql.starts_with("DO $ohp"));
        assert!(sql.contains("ERRCODE = '42501'"));
        assert!(!sql.contains('\u{0}'));
        let parsed = pg_query::parse(&sql, 0).expect("parses");
        assert_eq!(parsed.protobuf.stmts.len(), 1);
        let code = raise_sql("4250'; DROP", "x");
        assert!(code.contains("ERRCODE = '4250D'"));
    }
}
