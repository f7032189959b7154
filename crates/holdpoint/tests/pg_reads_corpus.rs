//! What a read-only corpus run found passing as `db.read` (issue 17), against the real
//! PostgreSQL (15 on the test machine) behind a gateway whose policy lets the agent
//! only read: a prepared statement's function calls at EXECUTE, functions called in
//! column notation, SQL/JSON and MERGE syntax that PostgreSQL 15 reads as calls of the
//! user's functions, two-phase commit, superuser-only settings. Each is sent in the
//! simple protocol and the extended one (raw Parse/Bind/Execute/Sync, and
//! tokio-postgres), refused with 42501, and checked on the upstream directly: the
//! volatile functions' table of hits is empty, the sequence unbumped, no setting
//! changed, no prepared statement left; the connection stays usable.
//! Fails when PostgreSQL is absent under `CI=true`; skips otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use support::pg::{Db, Msg, Proxy, Raw, bind, codes, db_error, first_values};

/// Reads and transaction control (BEGIN, COMMIT, …), nothing else.
const READ_ONLY: &str = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("transactions") permit(principal, action == Action::"db.transaction", resource);
"#;

/// A database with functions that leave a trace when they run (a row in `hits`, a
/// bumped sequence), behind a read-only gateway.
fn corpus(tag: &str) -> Option<Proxy> {
    let db = Db::fresh(tag)?;
    db.run(
        r#"
CREATE TABLE t (id int, a int); INSERT INTO t VALUES (1, 1);
CREATE TABLE hits (n int);
CREATE SEQUENCE s;
CREATE FUNCTION bump() RETURNS int VOLATILE LANGUAGE sql AS 'INSERT INTO hits VALUES (1) RETURNING 1';
CREATE FUNCTION bump(t) RETURNS int VOLATILE LANGUAGE sql AS 'INSERT INTO hits VALUES (2) RETURNING 2';
CREATE FUNCTION peek(t) RETURNS int STABLE SECURITY DEFINER LANGUAGE sql AS 'SELECT 3';
CREATE FUNCTION owner_only() RETURNS int STABLE SECURITY DEFINER LANGUAGE sql AS 'SELECT 4';
CREATE FUNCTION json_value(text, text) RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (5) RETURNING 'v'$$;
CREATE FUNCTION json_query(text, text) RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (6) RETURNING 'q'$$;
CREATE FUNCTION json_exists(text, text) RETURNS bool VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (7) RETURNING true$$;
CREATE FUNCTION json_scalar(int) RETURNS int VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (8) RETURNING 8$$;
CREATE FUNCTION json_serialize(text) RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (9) RETURNING 's'$$;
CREATE FUNCTION json_object(text, int) RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (10) RETURNING 'o'$$;
CREATE FUNCTION json_array(int, int) RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (11) RETURNING 'a'$$;
CREATE FUNCTION json(text) RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (12) RETURNING 'j'$$;
CREATE FUNCTION merge_action() RETURNS text VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (13) RETURNING 'm'$$;
CREATE FUNCTION tally(int, int) RETURNS int VOLATILE LANGUAGE sql AS $$INSERT INTO hits VALUES (14) RETURNING $1$$;
CREATE AGGREGATE json_arrayagg(int) (sfunc = tally, stype = int, initcond = '0');
"#,
    );
    Some(Proxy::start(db, "prod", "", Some(READ_ONLY)))
}

/// Nothing any of the functions does happened.
fn untouched(p: &Proxy) {
    assert_eq!(
        p.db.run("SELECT count(*) FROM hits").trim(),
        "0",
        "no function ran"
    );
    assert_eq!(
        p.db.run("SELECT last_value, is_called FROM s").trim(),
        "1|f",
        "the sequence was not bumped"
    );
}

fn raw(p: &Proxy) -> Raw {
    Raw::connect(&p.addr, "bot", &p.token, &p.db.name, &[]).unwrap()
}

/// One Query message and its answers.
fn simple(c: &mut Raw, sql: &str) -> Vec<Msg> {
    let mut out = BytesMut::new();
    frontend::query(sql, &mut out).unwrap();
    c.send(&out);
    c.until_ready()
}

/// Parse, Bind, Execute and Sync of `sql`, unnamed, and the answers.
fn extended(c: &mut Raw, sql: &str) -> Vec<Msg> {
    let mut out = BytesMut::new();
    frontend::parse("", sql, std::iter::empty(), &mut out).unwrap();
    bind(&mut out, "", "", &[]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    c.send(&out);
    c.until_ready()
}

/// `sql` is refused by policy in both protocols, on one connection that stays usable.
fn refused_both_ways(p: &Proxy, c: &mut Raw, sql: &str) {
    for (protocol, answers) in [("simple", simple(c, sql)), ("extended", extended(c, sql))] {
        assert_eq!(codes(&answers), ["42501"], "{protocol} {sql}: {answers:?}");
        assert_eq!(
            first_values(&simple(c, "SELECT 1")),
            [Some("1".to_string())],
            "the connection is usable after {protocol} {sql}"
        );
    }
    untouched(p);
}

/// The rows of `sql`, which must pass, in both protocols.
fn allowed_both_ways(c: &mut Raw, sql: &str) -> Vec<Option<String>> {
    let once = simple(c, sql);
    assert!(codes(&once).is_empty(), "simple {sql}: {once:?}");
    let twice = extended(c, sql);
    assert!(codes(&twice).is_empty(), "extended {sql}: {twice:?}");
    assert_eq!(first_values(&once), first_values(&twice), "{sql}");
    first_values(&once)
}

fn prepared_names(c: &mut Raw) -> Vec<Option<String>> {
    first_values(&simple(
        c,
        "SELECT name FROM pg_prepared_statements WHERE NOT name LIKE 'holdpoint_refusal_%' ORDER BY name",
    ))
}

#[test]
fn an_execute_is_judged_with_the_calls_its_statement_makes() {
    let Some(p) = corpus("prepcalls") else { return };
    let mut c = raw(&p);
    // Prepared and executed in one message: nothing runs, nothing is left prepared.
    for sql in [
        "PREPARE p AS SELECT bump(); EXECUTE p",
        "PREPARE p AS SELECT nextval('s'); EXECUTE p",
        "PREPARE p AS SELECT owner_only(); EXECUTE p",
        "PREPARE p AS SELECT t.bump FROM t; EXECUTE p",
        "PREPARE p AS SELECT json_value('{}', '$'); EXECUTE p",
        "PREPARE p AS SELECT bump(); EXPLAIN (ANALYZE) EXECUTE p",
    ] {
        assert_eq!(codes(&simple(&mut c, sql)), ["42501"], "{sql}");
        assert!(prepared_names(&mut c).is_empty(), "{sql} left a statement");
    }
    untouched(&p);
    // Prepared in one message (which runs nothing, and is allowed), executed in others.
    for (name, body) in [
        ("v", "SELECT bump()"),
        ("n", "SELECT nextval('s')"),
        ("d", "SELECT owner_only()"),
        ("w", "SELECT id FROM t WHERE id = bump()"),
    ] {
        let made = simple(&mut c, &format!("PREPARE {name} AS {body}"));
        assert!(codes(&made).is_empty(), "{made:?}");
        for sql in [
            format!("EXECUTE {name}"),
            format!("EXPLAIN (ANALYZE) EXECUTE {name}"),
            format!("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}"),
            format!("CREATE TEMP TABLE x AS EXECUTE {name}"),
        ] {
            refused_both_ways(&p, &mut c, &sql);
        }
    }
    // The same through SQL PREPARE sent in the extended protocol.
    let made = extended(&mut c, "PREPARE e AS SELECT bump()");
    assert!(codes(&made).is_empty(), "{made:?}");
    refused_both_ways(&p, &mut c, "EXECUTE e");
    // EXPLAIN EXECUTE evaluates its parameters, even without ANALYZE.
    assert!(codes(&simple(&mut c, "PREPARE r (int) AS SELECT $1")).is_empty());
    refused_both_ways(&p, &mut c, "EXPLAIN EXECUTE r(bump())");
    refused_both_ways(&p, &mut c, "EXECUTE r(bump())");
    assert_eq!(
        allowed_both_ways(&mut c, "EXECUTE r(7)"),
        [Some("7".into())]
    );
    // A name never prepared through holdpoint is unknown, not a read.
    refused_both_ways(&p, &mut c, "EXECUTE never_prepared");
    // A read stays a read.
    assert!(codes(&simple(&mut c, "PREPARE ok AS SELECT id FROM t")).is_empty());
    assert_eq!(allowed_both_ways(&mut c, "EXECUTE ok"), [Some("1".into())]);
    untouched(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_executing_a_prepared_call_is_refused() {
    let Some(p) = corpus("prepdriver") else {
        return;
    };
    let client = p.client().await;
    client
        .simple_query("PREPARE v AS SELECT bump()")
        .await
        .unwrap();
    for sql in ["EXECUTE v", "EXPLAIN (ANALYZE) EXECUTE v"] {
        let e = client.query(sql, &[]).await.unwrap_err();
        assert_eq!(db_error(&e).0, "42501", "{sql}: {e}");
        let e = client.simple_query(sql).await.unwrap_err();
        assert_eq!(db_error(&e).0, "42501", "{sql}: {e}");
    }
    let rows = client.query("SELECT count(*) FROM t", &[]).await.unwrap();
    assert_eq!(rows[0].get::<_, i64>(0), 1);
    untouched(&p);
}

#[test]
fn a_function_called_in_column_notation_is_judged_as_the_call() {
    let Some(p) = corpus("notation") else { return };
    let mut c = raw(&p);
    for sql in [
        "SELECT t.bump FROM t",
        "SELECT (t).bump FROM t",
        "SELECT x.bump FROM t x",
        "SELECT public.t.bump FROM public.t",
        "SELECT id FROM t WHERE t.bump > 0",
        "SELECT (SELECT t FROM t LIMIT 1).bump",
        "SELECT t.peek FROM t",
        "SELECT (t).peek FROM t",
        "SELECT bump(t) FROM t",
        "SELECT peek(t) FROM t",
    ] {
        refused_both_ways(&p, &mut c, sql);
    }
    // Read-only functions in column notation, and plain columns, pass.
    let json = allowed_both_ways(&mut c, "SELECT t.row_to_json FROM t");
    assert_eq!(json, [Some(r#"{"id":1,"a":1}"#.into())]);
    let jsonb = allowed_both_ways(&mut c, "SELECT (t).to_jsonb FROM t");
    assert_eq!(jsonb, [Some(r#"{"a": 1, "id": 1}"#.into())]);
    assert_eq!(
        allowed_both_ways(&mut c, "SELECT t.a FROM t"),
        [Some("1".into())]
    );
    // `nextval` takes no row: the server reads a missing column, and runs nothing.
    assert_eq!(codes(&simple(&mut c, "SELECT t.nextval FROM t")), ["42703"]);
    untouched(&p);
}

#[test]
fn syntax_postgresql_15_reads_as_the_users_functions_is_judged_as_their_calls() {
    let Some(p) = corpus("grammar") else { return };
    let version = p.db.run("SHOW server_version_num");
    if version.trim().parse::<u32>().unwrap() >= 160_000 {
        eprintln!("skipping: the server reads SQL/JSON itself ({version})");
        return;
    }
    let mut c = raw(&p);
    for sql in [
        "SELECT json_value('{}', '$')",
        "SELECT json_query('{}', '$')",
        "SELECT json_exists('{}', '$')",
        "SELECT json_scalar(1)",
        "SELECT json_serialize('x')",
        "SELECT json_object('a', 1)",
        "SELECT json_array(1, 2)",
        // A literal makes it a cast to json on PostgreSQL 15; anything else, a call.
        "SELECT json('{}')",
        "SELECT json(a::text) FROM t",
        "SELECT merge_action()",
        "SELECT json_arrayagg(id) FROM t",
        "SELECT * FROM t WHERE json_exists('{}', '$')",
    ] {
        refused_both_ways(&p, &mut c, sql);
    }
    // PostgreSQL 15 cannot read these (IS JSON), or holdpoint cannot (json_table
    // without COLUMNS): holdpoint refuses the query; a Parse is answered by the server's
    // own error before anything is executed.
    for sql in ["SELECT '{}' IS JSON", "SELECT * FROM json_table('a', 'b')"] {
        assert_eq!(codes(&simple(&mut c, sql)), ["42501"], "{sql}");
        assert_eq!(codes(&extended(&mut c, sql)).len(), 1, "{sql}");
    }
    // The JSON functions PostgreSQL 15 has are reads as before.
    let built = allowed_both_ways(&mut c, "SELECT json_build_object('a', 1)");
    assert_eq!(built, [Some(r#"{"a" : 1}"#.into())]);
    assert_eq!(
        allowed_both_ways(&mut c, "SELECT to_json(1)"),
        [Some("1".into())]
    );
    untouched(&p);
}

#[test]
fn two_phase_commit_is_admin() {
    let Some(p) = corpus("twophase") else { return };
    let mut c = raw(&p);
    for sql in ["COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'"] {
        refused_both_ways(&p, &mut c, sql);
    }
    assert!(codes(&simple(&mut c, "BEGIN")).is_empty());
    assert_eq!(codes(&simple(&mut c, "PREPARE TRANSACTION 'x'")), ["42501"]);
    assert!(codes(&simple(&mut c, "ROLLBACK")).is_empty());
    assert!(codes(&simple(&mut c, "BEGIN")).is_empty());
    assert_eq!(
        codes(&extended(&mut c, "PREPARE TRANSACTION 'x'")),
        ["42501"]
    );
    assert!(codes(&simple(&mut c, "ROLLBACK")).is_empty());
    assert_eq!(
        p.db.run("SELECT count(*) FROM pg_prepared_xacts").trim(),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superuser_settings_are_admin() {
    let Some(p) = corpus("settings") else { return };
    let mut c = raw(&p);
    let db = p.db.name.clone();
    for sql in [
        "SET log_statement = 'all'".to_string(),
        "SET SESSION log_min_messages = 'panic'".into(),
        "SET log_statement TO DEFAULT".into(),
        "RESET log_statement".into(),
        "SET pgaudit.log = 'none'".into(),
        "SET track_functions = 'all'".into(),
        "SELECT set_config('log_statement', 'all', false)".into(),
        "SELECT set_config('pgaudit.log', 'none', true)".into(),
        // Not on holdpoint's list: pg_settings.context says postmaster and sighup.
        "SET shared_buffers = '1MB'".into(),
        "SELECT set_config('log_checkpoints', 'off', false)".into(),
        // Not registered, but of an extension the server has: its library may register
        // it with any context, and keep the value.
        "SET tablefunc.anything = 'x'".into(),
        "SET plv8.start_proc = 'x'".into(),
        format!("ALTER DATABASE {db} SET log_statement = 'all'"),
    ] {
        refused_both_ways(&p, &mut c, &sql);
    }
    // Inside a transaction block, SET LOCAL too; the block is aborted by the refusal.
    assert!(codes(&simple(&mut c, "BEGIN")).is_empty());
    assert_eq!(
        codes(&simple(&mut c, "SET LOCAL log_statement = 'all'")),
        ["42501"]
    );
    assert!(codes(&simple(&mut c, "ROLLBACK")).is_empty());
    // Nothing was set: not in the session, not for the database.
    let source = simple(
        &mut c,
        "SELECT string_agg(source, ',') FROM pg_settings WHERE name IN ('log_statement', 'log_min_messages', 'track_functions')",
    );
    assert!(
        !first_values(&source)[0]
            .clone()
            .unwrap()
            .contains("session"),
        "{source:?}"
    );
    assert_eq!(
        p.db.run(&format!(
            "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = '{db}'"
        ))
        .trim(),
        "0"
    );
    // Ordinary settings and the user's own placeholders pass.
    assert!(codes(&simple(&mut c, "SET geqo = off")).is_empty());
    assert!(codes(&extended(&mut c, "SET myapp.tenant = '7'")).is_empty());
    assert_eq!(
        first_values(&simple(&mut c, "SHOW myapp.tenant")),
        [Some("7".into())]
    );
    // A driver in the extended protocol.
    let client = p.client().await;
    for sql in [
        "SET log_statement = 'all'",
        "SELECT set_config('log_statement', 'all', false)",
    ] {
        let e = client.execute(sql, &[]).await.unwrap_err();
        assert_eq!(db_error(&e).0, "42501", "{sql}: {e}");
    }
    let rows = client.query("SHOW log_statement", &[]).await.unwrap();
    assert_ne!(rows[0].get::<_, String>(0), "all");
}
