//! Adversarial review of the HTTP surfaces and the in-gateway MCP proxy's gatekeeper:
//! each test asserts what the rules demand; an ignored test (`finding: …`) marks an attack
//! that succeeds today.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_core::Status;
use holdpoint_mcp::{Gatekeeper, LocalGate};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use support::Harness;

const POLICIES: &str = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("ddl") @hold("Schema change") @approvers("dba")
permit(principal, action == Action::"db.ddl", resource);
@id("tools") @hold("A tool call") @approvers("dba")
permit(principal, action in Action::"mcp", resource);
"#;

/// Two MCP sessions of one agent make the same held tool call; one approval; the first
/// proxy's resubmission takes it, the second is held afresh under a new id. The second
/// proxy's loop (`calls.rs`, `gate`) kept waiting on the id it started with, which is
/// decided: each wait returned at once (still held, under the other id), so the loop
/// spun (resubmitting, and sending a progress notification, each turn) until
/// `hold_wait` ended. It now follows the new hold's id and waits out its step.
#[tokio::test]
async fn a_call_whose_approval_another_session_took_waits_instead_of_spinning() {
    let h = Harness::start(POLICIES).await;
    let bot = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let caller = h.gate.authenticate(&bot).await.unwrap();
    let keeper = |c: &holdpoint_core::Identity| LocalGate {
        gate: h.gate.clone(),
        caller: c.clone(),
    };
    let (one, two) = (keeper(&caller), keeper(&caller));
    let mut args = serde_json::Map::new();
    args.insert("path".into(), json!("/etc/passwd"));
    let call = holdpoint_mcp::tool_call("files", "delete", args, None, "prod");
    let first = one.submit(&call).await.unwrap();
    let second = two.submit(&call).await.unwrap();
    assert_eq!(first.status, Status::Pending);
    assert_eq!(first.id, second.id, "the repeat shares the hold");
    let (status, body) = h.review(&alice, &first.id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        one.wait(&call, &first.id, Duration::from_secs(10))
            .await
            .unwrap()
            .proceed
    );
    // What the second proxy's loop (`calls.rs`) does: wait in steps while the call is
    // held, following the id the last answer names (its own hold, once the first
    // proxy took the approval).
    let mut id = second.id.clone();
    let step = Duration::from_millis(400);
    let started = Instant::now();
    let mut turns = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let now = two.wait(&call, &id, step).await.unwrap();
        turns += 1;
        assert_eq!(now.status, Status::Pending, "held afresh: {now:?}");
        assert!(!now.proceed);
        id = now.id.clone();
        if turns > 50 {
            break;
        }
    }
    assert!(
        turns <= 6,
        "{turns} turns in {:?}: the loop spins instead of waiting {step:?} a step",
        started.elapsed()
    );
}

/// A user approving their own request through the API is refused, and so is an agent
/// reviewing; the hold is unchanged.
#[tokio::test]
async fn nobody_approves_their_own_request_through_the_api() {
    let h = Harness::start(POLICIES).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let bot = h.token("ci-bot", "agent", &["dba"], None).await;
    let held = h
        .submit(
            &alice,
            "db.ddl",
            "postgres/prod/t",
            json!({"sql": "ALTER TABLE t ADD c int"}),
        )
        .await;
    let id = held["id"].as_str().unwrap();
    let (status, body) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = h.review(&bot, id, "approve").await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status} {body}"
    );
    let (_, now) = h.get(&alice, &format!("/v1/actions/{id}")).await;
    assert_eq!(now["status"], "pending", "{now}");
}

/// The admin (and a reviewer) long-polling an approved action see `proceed: false` and
/// do not use the agent's approval; the agent's own read then gets it, once.
#[tokio::test]
async fn only_the_requester_takes_an_approval_through_the_api() {
    let h = Harness::start(POLICIES).await;
    let bot = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let held = h
        .submit(
            &bot,
            "db.ddl",
            "postgres/prod/t",
            json!({"sql": "ALTER TABLE t ADD c int"}),
        )
        .await;
    let id = held["id"].as_str().unwrap();
    let (status, _) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::OK);
    for token in [&h.admin, &alice] {
        let (status, body) = h.get(token, &format!("/v1/actions/{id}?wait=1s")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["proceed"], false, "{body}");
    }
    let (_, mine) = h.get(&bot, &format!("/v1/actions/{id}")).await;
    assert_eq!(mine["proceed"], true, "{mine}");
    let (_, again) = h.get(&bot, &format!("/v1/actions/{id}")).await;
    assert_eq!(
        again["proceed"], false,
        "a retry after a lost answer: {again}"
    );
}
