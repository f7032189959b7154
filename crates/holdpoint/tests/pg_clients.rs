//! The PostgreSQL proxy with more real clients and set-ups: pgbench in all three query
//! modes, the audit summary of allowed statements, TLS on the listener, a cleartext
//! password refused off loopback, a key file others can read, and an upstream that asks
//! for SCRAM-SHA-256 (a throwaway cluster made with initdb). Fails when PostgreSQL is
//! absent under `CI=true`; skips otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_core::env::{Env, ProcessEnv};
use std::path::Path;
use std::process::Command;
use support::pg::{Db, Proxy, db_error};
use support::text;

#[test]
fn pgbench_runs_through_the_proxy_in_every_query_mode() {
    let Some(db) = Db::fresh("bench") else { return };
    let init = Command::new("pgbench")
        .args([
            "-i",
            "-q",
            "-s",
            "1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            &db.name,
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", text(&init.stderr));
    let p = Proxy::start(db, "staging", "", None);
    for args in [
        vec!["-S", "-M", "simple"],
        vec!["-S", "-M", "extended"],
        vec!["-S", "-M", "prepared"],
        vec!["-M", "simple"],
        vec!["-M", "prepared"],
    ] {
        let out = Command::new("pgbench")
            .args([
                "-n",
                "-c",
                "2",
                "-t",
                "25",
                "-h",
                "127.0.0.1",
                "-p",
                p.port(),
                "-U",
                "bot",
            ])
            .args(&args)
            .arg(&p.db.name)
            .env("PGPASSWORD", &p.token)
            .env("PGSSLMODE", "disable")
            .output()
            .unwrap();
        let report = text(&out.stdout);
        assert!(
            out.status.success(),
            "{args:?}: {}{report}",
            text(&out.stderr)
        );
        assert!(
            report.contains("number of transactions actually processed: 50/50"),
            "{args:?}: {report}"
        );
    }
    // TPC-B-like updates in staging passed; every one of them is in the audit summary
    // (the last summaries of a connection may still be committing as pgbench exits).
    let writes = || -> u64 {
        p.events("statements.allowed")
            .iter()
            .flat_map(|e| {
                e["data"]["statements"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|s| s["kind"] == "db.write")
            .map(|s| s["count"].as_u64().unwrap())
            .sum()
    };
    let expected = 2 * 50 * 4; // three UPDATEs and an INSERT per transaction, two runs
    for _ in 0..200 {
        if writes() >= expected {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert_eq!(writes(), expected);
}

#[test]
fn allowed_statements_are_summarised_and_connections_audited() {
    let Some(db) = Db::fresh("summary") else {
        return;
    };
    let p = Proxy::start(db, "prod", "", None);
    let out = p.psql(&[
        "-c",
        "SELECT 1",
        "-c",
        "SELECT 2",
        "-c",
        "select   3",
        "-c",
        "SHOW work_mem",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // psql exits as soon as it has sent Terminate; the gateway then writes the last
    // summary, and after it the connection's close.
    for _ in 0..400 {
        if !p.events("connection.closed").is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let summaries = p.events("statements.allowed");
    assert_eq!(
        summaries.len(),
        1,
        "one connection, under a second: {summaries:?}"
    );
    let data = &summaries[0]["data"];
    assert_eq!(data["total"], 4);
    let statements = data["statements"].as_array().unwrap();
    assert_eq!(
        statements.len(),
        2,
        "SELECT n normalises to one statement: {statements:?}"
    );
    assert_eq!(statements[0]["count"], 3);
    assert_eq!(statements[0]["kind"], "db.read");
    assert_eq!(summaries[0]["actor"]["name"], "bot");
    let opened = p.events("connection.opened");
    let closed = p.events("connection.closed");
    assert_eq!(opened.len(), 1);
    assert_eq!(closed.len(), 1);
    assert_eq!(opened[0]["data"]["listener"], "prod");
    assert_eq!(closed[0]["data"]["statements"], 4);
    // And the chain still verifies.
    assert!(p.gw.admin_get("/v1/audit/verify").contains("\"ok\":true"));
}

fn certificate(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (cert.display().to_string(), key.display().to_string())
}

fn chmod(path: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_served_and_cleartext_is_refused_off_loopback() {
    let Some(db) = Db::fresh("tls") else { return };
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(certs.path());
    chmod(&key, 0o600);
    let extra = format!("tls_cert = \"{cert}\"\ntls_key = \"{key}\"");
    let p = Proxy::start_on(db, "0.0.0.0:0", "prod", &extra, None, &[]);
    // psql over TLS.
    let out = p
        .psql_command(&[
            "-At",
            "-c",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            "-c",
            "SELECT 'tls works'",
        ])
        .env("PGSSLMODE", "require")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("tls works"));

    // Off loopback, a client that will not use TLS is refused before it sends the token.
    let Some(address) = non_loopback_address() else {
        eprintln!("no non-loopback address on this machine; the off-loopback part is skipped");
        return;
    };
    let config = format!(
        "host={address} port={} user=bot password={} dbname={} sslmode=disable",
        p.port(),
        p.token,
        p.db.name
    );
    let err = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .err()
        .unwrap();
    let (code, message) = db_error(&err);
    assert_eq!(code, "28000");
    assert!(message.contains("clear text off loopback"), "{message}");
    let out = Command::new("psql")
        .args([
            "-h",
            &address,
            "-p",
            p.port(),
            "-U",
            "bot",
            "-d",
            &p.db.name,
            "-XAt",
            "-c",
            "SELECT 'remote tls'",
        ])
        .env("PGPASSWORD", &p.token)
        .env("PGSSLMODE", "require")
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("remote tls"),
        "{}",
        text(&out.stderr)
    );
}

fn non_loopback_address() -> Option<String> {
    let out = Command::new("hostname").arg("-I").output().ok()?;
    text(&out.stdout)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .map(str::to_string)
}

#[test]
fn a_key_file_others_can_read_stops_the_start() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(certs.path());
    chmod(&key, 0o644);
    let config = certs.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        format!("[[postgres]]\nname = \"prod\"\nlisten = \"127.0.0.1:0\"\nupstream_env = \"HP_UP\"\ntls_cert = \"{cert}\"\ntls_key = \"{key}\"\n"),
    )
    .unwrap();
    let out = Command::new(support::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(certs.path().join("data"))
        .env("HP_UP", "postgres://postgres@127.0.0.1:5432/test")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("readable by others"),
        "{}",
        text(&out.stderr)
    );
    // And a missing upstream variable is named.
    let out = Command::new(support::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(certs.path().join("data"))
        .env_remove("HP_UP")
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("`HP_UP` is not set"),
        "{}",
        text(&out.stderr)
    );
}

/// A throwaway PostgreSQL cluster whose TCP logins need SCRAM-SHA-256.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

const BINDIR: &str = "/usr/lib/postgresql/15/bin";

impl Cluster {
    fn start(password: &str) -> Option<Cluster> {
        if !Path::new(BINDIR).join("initdb").exists() {
            assert!(
                ProcessEnv.var("CI").as_deref() != Some("true"),
                "initdb is missing in CI"
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("hp-scram")
            .tempdir_in("/tmp")
            .unwrap();
        std::fs::write(dir.path().join("pw"), password).unwrap();
        let owner = Command::new("chown")
            .arg("-R")
            .arg("postgres:postgres")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(owner.success());
        let data = dir.path().join("data");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let as_postgres = |args: &[&str]| {
            let out = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
        };
        as_postgres(&[
            &format!("{BINDIR}/initdb"),
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            &format!("--pwfile={}", dir.path().join("pw").display()),
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        as_postgres(&[
            &format!("{BINDIR}/pg_ctl"),
            "-D",
            data.to_str().unwrap(),
            "-w",
            "-l",
            dir.path().join("log").to_str().unwrap(),
            "-o",
            &format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                dir.path().display()
            ),
            "start",
        ]);
        Some(Cluster { dir, port })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--", &format!("{BINDIR}/pg_ctl"), "-D"])
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_asks_for_scram_is_logged_in_to() {
    let Some(db) = Db::fresh("scram") else { return };
    let Some(cluster) = Cluster::start("s3cret pass/word") else {
        return;
    };
    let upstream = format!(
        "postgres://postgres:s3cret%20pass%2Fword@127.0.0.1:{}/postgres",
        cluster.port
    );
    let p = Proxy::start_with(db, "prod", "", None, &[("HP_TEST_UPSTREAM", upstream)]);
    let client = p.client().await;
    let rows = client
        .simple_query("SELECT current_setting('port')")
        .await
        .unwrap();
    let port = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        port,
        cluster.port.to_string(),
        "the proxy reached the SCRAM cluster"
    );
    // The agent's connection shows none of the upstream's credentials.
    let log =
        std::fs::read_to_string(p.data().parent().unwrap().join("serve.log")).unwrap_or_default();
    assert!(!log.contains("s3cret"), "{log}");

    // A wrong upstream password: a clean refusal.
    let db = Db::fresh("scramwrong").unwrap();
    let wrong = format!(
        "postgres://postgres:nope@127.0.0.1:{}/postgres",
        cluster.port
    );
    let bad = Proxy::start_with(db, "prod", "", None, &[("HP_TEST_UPSTREAM", wrong)]);
    let err = bad.client_as(&bad.token).await.err().unwrap();
    let (code, message) = db_error(&err);
    assert_eq!(code, "08006");
    assert!(message.contains("refused holdpoint's login"), "{message}");
    assert!(!message.contains("nope"));
}

const EVERYTHING: &str = r#"
@id("everything")
permit (principal, action in Action::"db", resource)
unless { action in Action::"db.unknown" };
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlx_notify_and_cancelling_a_running_query_pass_through() {
    let Some(db) = Db::fresh("passthrough") else {
        return;
    };
    db.run("CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'one')");
    let p = Proxy::start(db, "staging", "", Some(EVERYTHING));

    // sqlx: named prepared statements, Describe, binary results.
    use sqlx::Connection;
    let url = format!(
        "postgres://bot:{}@127.0.0.1:{}/{}?sslmode=disable",
        p.token,
        p.port(),
        p.db.name
    );
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    for _ in 0..3 {
        let (name,): (String,) = sqlx::query_as("SELECT name FROM t WHERE id = $1")
            .bind(1i32)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(name, "one");
    }
    conn.close().await.unwrap();

    // NOTIFY reaches a listener through the proxy.
    let out = p.psql(&[
        "-c",
        "LISTEN hp_channel",
        "-c",
        "NOTIFY hp_channel, 'hello'",
        "-c",
        "SELECT 1",
    ]);
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(
        shown.contains("hp_channel") && shown.contains("hello"),
        "{shown}"
    );

    // A cancel request for a statement that is running reaches the server.
    let client = std::sync::Arc::new(p.client().await);
    let token = client.cancel_token();
    let c = client.clone();
    let running = tokio::spawn(async move { c.simple_query("SELECT pg_sleep(60)").await });
    // Wait until the server runs it, then cancel.
    for _ in 0..400 {
        let active = p.db.run("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'");
        if active.trim() == "1" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let err = running.await.unwrap().unwrap_err();
    assert_eq!(db_error(&err).0, "57014");
    assert!(
        client
            .simple_query("SELECT 1")
            .await
            .unwrap()
            .iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
    );
}

#[test]
fn psycopg_binds_prepares_and_sees_refusals() {
    let Some(db) = Db::fresh("psycopg") else {
        return;
    };
    db.run("CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'one')");
    let p = Proxy::start(db, "prod", "", None);
    let python = support::peers::venv_tool("python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/peers/psycopg_client.py");
    let conninfo = format!(
        "host=127.0.0.1 port={} user=bot password={} dbname={} sslmode=disable",
        p.port(),
        p.token,
        p.db.name
    );
    let out = Command::new(python)
        .arg(script)
        .arg(conninfo)
        .output()
        .unwrap();
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    assert_eq!(
        shown,
        "bound one\nprepared 42\nbinary (1, 'one')\nrefused 42501 True\naborted 25P02\nafter 1\n"
    );
}
