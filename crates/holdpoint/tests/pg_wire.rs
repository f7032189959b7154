//! The PostgreSQL proxy attacked with raw protocol messages, as a hostile agent would:
//! a statement name reused under another kind, portals and statements it never saw,
//! fast-path calls, pipelines that mix allowed and refused messages, bytes that are not
//! UTF-8, startup options that would change how the server reads SQL, oversized
//! messages. Fails when PostgreSQL is absent under `CI=true`; skips otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use bytes::{BufMut, BytesMut};
use postgres_protocol::message::frontend;
use support::pg::{Db, Proxy, Raw, bind, codes, first_values};

fn proxy(tag: &str) -> Option<Proxy> {
    let db = Db::fresh(tag)?;
    db.run("CREATE TABLE accounts (id int PRIMARY KEY, balance int); INSERT INTO accounts VALUES (1, 10), (2, 20)");
    Some(Proxy::start(db, "prod", "", None))
}

fn raw(p: &Proxy) -> Raw {
    Raw::connect(&p.addr, "bot", &p.token, &p.db.name, &[]).unwrap()
}

fn parse(out: &mut BytesMut, name: &str, sql: &str) {
    frontend::parse(name, sql, std::iter::empty(), out).unwrap();
}

fn bind_execute(out: &mut BytesMut, statement: &str) {
    bind(out, "", statement, &[]);
    frontend::execute("", 0, out).unwrap();
}

fn query(out: &mut BytesMut, sql: &str) {
    frontend::query(sql, out).unwrap();
}

fn balance_total(p: &Proxy) -> String {
    p.db.run("SELECT sum(balance) FROM accounts")
        .trim()
        .to_string()
}

#[test]
fn a_statement_name_is_judged_as_what_the_server_holds_under_it() {
    let Some(p) = proxy("names") else { return };
    let mut c = raw(&p);
    let mut out = BytesMut::new();
    parse(&mut out, "s1", "SELECT 1");
    frontend::sync(&mut out);
    c.send(&out);
    assert!(codes(&c.until_ready()).is_empty());

    // Parsing the name again under a forbidden statement fails in the server (the name
    // is taken), so s1 is still SELECT 1: it runs, and nothing is refused.
    out.clear();
    parse(&mut out, "s1", "UPDATE accounts SET balance = 0");
    frontend::sync(&mut out);
    bind_execute(&mut out, "s1");
    frontend::sync(&mut out);
    c.send(&out);
    assert_eq!(codes(&c.until_ready()), vec!["42P05"]);
    let run = c.until_ready();
    assert!(codes(&run).is_empty(), "{run:?}");
    assert_eq!(first_values(&run), vec![Some("1".to_string())]);

    // A forbidden statement under a name: refused at Execute, in every later batch.
    out.clear();
    parse(&mut out, "s2", "UPDATE accounts SET balance = 0");
    bind_execute(&mut out, "s2");
    frontend::sync(&mut out);
    bind_execute(&mut out, "s2");
    frontend::sync(&mut out);
    c.send(&out);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    // Closed and parsed again as a read, the name runs the read.
    out.clear();
    frontend::close(b'S', "s2", &mut out).unwrap();
    parse(&mut out, "s2", "SELECT 2");
    bind_execute(&mut out, "s2");
    frontend::sync(&mut out);
    c.send(&out);
    let run = c.until_ready();
    assert!(codes(&run).is_empty(), "{run:?}");
    assert_eq!(first_values(&run), vec![Some("2".to_string())]);
    assert_eq!(balance_total(&p), "30");
}

#[test]
fn names_and_calls_it_never_saw_are_refused() {
    let Some(p) = proxy("unseen") else { return };
    let mut c = raw(&p);
    let mut out = BytesMut::new();
    bind_execute(&mut out, "never_parsed");
    frontend::sync(&mut out);
    c.send(&out);
    // The server's own error for the Bind comes first; the Execute never runs.
    assert_eq!(codes(&c.until_ready()), vec!["26000"]);
    // Execute of a portal never bound.
    out.clear();
    frontend::execute("nope", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    c.send(&out);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    // A fast-path function call (by oid: pg_terminate_backend is 2096).
    out.clear();
    let mut body = BytesMut::new();
    body.put_i32(2096);
    body.put_i16(0);
    body.put_i16(1);
    body.put_i32(1);
    body.put_i32(0);
    body.put_i16(0);
    out.put_u8(b'F');
    out.put_i32(body.len() as i32 + 4);
    out.extend_from_slice(&body);
    c.send(&out);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    // SQL-level PREPARE is judged when executed, as what it prepared.
    out.clear();
    query(&mut out, "PREPARE p AS UPDATE accounts SET balance = 0");
    query(&mut out, "EXECUTE p");
    query(&mut out, "EXECUTE never_prepared");
    c.send(&out);
    assert!(codes(&c.until_ready()).is_empty());
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    // A name prepared again (the server refuses: it is taken) keeps what it first
    // prepared: EXECUTE is judged as the UPDATE the server still holds under it.
    out.clear();
    query(&mut out, "PREPARE q AS UPDATE accounts SET balance = 0");
    query(&mut out, "PREPARE q AS SELECT 1");
    query(&mut out, "EXECUTE q");
    c.send(&out);
    assert!(codes(&c.until_ready()).is_empty());
    assert_eq!(codes(&c.until_ready()), vec!["42P05"]);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    assert_eq!(balance_total(&p), "30");
}

#[test]
fn sql_level_names_and_closed_portals_cannot_carry_a_statement_past_the_proxy() {
    let Some(p) = proxy("shared") else { return };
    let mut c = raw(&p);
    // Protocol and SQL share one namespace: DEALLOCATE, then PREPARE the same name.
    let mut out = BytesMut::new();
    parse(&mut out, "s1", "SELECT 1");
    frontend::sync(&mut out);
    query(&mut out, "DEALLOCATE s1");
    query(&mut out, "PREPARE s1 AS UPDATE accounts SET balance = 0");
    bind_execute(&mut out, "s1");
    frontend::sync(&mut out);
    c.send(&out);
    assert!(codes(&c.until_ready()).is_empty());
    assert!(codes(&c.until_ready()).is_empty());
    assert!(codes(&c.until_ready()).is_empty());
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    assert_eq!(balance_total(&p), "30");

    // A named portal, allowed, then closed and declared again as a cursor over
    // something else: an Execute of that name is judged afresh (unknown).
    out.clear();
    query(&mut out, "BEGIN");
    parse(&mut out, "", "SELECT balance FROM accounts");
    bind(&mut out, "c", "", &[]);
    frontend::execute("c", 1, &mut out).unwrap();
    frontend::sync(&mut out);
    query(
        &mut out,
        "CLOSE c; DECLARE c CURSOR FOR SELECT id FROM accounts",
    );
    frontend::execute("c", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    c.send(&out);
    assert!(codes(&c.until_ready()).is_empty());
    assert_eq!(first_values(&c.until_ready()).len(), 1);
    assert!(codes(&c.until_ready()).is_empty());
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
}

#[test]
fn pipelines_keep_their_order_and_discard_until_sync() {
    let Some(p) = proxy("pipeline") else { return };
    let mut c = raw(&p);
    let mut out = BytesMut::new();
    query(&mut out, "SELECT 'one'");
    query(&mut out, "SELECT 1; UPDATE accounts SET balance = 0");
    query(&mut out, "SELECT 'three'");
    c.send(&out);
    assert_eq!(
        first_values(&c.until_ready()),
        vec![Some("one".to_string())]
    );
    let refused = c.until_ready();
    assert_eq!(codes(&refused), vec!["42501"]);
    assert!(
        first_values(&refused).is_empty(),
        "no part of a refused message runs"
    );
    assert_eq!(
        first_values(&c.until_ready()),
        vec![Some("three".to_string())]
    );

    out.clear();
    parse(&mut out, "", "SELECT 'a'");
    bind_execute(&mut out, "");
    parse(&mut out, "", "UPDATE accounts SET balance = 0");
    bind_execute(&mut out, "");
    parse(&mut out, "", "SELECT 'c'");
    bind_execute(&mut out, "");
    frontend::sync(&mut out);
    parse(&mut out, "", "SELECT 'd'");
    bind_execute(&mut out, "");
    frontend::sync(&mut out);
    c.send(&out);
    let batch = c.until_ready();
    assert_eq!(
        first_values(&batch),
        vec![Some("a".to_string())],
        "c is discarded"
    );
    assert_eq!(codes(&batch), vec!["42501"]);
    // Only the refusal's own answers are dropped: ParseComplete and BindComplete of
    // the client's messages arrive as sent.
    assert_eq!(batch.iter().filter(|(t, _)| *t == b'1').count(), 2);
    assert_eq!(first_values(&c.until_ready()), vec![Some("d".to_string())]);
    assert_eq!(balance_total(&p), "30");
}

#[test]
fn odd_bytes_and_settings_cannot_change_what_the_server_reads() {
    let Some(p) = proxy("bytes") else { return };
    let mut c = raw(&p);
    // Not UTF-8.
    let mut out = BytesMut::new();
    out.put_u8(b'Q');
    let sql = b"SELECT '\xff'; UPDATE accounts SET balance = 0\0";
    out.put_i32(sql.len() as i32 + 4);
    out.extend_from_slice(sql);
    c.send(&out);
    assert_eq!(codes(&c.until_ready()), vec!["42501"]);
    // The server reads a query up to its NUL, and so does holdpoint.
    out.clear();
    out.put_u8(b'Q');
    let sql = b"SELECT 'x'\0; UPDATE accounts SET balance = 0\0";
    out.put_i32(sql.len() as i32 + 4);
    out.extend_from_slice(sql);
    c.send(&out);
    let run = c.until_ready();
    assert_eq!(codes(&run), vec!["08P01"], "the server refuses the message");
    // Settings that change how SQL is read are refused, in SQL and as functions.
    for sql in [
        "SET standard_conforming_strings = off",
        "SELECT set_config('standard_conforming_strings', 'off', false)",
        "SET client_encoding = 'SJIS'",
        "SET NAMES 'BIG5'",
        "SET ROLE postgres",
        "SELECT set_config('role', 'postgres', false)",
    ] {
        out.clear();
        query(&mut out, sql);
        c.send(&out);
        assert_eq!(codes(&c.until_ready()), vec!["42501"], "{sql}");
    }
    assert_eq!(balance_total(&p), "30");

    // Startup options that would set them are not passed on.
    let mut c = Raw::connect(
        &p.addr,
        "bot",
        &p.token,
        &p.db.name,
        &[(
            "options",
            "-c standard_conforming_strings=off -c role=pg_read_server_files",
        )],
    )
    .unwrap();
    out.clear();
    query(&mut out, "SHOW standard_conforming_strings");
    c.send(&out);
    assert_eq!(first_values(&c.until_ready()), vec![Some("on".to_string())]);
    // A client encoding other than UTF8 is refused at startup.
    let refused = Raw::connect(
        &p.addr,
        "bot",
        &p.token,
        &p.db.name,
        &[("client_encoding", "SJIS")],
    );
    assert!(refused.err().unwrap().contains("22023"));
    // Replication connections are refused.
    let refused = Raw::connect(
        &p.addr,
        "bot",
        &p.token,
        &p.db.name,
        &[("replication", "database")],
    );
    assert!(refused.err().unwrap().contains("replication"));
}

#[test]
fn an_oversized_message_closes_only_its_connection() {
    let Some(p) = proxy("huge") else { return };
    let mut c = raw(&p);
    let mut out = BytesMut::new();
    out.put_u8(b'Q');
    out.put_i32(i32::MAX);
    c.send(&out);
    let last = c.until_ready();
    assert_eq!(codes(&last), vec!["08P01"]);
    assert!(c.next().is_none(), "the connection is closed");
    let mut again = raw(&p);
    out.clear();
    query(&mut out, "SELECT 1");
    again.send(&out);
    assert_eq!(
        first_values(&again.until_ready()),
        vec![Some("1".to_string())]
    );
}
