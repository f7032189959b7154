//! Adversarial review of the PostgreSQL proxy as one door of the gate: a hostile agent
//! (it holds only its own token) and a careless operator. Each test asserts what the
//! rules demand; an ignored test (`finding: …`) marks an attack that succeeds today.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use futures::StreamExt;
use std::time::Duration;
use support::pg::{Db, Proxy, db_error};
use support::text;

/// A client through the proxy whose notices ("held for approval as act_…") are sent to
/// the returned channel.
async fn client_with_notices(
    p: &Proxy,
) -> (
    tokio_postgres::Client,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let config = format!(
        "host=127.0.0.1 port={} user=bot password={} dbname={} sslmode=disable",
        p.port(),
        p.token,
        p.db.name
    );
    let (client, mut connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notice(n) = message {
                let _ = tx.send(n.message().to_string());
            }
        }
    });
    (client, rx)
}

fn act_in(text: &str) -> String {
    support::act_id(text)
}

/// The agent opens a hold through the HTTP API for exactly the digest its statement will
/// have on the proxy (kind, resource, environment and `{"sql": …}` are all its to
/// choose), but without the proxy's per-table parts: only the head table's policy is
/// asked. The statement on the proxy is then answered with that hold, and once `dba`
/// approves it, the proxy runs a change of `payments`, which policy reserves for
/// `security`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decoy_hold_through_the_api_does_not_let_a_statement_skip_a_tables_approvers() {
    let Some(db) = Db::fresh("decoy") else { return };
    db.run("CREATE TABLE aaa (id int); CREATE TABLE payments (id int)");
    let policies = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("ddl") @hold("Schema change") @approvers("dba")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/prod");
@id("payments") @hold("Payments schema change") @approvers("security")
permit(principal, action == Action::"db.ddl", resource == Resource::"postgres/prod/payments");
"#;
    let p = Proxy::start(db, "prod", "", Some(policies));
    let alice = p.gw.create_token("alice", "user", &["dba"]);
    let sql = "ALTER TABLE aaa ADD c int; ALTER TABLE payments ADD d int";
    // The decoy: through the API, on the head table only.
    let params = serde_json::json!({ "sql": sql }).to_string();
    let out = p.gw.cli(
        &p.token,
        &[
            "submit",
            "--kind",
            "db.ddl",
            "--resource",
            "postgres/prod/aaa",
            "--env",
            "prod",
            "--params-json",
            &params,
        ],
    );
    let decoy = act_in(&format!("{}{}", text(&out.stdout), text(&out.stderr)));
    // The statement on the proxy waits on a hold; the notice names it.
    let (client, mut notices) = client_with_notices(&p).await;
    let run = tokio::spawn(async move { client.simple_query(sql).await.map(|_| ()) });
    let notice = tokio::time::timeout(Duration::from_secs(60), notices.recv())
        .await
        .expect("a notice")
        .expect("a notice");
    let held = act_in(&notice);
    if held == decoy {
        // Show what that lets through: dba alone approves, and the statement runs.
        let out = p.gw.cli(&alice, &["approve", &decoy]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let ran = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the statement ends")
            .unwrap();
        let columns = p.db.run(
            "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'payments'",
        );
        panic!(
            "the statement was answered with the API's hold {decoy}; approved by dba alone it \
             ran ({ran:?}) and `payments` now has the columns {columns}"
        );
    }
    // Its own hold asks security too.
    let body = p.gw.admin_get(&format!("/v1/actions/{held}"));
    assert!(body.contains("security"), "{body}");
    run.abort();
}

/// A principal whose rate is spent (by its own API requests, or by many open
/// connections, each re-checking its token every second) keeps its PostgreSQL session:
/// a statement over the rate is refused with 53400 and the connection stays. The
/// session's periodic token check must not read "over the rate" as "revoked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_rate_does_not_end_a_session_as_if_its_token_were_revoked() {
    let Some(db) = Db::fresh("ratekill") else {
        return;
    };
    db.run("CREATE TABLE t (id int)");
    let limits = "\n[limits]\nrequests_per_second = 3\nrequest_burst = 5\n";
    let policies = r#"@id("reads") permit(principal, action == Action::"db.read", resource);"#;
    let p = Proxy::start(db, "prod", limits, Some(policies));
    let client = p.client().await;
    // Judged once and remembered: from now on this shape costs the gate nothing.
    client.simple_query("SELECT count(*) FROM t").await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v1/actions?limit=1", p.gw.base);
    // The agent's own API requests keep its bucket empty for a few token checks.
    let mut ended = None;
    // About five token checks' worth: the session ends at the first that meets an
    // empty bucket.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        for _ in 0..3 {
            let _ = http.get(&url).bearer_auth(&p.token).send().await;
        }
        match client.simple_query("SELECT count(*) FROM t").await {
            Ok(_) => {}
            Err(e) if db_error(&e).0 == "53400" => {}
            Err(e) => {
                ended = Some(e);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(e) = ended {
        // The audit says why it ended.
        let mut why = Vec::new();
        for _ in 0..200 {
            why = p.events("connection.closed");
            if !why.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let why: Vec<String> = why.iter().map(|e| e["data"]["ended"].to_string()).collect();
        panic!(
            "the session ended: {:?} (closed: {}); audited as {why:?}",
            db_error(&e),
            client.is_closed()
        );
    }
}

/// A shape the gate allowed once is remembered and not judged again: the attacker tries
/// to carry another statement in the same shape (a second statement, hidden after a
/// comment, in a dollar quote, via PREPARE/EXECUTE re-prepared, via a literal that
/// decides a kind). Each is judged and refused; the table survives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remembered_shape_carries_no_other_statement() {
    let Some(db) = Db::fresh("memo") else { return };
    db.run("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
    let policies = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("no-ddl") @reason("no schema changes") forbid(principal, action == Action::"db.ddl", resource);
@id("no-writes") @reason("no writes") forbid(principal, action == Action::"db.write", resource);
"#;
    let p = Proxy::start(db, "prod", "", Some(policies));
    let client = p.client().await;
    client
        .simple_query("SELECT id FROM t WHERE id = 1")
        .await
        .unwrap();
    client
        .simple_query("PREPARE p AS SELECT id FROM t")
        .await
        .unwrap();
    client.simple_query("EXECUTE p").await.unwrap();
    // Preparing runs nothing (allowed); what the name is executed as is judged as every
    // statement it was ever prepared as.
    client
        .simple_query("DEALLOCATE p; PREPARE p AS DELETE FROM t")
        .await
        .unwrap();
    for attack in [
        "SELECT id FROM t WHERE id = 1; DROP TABLE t",
        "SELECT id FROM t WHERE id = 1 /* ; */; DROP TABLE t",
        "SELECT id FROM t WHERE id = 1 --\n; DROP TABLE t",
        "SELECT id FROM t WHERE id = $x$1$x$; DROP TABLE t",
        "SELECT id FROM t WHERE id = 1; DELETE FROM t",
        "WITH d AS (DELETE FROM t RETURNING id) SELECT id FROM d WHERE id = 1",
        "EXECUTE p",
        "SET standard_conforming_strings = off",
    ] {
        match client.simple_query(attack).await {
            Err(e) => {
                let (code, message) = db_error(&e);
                assert!(
                    code == "42501" || code == "26000" || code == "42P05",
                    "{attack:?}: {code} {message}"
                );
            }
            Ok(_) => panic!("{attack:?} ran"),
        }
    }
    let left = p.db.run("SELECT count(*) FROM t");
    assert_eq!(left.trim(), "1", "the table and its row survive");
}
