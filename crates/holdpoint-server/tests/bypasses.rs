//! Attempts to get an action past its hold with an earlier approval (issue 6, defects 1,
//! 2, 3 and 8), each through the real server. Every one of them once succeeded.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Harness, message};

/// A lenient staging hold with a window, a strict production one, and a single-use
/// delete hold that tests tighten.
const DEPLOYS: &str = r#"
@id("staging-deploy")
@hold("Staging deploy")
@approvers("devs")
@grant("1h")
permit(principal, action == Action::"infra.deploy", resource)
when { context.environment == "staging" };

@id("prod-deploy")
@hold("Production deploy")
@approvers("sre")
@quorum("2")
permit(principal, action == Action::"infra.deploy", resource)
when { context.environment == "prod" };

@id("deletes")
@hold("Delete")
@approvers("devs")
permit(principal, action == Action::"db.delete", resource);

@id("stacked-a")
@hold("Needs a DBA")
@approvers("dba")
permit(principal, action == Action::"db.grant", resource);

@id("stacked-b")
@hold("Needs security")
@approvers("security")
permit(principal, action == Action::"db.grant", resource);

@id("ddl")
@hold("Schema change")
@approvers("devs")
permit(principal, action == Action::"db.ddl", resource);
"#;

async fn submit_in(h: &Harness, token: &str, kind: &str, env: &str, params: Value) -> Value {
    let (status, body) = h
        .post(
            token,
            "/v1/actions",
            json!({"kind": kind, "resource": "k8s/payments", "environment": env, "params": params}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn id(action: &Value) -> String {
    action["id"].as_str().unwrap().to_string()
}

fn set_policies(h: &Harness, text: &str) {
    std::fs::write(h.policy_dir.join("policies.cedar"), text).unwrap();
    h.gate.policy_for_tests().reload().unwrap();
}

#[tokio::test]
async fn a_staging_window_does_not_pass_the_same_deploy_in_prod() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("deploy-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let staging = submit_in(&h, &agent, "infra.deploy", "staging", json!({"v": 2})).await;
    assert_eq!(staging["status"], "pending");
    let (_, approved) = h.review(&dev, &id(&staging), "approve").await;
    assert!(approved["grant_until"].is_string(), "{approved}");

    let again = submit_in(&h, &agent, "infra.deploy", "staging", json!({"v": 3})).await;
    assert_eq!(again["status"], "allowed", "the window passes staging");

    let prod = submit_in(&h, &agent, "infra.deploy", "prod", json!({"v": 2})).await;
    assert_eq!(prod["status"], "pending", "{prod}");
    assert_eq!(prod["granted_by"], Value::Null);
    assert_eq!(prod["hold"]["requirements"][0]["quorum"], 2);
}

#[tokio::test]
async fn a_single_use_approval_does_not_pass_after_policy_tightened() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let first = submit_in(&h, &agent, "db.delete", "prod", json!({"order": 7})).await;
    h.review(&dev, &id(&first), "approve").await;

    set_policies(
        &h,
        &DEPLOYS.replace(
            "@id(\"deletes\")\n@hold(\"Delete\")\n@approvers(\"devs\")",
            "@id(\"deletes\")\n@hold(\"Delete\")\n@approvers(\"sre\")\n@quorum(\"2\")",
        ),
    );
    let again = submit_in(&h, &agent, "db.delete", "prod", json!({"order": 7})).await;
    assert_eq!(again["status"], "pending", "{again}");
    assert_eq!(
        again["hold"]["requirements"][0]["approvers"],
        json!(["sre"])
    );

    // Loosened back, the unused approval passes exactly once.
    set_policies(&h, DEPLOYS);
    let passed = submit_in(&h, &agent, "db.delete", "prod", json!({"order": 7})).await;
    assert_eq!(passed["status"], "allowed", "{passed}");
    assert_eq!(passed["granted_by"], first["id"]);
}

#[tokio::test]
async fn a_tightened_grant_shortens_an_open_window() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("deploy-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let first = submit_in(&h, &agent, "infra.deploy", "staging", json!({})).await;
    h.review(&dev, &id(&first), "approve").await;
    set_policies(&h, &DEPLOYS.replace("@grant(\"1h\")", "@grant(\"10m\")"));
    h.clock.advance(Duration::from_secs(11 * 60));
    let late = submit_in(&h, &agent, "infra.deploy", "staging", json!({})).await;
    assert_eq!(late["status"], "pending", "the window is 10 minutes now");
}

#[tokio::test]
async fn an_approval_counts_only_reviewers_who_still_qualify() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let first = submit_in(&h, &agent, "db.delete", "prod", json!({"order": 8})).await;
    h.review(&dev, &id(&first), "approve").await;
    h.revoke("dave").await;
    let again = submit_in(&h, &agent, "db.delete", "prod", json!({"order": 8})).await;
    assert_eq!(again["status"], "pending", "dave is no longer a reviewer");
}

#[tokio::test]
async fn numbers_the_digest_cannot_tell_apart_are_refused() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    for body in [
        r#"{"kind":"db.delete","resource":"pg","params":{"account_id":1800000000000000001}}"#,
        r#"{"kind":"db.delete","resource":"pg","params":{"account_id":1800000000000000100}}"#,
        r#"{"kind":"db.delete","resource":"pg","params":{"n":[1,5.0]}}"#,
        r#"{"kind":"db.delete","resource":"pg","params":{"n":-0.0}}"#,
        r#"{"kind":"db.delete","resource":"pg","params":{"n":1e400}}"#,
    ] {
        let response = h
            .http
            .post(format!("{}/v1/actions", h.base))
            .bearer_auth(&agent)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{body}: {status} {answer}"
        );
    }
    let (status, body) = h
        .post(
            &agent,
            "/v1/actions",
            json!({"kind": "db.delete", "resource": "pg", "params": {"account_id": 1_800_000_000_000_000_001_u64}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(&body).contains("params.account_id"), "{body}");
    assert!(
        !message(&body).contains("1800000000000000001"),
        "the value is not echoed"
    );
    // As strings, the two ids are two actions with two digests.
    let a = submit_in(
        &h,
        &agent,
        "db.delete",
        "prod",
        json!({"account_id": "1800000000000000001"}),
    )
    .await;
    let b = submit_in(
        &h,
        &agent,
        "db.delete",
        "prod",
        json!({"account_id": "1800000000000000100"}),
    )
    .await;
    assert_ne!(a["digest"], b["digest"]);
}

#[tokio::test]
async fn a_long_polled_approval_is_not_used_again_by_resubmission() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let params = json!({"sql": "ALTER TABLE t ADD c int"});
    let first = submit_in(&h, &agent, "db.ddl", "prod", params.clone()).await;
    h.review(&dev, &id(&first), "approve").await;

    let (_, seen) = h
        .get(&agent, &format!("/v1/actions/{}?wait=5s", id(&first)))
        .await;
    assert_eq!(
        (seen["status"].clone(), seen["proceed"].clone()),
        (json!("approved"), json!(true))
    );
    // The client lost that answer and asks again: no second pass.
    let (_, retry) = h.get(&agent, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(retry["proceed"], false, "{retry}");
    assert_eq!(retry["consumed_by"], first["id"]);
    let resubmitted = submit_in(&h, &agent, "db.ddl", "prod", params).await;
    assert_eq!(resubmitted["status"], "pending", "{resubmitted}");
    let consumed = h.events_of(&id(&first)).await;
    assert_eq!(
        consumed.iter().filter(|e| *e == "action.consumed").count(),
        1,
        "{consumed:?}"
    );
}

#[tokio::test]
async fn a_resubmission_uses_the_approval_and_the_original_then_shows_no_pass() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let params = json!({"sql": "ALTER TABLE t ADD d int"});
    let first = submit_in(&h, &agent, "db.ddl", "prod", params.clone()).await;
    h.review(&dev, &id(&first), "approve").await;
    let passed = submit_in(&h, &agent, "db.ddl", "prod", params.clone()).await;
    assert_eq!(passed["status"], "allowed");
    let (_, original) = h.get(&agent, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(original["status"], "approved");
    assert_eq!(
        original["proceed"], false,
        "already used by {}",
        passed["id"]
    );
    assert_eq!(original["consumed_by"], passed["id"]);
    let third = submit_in(&h, &agent, "db.ddl", "prod", params).await;
    assert_eq!(third["status"], "pending");
}

#[tokio::test]
async fn listings_and_reviewers_never_hand_over_an_approval() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let first = submit_in(&h, &agent, "db.ddl", "prod", json!({"sql": "x"})).await;
    let (_, reviewed) = h.review(&dev, &id(&first), "approve").await;
    assert_eq!(
        reviewed["proceed"], false,
        "the reviewer's answer is no pass"
    );
    let (_, listed) = h.get(&agent, "/v1/actions?status=approved").await;
    assert_eq!(listed["actions"][0]["proceed"], false);
    let (_, by_reviewer) = h.get(&dev, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(by_reviewer["proceed"], false);
    // The approval is still there for its requester, once.
    let (_, mine) = h.get(&agent, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(mine["proceed"], true);
}

#[tokio::test]
async fn an_unused_approval_lapses_after_approval_ttl() {
    let settings = holdpoint_gate::GateSettings {
        approval_ttl: Duration::from_secs(300),
        ..support::settings()
    };
    let h = Harness::start_with(DEPLOYS, Vec::new(), settings, Default::default()).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let params = json!({"sql": "ALTER TABLE t ADD e int"});
    let first = submit_in(&h, &agent, "db.ddl", "prod", params.clone()).await;
    let (_, approved) = h.review(&dev, &id(&first), "approve").await;
    assert!(approved["approval_until"].is_string(), "{approved}");
    h.clock.advance(Duration::from_secs(301));
    let late = submit_in(&h, &agent, "db.ddl", "prod", params).await;
    assert_eq!(late["status"], "pending", "the approval lapsed");
    let (_, original) = h.get(&agent, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(original["proceed"], false);
}

#[tokio::test]
async fn one_human_in_two_groups_fills_one_stacked_requirement_only() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let both = h.token("bea", "user", &["dba", "security"], None).await;
    let dba = h.token("dan", "user", &["dba"], None).await;
    let action = submit_in(&h, &agent, "db.grant", "prod", json!({"to": "intern"})).await;
    let (_, once) = h.review(&both, &id(&action), "approve").await;
    assert_eq!(
        once["status"], "pending",
        "one person, two requirements: {once}"
    );
    let (_, done) = h.review(&dba, &id(&action), "approve").await;
    assert_eq!(
        done["status"], "approved",
        "bea fills security, dan fills dba"
    );
}

#[tokio::test]
async fn names_differing_only_in_case_are_one_principal() {
    let h = Harness::start(DEPLOYS).await;
    h.token("Dave", "user", &["devs"], None).await;
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "DAVE", "kind": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "bot", "kind": "agent", "owner": "ghost"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown owner: {body}"
    );
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "bot", "kind": "agent", "owner": "DAVE"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["owner"], "dave");
    assert_eq!(body["name"], "bot");
}

#[tokio::test]
async fn an_approval_is_not_handed_over_after_policy_tightened() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dev = h.token("dave", "user", &["devs"], None).await;
    let first = submit_in(&h, &agent, "db.ddl", "prod", json!({"sql": "y"})).await;
    h.review(&dev, &id(&first), "approve").await;
    let strict = DEPLOYS.replace(
        "@id(\"ddl\")\n@hold(\"Schema change\")\n@approvers(\"devs\")",
        "@id(\"ddl\")\n@hold(\"Schema change\")\n@approvers(\"sre\")\n@quorum(\"2\")",
    );
    set_policies(&h, &strict);
    let (_, seen) = h.get(&agent, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(seen["proceed"], false, "policy asks for more now: {seen}");
    assert_eq!(seen["consumed_by"], Value::Null, "and nothing was used");
    set_policies(&h, DEPLOYS);
    let (_, seen) = h.get(&agent, &format!("/v1/actions/{}", id(&first))).await;
    assert_eq!(seen["proceed"], true);
}

#[tokio::test]
async fn a_separate_added_while_held_discounts_the_owners_approval() {
    let h = Harness::start(DEPLOYS).await;
    let dave = h.token("dave", "user", &["devs"], None).await;
    let eve = h.token("eve", "user", &["devs"], None).await;
    let agent = h.token("ci-bot", "agent", &[], Some("dave")).await;
    let action = submit_in(&h, &agent, "db.ddl", "prod", json!({"sql": "z"})).await;
    set_policies(
        &h,
        &DEPLOYS.replace(
            "@id(\"ddl\")\n@hold(\"Schema change\")\n@approvers(\"devs\")",
            "@id(\"ddl\")\n@hold(\"Schema change\")\n@approvers(\"devs\")\n@separate",
        ),
    );
    let (_, after_owner) = h.review(&dave, &id(&action), "approve").await;
    assert_eq!(
        after_owner["status"], "pending",
        "the owner no longer counts: {after_owner}"
    );
    assert_eq!(after_owner["hold"]["separate"], true);
    let (_, done) = h.review(&eve, &id(&action), "approve").await;
    assert_eq!(done["status"], "approved", "{done}");
}

#[tokio::test]
async fn a_reviewer_who_lost_the_group_before_release_does_not_count() {
    let two_devs = DEPLOYS.replace(
        "@id(\"ddl\")\n@hold(\"Schema change\")\n@approvers(\"devs\")",
        "@id(\"ddl\")\n@hold(\"Schema change\")\n@approvers(\"devs\")\n@quorum(\"2\")",
    );
    let h = Harness::start(&two_devs).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dave = h.token("dave", "user", &["devs"], None).await;
    let eve = h.token("eve", "user", &["devs"], None).await;
    let action = submit_in(&h, &agent, "db.ddl", "prod", json!({"sql": "w"})).await;
    h.review(&dave, &id(&action), "approve").await;
    h.revoke("dave").await;
    let (_, after) = h.review(&eve, &id(&action), "approve").await;
    assert_eq!(after["status"], "pending", "dave no longer counts: {after}");
}

#[tokio::test]
async fn a_repeated_held_call_is_the_same_hold_and_its_approval_passes_one_repeat() {
    let h = Harness::start(DEPLOYS).await;
    let agent = h.token("bot", "agent", &[], None).await;
    let dev = h.token("dana", "user", &["devs"], None).await;
    let first = submit_in(&h, &agent, "db.delete", "prod", json!({"rows": 5})).await;
    assert_eq!(first["status"], "pending");
    // A retry (a hook run again, a client resending) adds no second request for reviewers.
    for _ in 0..3 {
        let again = submit_in(&h, &agent, "db.delete", "prod", json!({"rows": 5})).await;
        assert_eq!(again["id"], first["id"]);
    }
    let other = submit_in(&h, &agent, "db.delete", "prod", json!({"rows": 6})).await;
    assert_ne!(other["id"], first["id"], "other params are another action");
    let id = first["id"].as_str().unwrap();
    let (status, _) = h.review(&dev, id, "approve").await;
    assert_eq!(status, StatusCode::OK);
    let passed = submit_in(&h, &agent, "db.delete", "prod", json!({"rows": 5})).await;
    assert_eq!(passed["status"], "allowed", "{passed}");
    assert_eq!(passed["granted_by"], first["id"]);
    // Used: the next repeat is a new hold.
    let next = submit_in(&h, &agent, "db.delete", "prod", json!({"rows": 5})).await;
    assert_eq!(next["status"], "pending");
    assert_ne!(next["id"], first["id"]);
}
