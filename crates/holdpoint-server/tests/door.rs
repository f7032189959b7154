//! Each HTTP surface answers the gate's rules in its own form (issue 16): an admin token
//! submits nothing through the API, the hook or the MCP endpoints; a principal over its
//! request rate gets the surface's 429; a non-admin reaches no admin route.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_gate::{GateSettings, Limits};
use holdpoint_server::ServerLimits;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Harness, message};

const POLICIES: &str = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("files") permit(principal, action == Action::"fs.read", resource);
@id("tools") permit(principal, action in Action::"mcp", resource);
"#;

async fn hook(h: &Harness, token: &str) -> Value {
    let body = json!({"session_id": "s", "hook_event_name": "PreToolUse", "cwd": "/app",
                      "tool_name": "Read", "tool_input": {"file_path": "README.md"}});
    let response = h
        .http
        .post(format!("{}/hooks/claude-code?wait=0s", h.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the hook always answers 200"
    );
    response.json().await.unwrap()
}

fn hook_decision(out: &Value) -> (String, String) {
    let o = &out["hookSpecificOutput"];
    (
        o["permissionDecision"].as_str().unwrap().to_string(),
        o["permissionDecisionReason"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn an_admin_token_submits_through_no_http_surface() {
    let h = Harness::start(POLICIES).await;
    let admin = h.admin.clone();
    let (status, body) = h
        .post(
            &admin,
            "/v1/actions",
            json!({"kind": "db.read", "resource": "postgres/prod"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(message(&body).contains("admin tokens manage holdpoint"));
    let (decision, reason) = hook_decision(&hook(&h, &admin).await);
    assert_eq!(decision, "deny");
    assert!(reason.contains("admin tokens manage holdpoint"), "{reason}");
    let (status, body) = h
        .post(
            &admin,
            "/v1/mcp/anything/calls",
            json!({"tool": "echo", "arguments": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // An agent passes the same doors.
    let agent = h.token("ci-bot", "agent", &[], None).await;
    assert_eq!(hook_decision(&hook(&h, &agent).await).0, "allow");
}

#[tokio::test]
async fn over_its_rate_a_principal_gets_each_surfaces_429() {
    let settings = GateSettings {
        limits: Limits {
            requests_per_second: 1,
            request_burst: 2,
            ..support::settings().limits
        },
        ..support::settings()
    };
    let h = Harness::start_with(POLICIES, Vec::new(), settings, ServerLimits::default()).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    // The burst: two requests.
    h.submit(&agent, "db.read", "postgres/prod", json!({}))
        .await;
    h.submit(&agent, "db.read", "postgres/prod", json!({}))
        .await;
    let (status, body) = h
        .post(
            &agent,
            "/v1/actions",
            json!({"kind": "db.read", "resource": "postgres/prod"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (decision, reason) = hook_decision(&hook(&h, &agent).await);
    assert_eq!(decision, "deny", "the hook fails closed");
    assert!(reason.contains("requests per second"), "{reason}");
}

#[tokio::test]
async fn a_non_admin_reaches_no_admin_route() {
    let h = Harness::start(POLICIES).await;
    let user = h.token("alice", "user", &["dba"], None).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    for token in [&user, &agent] {
        for path in [
            "/v1/tokens",
            "/v1/audit",
            "/v1/audit/verify",
            "/v1/deliveries",
        ] {
            let (status, body) = h.get(token, path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        }
        let response = h
            .http
            .delete(format!("{}/v1/tokens/admin", h.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let (status, body) = h
            .post(
                token,
                "/v1/tokens",
                json!({"name": "minted", "kind": "admin"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    // The admin's token still works: nothing was revoked.
    let (status, _) = h.get(&h.admin, "/v1/tokens").await;
    assert_eq!(status, StatusCode::OK);
}
