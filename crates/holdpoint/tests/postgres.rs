//! The gateway on PostgreSQL (`[store] url = "postgres://…"`), end to end: a hold is
//! approved through the CLI and the audit chain verifies, from the API and from the CLI.
//! Fails when PostgreSQL is absent under `CI=true`; skips otherwise.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_core::env::{Env, ProcessEnv};
use sqlx::Connection;
use support::{Gateway, holdpoint, stdout_json, text};

fn base_url() -> String {
    ProcessEnv
        .var("HOLDPOINT_TEST_POSTGRES_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh schema, or `None` (skip) when PostgreSQL is unreachable outside CI.
async fn fresh_schema() -> Option<(sqlx::PgConnection, String)> {
    match sqlx::PgConnection::connect(&base_url()).await {
        Ok(mut conn) => {
            let schema = format!("hp_gw_{}", std::process::id());
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await
                .unwrap();
            Some((conn, schema))
        }
        Err(e) if ProcessEnv.var("CI").as_deref() == Some("true") => {
            panic!("PostgreSQL is unreachable and CI=true: {e}")
        }
        Err(e) => {
            eprintln!("skipping: PostgreSQL is unreachable: {e}");
            None
        }
    }
}

#[tokio::test]
async fn the_gateway_runs_on_postgresql() {
    let Some((mut conn, schema)) = fresh_schema().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}?options=-c%20search_path%3D{schema}", base_url());
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(&config, format!("[store]\nurl = \"{url}\"\n")).unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &["--config", config.to_str().unwrap()]);
    let admin = gw.admin_token();
    let agent = gw.create_token("ci-bot", "agent", &[]);

    let held = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "db.ddl",
            "--resource",
            "postgres/prod",
            "--wait",
            "0s",
        ],
    );
    assert_eq!(held.status.code(), Some(4), "{}", text(&held.stderr));
    let id = stdout_json(&held)["id"].as_str().unwrap().to_string();
    let approved = gw.cli(&admin, &["approve", &id]);
    assert!(approved.status.success(), "{}", text(&approved.stderr));
    let again = gw.cli(
        &agent,
        &["submit", "--kind", "db.read", "--resource", "postgres/prod"],
    );
    assert_eq!(again.status.code(), Some(0));

    let report: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/audit/verify", gw.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    gw.stop();

    let verify = holdpoint(&[
        "audit",
        "verify",
        "--config",
        config.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(
        verify.status.success(),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    let rows: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.audit"
    )))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(rows.0 >= 8, "the events are in PostgreSQL: {}", rows.0);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut conn)
        .await
        .unwrap();
}
