//! Result masking through the PostgreSQL proxy: configured columns and what the
//! detectors flag never reach the agent unmasked, in text or binary format, through an
//! alias, an expression or a whole-row value. COPY passes through both ways, except
//! COPY … TO where masking is on. Fails when PostgreSQL is absent under `CI=true`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use bytes::BytesMut;
use postgres_protocol::message::frontend;
use support::pg::{Db, Proxy, Raw, bind, codes, db_error, first_values};
use support::text;

const EVERYTHING: &str = r#"
@id("everything")
permit (principal, action in Action::"db", resource)
unless { action in Action::"db.unknown" };
"#;

const EMAIL: &str = "ann.smith@example.com";
const SSN: &str = "078-05-1120";
const KEY: &str = "AKIAIOSFODNN7EXAMPLE";

fn masked(tag: &str) -> Option<Proxy> {
    let db = Db::fresh(tag)?;
    db.run(&format!(
        "CREATE TABLE customers (id int PRIMARY KEY, email text, ssn text, note text, born int); \
         INSERT INTO customers VALUES (1, '{EMAIL}', '{SSN}', 'rotate {KEY} soon', 1980); \
         CREATE TABLE staff (id int, ssn bigint); INSERT INTO staff VALUES (1, 78051120)"
    ));
    Some(Proxy::start(
        db,
        "staging",
        "mask_columns = [\"customers.email\", \"*.ssn\"]\nmask_results = true",
        Some(EVERYTHING),
    ))
}

fn leaks(s: &str) -> bool {
    s.contains(EMAIL) || s.contains(SSN) || s.contains(KEY) || s.contains("78051120")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_columns_never_arrive_in_text_format() {
    let Some(p) = masked("masktext") else { return };
    for sql in [
        "SELECT * FROM customers",
        "SELECT email AS contact, ssn AS s FROM customers",
        "SELECT lower(email), email || '', upper(c.ssn) FROM customers c",
        "SELECT row_to_json(c) FROM customers c",
        "SELECT c FROM customers c",
        "SELECT note FROM customers",
        "SELECT ssn FROM staff",
        "SELECT s.ssn + 0 FROM staff s",
        "WITH x AS (SELECT email FROM customers) SELECT * FROM x",
    ] {
        let out = p.psql(&["-At", "-c", sql]);
        let shown = text(&out.stdout);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        assert!(!leaks(&shown), "{sql} leaked: {shown}");
        // One line per row, even for a value masked to NULL.
        assert!(!shown.is_empty(), "{sql} returned no row");
    }
    let out = p.psql(&["-At", "-c", "SELECT email, id, born FROM customers"]);
    assert_eq!(text(&out.stdout).trim(), "[masked:email]|1|1980");
    let out = p.psql(&["-At", "-c", "SELECT note FROM customers"]);
    let note = text(&out.stdout);
    assert!(
        note.starts_with("rotate [") && note.trim_end().ends_with("] soon"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masked_columns_never_arrive_in_binary_format() {
    let Some(p) = masked("maskbin") else { return };
    let client = p.client().await;
    let row = client
        .query_one(
            "SELECT email, ssn, note, id, born FROM customers WHERE id = $1",
            &[&1i32],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "[masked:email]");
    assert_eq!(row.get::<_, String>(1), "[masked:ssn]");
    assert!(!leaks(&row.get::<_, String>(2)));
    assert_eq!(row.get::<_, i32>(3), 1);
    assert_eq!(row.get::<_, i32>(4), 1980);
    // A masked column of a type that cannot hold the mask arrives as NULL.
    let row = client
        .query_one("SELECT ssn FROM staff", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), None);
    let row = client
        .query_one(
            "SELECT row_to_json(c)::text, c.email AS e FROM customers c",
            &[],
        )
        .await
        .unwrap();
    assert!(!leaks(&format!("{:?}", row)));

    // Rows of a statement the client never had described (raw Parse/Bind/Execute,
    // binary results) are masked too: holdpoint describes the portal itself.
    let mut raw = Raw::connect(&p.addr, "bot", &p.token, &p.db.name, &[]).unwrap();
    let mut out = BytesMut::new();
    frontend::parse(
        "",
        "SELECT email FROM customers",
        std::iter::empty(),
        &mut out,
    )
    .unwrap();
    bind(&mut out, "", "", &[1]);
    frontend::execute("", 0, &mut out).unwrap();
    frontend::sync(&mut out);
    raw.send(&out);
    let msgs = raw.until_ready();
    assert!(codes(&msgs).is_empty());
    assert_eq!(
        first_values(&msgs),
        vec![Some("[masked:email]".to_string())],
        "traced through holdpoint's own Describe"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_passes_both_ways_but_not_out_past_masking() {
    let Some(p) = masked("copy") else { return };
    let client = p.client().await;
    let err = client
        .copy_out("COPY customers TO STDOUT")
        .await
        .err()
        .expect("COPY TO is refused where results are masked");
    let (code, message) = db_error(&err);
    assert_eq!(code, "42501");
    assert!(message.contains("COPY"), "{message}");

    // COPY FROM STDIN is a write, and passes as bytes.
    let sink = client
        .copy_in::<_, bytes::Bytes>("COPY staff (id, ssn) FROM STDIN")
        .await
        .unwrap();
    let mut sink = std::pin::pin!(sink);
    use futures::SinkExt;
    sink.send(bytes::Bytes::from_static(b"2\t1\n3\t2\n"))
        .await
        .unwrap();
    assert_eq!(sink.as_mut().finish().await.unwrap(), 2);
    assert_eq!(p.db.run("SELECT count(*) FROM staff").trim(), "3");

    // Where nothing is masked, COPY TO passes as bytes.
    let db = Db::fresh("copyout").unwrap();
    db.run("CREATE TABLE t (a int, b text); INSERT INTO t VALUES (1, 'x'), (2, 'y')");
    let plain = Proxy::start(db, "staging", "", Some(EVERYTHING));
    let out = plain.psql(&["-c", "COPY t TO STDOUT"]);
    assert_eq!(text(&out.stdout), "1\tx\n2\ty\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_messages_do_not_quote_masked_values() {
    let Some(p) = masked("maskerr") else { return };
    let client = p.client().await;
    for sql in [
        "SELECT email::int FROM customers",
        "SELECT ssn::date FROM customers",
        "INSERT INTO customers (id, email) VALUES (1, 'x')",
    ] {
        let err = client.simple_query(sql).await.unwrap_err();
        let db = err.as_db_error().expect("a server error");
        let shown = format!("{} {:?} {:?}", db.message(), db.detail(), db.hint());
        assert!(!leaks(&shown), "{sql}: {shown}");
        assert!(db.code().code().starts_with("22") || db.code().code().starts_with("23"));
    }
    // Other errors keep their message.
    let err = client
        .simple_query("SELECT nope FROM customers")
        .await
        .unwrap_err();
    assert!(err.as_db_error().unwrap().message().contains("nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_from_cursors_and_prepared_statements_are_masked_too() {
    let Some(p) = masked("maskfetch") else { return };
    let out = p.psql(&[
        "-At",
        "-c",
        "BEGIN",
        "-c",
        "DECLARE k CURSOR FOR SELECT upper(ssn), lower(email) FROM customers",
        "-c",
        "FETCH ALL FROM k",
        "-c",
        "COMMIT",
        "-c",
        "PREPARE q AS SELECT upper(ssn), lower(email) FROM customers",
        "-c",
        "EXECUTE q",
    ]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!leaks(&shown), "{shown}");
    assert_eq!(shown.matches("[masked:").count(), 4, "{shown}");
}
