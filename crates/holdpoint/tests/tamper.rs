//! Tampering with a copy of the database: `holdpoint audit verify` names the first bad seq.
//! Also `audit export` in both formats.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use sqlx::Connection;
use support::{Gateway, holdpoint, text};

/// A stopped gateway's data folder with some history in its audit log.
fn history() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &[]);
    let agent = gw.create_token("ci-bot", "agent", &[]);
    for kind in ["db.read", "db.privilege", "db.read", "db.ddl"] {
        let out = gw.cli(
            &agent,
            &[
                "submit",
                "--kind",
                kind,
                "--resource",
                "postgres/prod",
                "--wait",
                "0s",
            ],
        );
        assert!(out.status.code().is_some(), "{}", text(&out.stderr));
    }
    gw.stop();
    dir
}

/// Copies the database (after a clean stop everything is in the main file) and runs
/// `sql` on the copy.
async fn tampered_copy(original: &std::path::Path, sql: &'static str) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        original.join("data/holdpoint.db"),
        copy.path().join("holdpoint.db"),
    )
    .unwrap();
    let url = format!("sqlite://{}", copy.path().join("holdpoint.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
        let done = sqlx::query(statement).execute(&mut conn).await.unwrap();
        assert!(done.rows_affected() > 0, "`{statement}` touched nothing");
    }
    conn.close().await.unwrap();
    copy
}

fn verify(data: &std::path::Path) -> (Option<i32>, String) {
    let out = holdpoint(&["audit", "verify", "--data", data.to_str().unwrap()]);
    (out.status.code(), text(&out.stdout) + &text(&out.stderr))
}

#[tokio::test]
async fn edited_deleted_and_reordered_events_are_named_by_seq() {
    let original = history();
    let (code, out) = verify(&original.path().join("data"));
    assert_eq!(code, Some(0), "{out}");

    let edited = tampered_copy(
        original.path(),
        "UPDATE audit SET data = '{\"verdict\":\"nothing to see\"}' WHERE seq = 5",
    )
    .await;
    let (code, out) = verify(edited.path());
    assert_eq!(code, Some(1));
    assert!(
        out.contains("broken at seq 5") && out.contains("edited"),
        "{out}"
    );

    let deleted = tampered_copy(original.path(), "DELETE FROM audit WHERE seq = 6").await;
    let (code, out) = verify(deleted.path());
    assert_eq!(code, Some(1));
    assert!(out.contains("broken at seq 6"), "{out}");

    let reordered = tampered_copy(
        original.path(),
        "UPDATE audit SET seq = -1 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = -1",
    )
    .await;
    let (code, out) = verify(reordered.path());
    assert_eq!(code, Some(1));
    assert!(out.contains("broken at seq 4"), "{out}");
}

#[tokio::test]
async fn export_writes_every_event_as_json_lines_or_csv() {
    let original = history();
    let data = original.path().join("data");
    let out = holdpoint(&["audit", "export", "--data", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 10, "{}", lines.len());
    for (i, e) in lines.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
    }
    assert!(lines.iter().any(|e| e["type"] == "action.denied"));
    assert!(lines.iter().any(|e| e["type"] == "hold.created"));

    let csv = holdpoint(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(csv.status.success());
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    assert_eq!(reader.headers().unwrap().get(2), Some("type"));
    assert_eq!(reader.records().count(), lines.len());

    let future = holdpoint(&[
        "audit",
        "export",
        "--since",
        "2999-01-01T00:00:00Z",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(future.status.success());
    assert!(future.stdout.is_empty());
    let bad = holdpoint(&[
        "audit",
        "export",
        "--since",
        "yesterday",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
}

#[tokio::test]
async fn verify_refuses_a_missing_database_without_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = verify(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(!dir.path().join("holdpoint.db").exists());
}
