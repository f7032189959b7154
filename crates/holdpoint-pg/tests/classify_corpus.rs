//! What the read-only corpus run found passing as `db.read` (issue 17), as far as the
//! parse tree alone tells: what a prepared statement must still have judged when it is
//! executed, column-notation calls, syntax an older server reads as calls, two-phase
//! commit and superuser-only settings. (What the catalog and the server's version then
//! make of them is tested against PostgreSQL in `crates/holdpoint/tests/pg_reads_corpus.rs`.)

#![allow(clippy::indexing_slicing)]

use holdpoint_pg::{Kind, Statement, classify};

fn one(sql: &str) -> Statement {
    let mut all = classify(sql);
    assert_eq!(all.len(), 1, "{sql}");
    all.remove(0)
}

fn head(sql: &str) -> Kind {
    classify(sql)
        .iter()
        .map(Statement::head)
        .max()
        .unwrap_or(Kind::Read)
}

#[test]
fn a_prepared_statement_keeps_its_calls_for_its_execute() {
    for (sql, call) in [
        ("PREPARE p AS SELECT bump()", "bump"),
        ("PREPARE p AS SELECT nextval('s')", "nextval"),
        (
            "PREPARE p (int) AS SELECT * FROM t WHERE id = definer($1)",
            "definer",
        ),
        (
            "PREPARE p AS WITH x AS (SELECT bump()) SELECT * FROM x",
            "bump",
        ),
    ] {
        let st = one(sql);
        assert_eq!(st.head(), Kind::Read, "preparing runs nothing: {sql}");
        let (name, inner) = st.prepares.expect("prepares");
        assert_eq!(name, "p");
        assert_eq!(inner.calls.len(), 1, "{sql}");
        assert_eq!(inner.calls[0].name, call, "{sql}");
    }
    for sql in [
        "EXECUTE p",
        "EXPLAIN (ANALYZE) EXECUTE p",
        "EXPLAIN ANALYZE EXECUTE p",
        "CREATE TABLE x AS EXECUTE p",
    ] {
        assert_eq!(one(sql).executes.as_deref(), Some("p"), "{sql}");
    }
    // EXPLAIN EXECUTE evaluates its parameters even without ANALYZE.
    let st = one("EXPLAIN EXECUTE p(bump())");
    assert_eq!(st.calls.len(), 1);
    let st = one("EXPLAIN EXECUTE p(1)");
    assert!(st.calls.is_empty() && st.executes.is_none());
}

#[test]
fn column_notation_may_be_a_call() {
    for (sql, name) in [
        ("SELECT t.bump FROM t", "bump"),
        ("SELECT (t).bump FROM t", "bump"),
        ("SELECT public.t.bump FROM public.t", "bump"),
        ("SELECT x.row_to_json FROM t x", "row_to_json"),
        ("SELECT 1 FROM t WHERE t.to_jsonb IS NOT NULL", "to_jsonb"),
        ("SELECT ((t).a).nextval FROM t", "nextval"),
        ("SELECT (SELECT t FROM t LIMIT 1).definer", "definer"),
        ("UPDATE t SET a = 1 WHERE t.bump > 0", "bump"),
    ] {
        let st = one(sql);
        assert!(st.notation.contains(name), "{sql}: {:?}", st.notation);
    }
    // A bare name is a column or a whole row, never a call; an ordinary call is a call.
    assert!(one("SELECT bump FROM t").notation.is_empty());
    let st = one("SELECT bump(t) FROM t");
    assert!(st.notation.is_empty());
    assert_eq!(st.calls[0].name, "bump");
    assert!(one("SELECT t.* FROM t").notation.is_empty());
}

#[test]
fn syntax_newer_than_some_servers_is_recorded_with_its_version() {
    for (sql, since, name) in [
        ("SELECT json_object('a': 1)", 16, "json_object"),
        ("SELECT json_object('a', 'b')", 16, "json_object"),
        ("SELECT json_array(1, 2)", 16, "json_array"),
        ("SELECT json_array(SELECT 1)", 16, "json_array"),
        ("SELECT json_arrayagg(a) FROM t", 16, "json_arrayagg"),
        ("SELECT json_objectagg(a: b) FROM t", 16, "json_objectagg"),
        ("SELECT a IS JSON FROM t", 16, ""),
        ("SELECT json('{}')", 17, "json"),
        ("SELECT json_scalar(1)", 17, "json_scalar"),
        ("SELECT json_serialize('{}')", 17, "json_serialize"),
        ("SELECT json_value('{}', '$')", 17, "json_value"),
        ("SELECT json_query('{}', '$')", 17, "json_query"),
        ("SELECT json_exists('{}', '$')", 17, "json_exists"),
        (
            "SELECT * FROM json_table('[]', '$' COLUMNS (a int PATH '$'))",
            17,
            "json_table",
        ),
        (
            "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE RETURNING merge_action()",
            17,
            "merge_action",
        ),
    ] {
        let st = one(sql);
        assert!(
            st.grammar.contains(&(since, name.to_string())),
            "{sql}: {:?}",
            st.grammar
        );
        assert!(st.needs_resolving(Some(since - 1)), "{sql}");
        assert!(
            !st.needs_resolving(Some(since)) || name == "json_object",
            "{sql}"
        );
    }
    assert!(
        one("SELECT to_json(1), json_build_object('a', 1)")
            .grammar
            .is_empty()
    );
}

#[test]
fn two_phase_commit_is_admin() {
    for sql in [
        "PREPARE TRANSACTION 'x'",
        "COMMIT PREPARED 'x'",
        "ROLLBACK PREPARED 'x'",
    ] {
        assert_eq!(head(sql), Kind::Admin, "{sql}");
    }
    for sql in [
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT a",
        "PREPARE p AS SELECT 1",
    ] {
        assert!(head(sql) < Kind::Admin, "{sql}");
    }
}

#[test]
fn superuser_settings_are_admin_however_they_are_changed() {
    for sql in [
        "SET log_statement = 'none'",
        "SET LOCAL log_statement = 'none'",
        "SET SESSION log_min_duration_statement = -1",
        "SET log_statement TO DEFAULT",
        "RESET log_statement",
        "SET pgaudit.log = 'none'",
        "SET \"pgaudit.log\" = 'none'",
        "SET anon.restrict_to_trusted_schemas = off",
        "SET session_replication_role = replica",
        "SET event_triggers = off",
        "SELECT set_config('log_statement', 'none', false)",
        "SELECT set_config('pgaudit.log', 'none', true)",
        "ALTER SYSTEM SET log_statement = 'none'",
        "ALTER ROLE bot SET log_statement = 'none'",
        "ALTER ROLE bot IN DATABASE d RESET log_statement",
        "ALTER DATABASE d SET pgaudit.log = 'none'",
        "CREATE FUNCTION f() RETURNS int SET log_statement = 'none' LANGUAGE sql AS 'select 1'",
        "ALTER FUNCTION f() SET track_functions = 'none'",
    ] {
        assert!(
            classify(sql).iter().any(|s| s.kinds.contains(&Kind::Admin)),
            "{sql}: {:?}",
            classify(sql)
        );
    }
    // Ordinary settings stay reads; a name holdpoint does not know is asked of the
    // catalog (pg_settings.context) when judged.
    for sql in [
        "SET search_path = app",
        "SET statement_timeout = '5s'",
        "RESET ALL",
    ] {
        let st = one(sql);
        assert_eq!(st.head(), Kind::Read, "{sql}");
        assert!(st.settings.is_empty(), "{sql}");
    }
    for (sql, name) in [
        ("SET myapp.tenant = '7'", "myapp.tenant"),
        ("SET LOCAL geqo = off", "geqo"),
        ("RESET Lc_Monetary", "lc_monetary"),
        ("SELECT set_config('custom.x', '1', false)", "custom.x"),
        ("ALTER ROLE bot SET my.thing = 1", "my.thing"),
    ] {
        let st = one(sql);
        assert!(st.settings.contains(name), "{sql}: {:?}", st.settings);
    }
}
