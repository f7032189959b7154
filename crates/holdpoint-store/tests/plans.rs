//! The lookups on the submit path use their own indexes, not a scan of everything one
//! principal ever asked for (SQLite plans without statistics).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_store::{OpenMode, SqlStore};
use sqlx::Connection;

async fn plan(url: &str, sql: &'static str) -> String {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let rows: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
}

#[tokio::test]
async fn grant_lookups_use_their_partial_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hp.db").display());
    let store = SqlStore::open(&url, OpenMode::Serve).await.unwrap();
    store.close().await;

    let unused = plan(
        &url,
        "EXPLAIN QUERY PLAN SELECT record FROM actions WHERE status = 'approved' AND grant_until IS NULL \
         AND consumed_by IS NULL AND digest = 'd' AND principal_kind = 'agent' AND principal_name = 'a' \
         ORDER BY id LIMIT 1",
    )
    .await;
    assert!(unused.contains("actions_unused"), "{unused}");

    let window = plan(
        &url,
        "EXPLAIN QUERY PLAN SELECT record FROM actions WHERE status = 'approved' AND grant_until IS NOT NULL \
         AND principal_kind = 'agent' AND principal_name = 'a' AND kind = 'k' AND resource = 'r' \
         AND grant_until > 5 ORDER BY grant_until DESC, id DESC LIMIT 1",
    )
    .await;
    assert!(window.contains("actions_grants"), "{window}");
}
