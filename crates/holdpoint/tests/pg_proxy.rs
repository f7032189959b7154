//! The PostgreSQL proxy against the machine's real PostgreSQL, with real clients
//! (psql, pgbench, tokio-postgres in both protocols): what passes, what is held on the
//! open connection, what is refused with 42501 while the connection stays usable.
//! Fails when PostgreSQL is absent under `CI=true`; skips otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;
use support::pg::{Db, Proxy, db_error};
use support::text;

/// Long enough for anything here; only a hang would reach it.
const PATIENCE: Duration = Duration::from_secs(60);

async fn one_row(client: &tokio_postgres::Client) -> bool {
    client
        .simple_query("SELECT 1")
        .await
        .unwrap()
        .iter()
        .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
}

fn prod(tag: &str) -> Option<Proxy> {
    let db = Db::fresh(tag)?;
    db.run("CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int); INSERT INTO accounts VALUES (1, 'ann', 10), (2, 'bob', 20)");
    Some(Proxy::start(db, "prod", "", None))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_pass_and_refusals_leave_the_connection_usable() {
    let Some(p) = prod("reads") else { return };
    let out = p.psql(&[
        "-At",
        "-c",
        "SELECT owner FROM accounts ORDER BY id",
        "-c",
        "GRANT ALL ON accounts TO PUBLIC",
        "-c",
        "SELEC 1",
        "-c",
        "BEGIN; SELECT count(*) FROM accounts; COMMIT",
        "-c",
        "SELECT current_setting('server_version_num')::int > 0",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.starts_with("ann\nbob\n"), "{stdout}");
    assert!(
        stdout.ends_with("t\n"),
        "the connection still works: {stdout}"
    );
    assert!(
        stderr.contains("agents may not change database privileges"),
        "{stderr}"
    );
    assert!(
        stderr.contains("could not tell what this statement does"),
        "{stderr}"
    );
    assert!(
        stderr.contains("act_"),
        "the refusal names its action: {stderr}"
    );
    // The refusal's SQLSTATE, seen by a driver.
    let client = p.client().await;
    let err = client
        .simple_query("GRANT ALL ON accounts TO PUBLIC")
        .await
        .unwrap_err();
    assert_eq!(db_error(&err).0, "42501");
    assert!(one_row(&client).await);
    // Denied statements are full actions; the GRANT never ran.
    assert!(
        !p.db
            .run("SELECT relacl::text FROM pg_class WHERE relname = 'accounts'")
            .contains("=arwdDxt")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_ddl_runs_once_approved_while_psql_waits() {
    let Some(p) = prod("held") else { return };
    let child = p
        .psql_command(&[
            "-At",
            "-c",
            "ALTER TABLE accounts ADD COLUMN note text",
            "-c",
            "SELECT 'after'",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = p.wait_pending();
    let listed = text(&p.gw.cli(&p.gw.admin_token(), &["pending"]).stdout);
    assert!(
        listed.contains("db.ddl on postgres/prod/accounts"),
        "{listed}"
    );
    assert!(
        listed.contains("ALTER TABLE accounts ADD COLUMN note text"),
        "{listed}"
    );
    p.approve(&id, "fine");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("held for approval as {id}")));
    assert!(text(&out.stdout).contains("after"));
    assert!(p.db.run("SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'note'").trim() == "1");
    let record = p.gw.admin_get(&format!("/v1/actions/{id}"));
    assert!(
        record.contains("\"consumed_by\":\"act_"),
        "the approval was used, by the proxy: {record}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_statement_gets_42501_with_the_comment_in_both_protocols() {
    let Some(p) = prod("rejected") else { return };
    let client = std::sync::Arc::new(p.client().await);
    // Simple protocol.
    let c = client.clone();
    let held = tokio::spawn(async move { c.simple_query("DROP TABLE accounts").await });
    let id = p.wait_pending();
    p.reject(&id, "not during the audit");
    let err = tokio::time::timeout(PATIENCE, held)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    let (code, message) = db_error(&err);
    assert_eq!(code, "42501");
    assert!(
        message.contains(&id) && message.contains("not during the audit"),
        "{message}"
    );
    assert!(one_row(&client).await);

    // Extended protocol: a bound UPDATE in production is held, then rejected.
    let c = client.clone();
    let held = tokio::spawn(async move {
        c.execute(
            "UPDATE accounts SET balance = $1 WHERE id = $2",
            &[&99i32, &1i32],
        )
        .await
    });
    let id = p.wait_pending();
    let record = p.gw.admin_get(&format!("/v1/actions/{id}"));
    assert!(
        record.contains("\"99\"") && record.contains("db.write"),
        "reviewers see the bound values: {record}"
    );
    p.reject(&id, "no");
    let err = tokio::time::timeout(PATIENCE, held)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(db_error(&err).0, "42501");
    // The connection, and the prepared statements on it, still work.
    let rows = client
        .query("SELECT balance FROM accounts WHERE id = $1", &[&1i32])
        .await
        .unwrap();
    assert_eq!(
        rows[0].get::<_, i32>(0),
        10,
        "the rejected update never ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_inside_a_transaction_aborts_it_as_postgresql_would() {
    let Some(p) = prod("txn") else { return };
    let client = p.client().await;
    client.simple_query("BEGIN").await.unwrap();
    client.simple_query("SELECT 1").await.unwrap();
    let err = client
        .simple_query("GRANT ALL ON accounts TO PUBLIC")
        .await
        .unwrap_err();
    assert_eq!(db_error(&err).0, "42501");
    let err = client.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(db_error(&err).0, "25P02", "the transaction is aborted");
    client.simple_query("ROLLBACK").await.unwrap();
    assert!(one_row(&client).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_write_runs_with_its_bound_values() {
    let Some(p) = prod("approved") else { return };
    let client = std::sync::Arc::new(p.client().await);
    let c = client.clone();
    let held = tokio::spawn(async move {
        c.execute(
            "UPDATE accounts SET balance = $1 WHERE id = $2",
            &[&42i32, &2i32],
        )
        .await
    });
    let id = p.wait_pending();
    p.approve(&id, "ok");
    let n = tokio::time::timeout(PATIENCE, held)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        p.db.run("SELECT balance FROM accounts WHERE id = 2").trim(),
        "42"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_or_cancels_withdraws_its_hold() {
    let Some(p) = prod("leave") else { return };
    // Leaves while held: psql killed outright.
    let mut psql = p
        .psql_command(&["-c", "DROP TABLE accounts"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let id = p.wait_pending();
    psql.kill().unwrap();
    psql.wait().unwrap();
    p.wait_status(&id, "cancelled");

    // Cancels with a cancel request while held.
    let client = std::sync::Arc::new(p.client().await);
    let token = client.cancel_token();
    let c = client.clone();
    let held = tokio::spawn(async move { c.simple_query("DROP TABLE accounts").await });
    let id = p.wait_pending();
    token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let err = tokio::time::timeout(PATIENCE, held)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(db_error(&err).0, "57014");
    p.wait_status(&id, "cancelled");
    assert!(one_row(&client).await);
    assert_eq!(p.db.run("SELECT count(*) FROM accounts").trim(), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_and_a_dead_upstream_are_refused_cleanly() {
    let Some(p) = prod("login") else { return };
    let err = p.client_as("hp_not_a_token").await.unwrap_err();
    assert_eq!(db_error(&err).0, "28P01");
    let admin = p.gw.admin_token();
    let err = p.client_as(&admin).await.unwrap_err();
    assert_eq!(
        db_error(&err).0,
        "28P01",
        "another principal's token is not bot's"
    );
    let out = p.psql(&["-c", "SELECT 1"]);
    assert!(out.status.success());

    let db = Db::fresh("dead").unwrap();
    let dead = Proxy::start_with(
        db,
        "prod",
        "",
        None,
        &[(
            "HP_TEST_UPSTREAM",
            "postgres://postgres@127.0.0.1:1/none".to_string(),
        )],
    );
    let err = dead.client_as(&dead.token).await.unwrap_err();
    let (code, message) = db_error(&err);
    assert_eq!(code, "08006");
    assert!(message.contains("cannot be reached"), "{message}");
    // The gateway is still up and still serves the API.
    assert!(
        dead.gw.admin_get("/v1/deliveries").starts_with('{')
            || dead.gw.admin_get("/v1/deliveries").starts_with('[')
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_ends_its_sessions() {
    let Some(p) = prod("revoked") else { return };
    let client = p.client().await;
    assert!(one_row(&client).await);
    let out = p.gw.cli(&p.gw.admin_token(), &["token", "revoke", "bot"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The session notices within a second; poll until it has.
    let mut ended = None;
    for _ in 0..200 {
        match client.simple_query("SELECT 1").await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            Err(e) => {
                ended = Some(e);
                break;
            }
        }
    }
    let ended = ended.expect("the session ended");
    assert!(
        client.is_closed() || db_error(&ended).0 == "28P01",
        "{ended}"
    );
    assert!(
        p.client_as(&p.token).await.is_err(),
        "and no new one starts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_gateway_ends_sessions_withdraws_holds_and_audits_the_close() {
    let Some(p) = prod("stop") else { return };
    let idle = p.client().await;
    assert!(one_row(&idle).await);
    let held_client = p.client().await;
    let held = tokio::spawn(async move { held_client.simple_query("DROP TABLE accounts").await });
    let id = p.wait_pending();

    let Proxy { gw, db, dir, .. } = p;
    let data = gw.data.clone();
    gw.stop();
    let err = tokio::time::timeout(PATIENCE, held)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(db_error(&err).0, "57P01", "{err}");
    assert!(
        idle.simple_query("SELECT 1").await.is_err(),
        "the idle session ended too"
    );
    assert_eq!(db.run("SELECT count(*) FROM accounts").trim(), "2");

    let export =
        text(&support::holdpoint(&["audit", "export", "--data", data.to_str().unwrap()]).stdout);
    assert_eq!(export.matches("connection.closed").count(), 2, "{export}");
    assert!(export.contains("gateway shut down"));
    let cancelled = export
        .lines()
        .any(|l| l.contains("action.cancelled") && l.contains(&id));
    assert!(cancelled, "the hold was withdrawn: {export}");
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_on_a_second_connection_shares_the_hold_but_not_the_approval() {
    use std::io::BufRead;
    let Some(p) = prod("retry") else { return };
    let sql = "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS note text";
    let first = p.client().await;
    let one = tokio::spawn(async move { first.simple_query(sql).await.map(|_| ()) });
    let id = p.wait_pending();
    // The same statement again, from psql on a second connection (an agent's retry).
    let mut two = p
        .psql_command(&["-c", sql])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(two.stderr.take().unwrap()).lines();
    let notice = stderr.next().unwrap().unwrap();
    assert!(
        notice.contains(&format!("held for approval as {id}")),
        "the retry joins the same hold: {notice}"
    );
    let listed = text(&p.gw.cli(&p.gw.admin_token(), &["pending"]).stdout);
    assert_eq!(
        listed.matches("act_").count(),
        1,
        "reviewers see one request: {listed}"
    );
    p.approve(&id, "once");
    // One connection used the approval; the other waits on a hold of its own.
    let mut next = String::new();
    for _ in 0..400 {
        let listed = text(&p.gw.cli(&p.gw.admin_token(), &["pending"]).stdout);
        if listed.contains("act_") && !listed.contains(&id) {
            next = support::act_id(&listed);
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(
        !next.is_empty() && next != id,
        "a second hold for the second run"
    );
    p.reject(&next, "one is enough");
    let first_ran = tokio::time::timeout(PATIENCE, one).await.unwrap().unwrap();
    let rest: Vec<String> = stderr.map_while(Result::ok).collect();
    let second_ran = two.wait().unwrap().success();
    assert!(
        first_ran.is_ok() != second_ran,
        "exactly one ran: {first_ran:?} {rest:?}"
    );
    let refusal = match first_ran {
        Err(e) => db_error(&e).1,
        Ok(()) => rest.join("\n"),
    };
    assert!(
        refusal.contains(&next) && refusal.contains("one is enough"),
        "{refusal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_token_runs_no_statement_through_the_proxy() {
    let Some(db) = Db::fresh("admins") else {
        return;
    };
    db.run("CREATE TABLE t (id int)");
    let p = Proxy::start(db, "prod", "", None);
    let admin = p.gw.admin_token();
    let config = format!(
        "host=127.0.0.1 port={} user=admin password={admin} dbname={} sslmode=disable",
        p.port(),
        p.db.name
    );
    let err = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .err()
        .expect("an admin is refused at login");
    let (code, message) = db_error(&err);
    assert_eq!(code, "28000", "{message}");
    assert!(
        message.contains("admin tokens manage holdpoint"),
        "{message}"
    );
    // An agent's token on the same listener still works.
    assert!(one_row(&p.client().await).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_the_request_rate_is_refused_with_53400_and_the_connection_stays() {
    let Some(db) = Db::fresh("rate") else { return };
    db.run("CREATE TABLE t (id int)");
    // Every statement the gate judges is one request of the session's principal. This
    // policy reads the statement's text, so no allow is reused and each one is judged.
    let limits = "\n[limits]\nrequests_per_second = 5\nrequest_burst = 3\n";
    let policies = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("no-secrets") @reason("no secrets")
forbid(principal, action, resource) when { context has sql && context.sql.text like "*secret*" };
"#;
    let p = Proxy::start(db, "prod", limits, Some(policies));
    let client = p.client().await;
    let mut refused = None;
    for _ in 0..20 {
        if let Err(e) = client.simple_query("SELECT count(*) FROM t").await {
            refused = Some(db_error(&e));
            break;
        }
    }
    let (code, message) = refused.expect("the rate refuses a statement");
    assert_eq!(code, "53400", "{message}");
    assert!(message.contains("requests per second"), "{message}");
    assert!(message.contains("retry after"), "the retry hint: {message}");
    // The connection is kept: once the bucket refills, the same client goes on.
    let mut ran = false;
    for _ in 0..200 {
        match client.simple_query("SELECT count(*) FROM t").await {
            Ok(_) => {
                ran = true;
                break;
            }
            Err(e) => assert_eq!(db_error(&e).0, "53400", "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ran, "the connection stayed usable");
    assert!(
        !p.events("limit.exceeded").is_empty(),
        "the refusal is audited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_on_a_unix_socket_serves_judges_and_cancels() {
    let Some(db) = Db::fresh("unix") else { return };
    db.run("CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts VALUES (1, 'ann')");
    let sockets = db.run("SHOW unix_socket_directories");
    let directory = sockets.trim().split(',').next().unwrap().trim().to_string();
    let url = format!(
        "postgres://postgres@localhost/{}?host={directory}&port=5432",
        db.name
    );
    // pg_sleep passes (it runs on the server); privileges do not.
    let policy = r#"
@id("all-but-privileges")
permit (principal, action in Action::"db", resource)
unless { action in [Action::"db.unknown", Action::"db.privilege"] };
"#;
    let p = Proxy::start_with(db, "prod", "", Some(policy), &[("HP_TEST_UPSTREAM", url)]);
    let client = std::sync::Arc::new(p.client().await);
    // The server sees a connection over its socket: no client address.
    let rows = client
        .simple_query("SELECT owner, inet_client_addr() IS NULL FROM accounts")
        .await
        .unwrap();
    let row = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!((row.get(0), row.get(1)), (Some("ann"), Some("t")));
    let refused = client
        .simple_query("GRANT ALL ON accounts TO PUBLIC")
        .await
        .unwrap_err();
    assert_eq!(db_error(&refused).0, "42501");

    // A cancel request reaches the server over the same socket.
    let token = client.cancel_token();
    let c = client.clone();
    let running = tokio::spawn(async move { c.simple_query("SELECT pg_sleep(60)").await });
    let mut ran = false;
    for _ in 0..400 {
        let active = p.db.run("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'");
        if active.trim() == "1" {
            ran = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ran, "the server never ran the statement");
    token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let err = tokio::time::timeout(PATIENCE, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(db_error(&err).0, "57014");
    assert!(one_row(&client).await);
}
