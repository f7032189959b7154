//! An attack corpus against the PostgreSQL proxy (issue 17's review), written by a
//! helper who did not write the proxy: a hostile agent whose policy lets it only read,
//! on a listener that masks `customers.email` and `*.ssn`, trying to get a write or a
//! privileged call past `db.read`, or a masked value out, through the simple protocol,
//! the extended protocol (raw Parse / Bind / Execute, pipelines, Sync-less batches,
//! suspended portals) and odd encodings; and a careless operator (a dead upstream, bad
//! mask config). Every statement is checked on the upstream directly: nothing changed,
//! and no secret appears in any byte the client got (plain, hex or base64). A test left
//! `#[ignore = "finding: …"]` is an attack that still succeeds.
//!
//! Fails when PostgreSQL is absent under `CI=true`; skips otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine;
use bytes::{BufMut, BytesMut};
use postgres_protocol::message::frontend;
use support::pg::{Db, Msg, Proxy, Raw, bind, codes, first_values};
use support::text;

/// Reads and transaction control; nothing else is permitted, so every other kind is
/// denied (42501).
const READ_ONLY: &str = r#"
@id("reads") permit (principal, action == Action::"db.read", resource);
@id("tx") permit (principal, action == Action::"db.transaction", resource);
"#;

const MASKS: &str = r#"mask_columns = ["customers.email", "*.ssn"]"#;

const SECRETS: &[&str] = &[
    "ann.smith@example.com",
    "078-05-1120",
    "bob.jones@example.org",
    "219-09-9999",
];

/// The database every attack runs against, as the operator made it (directly).
fn attack_db(tag: &str) -> Option<Db> {
    let db = Db::fresh(tag)?;
    db.run(
        "CREATE TABLE customers (id int PRIMARY KEY, email text, ssn text, note text); \
         INSERT INTO customers VALUES (1, 'ann.smith@example.com', '078-05-1120', 'vip'), \
                                      (2, 'bob.jones@example.org', '219-09-9999', 'new'); \
         CREATE TABLE t (id int); INSERT INTO t VALUES (1); \
         CREATE SEQUENCE hp_s; \
         CREATE SCHEMA hp_evil; \
         CREATE FUNCTION hp_evil.random() RETURNS double precision LANGUAGE sql VOLATILE \
           AS 'INSERT INTO public.t VALUES (666) RETURNING 0.5::float8'; \
         CREATE FUNCTION hp_evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql VOLATILE \
           AS 'INSERT INTO public.t VALUES (667) RETURNING now()'; \
         CREATE FUNCTION hp_evil.gen_random_uuid() RETURNS uuid LANGUAGE sql VOLATILE \
           AS 'INSERT INTO public.t VALUES (668) RETURNING ''00000000-0000-0000-0000-000000000000''::uuid'; \
         CREATE FUNCTION hp_evil.lower(text) RETURNS text LANGUAGE sql VOLATILE \
           AS 'INSERT INTO public.t VALUES (669) RETURNING $1'; \
         CREATE FUNCTION hp_evil.plus(int, int) RETURNS int LANGUAGE sql VOLATILE \
           AS 'INSERT INTO public.t VALUES (670) RETURNING $1 - $2'; \
         CREATE OPERATOR hp_evil.+ (LEFTARG = int, RIGHTARG = int, FUNCTION = hp_evil.plus)",
    );
    Some(db)
}

fn proxy(tag: &str) -> Option<Proxy> {
    let db = attack_db(tag)?;
    Some(Proxy::start(db, "prod", MASKS, Some(READ_ONLY)))
}

/// What an attack could have changed on the upstream: t's rows, the sequence, large
/// objects, customers' rows and their values.
fn upstream_state(db: &Db) -> String {
    db.run(
        "SELECT (SELECT string_agg(id::text, ',' ORDER BY id) FROM t) || ' | ' || \
                (SELECT last_value || '/' || is_called FROM hp_s) || ' | ' || \
                (SELECT count(*) FROM pg_largeobject_metadata) || ' | ' || \
                (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c)",
    )
    .trim()
    .to_string()
}

/// What an attack could have changed in the session itself.
const SESSION: &str = "SELECT current_user || ',' || session_user || ',' || \
     current_setting('standard_conforming_strings') || ',' || \
     current_setting('client_encoding') || ',' || current_setting('log_statement')";

fn forms(secret: &str) -> Vec<Vec<u8>> {
    let raw = secret.as_bytes();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut out = vec![
        raw.to_vec(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
    ];
    for pad in 0..3 {
        let mut padded = vec![0u8; pad];
        padded.extend_from_slice(raw);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&padded);
        let start = if pad == 0 { 0 } else { 4 };
        let end = b64.len().saturating_sub(4);
        out.push(b64.as_bytes()[start..end.max(start)].to_vec());
    }
    out
}

fn leak_in(bytes: &[u8]) -> Option<String> {
    for secret in SECRETS {
        for form in forms(secret) {
            if form.len() >= 8 && bytes.windows(form.len()).any(|w| w == form.as_slice()) {
                return Some(format!("{secret} as {}", String::from_utf8_lossy(&form)));
            }
        }
    }
    None
}

fn all_bytes(msgs: &[Msg]) -> Vec<u8> {
    msgs.iter()
        .flat_map(|(t, b)| std::iter::once(*t).chain(b.iter().copied()))
        .collect()
}

fn assert_clean(msgs: &[Msg], what: &str) {
    if let Some(found) = leak_in(&all_bytes(msgs)) {
        panic!("{what} leaked {found}: {}", text(&all_bytes(msgs)));
    }
}

fn simple(raw: &mut Raw, sql: &str) -> Vec<Msg> {
    let mut out = BytesMut::new();
    frontend::query(sql, &mut out).unwrap();
    raw.send(&out);
    raw.until_ready()
}

fn extended(raw: &mut Raw, sql: &str, formats: &[i16]) -> Vec<Msg> {
    let mut out = BytesMut::new();
    frontend::parse("", sql, std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "", "", formats);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    raw.until_ready()
}

fn connect(p: &Proxy) -> Raw {
    Raw::connect(&p.addr, "bot", &p.token, &p.db.name, &[]).unwrap()
}

/// Every DataRow's columns, as text (binary shown as hex), `None` for NULL.
fn rows(msgs: &[Msg]) -> Vec<Vec<Option<String>>> {
    msgs.iter()
        .filter(|(t, _)| *t == b'D')
        .map(|(_, body)| {
            let n = i16::from_be_bytes([body[0], body[1]]) as usize;
            let mut at = 2;
            let mut row = Vec::with_capacity(n);
            for _ in 0..n {
                let len = i32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
                at += 4;
                if len < 0 {
                    row.push(None);
                } else {
                    let v = &body[at..at + len as usize];
                    at += len as usize;
                    row.push(Some(String::from_utf8_lossy(v).into_owned()));
                }
            }
            row
        })
        .collect()
}

/// The connection still answers, holds no prepared statement, and its session is
/// still `postgres` with the settings holdpoint reads SQL by.
fn assert_usable(raw: &mut Raw, what: &str) {
    let msgs = simple(raw, "SELECT 41 + 1");
    assert_eq!(
        first_values(&msgs),
        vec![Some("42".to_string())],
        "{what}: {}",
        text(&all_bytes(&msgs))
    );
    let msgs = simple(raw, SESSION);
    assert_eq!(
        first_values(&msgs),
        vec![Some("postgres,postgres,on,UTF8,none".to_string())],
        "{what}: the session changed"
    );
}

/// Each of `corpus`, simple and extended, must be refused (42501) and change nothing.
fn assert_all_refused(p: &Proxy, corpus: &[&str]) {
    let before = upstream_state(&p.db);
    let mut raw = connect(p);
    for sql in corpus {
        for how in ["simple", "extended"] {
            let msgs = match how {
                "simple" => simple(&mut raw, sql),
                _ => extended(&mut raw, sql, &[]),
            };
            let what = format!("{sql:?} ({how})");
            // A Parse of two statements is refused by the server itself.
            assert!(
                codes(&msgs).iter().any(|c| c == "42501")
                    || (how == "extended" && !codes(&msgs).is_empty()),
                "{what} was not refused: {}",
                text(&all_bytes(&msgs))
            );
            assert_clean(&msgs, &what);
            assert_eq!(upstream_state(&p.db), before, "{what} changed the upstream");
            // Anything a refusal left open (a transaction block) is closed again.
            simple(&mut raw, "ROLLBACK");
            assert_usable(&mut raw, &what);
        }
    }
}

/// Writes and privileged calls hidden in every corner of a SELECT, and in the odd
/// spellings the parser accepts, are judged as what they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_privileged_calls_hidden_in_a_read_are_refused() {
    let Some(p) = proxy("atkwrite") else { return };
    assert_all_refused(
        &p,
        &[
            "SELECT nextval('hp_s')",
            "SELECT setval('hp_s', 99)",
            "VALUES (nextval('hp_s'))",
            "SELECT * FROM t ORDER BY nextval('hp_s')",
            "SELECT 1 LIMIT nextval('hp_s')",
            "SELECT 1 OFFSET nextval('hp_s') - 1",
            "SELECT * FROM nextval('hp_s')",
            "SELECT * FROM ROWS FROM (nextval('hp_s'))",
            "SELECT x FROM generate_series(1, 2) x GROUP BY GROUPING SETS ((x), (nextval('hp_s')))",
            "SELECT sum(x) OVER (ORDER BY nextval('hp_s')) FROM generate_series(1, 2) x",
            "SELECT sum(x) FILTER (WHERE nextval('hp_s') > 0) FROM generate_series(1, 2) x",
            "SELECT * FROM t, LATERAL (SELECT nextval('hp_s')) l",
            "SELECT CASE WHEN false THEN 1 ELSE nextval('hp_s') END",
            "SELECT coalesce(NULL, nextval('hp_s'))",
            "SELECT (nextval('hp_s'), 1) = (1, 1)",
            "SELECT ROW(1) IS DISTINCT FROM ROW(nextval('hp_s'))",
            "SELECT ARRAY[nextval('hp_s')]",
            "SELECT ARRAY(SELECT nextval('hp_s'))",
            "SELECT 1 WHERE EXISTS (SELECT nextval('hp_s'))",
            "SELECT 1 FROM t WHERE id IN (SELECT nextval('hp_s'))",
            "SELECT 1 FROM t GROUP BY id HAVING max(id) < nextval('hp_s')",
            "WITH x AS (SELECT nextval('hp_s')) SELECT * FROM x",
            "WITH RECURSIVE r(n) AS (SELECT nextval('hp_s') UNION ALL SELECT n FROM r WHERE false) SELECT * FROM r",
            "SELECT xmlelement(name x, nextval('hp_s'))",
            "SELECT nextval('hp_s')::text COLLATE \"C\"",
            "SELECT U&\"\\006Eextval\"('hp_s')",
            "SELECT U&\"!006Eextval\" UESCAPE '!' ('hp_s')",
            "SELECT \"nextval\"('hp_s')",
            "SELECT pg_catalog . nextval ( 'hp_s' )",
            "SELECT/**/nextval('hp_s')",
            "SELECT 1 /* /* nested */ still a comment */, nextval('hp_s')",
            "SELECT $q$x$q$, nextval('hp_s')",
            "SELECT E'\\'', nextval('hp_s')",
            "SELECT 'a' 'b', nextval('hp_s')",
            "SELECT 1 --\n, nextval('hp_s')",
            "SELECT 1;\tSELECT nextval('hp_s');",
            "SELECT 1; DELETE FROM t",
            "WITH d AS MATERIALIZED (DELETE FROM t RETURNING *) SELECT 1",
            "SELECT * FROM t FOR UPDATE",
            "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED",
            "TABLE t FOR SHARE",
            "SELECT lo_create(0)",
            "SELECT lo_from_bytea(0, 'x')",
            "SELECT lo_import('/etc/hostname')",
            "SELECT pg_read_file('/etc/hostname')",
            "SELECT pg_read_binary_file('/etc/hostname')",
            "SELECT pg_ls_dir('.')",
            "SELECT pg_advisory_lock(1)",
            "SELECT pg_notify('c', 'x')",
            "NOTIFY c",
            "SELECT pg_terminate_backend(pg_backend_pid())",
            "SELECT hp_evil.lower('x')",
            "SET ROLE pg_read_server_files",
            "SET SESSION AUTHORIZATION pg_read_server_files",
            "SET LOCAL ROLE pg_read_server_files",
            "SELECT set_config('role', 'pg_read_server_files', false)",
            "SELECT set_config(lower('ROLE'), 'pg_read_server_files', false)",
            "SELECT set_config(n, 'pg_read_server_files', false) FROM (VALUES ('role')) v(n)",
            "SELECT set_config('log_statement', 'all', false)",
            "SET log_statement = 'all'",
            "SET standard_conforming_strings = off",
            "SET \"standard_conforming_strings\" TO off",
            "SELECT set_config('standard_conforming_strings', 'off', false)",
            "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', true)",
            "SET client_encoding = 'SJIS'",
            "SET NAMES 'SJIS'",
            "SET backslash_quote = on",
            "DECLARE k CURSOR WITH HOLD FOR SELECT nextval('hp_s') FROM generate_series(1, 3)",
            "BEGIN; DECLARE k CURSOR FOR SELECT nextval('hp_s'); FETCH k; COMMIT",
            "EXPLAIN ANALYZE DELETE FROM t",
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT nextval('hp_s')",
            "EXPLAIN (ANALYZE) SELECT * FROM t FOR UPDATE",
            "PREPARE w AS DELETE FROM t; EXECUTE w",
            "PREPARE w2(int) AS SELECT setval('hp_s', $1); EXECUTE w2(5)",
            "CREATE TEMP TABLE x (i int)",
            "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "CREATE SCHEMA hp_shadow",
            "DO $$BEGIN DELETE FROM t; END$$",
            "LOCK t",
            "COPY t TO STDOUT",
            "COPY (SELECT email FROM customers) TO STDOUT",
            "COPY t FROM PROGRAM 'true'",
            "SELECT 1 INTO hp_new FROM t",
            "CREATE TABLE hp_new AS SELECT 1",
            "ALTER TABLE t ADD COLUMN c int",
            "TRUNCATE t",
            "VACUUM t",
            "ANALYZE t",
            "PREPARE TRANSACTION 'hp'",
            "CHECKPOINT",
            "LOAD 'plpgsql'",
        ],
    );
}

/// COPY FROM STDIN is a write: refused before the server asks for data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_stdin_is_refused_before_any_data_is_asked_for() {
    let Some(p) = proxy("atkcopy") else { return };
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);
    let mut out = BytesMut::new();
    frontend::query("COPY t FROM STDIN", &mut out).unwrap();
    raw.send(&out);
    let first = raw.next().unwrap();
    assert_ne!(first.0, b'G', "the server asked for COPY data");
    let mut msgs = vec![first];
    if msgs[0].0 != b'Z' {
        msgs.extend(raw.until_ready());
    }
    assert_eq!(codes(&msgs), vec!["42501".to_string()]);
    // The COPY data a client would send anyway, and CopyDone, go nowhere.
    out.clear();
    out.put_u8(b'd');
    out.put_i32(4 + 4);
    out.extend_from_slice(b"777\n");
    out.put_u8(b'c');
    out.put_i32(4);
    raw.send(&out);
    assert_usable(&mut raw, "after COPY FROM STDIN");
    assert_eq!(upstream_state(&p.db), before);
}

/// The search path decides which schema's `+`, casts and functions a statement runs.
/// PostgreSQL searches pg_catalog first unless the path names it later: an agent that
/// puts a schema before it (an ordinary SET, a read; or a startup parameter) runs that
/// schema's operator `hp_evil.+`, which holdpoint does not look up, or its `random()`,
/// a shadow of a VOLATILE function holdpoint knows to change nothing. Such a path is
/// refused; a path that leaves pg_catalog implicit passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_path_before_pg_catalog_is_refused() {
    let Some(p) = proxy("atkpath") else { return };
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);
    for sql in [
        "SET search_path = hp_evil, pg_catalog, public",
        "SET search_path TO 'hp_evil', \"pg_catalog\"",
        "SET search_path = 'hp_evil, pg_catalog'",
        "SET SESSION search_path = public, PG_CATALOG",
        "BEGIN; SET LOCAL search_path = hp_evil, pg_catalog; SELECT 1 + 1; COMMIT",
        "SELECT set_config('search_path', 'hp_evil, pg_catalog', false)",
    ] {
        for msgs in [simple(&mut raw, sql), extended(&mut raw, sql, &[])] {
            assert!(
                !codes(&msgs).is_empty(),
                "{sql}: {}",
                text(&all_bytes(&msgs))
            );
            simple(&mut raw, "ROLLBACK");
            assert_eq!(
                first_values(&simple(&mut raw, "SELECT 1 + 1")),
                vec![Some("2".to_string())],
                "{sql}: the shadow operator ran"
            );
            assert_eq!(upstream_state(&p.db), before, "{sql}");
        }
    }
    // pg_catalog left implicit: searched first, the built-in `+` and `random` run.
    let msgs = simple(&mut raw, "SET search_path = hp_evil, public");
    assert!(codes(&msgs).is_empty(), "{}", text(&all_bytes(&msgs)));
    assert_eq!(
        first_values(&simple(&mut raw, "SELECT 1 + 1")),
        vec![Some("2".to_string())]
    );
    assert_eq!(upstream_state(&p.db), before);
    // A startup parameter that would do it is refused before the token is asked for.
    let refused = Raw::connect(
        &p.addr,
        "bot",
        &p.token,
        &p.db.name,
        &[("search_path", "hp_evil, pg_catalog, public")],
    );
    assert!(refused.err().unwrap().contains("22023"));
}

/// A careless operator gives the database a search path with a schema before
/// pg_catalog (`ALTER DATABASE … SET search_path`). A function there shadows one of
/// the VOLATILE functions holdpoint knows to change nothing (`random`,
/// `clock_timestamp`, `gen_random_uuid`): an unqualified call is judged by the
/// catalog (every function of that name), not as pg_catalog's harmless one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_of_a_harmless_function_is_judged_by_the_catalog() {
    let Some(db) = attack_db("atkshadow") else {
        return;
    };
    db.run(&format!(
        "ALTER DATABASE {} SET search_path = hp_evil, pg_catalog, public",
        db.name
    ));
    let p = Proxy::start(db, "prod", MASKS, Some(READ_ONLY));
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);
    for sql in [
        "SELECT random()",
        "SELECT clock_timestamp()",
        "SELECT gen_random_uuid()",
        "SELECT lower('x')",
    ] {
        for msgs in [simple(&mut raw, sql), extended(&mut raw, sql, &[])] {
            assert_eq!(
                codes(&msgs),
                vec!["42501".to_string()],
                "{sql}: {}",
                text(&all_bytes(&msgs))
            );
            assert_eq!(upstream_state(&p.db), before, "{sql} ran the shadow");
        }
    }
    // Qualified with pg_catalog, they stay reads.
    for sql in [
        "SELECT pg_catalog.random() >= 0",
        "SELECT pg_catalog.clock_timestamp() IS NOT NULL",
    ] {
        assert_eq!(
            first_values(&simple(&mut raw, sql)),
            vec![Some("t".to_string())],
            "{sql}"
        );
    }
}

/// The operator's own search path is trusted: an operator of a schema it put before
/// pg_catalog runs unjudged (holdpoint does not look operators up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "finding: an operator shadowing a built-in one through the operator's own search_path runs unjudged"]
async fn an_operator_shadow_on_the_operators_search_path_is_judged() {
    let Some(db) = attack_db("atkopshadow") else {
        return;
    };
    db.run(&format!(
        "ALTER DATABASE {} SET search_path = hp_evil, pg_catalog, public",
        db.name
    ));
    let p = Proxy::start(db, "prod", MASKS, Some(READ_ONLY));
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);
    simple(&mut raw, "SELECT 1 + 1");
    assert_eq!(upstream_state(&p.db), before, "the shadow + ran");
}

/// Bound values cannot name a setting or role: `set_config($1, $2, …)` is judged
/// without knowing them, as a privilege change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_values_cannot_name_the_setting_set_config_changes() {
    let Some(p) = proxy("atkbound") else { return };
    let mut raw = connect(&p);
    for (sql, values) in [
        (
            "SELECT set_config($1, $2, false)",
            ["standard_conforming_strings", "off"],
        ),
        (
            "SELECT set_config($1, $2, false)",
            ["role", "pg_read_server_files"],
        ),
        (
            "SELECT set_config($1::text, $2, false)",
            ["log_statement", "all"],
        ),
        ("SELECT setval($1, $2::bigint)", ["hp_s", "50"]),
    ] {
        let mut out = BytesMut::new();
        frontend::parse("", sql, std::iter::empty(), &mut out).unwrap();
        frontend::bind(
            "",
            "",
            std::iter::empty::<i16>(),
            values.iter(),
            |v, buf| {
                buf.extend_from_slice(v.as_bytes());
                Ok(postgres_protocol::IsNull::No)
            },
            std::iter::empty::<i16>(),
            &mut out,
        )
        .map_err(|_| "bind")
        .unwrap();
        frontend::execute("", 0, &mut out).unwrap();
        frontend::sync(&mut out);
        raw.send(&out);
        let msgs = raw.until_ready();
        assert_eq!(codes(&msgs), vec!["42501".to_string()], "{sql} {values:?}");
        assert_usable(&mut raw, sql);
    }
    assert!(upstream_state(&p.db).contains("| 1/false |"));
}

/// The extended protocol's own tricks: a Parse of two statements, a batch with no
/// Sync, a statement closed and re-parsed under a live portal, a name prepared in SQL
/// and bound in the protocol, a suspended portal resumed, a fast-path call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_tricks_get_no_write_past_the_proxy() {
    let Some(p) = proxy("atkproto") else { return };
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);

    // A Parse of two statements.
    let msgs = extended(&mut raw, "SELECT 1; DELETE FROM t", &[]);
    assert!(!codes(&msgs).is_empty(), "{}", text(&all_bytes(&msgs)));
    assert_eq!(upstream_state(&p.db), before, "a Parse of two statements");

    // No Sync: Parse, Bind, Execute, Flush; the refusal comes without a Sync, and the
    // write does not run.
    let mut out = BytesMut::new();
    frontend::parse("", "DELETE FROM t", std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "", "", &[]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::flush(&mut out);
    raw.send(&out);
    let mut seen = Vec::new();
    while let Some(m) = raw.next() {
        let done = m.0 == b'E';
        seen.push(m);
        if done {
            break;
        }
    }
    assert_eq!(codes(&seen), vec!["42501".to_string()]);
    assert_eq!(upstream_state(&p.db), before, "the Sync-less DELETE");
    out.clear();
    frontend::sync(&mut out);
    raw.send(&out);
    raw.until_ready();
    assert_usable(&mut raw, "after a Sync-less batch");

    // A named statement closed and re-parsed as a write while a portal of the old one
    // is open: the portal runs the old read, a new portal of the name is the write.
    out.clear();
    frontend::parse("s", "SELECT id FROM t", std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "pt", "s", &[]);
    frontend::close(b'S', "s", &mut out).unwrap();
    frontend::parse("s", "DELETE FROM t", std::iter::empty(), &mut out).unwrap();
    frontend::execute("pt", 0, &mut out).unwrap();
    bind(&mut out, "pt2", "s", &[]);
    frontend::execute("pt2", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    let msgs = raw.until_ready();
    assert_eq!(codes(&msgs), vec!["42501".to_string()]);
    assert_eq!(upstream_state(&p.db), before, "a re-parsed name");
    out.clear();
    frontend::close(b'S', "s", &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    raw.until_ready();

    // Prepared in SQL (a read), bound in the protocol.
    assert!(codes(&simple(&mut raw, "PREPARE sq AS DELETE FROM t")).is_empty());
    out.clear();
    bind(&mut out, "", "sq", &[]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    assert_eq!(codes(&raw.until_ready()), vec!["42501".to_string()]);
    assert_eq!(upstream_state(&p.db), before, "an SQL name bound");
    // And described, then executed by Execute of a portal named like a cursor.
    assert!(codes(&simple(&mut raw, "DEALLOCATE sq")).is_empty());
    assert!(
        codes(&simple(
            &mut raw,
            "BEGIN; DECLARE cur CURSOR FOR SELECT email FROM customers"
        ))
        .is_empty()
    );
    out.clear();
    frontend::execute("cur", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    let msgs = raw.until_ready();
    assert_clean(&msgs, "Execute of an SQL cursor");
    simple(&mut raw, "ROLLBACK");

    // A fast-path call of nextval (oid 1574) with the sequence's oid.
    let seq_oid: i32 =
        p.db.run("SELECT 'hp_s'::regclass::oid")
            .trim()
            .parse()
            .unwrap();
    out.clear();
    out.put_u8(b'F');
    let mut body = BytesMut::new();
    body.put_i32(1574);
    body.put_i16(1);
    body.put_i16(1);
    body.put_i16(1);
    body.put_i32(4);
    body.put_i32(seq_oid);
    body.put_i16(0);
    out.put_i32(4 + body.len() as i32);
    out.extend_from_slice(&body);
    raw.send(&out);
    let msgs = raw.until_ready();
    assert!(!codes(&msgs).is_empty(), "a fast-path call ran");
    assert_eq!(upstream_state(&p.db), before, "a fast-path nextval");

    // A write hidden in a Describe-only pipeline: Describe runs nothing.
    out.clear();
    frontend::parse(
        "d",
        "DELETE FROM t RETURNING id",
        std::iter::empty(),
        &mut out,
    )
    .unwrap();
    frontend::describe(b'S', "d", &mut out).unwrap();
    bind(&mut out, "pd", "d", &[]);
    frontend::describe(b'P', "pd", &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    raw.until_ready();
    assert_eq!(upstream_state(&p.db), before, "Describe");
    // An Execute of that portal after its Sync (the portal is gone) and an Execute of
    // a name never bound.
    out.clear();
    frontend::execute("pd", 0, &mut out).unwrap();
    frontend::execute("never", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    assert!(!codes(&raw.until_ready()).is_empty());
    assert_eq!(upstream_state(&p.db), before, "a stale portal");
    // A cancel request with keys the agent guessed reaches no backend.
    let mut cancel = std::net::TcpStream::connect(&p.addr).unwrap();
    let mut c = BytesMut::new();
    frontend::cancel_request(1, 2, &mut c);
    std::io::Write::write_all(&mut cancel, &c).unwrap();
    drop(cancel);
    assert_usable(&mut raw, "at the end");
}

/// A portal run a row at a time (Execute with max_rows, PortalSuspended, Execute again)
/// masks every batch, described or not, text or binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_portal_resumed_stays_masked() {
    let Some(p) = proxy("atksuspend") else {
        return;
    };
    let mut raw = connect(&p);
    for sql in [
        "SELECT email, ssn FROM customers",
        "SELECT upper(email), id FROM customers",
        "SELECT c FROM customers c",
    ] {
        for formats in [&[][..], &[1][..]] {
            for describe in [false, true] {
                let mut out = BytesMut::new();
                frontend::parse("", sql, std::iter::empty(), &mut out).unwrap();
                bind(&mut out, "sp", "", formats);
                if describe {
                    frontend::describe(b'P', "sp", &mut out).unwrap();
                }
                frontend::execute("sp", 1, &mut out).unwrap();
                frontend::execute("sp", 1, &mut out).unwrap();
                frontend::execute("sp", 0, &mut out).unwrap();
                frontend::sync(&mut out);
                raw.send(&out);
                let msgs = raw.until_ready();
                let what = format!("{sql} formats {formats:?} describe {describe}");
                assert!(
                    codes(&msgs).is_empty(),
                    "{what}: {}",
                    text(&all_bytes(&msgs))
                );
                assert_eq!(rows(&msgs).len(), 2, "{what}");
                assert_clean(&msgs, &what);
            }
        }
    }
    // A cursor fetched a row at a time, WITH HOLD outside a transaction.
    for sql in [
        "DECLARE h CURSOR WITH HOLD FOR SELECT email, upper(ssn) FROM customers",
        "DECLARE h CURSOR WITH HOLD FOR SELECT c FROM customers c",
        "DECLARE h CURSOR WITH HOLD FOR TABLE customers",
    ] {
        let msgs = simple(&mut raw, sql);
        assert!(
            codes(&msgs).is_empty(),
            "{sql}: {}",
            text(&all_bytes(&msgs))
        );
        for fetch in ["FETCH 1 FROM h", "FETCH NEXT h", "FETCH ABSOLUTE 1 h"] {
            let msgs = simple(&mut raw, fetch);
            assert_clean(&msgs, &format!("{sql}: {fetch}"));
            let msgs = extended(&mut raw, fetch, &[1]);
            assert_clean(&msgs, &format!("{sql}: {fetch} (extended binary)"));
        }
        assert!(codes(&simple(&mut raw, "CLOSE h")).is_empty());
    }
}

/// Describe tricks: the columns described for one statement must not stand for
/// another's rows. A statement described and then replaced under its name, the unnamed
/// statement replaced after its Describe, a portal of a second statement executed
/// after the first was described, a named portal resumed after a Sync inside a
/// transaction block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_of_one_statement_does_not_unmask_another() {
    let Some(p) = proxy("atkdescribe") else {
        return;
    };
    let mut raw = connect(&p);
    let harmless = "SELECT id, note FROM customers";
    let secret = "SELECT id, email FROM customers";
    let run = |raw: &mut Raw, out: &BytesMut, what: &str| {
        raw.send(out);
        let msgs = raw.until_ready();
        assert_clean(&msgs, what);
        msgs
    };
    // Describe s1, then Bind a portal of s2.
    let mut out = BytesMut::new();
    frontend::parse("s1", harmless, std::iter::empty(), &mut out).unwrap();
    frontend::parse("s2", secret, std::iter::empty(), &mut out).unwrap();
    frontend::describe(b'S', "s1", &mut out).unwrap();
    bind(&mut out, "", "s2", &[]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    run(&mut raw, &out, "a portal of s2 after s1's Describe");
    // s1 described, closed and parsed again as the secret, executed undescribed.
    out.clear();
    frontend::close(b'S', "s1", &mut out).unwrap();
    frontend::parse("s1", secret, std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "", "s1", &[]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    run(&mut raw, &out, "s1 replaced after its Describe");
    // The unnamed statement described, then replaced in the same batch.
    out.clear();
    frontend::parse("", harmless, std::iter::empty(), &mut out).unwrap();
    frontend::describe(b'S', "", &mut out).unwrap();
    frontend::parse("", secret, std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "", "", &[]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    run(&mut raw, &out, "the unnamed statement replaced");
    // A portal described, then a portal of the same name bound to the secret.
    out.clear();
    frontend::parse("", harmless, std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "pp", "", &[]);
    frontend::describe(b'P', "pp", &mut out).unwrap();
    frontend::close(b'P', "pp", &mut out).unwrap();
    bind(&mut out, "pp", "s2", &[1]);
    frontend::execute("pp", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    run(&mut raw, &out, "a portal rebound under its name");
    // Inside a transaction block a named portal survives Sync: resumed after it.
    assert!(codes(&simple(&mut raw, "BEGIN")).is_empty());
    out.clear();
    bind(&mut out, "held", "s2", &[]);
    frontend::describe(b'P', "held", &mut out).unwrap();
    frontend::execute("held", 1, &mut out).unwrap();
    frontend::sync(&mut out);
    let first = run(&mut raw, &out, "a named portal's first row");
    assert_eq!(rows(&first).len(), 1);
    out.clear();
    frontend::execute("held", 1, &mut out).unwrap();
    frontend::sync(&mut out);
    let second = run(&mut raw, &out, "a named portal resumed after Sync");
    assert!(codes(&second).is_empty(), "{}", text(&all_bytes(&second)));
    assert_eq!(rows(&second).len(), 1);
    // And fetched through SQL, as a cursor of the same name.
    let msgs = simple(&mut raw, "FETCH ALL FROM held");
    assert_clean(&msgs, "FETCH from a protocol portal");
    simple(&mut raw, "ROLLBACK");
    assert_usable(&mut raw, "after the Describe tricks");
}

/// Masked values asked for in every form a read can take: transformed, aggregated,
/// nested, whole rows, set operations, window functions, cursors. No secret may
/// appear in any byte, and no value may equal what the same query returns directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_values_do_not_come_out_transformed() {
    let Some(p) = proxy("atkmask") else { return };
    let mut raw = connect(&p);
    for sql in [
        "SELECT md5(email) FROM customers",
        "SELECT length(email) FROM customers",
        "SELECT substr(email, 1, 3) FROM customers",
        "SELECT reverse(email) FROM customers",
        "SELECT translate(email, 'ae', 'AE') FROM customers",
        "SELECT regexp_split_to_table(email, '@') FROM customers",
        "SELECT ascii(email) FROM customers",
        "SELECT email COLLATE \"C\" FROM customers",
        "SELECT email::varchar(30) FROM customers",
        "SELECT email FROM ONLY customers",
        "TABLE customers",
        "SELECT * FROM customers",
        "SELECT * FROM (TABLE customers) s",
        "VALUES ((SELECT email FROM customers LIMIT 1))",
        "SELECT to_json(c.*) FROM customers c",
        "SELECT to_json(c)::text FROM customers c",
        "SELECT row_to_json(c) FROM customers c",
        "SELECT c::text FROM customers c",
        "SELECT (c.*)::text FROM customers c",
        "SELECT cast(c AS text) FROM customers c",
        "SELECT ARRAY[email] FROM customers",
        "SELECT ROW(id, email) FROM customers",
        "SELECT (c).email FROM customers c",
        "SELECT (SELECT c FROM customers c LIMIT 1)",
        "SELECT string_agg(email, ',') FROM customers",
        "SELECT json_agg(email) FROM customers",
        "SELECT xmlagg(xmlelement(name e, email)) FROM customers",
        "SELECT format('%s', email) FROM customers",
        "SELECT quote_literal(ssn) FROM customers",
        "SELECT e FROM customers, LATERAL (SELECT email) l(e)",
        "SELECT email FROM customers GROUP BY GROUPING SETS ((email), ())",
        "SELECT email, count(*) FROM customers GROUP BY CUBE (email)",
        "SELECT lag(email) OVER (ORDER BY id) FROM customers",
        "SELECT first_value(ssn) OVER () FROM customers",
        "SELECT x FROM unnest((SELECT array_agg(email) FROM customers)) x",
        "SELECT key, value FROM customers c, jsonb_each_text(to_jsonb(c))",
        "SELECT * FROM jsonb_each_text((SELECT to_jsonb(c) FROM customers c LIMIT 1))",
        "SELECT convert_from(decode(encode(email::bytea, 'base64'), 'base64'), 'UTF8') FROM customers",
        "SELECT email FROM customers UNION SELECT 'x'",
        "SELECT email FROM customers INTERSECT SELECT email FROM customers",
        "WITH RECURSIVE r(e) AS (SELECT email FROM customers UNION SELECT e FROM r) SELECT e FROM r",
        "SELECT * FROM customers NATURAL JOIN customers c2",
        "SELECT c2.email FROM customers c1 JOIN customers c2 USING (id)",
        "SELECT email FROM public.customers",
        "SELECT \"email\" FROM \"customers\"",
        "SELECT U&\"\\0065mail\" FROM customers",
        "SELECT email FROM customers WHERE id = 1 FETCH FIRST 1 ROWS ONLY",
        "SELECT (SELECT email) FROM customers",
        "SELECT max(email) FILTER (WHERE true) FROM customers",
        "SELECT mode() WITHIN GROUP (ORDER BY email) FROM customers",
        "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY ssn) FROM customers",
        "SELECT array_to_string(array_agg(email ORDER BY id), ';') FROM customers",
        "SELECT jsonb_build_object('e', email) FROM customers",
        "SELECT hstore_placeholder FROM (SELECT email AS hstore_placeholder FROM customers) s",
    ] {
        let direct = p.db.run(sql);
        let direct_values: Vec<&str> = direct.lines().filter(|l| !l.is_empty()).collect();
        for (how, msgs) in [
            ("simple", simple(&mut raw, sql)),
            ("extended text", extended(&mut raw, sql, &[])),
            ("extended binary", extended(&mut raw, sql, &[1])),
        ] {
            let what = format!("{sql} ({how})");
            assert_clean(&msgs, &what);
            if how == "extended binary" {
                continue;
            }
            for row in rows(&msgs) {
                for v in row.iter().flatten() {
                    assert!(
                        v.is_empty() || !direct_values.contains(&v.as_str()),
                        "{what}: the direct value {v:?} came through"
                    );
                }
            }
        }
    }
    assert_usable(&mut raw, "after the corpus");
}

/// The server's error messages quote the values that made a cast or a function fail;
/// on a masked listener none of them reaches the agent, whatever the SQLSTATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_from_casts_and_functions_carry_no_masked_value() {
    let Some(p) = proxy("atkerr") else { return };
    let mut raw = connect(&p);
    for sql in [
        "SELECT CASE WHEN id = 1 THEN email::int END FROM customers",
        "SELECT ssn::int FROM customers",
        "SELECT ('1' || ssn)::numeric FROM customers",
        "SELECT email::timestamptz FROM customers",
        "SELECT email::uuid FROM customers",
        "SELECT email::inet FROM customers",
        "SELECT email::bool FROM customers",
        "SELECT email::money FROM customers",
        "SELECT email::interval FROM customers",
        "SELECT email::bit(3) FROM customers",
        "SELECT email::jsonpath FROM customers",
        "SELECT email::xml FROM customers",
        "SELECT email::point FROM customers",
        "SELECT email::int4range FROM customers",
        "SELECT email::regoper FROM customers",
        "SELECT email::regconfig FROM customers",
        "SELECT email::regcollation FROM customers",
        "SELECT ssn::macaddr FROM customers",
        "SELECT ssn::date FROM customers",
        "SELECT to_date(email, 'YYYY-MM-DD') FROM customers",
        "SELECT to_number(email, '999') FROM customers",
        "SELECT convert_to('x', email) FROM customers",
        "SELECT has_table_privilege(email, 'customers', 'select') FROM customers",
        "SELECT has_schema_privilege(email, 'usage') FROM customers",
        "SELECT pg_has_role(email, 'member') FROM customers",
        "SELECT to_tsvector(email::regconfig, 'x') FROM customers",
        "SELECT jsonb_path_query('{}', email::jsonpath) FROM customers",
        "SELECT format('%' || email, 1) FROM customers",
        "SELECT json_extract_path_text(email::json, 'a') FROM customers",
        "SELECT email::text::int2 FROM customers",
        "SELECT (length(email) * 100000000)::int2 FROM customers",
        "SELECT ('9' || regexp_replace(ssn, '-', '', 'g'))::int2 FROM customers",
        "SELECT ('9' || regexp_replace(ssn, '-', '', 'g'))::int8 * 9223372036854775807 FROM customers",
        "SELECT make_date(2000, 1, length(email)) FROM customers",
        "SELECT to_timestamp(email) FROM customers",
        "SELECT encode(email::bytea, email) FROM customers",
        "SELECT decode(email, 'base64') FROM customers",
        "SELECT array_fill(1, ARRAY[-length(email)]) FROM customers",
        "SELECT ('{' || email || '}')::int[] FROM customers",
        "SELECT row(email)::customers FROM customers",
        "SELECT email::customers FROM customers",
        "SELECT 1 FROM customers WHERE email::int > 0",
        "SELECT 1 FROM customers ORDER BY email::int",
        "SELECT 1 FROM customers GROUP BY email HAVING email::date > now()",
        "SELECT 1 FROM customers c JOIN t ON c.ssn::int = t.id",
        "SELECT email::int FROM customers WHERE id = 2",
        "SELECT (SELECT email::int FROM customers LIMIT 1)",
        "WITH x AS (SELECT email::regclass FROM customers) SELECT 1 FROM x",
        "SELECT 'a' ~ email || '(' FROM customers",
        "SELECT lower(e)::float FROM customers AS x(i, e)",
    ] {
        for (how, msgs) in [
            ("simple", simple(&mut raw, sql)),
            ("extended", extended(&mut raw, sql, &[])),
        ] {
            let what = format!("{sql} ({how})");
            assert_clean(&msgs, &what);
        }
    }
    assert_usable(&mut raw, "after the errors");
}

/// With installed extensions a read can reach other databases or run SQL given as
/// text: dblink is admin, and tablefunc's `crosstab` and `connectby` run a query given
/// as text (read-only), which would read a masked column behind holdpoint's back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_that_run_sql_text_neither_write_nor_unmask() {
    let Some(db) = attack_db("atkext") else {
        return;
    };
    db.run("CREATE EXTENSION dblink; CREATE EXTENSION tablefunc");
    let p = Proxy::start(db, "prod", MASKS, Some(READ_ONLY));
    let conn = format!("dbname={} user=postgres host=127.0.0.1", p.db.name);
    let dblink_read =
        format!("SELECT * FROM dblink('{conn}', 'SELECT email FROM customers') AS x(e text)");
    let dblink_write = format!("SELECT dblink_exec('{conn}', 'DELETE FROM t')");
    let dblink_connect = format!("SELECT dblink_connect('hp', '{conn}')");
    assert_all_refused(
        &p,
        &[
            dblink_read.as_str(),
            dblink_write.as_str(),
            dblink_connect.as_str(),
            "SELECT dblink_get_connections()",
            "SELECT dblink_disconnect('hp')",
            "SELECT * FROM crosstab('SELECT email, ''a'', email FROM customers') AS ct(r text, c text)",
            "SELECT * FROM crosstab('SELECT email, ''a'', ssn FROM customers', 'SELECT ''a''') AS ct(r text, c text)",
            "SELECT * FROM connectby('customers', 'email', 'id', '1', 0) AS t(k text, p text, l int)",
            "SELECT * FROM crosstab2('SELECT email, ''a'', email FROM customers')",
        ],
    );
}

/// Row-existence and error oracles: a predicate on a masked column decides which rows
/// come back, how many, and whether the statement fails. An agent that can ask "does
/// an email start with `ann`?" learns every email a character at a time. The proxy
/// masks values, not the rows a predicate selects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "finding: a predicate on a masked column is an oracle (row counts, unmasked columns, errors)"]
async fn a_predicate_on_a_masked_column_is_no_oracle() {
    let Some(p) = proxy("atkoracle") else {
        return;
    };
    let mut raw = connect(&p);
    let mut leaks = Vec::new();
    for template in [
        "SELECT count(*) FROM customers WHERE {P}",
        "SELECT id FROM customers WHERE {P}",
        "SELECT 1 FROM customers WHERE {P}",
        "SELECT note FROM customers WHERE {P}",
        "SELECT id FROM customers ORDER BY CASE WHEN {P} THEN 0 ELSE 10 - id END LIMIT 1",
        "SELECT CASE WHEN {P} THEN 1 ELSE 1 / 0 END FROM customers WHERE id = 1",
        "SELECT id FROM customers GROUP BY id HAVING bool_or({P})",
        "SELECT id FROM customers c WHERE EXISTS (SELECT 1 WHERE {P})",
        "SELECT count(*) FROM customers AS x(i, e) WHERE {Q}",
    ] {
        let run = |raw: &mut Raw, pred: &str, alias: &str| {
            let sql = template.replace("{P}", pred).replace("{Q}", alias);
            let mut seen = Vec::new();
            for msgs in [simple(raw, &sql), extended(raw, &sql, &[])] {
                seen.push((codes(&msgs), rows(&msgs)));
            }
            seen
        };
        let yes = run(&mut raw, "email LIKE 'ann%'", "e LIKE 'ann%'");
        let no = run(&mut raw, "email LIKE 'zzz%'", "e LIKE 'zzz%'");
        if yes != no {
            leaks.push(format!("{template}: {yes:?} vs {no:?}"));
        }
    }
    assert!(leaks.is_empty(), "oracles:\n{}", leaks.join("\n"));
}

/// The operator narrows what agents' sessions may do with a role set on the database
/// (`ALTER DATABASE … SET role`), holdpoint logging in as a more powerful user. The
/// agent tries every way back to the login user: SET ROLE NONE, RESET ROLE, session
/// authorization reset, DISCARD ALL (which resets the session authorization), RESET
/// ALL. Each is refused or leaves the role as the operator set it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_do_not_undo_the_role_the_operator_set() {
    let Some(db) = attack_db("atkreset") else {
        return;
    };
    db.run(&format!(
        "ALTER DATABASE {} SET role = 'pg_read_all_data'",
        db.name
    ));
    let p = Proxy::start(db, "prod", MASKS, Some(READ_ONLY));
    let mut raw = connect(&p);
    let role = "SELECT current_user::text";
    assert_eq!(
        first_values(&simple(&mut raw, role)),
        vec![Some("pg_read_all_data".to_string())]
    );
    for sql in [
        "SET ROLE NONE",
        "RESET ROLE",
        "SET ROLE postgres",
        "RESET SESSION AUTHORIZATION",
        "SET SESSION AUTHORIZATION DEFAULT",
        "DISCARD ALL",
        "RESET ALL",
        "BEGIN; SET LOCAL ROLE NONE; SELECT current_user; COMMIT",
        "SELECT set_config('role', 'none', false)",
        "SELECT set_config('role', NULL, false)",
    ] {
        for how in ["simple", "extended"] {
            let msgs = match how {
                "simple" => simple(&mut raw, sql),
                _ => extended(&mut raw, sql, &[]),
            };
            simple(&mut raw, "ROLLBACK");
            assert_eq!(
                first_values(&simple(&mut raw, role)),
                vec![Some("pg_read_all_data".to_string())],
                "{sql} ({how}): {}",
                text(&all_bytes(&msgs))
            );
        }
    }
}

/// A careless operator: an upstream that dies mid-session gives a clear error, and the
/// gate stays up for the next session; mask config that names no column is refused at
/// start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_upstream_mid_session_fails_closed_and_the_gate_stays_up() {
    let Some(p) = proxy("atkdead") else { return };
    let mut raw = connect(&p);
    assert_usable(&mut raw, "before");
    // The operator's database restarts under the session (its backends end).
    p.db.run(&format!(
        "SELECT count(pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        p.db.name
    ));
    let msgs = simple(&mut raw, "SELECT email FROM customers");
    assert_clean(&msgs, "after the upstream died");
    assert!(
        !codes(&msgs).is_empty() || msgs.is_empty(),
        "a statement answered by a dead upstream: {}",
        text(&all_bytes(&msgs))
    );
    // A new session works, masks, and refuses as before.
    let mut raw = connect(&p);
    assert_usable(&mut raw, "a new session");
    let msgs = simple(&mut raw, "SELECT email FROM customers");
    assert_clean(&msgs, "a new session");
    assert_eq!(rows(&msgs).len(), 2);
    let msgs = simple(&mut raw, "DELETE FROM t");
    assert_eq!(codes(&msgs), vec!["42501".to_string()]);
}

#[test]
fn mask_config_that_names_no_column_is_refused_at_start() {
    let mut accepted = Vec::new();
    for entry in [
        r#"mask_columns = ["email"]"#,
        r#"mask_columns = [""]"#,
        r#"mask_columns = ["customers."]"#,
        r#"mask_columns = [".email"]"#,
        r#"mask_columns = ["customers.*"]"#,
        r#"mask_columns = ["*.*"]"#,
        r#"mask_columns = ["customers.email "]"#,
        r#"mask_columns = [" customers.email"]"#,
        r#"mask_columns = ["customers. email"]"#,
        r#"mask_columns = ["customers.email,customers.ssn"]"#,
        r#"mask_columns = "customers.email""#,
        r#"mask_colums = ["customers.email"]"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("holdpoint.toml");
        std::fs::write(
            &config,
            format!(
                "[[postgres]]\nname = \"prod\"\nlisten = \"127.0.0.1:0\"\nupstream_env = \"HP_UP\"\n{entry}\n"
            ),
        )
        .unwrap();
        let mut child = std::process::Command::new(support::BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .env("HP_UP", "postgres://postgres@127.0.0.1:1/none")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A start that is refused ends at once; one that is accepted keeps serving.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if std::time::Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
            accepted.push(entry);
            continue;
        }
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.unwrap().code(), Some(1), "{entry}: {stderr}");
        assert!(stderr.contains("mask_col"), "{entry}: {stderr}");
    }
    assert!(
        accepted.is_empty(),
        "started with mask config that masks nothing: {accepted:?}"
    );
}

/// Huge inputs: a 10 MB statement, 65,535 bound parameters, a parameter count that
/// does not match the values. Each is judged (a write among them refused), and the
/// gate stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_statements_and_parameter_counts_are_judged() {
    let Some(p) = proxy("atkhuge") else { return };
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);
    let pad = "x".repeat(10 * 1024 * 1024);
    let read = format!("SELECT length('{pad}')");
    let msgs = simple(&mut raw, &read);
    assert!(
        codes(&msgs).is_empty() || codes(&msgs) == vec!["08P01".to_string()],
        "{:?}",
        codes(&msgs)
    );
    if codes(&msgs).is_empty() {
        assert_eq!(first_values(&msgs), vec![Some("10485760".to_string())]);
        let write = format!("SELECT length('{pad}'); DELETE FROM t");
        assert_eq!(codes(&simple(&mut raw, &write)), vec!["42501".to_string()]);
        let write = format!("DELETE FROM t WHERE '{pad}' <> ''");
        assert_eq!(
            codes(&extended(&mut raw, &write, &[])),
            vec!["42501".to_string()]
        );
    } else {
        raw = connect(&p);
    }
    assert_eq!(upstream_state(&p.db), before, "a 10 MB statement");

    // 65,535 parameters: the most a Bind can carry.
    let n = 65_535usize;
    let list: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    for (sql, refused) in [
        (
            format!("SELECT 1 FROM t WHERE id IN ({})", list.join(",")),
            false,
        ),
        (
            format!("DELETE FROM t WHERE id IN ({})", list.join(",")),
            true,
        ),
    ] {
        let mut out = BytesMut::new();
        frontend::parse("", &sql, std::iter::empty(), &mut out).unwrap();
        let values: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        frontend::bind(
            "",
            "",
            std::iter::empty::<i16>(),
            values.iter(),
            |v, buf| {
                buf.extend_from_slice(v.as_bytes());
                Ok(postgres_protocol::IsNull::No)
            },
            std::iter::empty::<i16>(),
            &mut out,
        )
        .map_err(|_| "bind")
        .unwrap();
        frontend::execute("", 0, &mut out).unwrap();
        frontend::sync(&mut out);
        raw.send(&out);
        let msgs = raw.until_ready();
        if refused {
            assert_eq!(codes(&msgs), vec!["42501".to_string()], "65,535 values");
        } else {
            assert!(codes(&msgs).is_empty(), "{}", text(&all_bytes(&msgs)));
            assert_eq!(first_values(&msgs), vec![Some("1".to_string())]);
        }
        assert_eq!(upstream_state(&p.db), before, "65,535 values");
    }

    // A Bind that says 65,535 values (-1 as a signed count) and carries one.
    let mut out = BytesMut::new();
    frontend::parse(
        "",
        "DELETE FROM t WHERE id = $1",
        std::iter::empty(),
        &mut out,
    )
    .unwrap();
    out.put_u8(b'B');
    let mut body = BytesMut::new();
    body.extend_from_slice(b"\0\0");
    body.put_i16(0);
    body.put_u16(65_535);
    body.put_i32(1);
    body.extend_from_slice(b"1");
    body.put_i16(0);
    out.put_i32(4 + body.len() as i32);
    out.extend_from_slice(&body);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    let msgs = raw.until_ready();
    assert!(!codes(&msgs).is_empty(), "a malformed Bind ran");
    assert_eq!(upstream_state(&p.db), before, "a malformed Bind");
    // The gate is up.
    let mut raw = connect(&p);
    assert_usable(&mut raw, "after the huge inputs");
}

/// Control characters and bytes the parsers might read differently: a vertical tab
/// (whitespace to PostgreSQL 16+'s lexer, not to 15's), a form feed, a NUL inside a
/// Parse, a byte that is not UTF-8 in a Parse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_do_not_split_what_the_parsers_read() {
    let Some(p) = proxy("atkctrl") else { return };
    let before = upstream_state(&p.db);
    let mut raw = connect(&p);
    for sql in [
        "SELECT 1;\u{b}DELETE FROM t",
        "SELECT 1;\u{c}DELETE FROM t",
        "SELECT 1\u{b}; DELETE FROM t",
        "SELECT '\u{b}'; DELETE FROM t",
        "SELECT 1 -- \r; DELETE FROM t",
        "SELECT 1 -- \u{b}\n; DELETE FROM t",
        "SELECT 1 /*\u{0}*/; DELETE FROM t",
        "SELECT\u{a0}1; DELETE FROM t",
        "SELECT 1; DELETE\u{b}FROM t",
        "SELECT 1;\u{85}DELETE FROM t",
        "SELECT 1;\u{2028}DELETE FROM t",
        "SELECT 1;\u{feff}DELETE FROM t",
    ] {
        let body_has_nul = sql.contains('\u{0}');
        for how in ["simple", "extended"] {
            if body_has_nul {
                break;
            }
            let msgs = match how {
                "simple" => simple(&mut raw, sql),
                _ => extended(&mut raw, sql, &[]),
            };
            assert!(!codes(&msgs).is_empty(), "{sql:?} ({how}) ran");
            assert_eq!(upstream_state(&p.db), before, "{sql:?} ({how})");
            simple(&mut raw, "ROLLBACK");
        }
    }
    // A NUL inside a Parse's query: the server reads to the NUL, and so must holdpoint.
    for sql in [
        &b"SELECT 1\0DELETE FROM t"[..],
        &b"SELECT '\xff'; DELETE FROM t"[..],
    ] {
        let mut out = BytesMut::new();
        out.put_u8(b'P');
        let mut body = BytesMut::new();
        body.put_u8(0);
        body.extend_from_slice(sql);
        body.put_u8(0);
        body.put_i16(0);
        out.put_i32(4 + body.len() as i32);
        out.extend_from_slice(&body);
        bind(&mut out, "", "", &[]);
        frontend::execute("", 0, &mut out).unwrap();
        frontend::sync(&mut out);
        raw.send(&out);
        let msgs = raw.until_ready();
        // Refused, or the connection closed (a message holdpoint cannot read).
        let closed = msgs.last().is_none_or(|(t, _)| *t != b'Z');
        assert!(
            !codes(&msgs).is_empty() || closed,
            "{}: {}",
            text(sql),
            text(&all_bytes(&msgs))
        );
        assert_eq!(upstream_state(&p.db), before, "{}", text(sql));
        if closed {
            raw = connect(&p);
        }
    }
    let mut raw = connect(&p);
    assert_usable(&mut raw, "after the control characters");
}
