//! One end-to-end test per action status, through the real server on 127.0.0.1:0.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use support::{Harness, POLICIES};

#[tokio::test]
async fn allowed_action_proceeds_and_is_audited() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let action = h
        .submit(
            &agent,
            "db.read",
            "postgres/prod/customers",
            json!({"sql": "SELECT 1"}),
        )
        .await;
    assert_eq!(action["status"], "allowed");
    assert_eq!(action["proceed"], true);
    assert_eq!(action["verdict"]["outcome"], "allow");
    assert_eq!(action["verdict"]["policies"], json!(["reads-pass"]));
    assert!(action["digest"].as_str().unwrap().starts_with("sha256:"));
    let id = action["id"].as_str().unwrap();
    assert_eq!(
        h.events_of(id).await,
        vec!["action.submitted", "action.allowed"]
    );
}

#[tokio::test]
async fn forbidden_action_is_denied_with_the_policy_reason() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let action = h
        .submit(
            &agent,
            "db.privilege",
            "postgres/prod",
            json!({"sql": "GRANT ALL"}),
        )
        .await;
    assert_eq!(action["status"], "denied");
    assert_eq!(action["proceed"], false);
    assert_eq!(
        action["verdict"]["reason"],
        "agents may not change database privileges"
    );
    assert_eq!(
        action["verdict"]["policies"],
        json!(["no-grants-by-agents"])
    );
    let id = action["id"].as_str().unwrap();
    assert_eq!(
        h.events_of(id).await,
        vec!["action.submitted", "action.denied"]
    );
}

#[tokio::test]
async fn unknown_kind_is_denied_by_default() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let action = h
        .submit(&agent, "rocket.launch", "pad/39a", json!({}))
        .await;
    assert_eq!(action["status"], "denied");
    assert!(
        action["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("no policy permits"),
        "{action}"
    );
}

#[tokio::test]
async fn held_action_is_approved_and_the_long_polling_agent_is_woken() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dba = h.token("alice", "user", &["dba"], None).await;
    let action = h
        .submit(
            &agent,
            "db.ddl",
            "postgres/prod/customers",
            json!({"sql": "ALTER TABLE t ADD c int"}),
        )
        .await;
    assert_eq!(action["status"], "pending");
    assert_eq!(action["proceed"], false);
    assert_eq!(
        action["hold"]["requirements"],
        json!([{"policy": "prod-schema-change", "approvers": ["dba"], "quorum": 1}])
    );
    let id = action["id"].as_str().unwrap().to_string();

    let poll = support::spawn_poll(&h, &agent, &id);
    // The poll is parked on the hold before the review lands.
    wait_until_parked(&h, &id).await;
    let (status, reviewed) = h.review(&dba, &id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    assert_eq!(reviewed["status"], "approved");
    let woken = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(woken["status"], "approved");
    assert_eq!(woken["proceed"], true);
    assert_eq!(woken["hold"]["reviews"][0]["reviewer"]["name"], "alice");
    assert_eq!(
        h.events_of(&id).await,
        vec![
            "action.submitted",
            "hold.created",
            "review.approved",
            "hold.approved",
            "action.released",
            "action.consumed"
        ],
        "the answer that handed the approval to the agent used it"
    );
}

/// Waits (bounded) until the spawned long-poll is parked on the hold, so the test
/// exercises the wake-up path rather than a poll that arrives after the decision.
async fn wait_until_parked(h: &Harness, id: &str) {
    let id = holdpoint_core::ActionId(id.to_string());
    for _ in 0..1000 {
        if h.gate.waiters_on(&id) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the long-poll never reached the gate");
}

#[tokio::test]
async fn one_rejection_ends_a_hold_that_needs_two() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let bob = h.token("bob", "user", &["sre"], None).await;
    let action = h
        .submit(&agent, "db.export", "postgres/prod/customers", json!({}))
        .await;
    let id = action["id"].as_str().unwrap();
    let (_, after_one) = h.review(&alice, id, "approve").await;
    assert_eq!(after_one["status"], "pending");
    let (status, rejected) = h.review(&bob, id, "reject").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["proceed"], false);
    assert!(h.events_of(id).await.contains(&"hold.rejected".to_string()));
}

#[tokio::test]
async fn a_hold_expires_on_time_with_no_request_to_trigger_it() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dba = h.token("alice", "user", &["dba"], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let id = action["id"].as_str().unwrap().to_string();
    let poll = support::spawn_poll(&h, &agent, &id);
    wait_until_parked(&h, &id).await;
    h.clock.advance(Duration::from_secs(29 * 60));
    let (_, still) = h.get(&agent, &format!("/v1/actions/{id}")).await;
    assert_eq!(still["status"], "pending", "not yet: @expires is 30m");
    h.clock.advance(Duration::from_secs(61));
    let expired = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["proceed"], false);
    let (status, body) = h.review(&dba, &id, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    assert!(h.events_of(&id).await.contains(&"hold.expired".to_string()));
}

#[tokio::test]
async fn the_requester_cancels_and_nobody_else_may() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let other = h.token("other-bot", "agent", &[], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let id = action["id"].as_str().unwrap();
    let (status, _) = h
        .post(&other, &format!("/v1/actions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another agent may not even see it"
    );
    let (status, cancelled) = h
        .post(&agent, &format!("/v1/actions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "cancelled");
    let (status, again) = h
        .post(&agent, &format!("/v1/actions/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        h.events_of(id)
            .await
            .contains(&"action.cancelled".to_string())
    );
}

#[tokio::test]
async fn pending_list_shows_reviewers_their_holds_with_a_cursor() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dba = h.token("alice", "user", &["dba"], None).await;
    let outsider = h.token("zed", "user", &["marketing"], None).await;
    for i in 0..3 {
        h.submit(&agent, "db.ddl", "postgres/prod", json!({"n": i}))
            .await;
    }
    h.submit(&agent, "db.read", "postgres/prod", json!({}))
        .await;
    let (_, page1) = h.get(&dba, "/v1/actions?status=pending&limit=2").await;
    assert_eq!(page1["actions"].as_array().unwrap().len(), 2);
    assert_eq!(page1["actions"][0]["params"]["n"], 2, "newest first");
    let next = page1["next"].as_str().unwrap();
    let (_, page2) = h
        .get(
            &dba,
            &format!("/v1/actions?status=pending&limit=2&after={next}"),
        )
        .await;
    assert_eq!(page2["actions"].as_array().unwrap().len(), 1);
    assert_eq!(page2["actions"][0]["params"]["n"], 0);
    let (_, none) = h.get(&outsider, "/v1/actions?status=pending").await;
    assert_eq!(none["actions"], json!([]));
    let (_, mine) = h.get(&agent, "/v1/actions").await;
    assert_eq!(mine["actions"].as_array().unwrap().len(), 4);
}
