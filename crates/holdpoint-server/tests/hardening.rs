//! The other defects of issue 6, as a hostile agent and a careless operator would meet
//! them: leaks through policy errors, admin tokens that skipped their hold, limits,
//! durations that panicked, and the smaller gaps.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_gate::{GateSettings, Limits, SurfaceContext};
use holdpoint_server::ServerLimits;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Harness, POLICIES, message};

const LEAKY: &str = r#"
@id("loopback-only")
permit(principal, action == Action::"db.connect", resource)
when { context.params has host && ip(context.params.host).isLoopback() };

@id("big-numbers")
permit(principal, action == Action::"db.count", resource)
when { context.params has n && context.params.n * 4611686018427387904 > 0 };
"#;

#[tokio::test]
async fn policy_errors_never_carry_values_into_reasons_or_the_audit_log() {
    let h = Harness::start(LEAKY).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let secret = "hunter2-Zq8";
    let leak = h
        .submit(
            &agent,
            "db.connect",
            "postgres/prod",
            json!({"host": format!("postgres://admin:{secret}@db.internal:5432/prod")}),
        )
        .await;
    assert_eq!(leak["status"], "denied");
    let reason = leak["verdict"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("loopback-only") && reason.contains("refused its argument"),
        "{reason}"
    );
    let overflow = h
        .submit(&agent, "db.count", "postgres/prod", json!({"n": 987654321}))
        .await;
    assert_eq!(overflow["status"], "denied");
    assert!(
        !overflow["verdict"]["reason"]
            .as_str()
            .unwrap()
            .contains("987654321")
    );

    let (_, audit) = h.get(&h.admin, "/v1/audit?limit=1000").await;
    let text = audit.to_string();
    assert!(!text.contains(secret), "the audit log leaks: {text}");
    let denials: Vec<String> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "action.denied")
        .map(|e| e["data"]["verdict"]["reason"].to_string())
        .collect();
    assert_eq!(denials.len(), 2);
    assert!(
        denials
            .iter()
            .all(|r| !r.contains("987654321") && !r.contains("db.internal")),
        "{denials:?}"
    );
}

#[tokio::test]
async fn a_new_admin_token_waits_for_another_admin_and_is_handed_out_once() {
    let h = Harness::start(POLICIES).await;
    // Agent and user tokens are created at once, as before.
    h.token("ci-bot", "agent", &[], None).await;
    let second = h.second_admin("root2").await;
    let request = json!({"name": "root3", "kind": "admin"});
    let (status, held) = h.post(&h.admin, "/v1/tokens", request.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{held}");
    assert_eq!(held["status"], "pending");
    assert_eq!(held["kind"], "token.create.admin");
    assert!(held.get("token").is_none(), "no secret before approval");
    let id = held["id"].as_str().unwrap();

    let (status, body) = h.review(&h.admin, id, "approve").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "nobody approves their own request: {body}"
    );
    let (status, again) = h.post(&h.admin, "/v1/tokens", request.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "still held: {again}");

    let (status, body) = h.review(&second, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    let (status, created) = h.post(&h.admin, "/v1/tokens", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let root3 = created["token"].as_str().unwrap();
    let (status, _) = h.get(root3, "/v1/tokens").await;
    assert_eq!(status, StatusCode::OK, "the new admin token works");
    let (status, body) = h.post(&h.admin, "/v1/tokens", request).await;
    assert_ne!(
        status,
        StatusCode::CREATED,
        "the approval is used once: {body}"
    );
}

#[tokio::test]
async fn only_admins_request_tokens_whatever_a_broad_permit_says() {
    // A catch-all permit for alice, written for other actions.
    let policies = format!(
        "{POLICIES}\n@id(\"alice-all\")\npermit(principal == User::\"alice\", action, resource);\n"
    );
    let h = Harness::start(&policies).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    for (token, kind) in [(&agent, "agent"), (&alice, "agent"), (&alice, "admin")] {
        let (status, body) = h
            .post(token, "/v1/tokens", json!({"name": "x", "kind": kind}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let said = message(&body);
        assert!(
            said.contains("only an admin") || said.contains("agents may not"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_admin_cannot_mint_members_of_the_implicit_groups() {
    let h = Harness::start(POLICIES).await;
    for group in ["admins", "Agents", "users"] {
        let (status, body) = h
            .post(
                &h.admin,
                "/v1/tokens",
                json!({"name": "a2", "kind": "user", "groups": [group]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{group}: {body}");
    }
    let (status, body) = h
        .post(
            &h.admin,
            "/v1/tokens",
            json!({"name": "t", "kind": "agent", "ttl": "1500ms"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a ttl is whole seconds: {body}"
    );
}

#[tokio::test]
async fn durations_beyond_any_calendar_are_refused_not_panicked_on() {
    let h = Harness::start(POLICIES).await;
    for ttl in ["300000y", "1000y", "0s"] {
        let (status, body) = h
            .post(
                &h.admin,
                "/v1/tokens",
                json!({"name": "t", "kind": "agent", "ttl": ttl}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ttl}: {body}");
    }
    let (status, _) = h.get(&h.admin, "/healthz").await;
    assert_eq!(status, StatusCode::OK, "the gate is still up");
    let err = holdpoint_policy::PolicySet::compile(
        &[holdpoint_policy::PolicySource {
            file: "x.cedar".into(),
            text: "@hold(\"h\") @expires(\"300000y\")\npermit(principal, action, resource);".into(),
        }],
        &support::defaults(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("x.cedar") && err.contains("max_duration"),
        "{err}"
    );
}

fn limited(limits: Limits) -> GateSettings {
    GateSettings {
        limits,
        ..support::settings()
    }
}

async fn limit_events(h: &Harness) -> Vec<Value> {
    let (_, audit) = h.get(&h.admin, "/v1/audit?limit=1000").await;
    audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "limit.exceeded")
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_principal_over_its_request_rate_gets_429_audited_once_per_burst() {
    let settings = limited(Limits {
        requests_per_second: 1,
        request_burst: 3,
        ..support::settings().limits
    });
    let h = Harness::start_with(POLICIES, Vec::new(), settings, ServerLimits::default()).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    for _ in 0..3 {
        let (status, _) = h.get(&agent, "/v1/actions").await;
        assert_eq!(status, StatusCode::OK);
    }
    for _ in 0..2 {
        let response = h
            .http
            .get(format!("{}/v1/actions", h.base))
            .bearer_auth(&agent)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "1");
    }
    let (status, _) = h.get(&h.admin, "/v1/actions").await;
    assert_eq!(status, StatusCode::OK, "other principals are not slowed");
    let events = limit_events(&h).await;
    assert_eq!(events.len(), 1, "one event for the burst: {events:?}");
    assert_eq!(events[0]["actor"]["name"], "ci-bot");
    h.clock.advance(Duration::from_secs(2));
    let (status, _) = h.get(&agent, "/v1/actions").await;
    assert_eq!(status, StatusCode::OK, "the bucket refilled");
}

#[tokio::test]
async fn pending_holds_and_long_polls_are_capped_per_principal() {
    let settings = limited(Limits {
        pending_holds: 2,
        long_polls: 1,
        ..support::settings().limits
    });
    let h = Harness::start_with(POLICIES, Vec::new(), settings, ServerLimits::default()).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let other = h.token("other-bot", "agent", &[], None).await;
    let a = h
        .submit(&agent, "db.ddl", "postgres/prod", json!({"n": 1}))
        .await;
    h.submit(&agent, "db.ddl", "postgres/prod", json!({"n": 2}))
        .await;
    let (status, body) = h
        .post(
            &agent,
            "/v1/actions",
            json!({"kind": "db.ddl", "resource": "postgres/prod", "params": {"n": 3}}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(message(&body).contains("pending holds"));
    let read = h
        .submit(&agent, "db.read", "postgres/prod", json!({}))
        .await;
    assert_eq!(
        read["status"], "allowed",
        "actions that do not hold still pass"
    );
    h.submit(&other, "db.ddl", "postgres/prod", json!({"n": 3}))
        .await;

    let id = a["id"].as_str().unwrap();
    let poll = support::spawn_poll(&h, &agent, id);
    let action_id = holdpoint_core::ActionId(id.to_string());
    while h.gate.waiters_on(&action_id) == 0 {
        tokio::task::yield_now().await;
    }
    let (status, body) = h.get(&agent, &format!("/v1/actions/{id}?wait=30s")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, _) = h.get(&agent, &format!("/v1/actions/{id}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a read that does not wait is no long-poll"
    );
    poll.abort();
    let kinds: Vec<Value> = limit_events(&h)
        .await
        .iter()
        .map(|e| e["data"]["limit"].clone())
        .collect();
    assert_eq!(kinds, vec![json!("pending_holds"), json!("long_polls")]);
}

#[tokio::test]
async fn connections_over_the_cap_are_answered_429_and_the_gate_stays_up() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = ServerLimits {
        connections: 2,
        header_timeout: Duration::from_secs(30),
    };
    let h = Harness::start_with(POLICIES, Vec::new(), support::settings(), limits).await;
    let addr = h.base.trim_start_matches("http://").to_string();
    let idle_a = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let idle_b = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut third = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut answer = String::new();
    third.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("Retry-After: 1"));
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(body).unwrap()["error"]["code"],
        "too_many_requests"
    );
    drop((idle_a, idle_b));
    // Freed slots serve again.
    let mut ok = None;
    for _ in 0..200 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        if text.starts_with("HTTP/1.1 200") {
            ok = Some(text);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(ok.is_some(), "the gate serves once connections close");
    let events = limit_events(&h).await;
    let (_, all) = h.get(&h.admin, "/v1/audit?limit=1000").await;
    assert!(
        events.iter().any(|e| e["data"]["limit"] == "connections"),
        "{all}"
    );
}

#[tokio::test]
async fn a_client_that_never_sends_its_headers_is_cut_off() {
    use tokio::io::AsyncReadExt;
    let limits = ServerLimits {
        connections: 16,
        header_timeout: Duration::from_millis(200),
    };
    let h = Harness::start_with(POLICIES, Vec::new(), support::settings(), limits).await;
    let addr = h.base.trim_start_matches("http://").to_string();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the server closed the silent connection");
    let mut partial = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut partial, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(20), partial.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "the server closed the connection that stopped mid-headers"
    );
}

#[tokio::test]
async fn the_release_recheck_sees_the_surfaces_context() {
    let h = Harness::start(POLICIES).await;
    h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let agent = h
        .gate
        .live_identity(&holdpoint_core::Principal::new(
            holdpoint_core::PrincipalKind::Agent,
            "ci-bot",
        ))
        .await
        .unwrap()
        .unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("sql".into(), json!({"unbounded": true}));
    let ctx = SurfaceContext {
        surface: "pg".into(),
        extra: Some(extra),
        executes: true,
    };
    let request = holdpoint_core::ActionRequest {
        kind: "db.ddl".into(),
        resource: "postgres/prod".into(),
        environment: "prod".into(),
        params: json!({}),
        justification: String::new(),
    };
    let held = h.gate.submit(&agent, request, ctx).await.unwrap();
    assert_eq!(held.status, holdpoint_core::Status::Pending);
    let tightened = format!(
        "{POLICIES}\n@id(\"no-unbounded\")\n@reason(\"unbounded\")\nforbid(principal, action, resource) when {{ context has sql && context.sql.unbounded }};\n"
    );
    std::fs::write(h.policy_dir.join("policies.cedar"), tightened).unwrap();
    h.gate.policy_for_tests().reload().unwrap();
    let (_, body) = h.review(&alice, held.id.as_str(), "approve").await;
    assert_eq!(body["status"], "denied", "{body}");
}

#[tokio::test]
async fn a_client_cannot_choose_the_channel_its_review_is_recorded_under() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let action = h.submit(&agent, "db.ddl", "postgres/prod", json!({})).await;
    let id = action["id"].as_str().unwrap();
    let response = h
        .http
        .post(format!("{}/v1/actions/{id}/reviews", h.base))
        .bearer_auth(&alice)
        .header("x-holdpoint-channel", "slack")
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["hold"]["reviews"][0]["channel"], "api");
}

#[tokio::test]
async fn parallel_submissions_do_not_overshoot_the_pending_holds_limit() {
    let settings = limited(Limits {
        pending_holds: 3,
        ..support::settings().limits
    });
    let h = Harness::start_with(POLICIES, Vec::new(), settings, ServerLimits::default()).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let mut tasks = Vec::new();
    for n in 0..12 {
        let (http, base, agent) = (h.http.clone(), h.base.clone(), agent.clone());
        tasks.push(tokio::spawn(async move {
            http.post(format!("{base}/v1/actions"))
                .bearer_auth(agent)
                .json(&json!({"kind": "db.ddl", "resource": "postgres/prod", "params": {"n": n}}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut held = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => held += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    assert!(held <= 3, "{held} holds for a limit of 3");
    let pending = h
        .gate
        .store_for_tests()
        .count_pending_by(&holdpoint_core::Principal::new(
            holdpoint_core::PrincipalKind::Agent,
            "ci-bot",
        ))
        .await
        .unwrap();
    assert!(pending <= 3, "{pending}");
}

#[tokio::test]
async fn a_grant_window_never_passes_a_token_with_other_groups() {
    let policies = format!(
        "{POLICIES}\n@id(\"admin-tokens\")\n@hold(\"New token\")\n@approvers(\"admins\")\n@grant(\"1h\")\n\
         permit(principal in Group::\"admins\", action in Action::\"token\", resource);\n"
    );
    let h = Harness::start(&policies).await;
    let second = h.second_admin("root2").await;
    let plain = json!({"name": "helper", "kind": "user", "groups": ["ops"]});
    let (status, held) = h.post(&h.admin, "/v1/tokens", plain.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{held}");
    h.review(&second, held["id"].as_str().unwrap(), "approve")
        .await;
    let (status, _) = h.post(&h.admin, "/v1/tokens", plain).await;
    assert_eq!(status, StatusCode::CREATED);
    // Inside the window, the same name with more groups is a new request, held afresh.
    h.revoke("helper").await;
    let wider = json!({"name": "helper", "kind": "user", "groups": ["ops", "dba"]});
    let (status, body) = h.post(&h.admin, "/v1/tokens", wider).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}
