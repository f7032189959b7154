//! The gate is the only door (issue 16): each rule of DESIGN §2 that is about who may do
//! what is checked by the gate method itself, so no surface can forget it. Every test
//! calls the gate directly, as a surface would, with a caller who must be refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{ActionRequest, PrincipalKind, Status};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{GateError, GateSettings, Limits, NewToken, Ruling, SurfaceContext};
use std::time::Duration;

const POLICY: &str = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("ddl") @hold("Schema change") @approvers("dba") @expires("10m")
permit(principal, action == Action::"db.ddl", resource);
@id("tokens") permit(principal, action in Action::"token.create", resource);
"#;

async fn world(limits: Limits) -> TestGate {
    TestGate::with_policies(POLICY)
        .settings(GateSettings {
            limits,
            ..GateSettings::default()
        })
        .build()
        .await
}

/// A token of `kind` named `name`, and its secret.
async fn token(w: &TestGate, name: &str, kind: PrincipalKind, groups: &[&str]) -> String {
    w.token(name, kind, groups).await.0
}

fn request(kind: &str) -> ActionRequest {
    ActionRequest {
        kind: kind.into(),
        resource: "postgres/prod".into(),
        environment: "prod".into(),
        params: serde_json::json!({"sql": "ALTER TABLE t ADD c int"}),
        justification: String::new(),
    }
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, GateError>, what: &str) {
    match result {
        Err(GateError::Forbidden(_)) => {}
        other => panic!("{what}: expected 403, got {other:?}"),
    }
}

#[tokio::test]
async fn admins_never_submit_whatever_the_door() {
    let w = world(Limits::default()).await;
    let secret = token(&w, "root", PrincipalKind::Admin, &[]).await;
    let admin = w.gate.authenticate(&secret).await.unwrap();
    let api = SurfaceContext::named("api");
    forbidden(
        w.gate.submit(&admin, request("db.read"), api.clone()).await,
        "submit",
    );
    forbidden(
        w.gate.check(&admin, &request("db.read"), &api),
        "check (the PostgreSQL proxy's and MCP's policy look-up)",
    );
    forbidden(
        w.gate
            .ask(&admin, request("db.ddl"), api.clone())
            .await
            .map(|_| ()),
        "ask",
    );
    forbidden(
        w.gate
            .decide(
                &admin,
                request("db.ddl"),
                api,
                Duration::ZERO,
                std::future::pending(),
            )
            .await,
        "decide",
    );
    assert!(holdpoint_gate::may_submit(&admin).is_err());
    // Nothing was recorded for them.
    let listed = w
        .gate
        .history(
            &admin,
            holdpoint_core::store::ActionFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[tokio::test]
async fn only_admins_reach_the_admin_methods() {
    let w = world(Limits::default()).await;
    let admin = token(&w, "root", PrincipalKind::Admin, &[]).await;
    let admin = w.gate.authenticate(&admin).await.unwrap();
    let user = token(&w, "alice", PrincipalKind::User, &["dba"]).await;
    let user = w.gate.authenticate(&user).await.unwrap();
    let agent = token(&w, "ci-bot", PrincipalKind::Agent, &[]).await;
    let agent = w.gate.authenticate(&agent).await.unwrap();
    for caller in [&user, &agent] {
        let who = caller.principal.to_string();
        forbidden(
            w.gate.list_tokens(caller).await,
            &format!("list_tokens as {who}"),
        );
        forbidden(
            w.gate.revoke_token(caller, "root", "api").await,
            &format!("revoke_token as {who}"),
        );
        forbidden(
            w.gate.audit_events(caller, 0, 10).await,
            &format!("audit_events as {who}"),
        );
        forbidden(
            w.gate.verify_chain(caller).await,
            &format!("verify_chain as {who}"),
        );
        forbidden(
            w.gate.deliveries(caller, false, 10).await,
            &format!("deliveries as {who}"),
        );
        forbidden(
            w.gate
                .request_token(
                    caller,
                    NewToken {
                        name: "minted".into(),
                        kind: PrincipalKind::Admin,
                        groups: Vec::new(),
                        owner: None,
                        ttl: None,
                    },
                )
                .await,
            &format!("request_token as {who}"),
        );
    }
    // The admin reaches each of them, and the refused revocations changed nothing.
    assert_eq!(w.gate.list_tokens(&admin).await.unwrap().len(), 3);
    assert!(w.gate.audit_events(&admin, 0, 100).await.unwrap().len() >= 3);
    assert!(w.gate.verify_chain(&admin).await.unwrap().ok);
    assert!(w.gate.deliveries(&admin, false, 10).await.is_ok());
    w.gate.revoke_token(&admin, "ci-bot", "api").await.unwrap();
    assert!(
        w.gate
            .list_tokens(&admin)
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "root" && t.revoked_at.is_none())
    );
}

#[tokio::test]
async fn every_authentication_is_a_request_counted_against_the_rate() {
    let w = world(Limits {
        requests_per_second: 1,
        request_burst: 2,
        ..Limits::default()
    })
    .await;
    let secret = token(&w, "ci-bot", PrincipalKind::Agent, &[]).await;
    w.gate.authenticate(&secret).await.unwrap();
    w.gate.authenticate(&secret).await.unwrap();
    match w.gate.authenticate(&secret).await {
        Err(GateError::TooMany { retry_after, .. }) => {
            assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1))
        }
        other => panic!("expected 429, got {other:?}"),
    }
    // The same by the token's hash (a web session signed in with a token).
    let hash = holdpoint_core::token::hash_token(&secret);
    assert!(matches!(
        w.gate.authenticate_hash(&hash).await,
        Err(GateError::TooMany { .. })
    ));
    w.clock.advance(Duration::from_secs(1));
    assert!(
        w.gate.authenticate(&secret).await.is_ok(),
        "the bucket refills"
    );
}

#[tokio::test]
async fn the_one_path_hands_an_approval_over_once() {
    let w = world(Limits::default()).await;
    let bot = token(&w, "ci-bot", PrincipalKind::Agent, &[]).await;
    let bot = w.gate.authenticate(&bot).await.unwrap();
    let dba = token(&w, "alice", PrincipalKind::User, &["dba"]).await;
    let dba = w.gate.authenticate(&dba).await.unwrap();
    // A surface that executes the action itself (a proxy): its resubmission takes it.
    let proxy = SurfaceContext {
        surface: "postgres".into(),
        extra: None,
        executes: true,
    };
    let mut asking = w
        .gate
        .ask(&bot, request("db.ddl"), proxy.clone())
        .await
        .unwrap();
    let Ruling::Held(held) = asking.ruling().clone() else {
        panic!("held: {:?}", asking.ruling())
    };
    w.gate
        .review(&dba, &held.id, holdpoint_core::Decision::Approve, "", "api")
        .await
        .unwrap();
    let ruling = asking.wait(Duration::from_secs(30)).await.unwrap().clone();
    let Ruling::Proceed(passed) = ruling else {
        panic!("proceeds: {ruling:?}")
    };
    assert_eq!(
        passed.granted_by.as_ref(),
        Some(&held.id),
        "by resubmission"
    );
    // The same statement again is held afresh: the approval was used.
    let again = w.gate.ask(&bot, request("db.ddl"), proxy).await.unwrap();
    assert!(matches!(again.ruling(), Ruling::Held(r) if r.id != held.id));
    // Refusals carry the reason the agent is shown.
    let mut asking = w
        .gate
        .ask(&bot, request("db.ddl"), SurfaceContext::named("api"))
        .await
        .unwrap();
    let id = asking.record().id.clone();
    w.gate
        .review(
            &dba,
            &id,
            holdpoint_core::Decision::Reject,
            "not now",
            "api",
        )
        .await
        .unwrap();
    match asking.wait(Duration::from_secs(30)).await.unwrap() {
        Ruling::Refused { reason, record } => {
            assert_eq!(record.status, Status::Rejected);
            assert!(reason.contains("rejected by a reviewer") && reason.contains("not now"));
        }
        other => panic!("refused: {other:?}"),
    }
}

#[tokio::test]
async fn a_full_long_poll_budget_waits_out_the_limit_instead_of_spinning() {
    let w = world(Limits {
        long_polls: 1,
        ..Limits::default()
    })
    .await;
    let bot = token(&w, "ci-bot", PrincipalKind::Agent, &[]).await;
    let bot = w.gate.authenticate(&bot).await.unwrap();
    let mut first = w
        .gate
        .ask(&bot, request("db.ddl"), SurfaceContext::named("api"))
        .await
        .unwrap();
    let id = first.record().id.clone();
    // Another long-poll of the same agent takes its only slot.
    let gate = w.gate.clone();
    let (bot2, id2) = (bot.clone(), id.clone());
    let holder =
        tokio::spawn(async move { gate.wait(&bot2, &id2, Duration::from_secs(600)).await });
    while w.gate.waiters_on(&id) == 0 {
        tokio::task::yield_now().await;
    }
    let started = std::time::Instant::now();
    let ruling = first.wait(Duration::from_secs(30)).await.unwrap().clone();
    assert!(matches!(ruling, Ruling::Held(_)), "{ruling:?}");
    let waited = started.elapsed();
    // A lower bound only (a sleep never ends early): it did not come straight back to
    // be asked again, as a loop over a 429 would.
    assert!(
        waited >= Duration::from_millis(900),
        "waited out the limit's retry-after: {waited:?}"
    );
    holder.abort();
}
