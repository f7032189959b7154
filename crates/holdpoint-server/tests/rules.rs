//! One test per rule of DESIGN §2 that a caller can run into.

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
async fn agents_never_review() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let reviewer_bot = h.token("review-bot", "agent", &["dba"], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let (status, body) = h
        .review(&reviewer_bot, action["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(support::message(&body).contains("agents never review"));
}

#[tokio::test]
async fn nobody_reviews_their_own_request() {
    let h = Harness::start(POLICIES).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let action = h.submit(&alice, "db.ddl", "postgres/prod", json!({})).await;
    let (status, body) = h
        .review(&alice, action["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(support::message(&body).contains("own request"));
}

#[tokio::test]
async fn under_separate_the_agents_owner_may_not_review() {
    let h = Harness::start(POLICIES).await;
    let bob = h.token("bob", "user", &["dba"], None).await;
    let agent = h.token("deploy-bot", "agent", &[], Some("bob")).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let action = h
        .submit(&agent, "infra.change", "k8s/prod", json!({}))
        .await;
    let id = action["id"].as_str().unwrap();
    let (status, body) = h.review(&bob, id, "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(support::message(&body).contains("@separate"));
    let (status, body) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "approved");
}

#[tokio::test]
async fn without_separate_the_owner_may_review() {
    let h = Harness::start(POLICIES).await;
    let bob = h.token("bob", "user", &["dba"], None).await;
    let agent = h.token("deploy-bot", "agent", &[], Some("bob")).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let (status, body) = h
        .review(&bob, action["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
}

#[tokio::test]
async fn a_human_counts_once_toward_a_quorum() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba", "sre"], None).await;
    let carol = h.token("carol", "user", &["sre"], None).await;
    let action = h
        .submit(&agent, "db.export", "postgres/prod/customers", json!({}))
        .await;
    let id = action["id"].as_str().unwrap();
    let (_, once) = h.review(&alice, id, "approve").await;
    assert_eq!(
        once["status"], "pending",
        "alice is in two named groups but counts once"
    );
    let (status, twice) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    let (_, done) = h.review(&carol, id, "approve").await;
    assert_eq!(done["status"], "approved");
}

#[tokio::test]
async fn only_the_named_groups_count() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let marketing = h.token("mallory", "user", &["marketing"], None).await;
    // A second admin through the API would be held for the first; create it directly.
    let admin_like = h.second_admin("root2").await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let id = action["id"].as_str().unwrap();
    let (status, body) = h.review(&marketing, id, "approve").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a non-approver cannot even see it: {body}"
    );
    let (status, body) = h.review(&admin_like, id, "approve").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "admins review only like users: {body}"
    );
    assert!(support::message(&body).contains("none of the approver groups"));
    let (_, still) = h.get(&agent, &format!("/v1/actions/{id}")).await;
    assert_eq!(still["status"], "pending");
    assert_eq!(still["hold"]["reviews"], json!([]));
}

#[tokio::test]
async fn directory_groups_make_a_reviewer() {
    let users = vec![holdpoint_gate::DirectoryUser {
        name: "dana".into(),
        groups: vec!["dba".into()],
        ..Default::default()
    }];
    let h = Harness::start_with_users(POLICIES, users).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let dana = h.token("dana", "user", &[], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let (status, body) = h
        .review(&dana, action["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
}

#[tokio::test]
async fn a_decided_hold_takes_no_more_reviews() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let bob = h.token("bob", "user", &["dba"], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let id = action["id"].as_str().unwrap();
    h.review(&alice, id, "reject").await;
    let (status, body) = h.review(&bob, id, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(support::message(&body).contains("rejected"));
}

#[tokio::test]
async fn an_approval_is_bound_to_the_digest_and_used_once() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let sql = json!({"sql": "ALTER TABLE t ADD c int"});
    let first = h
        .submit(&agent, "db.ddl", "postgres/prod", sql.clone())
        .await;
    let id = first["id"].as_str().unwrap();
    h.review(&alice, id, "approve").await;

    let changed = h
        .submit(
            &agent,
            "db.ddl",
            "postgres/prod",
            json!({"sql": "DROP TABLE t"}),
        )
        .await;
    assert_eq!(
        changed["status"], "pending",
        "a changed action needs a new approval"
    );

    let again = h
        .submit(&agent, "db.ddl", "postgres/prod", sql.clone())
        .await;
    assert_eq!(
        again["status"], "allowed",
        "the same digest uses the approval"
    );
    assert_eq!(again["granted_by"], id);
    assert_eq!(again["digest"], first["digest"]);

    let third = h.submit(&agent, "db.ddl", "postgres/prod", sql).await;
    assert_eq!(third["status"], "pending", "an approval is used once");
    assert!(
        h.events_of(id)
            .await
            .contains(&"action.consumed".to_string())
    );
}

#[tokio::test]
async fn a_grant_window_passes_the_same_kind_and_resource_until_it_closes() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let other = h.token("other-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let first = h
        .submit(
            &agent,
            "shell.exec",
            "host/db-1",
            json!({"command": "uptime"}),
        )
        .await;
    let (_, approved) = h
        .review(&alice, first["id"].as_str().unwrap(), "approve")
        .await;
    assert!(approved["grant_until"].is_string());

    let inside = h
        .submit(
            &agent,
            "shell.exec",
            "host/db-1",
            json!({"command": "df -h"}),
        )
        .await;
    assert_eq!(inside["status"], "allowed");
    let inside_again = h
        .submit(
            &agent,
            "shell.exec",
            "host/db-1",
            json!({"command": "free"}),
        )
        .await;
    assert_eq!(
        inside_again["status"], "allowed",
        "a window is not single use"
    );
    let elsewhere = h
        .submit(
            &agent,
            "shell.exec",
            "host/db-2",
            json!({"command": "df -h"}),
        )
        .await;
    assert_eq!(
        elsewhere["status"], "pending",
        "another resource is not covered"
    );
    let someone_else = h
        .submit(
            &other,
            "shell.exec",
            "host/db-1",
            json!({"command": "df -h"}),
        )
        .await;
    assert_eq!(
        someone_else["status"], "pending",
        "another principal is not covered"
    );

    h.clock.advance(Duration::from_secs(11 * 60));
    let after = h
        .submit(
            &agent,
            "shell.exec",
            "host/db-1",
            json!({"command": "df -h"}),
        )
        .await;
    assert_eq!(after["status"], "pending", "the window closed");
}

#[tokio::test]
async fn release_rechecks_policy_and_tightened_policy_wins() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let id = action["id"].as_str().unwrap();

    let tightened = format!(
        "{POLICIES}\n@id(\"freeze\")\n@reason(\"change freeze\")\nforbid(principal, action == Action::\"db.ddl\", resource);\n"
    );
    std::fs::write(h.policy_dir.join("policies.cedar"), tightened).unwrap();
    h.gate.policy_for_tests().reload().unwrap();

    let (status, body) = h.review(&alice, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "denied");
    assert_eq!(body["proceed"], false);
    assert!(
        body["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("change freeze"),
        "{body}"
    );
    let events = h.events_of(id).await;
    assert!(
        events.ends_with(&["hold.approved".to_string(), "action.denied".to_string()]),
        "{events:?}"
    );
}

#[tokio::test]
async fn revoked_and_unknown_tokens_are_refused() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let (status, body) = h.get("hp_not-a-token", "/v1/actions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let response = h
        .http
        .get(format!("{}/v1/actions", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    h.revoke("ci-bot").await;
    let (status, body) = h.get(&agent, "/v1/actions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(support::message(&body).contains("revoked"));
}

#[tokio::test]
async fn only_admins_manage_tokens_and_read_the_audit_log() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    for token in [&agent, &alice] {
        let (status, _) = h
            .post(token, "/v1/tokens", json!({"name": "x", "kind": "admin"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = h.get(token, "/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = h
        .post(
            &agent,
            "/v1/policy/explain",
            json!({"kind": "db.read", "resource": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents may not probe policy");
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "ci-bot", "kind": "agent"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a live token has the name: {body}"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_and_its_name_can_be_reused() {
    let h = Harness::start(POLICIES).await;
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "temp-bot", "kind": "agent", "ttl": "1m"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let (status, _) = h.get(&token, "/v1/actions").await;
    assert_eq!(status, StatusCode::OK);
    h.clock.advance(Duration::from_secs(120));
    let (status, body) = h.get(&token, "/v1/actions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "temp-bot", "kind": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
