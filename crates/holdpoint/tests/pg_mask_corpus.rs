//! A corpus of ways to get a masked value past the PostgreSQL proxy (issue 17, classes
//! 4 and 7 to 13): alias lists, the extended protocol without Describe, column-notation
//! and whole-row reads, planner statistics, partitions and inheritance children, server
//! error and notice texts, NOTIFY payloads, and server settings that change how SQL is
//! read. Each case runs through raw protocol messages (simple Query, and Parse / Bind /
//! Execute / Sync without Describe, in text and binary) against the real PostgreSQL and
//! checks every byte the client received for each secret, plain, hex and base64; then
//! that the connection is still usable and holds no prepared statement. A driver that
//! describes its statements (tokio-postgres) is checked too. Fails when PostgreSQL is
//! absent under `CI=true`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine;
use bytes::BytesMut;
use postgres_protocol::message::frontend;
use support::pg::{Db, Msg, Proxy, Raw, bind, codes, first_values};
use support::text;

const EVERYTHING: &str = r#"
@id("everything")
permit (principal, action in Action::"db", resource)
unless { action in Action::"db.unknown" };
"#;

const SECRETS: &[&str] = &[
    "ann.smith@example.com",
    "078-05-1120",
    "bob.jones@example.org",
    "carol.white@example.net",
    "dave.brown@example.io",
];

/// Masked by name only (no detectors), so nothing but the rules hides a value.
const MASKS: &str = r#"mask_columns = ["customers.email", "*.ssn", "p.email", "base.email"]"#;

fn corpus_db(tag: &str) -> Option<Db> {
    let db = Db::fresh(tag)?;
    db.run(
        "CREATE TABLE customers (id int PRIMARY KEY, email text, ssn text, note text); \
         INSERT INTO customers VALUES (1, 'ann.smith@example.com', '078-05-1120', 'vip'); \
         CREATE TABLE p (id int, email text) PARTITION BY RANGE (id); \
         CREATE TABLE p_2026 PARTITION OF p FOR VALUES FROM (0) TO (1000); \
         CREATE TABLE p_2027 PARTITION OF p FOR VALUES FROM (1000) TO (2000) PARTITION BY LIST (id); \
         CREATE TABLE p_2027_a PARTITION OF p_2027 FOR VALUES IN (1500); \
         INSERT INTO p VALUES (1, 'bob.jones@example.org'), (1500, 'carol.white@example.net'); \
         CREATE TABLE base (id int, email text); \
         CREATE TABLE kid (extra int) INHERITS (base); \
         INSERT INTO kid VALUES (1, 'dave.brown@example.io', 7); \
         CREATE STATISTICS customers_mcv (mcv) ON id, email FROM customers; \
         ANALYZE",
    );
    Some(db)
}

fn proxy(tag: &str) -> Option<Proxy> {
    let db = corpus_db(tag)?;
    Some(Proxy::start(db, "staging", MASKS, Some(EVERYTHING)))
}

/// Every form of `secret` a client could decode: plain, hex (either case) and base64
/// (at each of the three alignments it can have inside a longer text).
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
        // Drop the group holding the padding bytes and the last (partial) group.
        let start = if pad == 0 { 0 } else { 4 };
        let end = b64.len().saturating_sub(4);
        out.push(b64.as_bytes()[start..end.max(start)].to_vec());
    }
    out
}

/// The secret (and form) found in `bytes`, if any.
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

/// Parse, Bind and Execute of `sql` as the unnamed statement and portal, then Sync: no
/// Describe, results in `formats`.
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

/// The connection still answers, and holds no prepared statement.
fn assert_usable(raw: &mut Raw) {
    let msgs = simple(raw, "SELECT 41 + 1");
    assert!(codes(&msgs).is_empty(), "{}", text(&all_bytes(&msgs)));
    assert_eq!(first_values(&msgs), vec![Some("42".to_string())]);
    let msgs = simple(
        raw,
        "SELECT count(*)::text || 'prepared' FROM pg_prepared_statements",
    );
    assert_eq!(first_values(&msgs), vec![Some("0prepared".to_string())]);
}

/// Runs every statement of `corpus` both ways (simple; extended in text and binary)
/// and checks that nothing of it leaks and that each returns a row.
fn run_corpus(p: &Proxy, corpus: &[&str]) {
    let mut raw = connect(p);
    for sql in corpus {
        let runs = [
            ("simple", simple(&mut raw, sql)),
            ("extended text", extended(&mut raw, sql, &[])),
            ("extended binary", extended(&mut raw, sql, &[1])),
        ];
        for (how, msgs) in runs {
            let what = format!("{sql} ({how})");
            assert!(
                codes(&msgs).is_empty(),
                "{what}: {}",
                text(&all_bytes(&msgs))
            );
            assert!(!first_values(&msgs).is_empty(), "{what}: no row");
            assert_clean(&msgs, &what);
        }
    }
    assert_usable(&mut raw);
}

#[test]
fn the_leak_check_sees_every_encoding() {
    for secret in SECRETS {
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        for shown in [
            secret.to_string(),
            format!("\\x{hex}"),
            hex.to_uppercase(),
            b64.clone(),
            base64::engine::general_purpose::STANDARD.encode(format!("x{secret}")),
            base64::engine::general_purpose::STANDARD.encode(format!("xy{secret}")),
        ] {
            let msgs = vec![(b'D', format!("pre {shown} post").into_bytes())];
            assert!(leak_in(&all_bytes(&msgs)).is_some(), "{shown}");
        }
    }
    assert!(leak_in(b"[masked:email] 1 vip").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_lists_subqueries_and_ctes_do_not_unmask_a_column() {
    let Some(p) = proxy("corpusalias") else {
        return;
    };
    run_corpus(
        &p,
        &[
            "SELECT lower(x.e) FROM customers AS x(i, e)",
            "SELECT x.e FROM customers AS x(i, e)",
            "SELECT e || '' FROM (SELECT email FROM customers) s(e)",
            "WITH c(a, b) AS (SELECT id, email FROM customers) SELECT upper(b) FROM c",
            "SELECT s.e FROM (SELECT lower(email) AS e FROM customers) s",
            "SELECT * FROM (SELECT id, ssn FROM customers) AS s(a, b)",
            "SELECT l.b FROM (VALUES (1)) v(a) CROSS JOIN LATERAL (SELECT lower(email) FROM customers) l(b)",
            "SELECT (SELECT lower(x.e) FROM customers x(i, e) LIMIT 1)",
            "SELECT encode(convert_to(x.e, 'UTF8'), 'hex') FROM customers x(i, e)",
            "SELECT encode(x.e::bytea, 'base64') FROM customers x(i, e)",
            "SELECT x.e::bytea FROM customers x(i, e)",
            "SELECT 1 UNION ALL SELECT length(email) FROM customers",
            "SELECT count(*), string_agg(x.e, ',') FROM customers AS x(i, e)",
            "SELECT 1, (SELECT max(email) FROM customers)",
            "SELECT count(*) OVER (), e FROM customers AS x(i, e)",
            "SELECT lower(e) FROM customers AS x(i, e) UNION SELECT 'a'",
        ],
    );
    // What is not masked still arrives.
    let mut raw = connect(&p);
    let msgs = extended(&mut raw, "SELECT x.i, x.e FROM customers AS x(i, e)", &[]);
    assert_eq!(first_values(&msgs), vec![Some("1".to_string())]);
    let msgs = simple(&mut raw, "SELECT note FROM customers AS x(i, e)");
    assert_eq!(first_values(&msgs), vec![Some("vip".to_string())]);
    // A computed column that names no column is not masked: a count arrives.
    for sql in [
        "SELECT count(*) FROM customers AS x(i, e)",
        "SELECT count(*), max(lower(x.e)) FROM customers AS x(i, e)",
    ] {
        for msgs in [simple(&mut raw, sql), extended(&mut raw, sql, &[])] {
            assert_eq!(first_values(&msgs), vec![Some("1".to_string())], "{sql}");
            assert_clean(&msgs, sql);
        }
    }
    // A plan shows no values, and arrives as is.
    let msgs = simple(
        &mut raw,
        "EXPLAIN SELECT lower(x.e) FROM customers AS x(i, e)",
    );
    assert!(
        first_values(&msgs)[0]
            .as_deref()
            .unwrap_or_default()
            .contains("Seq Scan")
    );
    assert_clean(&msgs, "EXPLAIN");
    // Where positions are uncertain (a set operation), every computed column is masked.
    let msgs = simple(
        &mut raw,
        "SELECT count(*) FROM customers UNION ALL SELECT 2",
    );
    assert_eq!(first_values(&msgs), vec![None, None]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_notation_and_whole_row_reads_are_masked() {
    let Some(p) = proxy("corpusrow") else { return };
    run_corpus(
        &p,
        &[
            "SELECT t.row_to_json FROM customers t",
            "SELECT t.to_jsonb FROM customers t",
            "SELECT (t).row_to_json FROM customers t",
            "SELECT (t).to_json::text FROM customers t",
            "SELECT t FROM customers t",
            "SELECT x FROM customers x",
            "SELECT customers FROM customers",
            "SELECT t::text FROM customers t",
            "SELECT row(t.*)::text FROM customers t",
            "SELECT array_agg(t)::text FROM customers t",
            "SELECT jsonb_agg(t)::text FROM customers t",
            "SELECT (t).* FROM customers t",
            "SELECT hashtext(t::text) IS NOT NULL, t.row_to_json::text FROM customers t",
            "SELECT k FROM kid k",
            "SELECT q.row_to_json FROM p q",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_and_inheritance_children_are_masked_like_their_parent() {
    let Some(p) = proxy("corpuspart") else { return };
    run_corpus(
        &p,
        &[
            "SELECT email FROM p",
            "SELECT email FROM p_2026",
            "SELECT email FROM p_2027",
            "SELECT email FROM p_2027_a",
            "SELECT lower(email) FROM p_2026",
            "SELECT e FROM p_2027_a AS z(i, e)",
            "SELECT email FROM base",
            "SELECT email FROM ONLY kid",
            "SELECT upper(email), extra FROM kid",
            "SELECT b.email FROM public.p_2026 b",
        ],
    );
    // A table outside the families is untouched.
    let mut raw = connect(&p);
    let msgs = simple(&mut raw, "SELECT extra FROM kid");
    assert_eq!(first_values(&msgs), vec![Some("7".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planner_statistics_are_refused_where_columns_are_masked() {
    let Some(p) = proxy("corpusstats") else {
        return;
    };
    // The statistics do hold the values (read directly, not through holdpoint).
    let direct =
        p.db.run("SELECT most_common_vals::text FROM pg_stats_ext WHERE tablename = 'customers'");
    assert!(direct.contains("ann.smith"), "{direct}");
    let mut raw = connect(&p);
    for (sql, catalog) in [
        (
            "SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'customers'",
            "pg_stats",
        ),
        ("SELECT * FROM pg_catalog.pg_stats", "pg_stats"),
        (
            "SELECT histogram_bounds::text FROM pg_stats WHERE tablename LIKE 'p%'",
            "pg_stats",
        ),
        ("SELECT stavalues1::text FROM pg_statistic", "pg_statistic"),
        ("SELECT * FROM pg_stats_ext", "pg_stats_ext"),
        ("SELECT * FROM pg_stats_ext_exprs", "pg_stats_ext_exprs"),
        (
            "SELECT stxdmcv::text FROM pg_statistic_ext_data",
            "pg_statistic_ext_data",
        ),
        (
            "WITH s AS (SELECT * FROM pg_stats) SELECT count(*) FROM s",
            "pg_stats",
        ),
        (
            "SELECT (SELECT most_common_vals::text FROM \"pg_stats\" LIMIT 1)",
            "pg_stats",
        ),
    ] {
        for (how, msgs) in [
            ("simple", simple(&mut raw, sql)),
            ("extended", extended(&mut raw, sql, &[])),
        ] {
            let what = format!("{sql} ({how})");
            assert_eq!(codes(&msgs), vec!["42501".to_string()], "{what}");
            let shown = text(&all_bytes(&msgs));
            assert!(shown.contains(catalog), "{what}: {shown}");
            assert!(first_values(&msgs).is_empty(), "{what}");
            assert_clean(&msgs, &what);
        }
        let msgs = simple(&mut raw, "SELECT 1");
        assert!(codes(&msgs).is_empty());
    }
    // Other catalogs stay readable.
    let msgs = simple(
        &mut raw,
        "SELECT relname FROM pg_class WHERE relname = 'customers'",
    );
    assert_eq!(first_values(&msgs), vec![Some("customers".to_string())]);
    // The refusals in the extended protocol left no statement behind, in a transaction
    // block too (which the refusal aborts, as a failed statement would).
    assert!(codes(&simple(&mut raw, "BEGIN")).is_empty());
    let msgs = extended(&mut raw, "SELECT * FROM pg_stats", &[]);
    assert_eq!(codes(&msgs), vec!["42501".to_string()]);
    assert_eq!(
        msgs.last().map(|(t, b)| (*t, b.clone())),
        Some((b'Z', b"E".to_vec()))
    );
    let msgs = simple(&mut raw, "SELECT 1");
    assert_eq!(codes(&msgs), vec!["25P02".to_string()]);
    assert!(codes(&simple(&mut raw, "ROLLBACK")).is_empty());
    assert_usable(&mut raw);
}

/// The M (message) fields of the errors and notices among `msgs`.
fn messages(msgs: &[Msg]) -> Vec<String> {
    msgs.iter()
        .filter(|(t, _)| matches!(*t, b'E' | b'N'))
        .filter_map(|(_, body)| {
            body.split(|b| *b == 0)
                .find_map(|f| f.strip_prefix(b"M"))
                .map(|m| String::from_utf8_lossy(m).into_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_notices_do_not_carry_values() {
    let Some(p) = proxy("corpuserr") else { return };
    let mut raw = connect(&p);
    for sql in [
        "SELECT email::regclass FROM customers",
        "SELECT email::regtype FROM customers",
        "SELECT email::regproc FROM customers",
        "SELECT email::regrole FROM customers",
        "SELECT email::regnamespace FROM customers",
        "SELECT nextval(email) FROM customers",
        "SELECT current_setting(email) FROM customers",
        "SELECT email::int FROM customers",
        "SELECT ssn::date FROM customers",
        "SELECT email::json FROM customers",
        "SELECT xmlparse(document email) FROM customers",
        "SELECT email FROM p_2026 WHERE email::int > 0",
        "INSERT INTO customers (id, email) VALUES (1, 'x')",
        "DO $$ BEGIN RAISE EXCEPTION '%', (SELECT email FROM customers LIMIT 1); END $$",
        "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '42703', MESSAGE = format('column \"%s\" does not exist', (SELECT email FROM customers LIMIT 1)); END $$",
        "DO $$ BEGIN RAISE EXCEPTION 'x' USING DETAIL = (SELECT ssn FROM customers LIMIT 1), HINT = (SELECT email FROM p LIMIT 1); END $$",
        "DO $$ BEGIN EXECUTE (SELECT 'SELECT ' || email FROM customers LIMIT 1); END $$",
    ] {
        for (how, msgs) in [
            ("simple", simple(&mut raw, sql)),
            ("extended", extended(&mut raw, sql, &[])),
        ] {
            let what = format!("{sql} ({how})");
            assert_eq!(codes(&msgs).len(), 1, "{what}: {}", text(&all_bytes(&msgs)));
            assert_clean(&msgs, &what);
        }
    }
    // Notices: raised with values, withheld; the server's own, about names the agent
    // sent, kept.
    for sql in [
        "DO $$ BEGIN RAISE NOTICE '%', (SELECT email FROM customers LIMIT 1); END $$",
        "DO $$ BEGIN RAISE WARNING 'w' USING DETAIL = (SELECT email FROM kid LIMIT 1); END $$",
    ] {
        let msgs = simple(&mut raw, sql);
        assert!(msgs.iter().any(|(t, _)| *t == b'N'), "{sql}: a notice");
        assert!(codes(&msgs).is_empty(), "{sql}");
        assert_clean(&msgs, sql);
    }
    let msgs = simple(&mut raw, "DROP TABLE IF EXISTS nothere_at_all");
    assert_eq!(
        messages(&msgs),
        vec!["table \"nothere_at_all\" does not exist, skipping".to_string()]
    );
    // An error about the agent's own SQL keeps its message; the withheld one names its
    // SQLSTATE.
    let msgs = simple(&mut raw, "SELECT nope FROM customers");
    assert_eq!(
        messages(&msgs),
        vec!["column \"nope\" does not exist".to_string()]
    );
    let msgs = extended(&mut raw, "SELECT email::regclass FROM customers", &[]);
    let shown = messages(&msgs).join(" ");
    assert!(
        shown.contains("withheld") && shown.contains("SQLSTATE"),
        "{shown}"
    );
    // holdpoint's own refusals pass whole.
    let msgs = simple(&mut raw, "SELECT * FROM pg_stats");
    assert!(messages(&msgs).join(" ").contains("planner statistics"));
    assert_usable(&mut raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_payloads_are_withheld_where_columns_are_masked() {
    let Some(p) = proxy("corpusnotify") else {
        return;
    };
    let mut raw = connect(&p);
    assert!(codes(&simple(&mut raw, "LISTEN chan")).is_empty());
    // Sent by the agent's own session: delivered before its ReadyForQuery.
    for sql in [
        "SELECT pg_notify('chan', email) FROM customers",
        "SELECT pg_notify('chan', encode(email::bytea, 'base64')) FROM p",
    ] {
        let msgs = simple(&mut raw, sql);
        assert!(
            msgs.iter().any(|(t, _)| *t == b'A'),
            "{sql}: a notification"
        );
        assert_clean(&msgs, sql);
        let shown = text(&all_bytes(&msgs));
        assert!(
            shown.contains("chan") && shown.contains("[masked:notification]"),
            "{shown}"
        );
    }
    let msgs = extended(
        &mut raw,
        "SELECT pg_notify('chan', ssn) FROM customers",
        &[],
    );
    assert!(msgs.iter().any(|(t, _)| *t == b'A'));
    assert_clean(&msgs, "pg_notify (extended)");
    // Sent by another session, straight to the database: it arrives while the agent's
    // session waits, or with its next answer.
    p.db.run("SELECT pg_notify('chan', email) FROM kid");
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen.extend(simple(&mut raw, "SELECT 1"));
        if seen.iter().any(|(t, _)| *t == b'A') {
            break;
        }
    }
    assert!(
        seen.iter().any(|(t, _)| *t == b'A'),
        "the notification came"
    );
    assert_clean(&seen, "a notification from another session");
    assert_usable(&mut raw);
}

/// A login role of its own for one test, dropped at the end (after the database).
struct Role {
    name: String,
}

impl Role {
    fn new(tag: &str, db: &Db, settings: &str) -> Role {
        let name = format!("hp_{tag}_{}", std::process::id());
        let _ = db.run(&format!("DROP ROLE IF EXISTS {name}"));
        db.run(&format!(
            "CREATE ROLE {name} LOGIN; GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}; {}",
            settings.replace("{role}", &name)
        ));
        Role { name }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-XAtqc",
            ])
            .arg(format!("DROP ROLE IF EXISTS {}", self.name))
            .output();
    }
}

/// A masked listener whose upstream logs in as `role`.
fn proxy_as(db: Db, role: &Role) -> Proxy {
    let url = format!(
        "{}/{}",
        support::pg::SERVER.replace("postgres@", &format!("{}@", role.name)),
        db.name
    );
    Proxy::start_with(
        db,
        "staging",
        MASKS,
        Some(EVERYTHING),
        &[("HP_TEST_UPSTREAM", url)],
    )
}

/// The login is refused with 08004, naming the setting; nothing ran.
fn assert_refused_at_login(p: &Proxy, setting: &str) {
    let err = Raw::connect(&p.addr, "bot", &p.token, &p.db.name, &[])
        .err()
        .expect("the login is refused");
    assert!(err.contains("08004") && err.contains(setting), "{err}");
    let out = p.psql(&[
        "-At",
        "-c",
        "SELECT 'a\\' AS x; DELETE FROM customers; SELECT 'b'",
    ]);
    assert!(!out.status.success());
    let shown = text(&out.stderr);
    assert!(
        shown.contains(setting) && shown.contains("refused"),
        "{shown}"
    );
    assert_eq!(p.db.run("SELECT count(*) FROM customers").trim(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_or_database_that_reads_backslashes_is_refused_at_login() {
    // ALTER ROLE … SET.
    let Some(db) = corpus_db("scsrole") else {
        return;
    };
    let role = Role::new(
        "scsrole",
        &db,
        "ALTER ROLE {role} SET standard_conforming_strings = off",
    );
    let p = proxy_as(db, &role);
    assert_refused_at_login(&p, "standard_conforming_strings");
    drop(p);

    // ALTER DATABASE … SET.
    let db = corpus_db("scsdb").unwrap();
    db.run(&format!(
        "ALTER DATABASE {} SET standard_conforming_strings = off",
        db.name
    ));
    let p = Proxy::start(db, "staging", MASKS, Some(EVERYTHING));
    assert_refused_at_login(&p, "standard_conforming_strings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsafe_client_encoding_never_reaches_a_session() {
    // A role's own client_encoding: holdpoint's login asks for UTF8, which wins; were
    // it reported otherwise, the login would be refused.
    let Some(db) = corpus_db("sjisrole") else {
        return;
    };
    let role = Role::new(
        "sjisrole",
        &db,
        "ALTER ROLE {role} SET client_encoding = 'SJIS'",
    );
    let p = proxy_as(db, &role);
    let mut raw = connect(&p);
    let msgs = simple(&mut raw, "SHOW client_encoding");
    assert_eq!(first_values(&msgs), vec![Some("UTF8".to_string())]);
    drop(raw);
    drop(p);

    // Raw startup attempts.
    let p = proxy("rawstartup").unwrap();
    for encoding in ["SJIS", "BIG5", "GBK", "LATIN1"] {
        let err = Raw::connect(
            &p.addr,
            "bot",
            &p.token,
            &p.db.name,
            &[("client_encoding", encoding)],
        )
        .err()
        .expect("refused");
        assert!(err.contains("22023"), "{encoding}: {err}");
    }
    for extra in [
        [("standard_conforming_strings", "off")],
        [("options", "-c standard_conforming_strings=off")],
        [("options", "--client_encoding=SJIS")],
    ] {
        let mut raw = Raw::connect(&p.addr, "bot", &p.token, &p.db.name, &extra).unwrap();
        let msgs = simple(&mut raw, "SHOW standard_conforming_strings");
        assert_eq!(
            first_values(&msgs),
            vec![Some("on".to_string())],
            "{extra:?}"
        );
        let msgs = simple(&mut raw, "SHOW client_encoding");
        assert_eq!(
            first_values(&msgs),
            vec![Some("UTF8".to_string())],
            "{extra:?}"
        );
        assert_usable(&mut raw);
    }
    // During the session: refused as unknown, or the session ends; never a DELETE.
    let mut raw = connect(&p);
    for sql in [
        "SET standard_conforming_strings = off",
        "SET client_encoding = 'SJIS'",
        "SELECT set_config('standard_conforming_strings', 'off', false)",
        "SET standard_conforming_strings = off; SELECT 'a\\'; DELETE FROM customers; SELECT 'b'",
    ] {
        let msgs = simple(&mut raw, sql);
        let shown = text(&all_bytes(&msgs));
        assert!(!codes(&msgs).is_empty(), "{sql}: {shown}");
        if msgs.last().map(|(t, _)| *t) != Some(b'Z') {
            // The session was ended (FATAL); go on with a new one.
            raw = connect(&p);
        }
    }
    assert_usable(&mut raw);
    assert_eq!(p.db.run("SELECT count(*) FROM customers").trim(), "1");

    // Where policy lets such a statement run, the server's report of the new value
    // ends the session before another message is read with it.
    let db = corpus_db("scsallowed").unwrap();
    let p = Proxy::start(
        db,
        "staging",
        MASKS,
        Some("permit (principal, action, resource);"),
    );
    let mut raw = connect(&p);
    let msgs = simple(&mut raw, "SET standard_conforming_strings = off");
    let shown = text(&all_bytes(&msgs));
    assert!(
        shown.contains("FATAL") && shown.contains("standard_conforming_strings"),
        "{shown}"
    );
    assert!(raw.next().is_none(), "the session is closed");
    assert_eq!(p.db.run("SELECT count(*) FROM customers").trim(), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_the_server_reports_do_not_carry_values() {
    let Some(p) = proxy("corpusguc") else { return };
    let mut raw = connect(&p);
    for sql in [
        "SELECT set_config('application_name', email, false) FROM customers",
        "SELECT set_config('application_name', encode(ssn::bytea, 'hex'), false) FROM customers",
    ] {
        for how in ["simple", "extended"] {
            // Another value first, so that each run reports a change.
            simple(&mut raw, "SET application_name = 'before'");
            let msgs = match how {
                "simple" => simple(&mut raw, sql),
                _ => extended(&mut raw, sql, &[]),
            };
            let what = format!("{sql} ({how})");
            assert!(
                codes(&msgs).is_empty(),
                "{what}: {}",
                text(&all_bytes(&msgs))
            );
            assert!(msgs.iter().any(|(t, _)| *t == b'S'), "{what}: reported");
            assert_clean(&msgs, &what);
        }
    }
    // A value the agent chose itself is reported as it is.
    let msgs = simple(&mut raw, "SET application_name = 'corpus-agent'");
    assert!(text(&all_bytes(&msgs)).contains("corpus-agent"));
    assert_usable(&mut raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_that_describes_its_statements_gets_the_same_masks() {
    let Some(p) = proxy("corpusdriver") else {
        return;
    };
    let client = p.client().await;
    for sql in [
        "SELECT lower(x.e) FROM customers AS x(i, e)",
        "SELECT t.row_to_json::text FROM customers t",
        "SELECT t::text FROM customers t",
        "SELECT email FROM p_2027_a",
        "SELECT encode(email::bytea, 'base64') FROM kid",
        "SELECT s.e FROM (SELECT ssn AS e FROM customers) s",
    ] {
        // Results in binary, as tokio-postgres asks for them; prepared once, or each time.
        for once in [false, true] {
            let rows = if !once {
                client.query(sql, &[]).await.unwrap()
            } else {
                let stmt = client.prepare(sql).await.unwrap();
                client.query(&stmt, &[]).await.unwrap()
            };
            assert!(!rows.is_empty(), "{sql}");
            for row in rows {
                let value: Option<String> = row.get(0);
                let shown = value.unwrap_or_default();
                assert!(leak_in(shown.as_bytes()).is_none(), "{sql}: {shown}");
            }
        }
        let err = client
            .simple_query(&format!("SELECT ({sql})::regclass"))
            .await
            .err();
        if let Some(db) = err.as_ref().and_then(|e| e.as_db_error()) {
            let shown = format!(
                "{} {:?} {:?} {:?}",
                db.message(),
                db.detail(),
                db.hint(),
                db.where_()
            );
            assert!(leak_in(shown.as_bytes()).is_none(), "{sql}: {shown}");
        }
    }
}
