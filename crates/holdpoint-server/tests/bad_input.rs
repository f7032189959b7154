//! Bad input gets a precise error in holdpoint's shape, changes nothing, and the gateway
//! stays up.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Harness, POLICIES};

async fn raw_post(
    h: &Harness,
    token: &str,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let r = h
        .http
        .post(format!("{}{path}", h.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn audit_len(h: &Harness) -> usize {
    h.gate
        .store_for_tests()
        .audit_events(0, 100_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_bad_request_is_refused_precisely_and_changes_nothing() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let before = audit_len(&h).await;

    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            "{\"kind\": ".into(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "not an object",
            "[1,2]".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid request body",
        ),
        (
            "missing field",
            json!({"kind": "db.read"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "resource",
        ),
        (
            "unknown field",
            json!({"kind": "db.read", "resource": "x", "colour": "red"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
        (
            "bad duration",
            json!({"kind": "db.read", "resource": "x", "wait": "soon"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`soon`",
        ),
        (
            "bad kind",
            json!({"kind": "db..read", "resource": "x"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad kind",
        ),
        (
            "bad resource",
            json!({"kind": "db.read", "resource": "a/../b"}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad resource",
        ),
        (
            "params not an object",
            json!({"kind": "db.read", "resource": "x", "params": [1]}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "params",
        ),
    ];
    for (name, body, status, needle) in cases {
        let (got, err) = raw_post(&h, &agent, "/v1/actions", body).await;
        assert_eq!(got, status, "{name}: {err}");
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{name}: `{message}` lacks `{needle}`"
        );
        assert!(err["error"]["code"].is_string(), "{name}: {err}");
    }
    assert_eq!(audit_len(&h).await, before, "refused input writes nothing");
    let (status, _) = h.get(&agent, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_ten_megabyte_body_is_refused_with_413() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let huge = format!(
        "{{\"kind\":\"db.read\",\"resource\":\"x\",\"params\":{{\"blob\":\"{}\"}}}}",
        "a".repeat(10 * 1024 * 1024)
    );
    let (status, err) = raw_post(&h, &agent, "/v1/actions", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{err}");
    assert_eq!(err["error"]["code"], "too_large");
    let action = h.submit(&agent, "db.read", "x", json!({})).await;
    assert_eq!(action["status"], "allowed", "still up");
}

#[tokio::test]
async fn reviews_of_missing_actions_and_bad_decisions_are_refused() {
    let h = Harness::start(POLICIES).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let (status, _) = h.review(&alice, "act_nope", "approve").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = h
        .post(
            &alice,
            "/v1/actions/act_nope/reviews",
            json!({"decision": "maybe"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = h.get(&alice, "/v1/actions?status=bogus").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = h.get(&alice, "/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn tokens_with_bad_names_or_ttls_are_refused() {
    let h = Harness::start(POLICIES).await;
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "a b", "kind": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "ok", "kind": "robot"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "ok", "kind": "agent", "ttl": "forever"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(support::message(&body).contains("ttl"));
}

#[tokio::test]
async fn ops_endpoints_answer() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    h.submit(&agent, "db.read", "x", json!({})).await;
    let text = |path: &'static str| {
        let (http, base) = (h.http.clone(), h.base.clone());
        async move {
            http.get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(text("/healthz").await, "ok");
    assert_eq!(text("/readyz").await, "ready");
    let metrics = text("/metrics").await;
    assert!(metrics.contains("holdpoint_decisions_total"), "{metrics}");
    assert!(
        metrics.contains("holdpoint_policy_evaluation_seconds"),
        "{metrics}"
    );
    let openapi: Value = serde_json::from_str(&text("/openapi.json").await).unwrap();
    for path in [
        "/v1/actions",
        "/v1/actions/{id}",
        "/v1/actions/{id}/reviews",
        "/v1/tokens",
        "/v1/audit/verify",
    ] {
        assert!(openapi["paths"][path].is_object(), "openapi lacks {path}");
    }
    let (status, report) = h.get(&h.admin, "/v1/audit/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["events"].as_i64().unwrap() >= 3);
}

#[tokio::test]
async fn explain_shows_the_verdict_without_holding_anything() {
    let h = Harness::start(POLICIES).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    h.token("ci-bot", "agent", &[], None).await;
    let before = audit_len(&h).await;
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/policy/explain",
            json!({"kind": "db.export", "resource": "postgres/prod", "principal": "agent:ci-bot"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["verdict"]["outcome"], "hold");
    assert_eq!(body["requirements"][0]["quorum"], 2);
    let (_, body) = h
        .post(&h.admin, "/v1/policy/explain", json!({"kind": "db.privilege", "resource": "postgres/prod", "principal": "agent:ci-bot"}))
        .await;
    assert_eq!(body["verdict"]["outcome"], "deny");
    let (status, body) = h
        .post(
            &alice,
            "/v1/policy/explain",
            json!({"kind": "db.export", "resource": "postgres/prod", "principal": "user:ALICE"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a user may explain for themselves: {body}"
    );
    assert_eq!(body["groups"], json!(["dba", "users"]));
    // Another principal's groups are not a user's to read.
    let (status, body) = h
        .post(
            &alice,
            "/v1/policy/explain",
            json!({"kind": "db.read", "resource": "x", "principal": "agent:ci-bot"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(!body.to_string().contains("agents\""), "{body}");
    assert_eq!(audit_len(&h).await, before);
}

#[tokio::test]
async fn a_store_that_cannot_write_means_503_and_nothing_passes() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let held = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    h.store.close().await;

    let (status, body) = h
        .post(
            &agent,
            "/v1/actions",
            json!({"kind": "db.read", "resource": "postgres/prod"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "an allow that cannot be audited is not given: {body}"
    );
    assert_eq!(body["error"]["code"], "unavailable");
    let (status, body) = h
        .review(&alice, held["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    let health = h
        .http
        .get(format!("{}/healthz", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the gateway stays up");
    let ready = h
        .http
        .get(format!("{}/readyz", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}
