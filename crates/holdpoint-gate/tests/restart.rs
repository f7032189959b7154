//! Holds live in the store, not in memory: after a restart they are still pending and
//! still expire on time (DESIGN §2.8). Time is a manual clock; nothing sleeps.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{ActionRequest, Actor, Clock, Identity, PrincipalKind, Status};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{NewToken, SurfaceContext};
use std::time::Duration;

const POLICY: &str = r#"
@id("ddl") @hold("Schema change") @approvers("dba") @expires("10m")
permit(principal, action == Action::"db.ddl", resource);
"#;

fn agent() -> Identity {
    Identity {
        principal: holdpoint_core::Principal::new(PrincipalKind::Agent, "ci-bot"),
        groups: Vec::new(),
        owner: None,
    }
}

fn ddl() -> ActionRequest {
    ActionRequest {
        kind: "db.ddl".into(),
        resource: "postgres/prod".into(),
        environment: "prod".into(),
        params: serde_json::json!({"sql": "ALTER TABLE t ADD c int"}),
        justification: String::new(),
    }
}

#[tokio::test]
async fn a_hold_that_fell_due_while_down_expires_at_the_next_start_unasked() {
    let t = TestGate::with_policies(POLICY).build().await;
    let clock = t.clock.clone();

    let first = t.gate.clone();
    let held = first
        .submit(&agent(), ddl(), SurfaceContext::named("api"))
        .await
        .unwrap();
    assert_eq!(held.status, Status::Pending);
    drop(first); // the gateway is gone; no expiry task ever ran

    clock.advance(Duration::from_secs(11 * 60));
    let second = t.restart().build().await.gate;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(second.clone().run_expiry(async move {
        let _ = stopped.await;
    }));
    let seen = second
        .wait(&agent(), &held.id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(seen.record.status, Status::Expired);
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn a_hold_still_pending_after_restart_expires_on_time_and_not_before() {
    let t = TestGate::with_policies(POLICY).build().await;
    let clock = t.clock.clone();
    let first = t.gate.clone();
    let held = first
        .submit(&agent(), ddl(), SurfaceContext::named("api"))
        .await
        .unwrap();
    drop(first);

    let second = t.restart().build().await.gate;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(second.clone().run_expiry(async move {
        let _ = stopped.await;
    }));
    let before = second
        .wait(&agent(), &held.id, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        before.record.status,
        Status::Pending,
        "still pending after the restart"
    );

    clock.advance(Duration::from_secs(9 * 60));
    let early = second
        .wait(&agent(), &held.id, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(early.record.status, Status::Pending, "not before @expires");

    clock.advance(Duration::from_secs(61));
    let late = second
        .wait(&agent(), &held.id, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(late.record.status, Status::Expired);
    let hold = late.record.hold.unwrap();
    assert!(late.record.decided_at.unwrap() >= hold.expires_at);
    assert!(clock.now() >= hold.expires_at);

    let events = second.store_for_tests().audit_events(0, 100).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event_type == holdpoint_core::EventType::HoldExpired)
            .count(),
        1
    );
    let _ = stop.send(());
    task.await.unwrap();
}

#[tokio::test]
async fn a_token_revoked_while_its_action_waits_means_no_release() {
    let t = TestGate::with_policies(POLICY).build().await;
    let gate = t.gate.clone();
    let system = Actor::system();
    let (secret, _) = gate
        .create_token(
            &system,
            NewToken {
                name: "ci-bot".into(),
                kind: PrincipalKind::Agent,
                groups: vec![],
                owner: None,
                ttl: None,
            },
        )
        .await
        .unwrap();
    let bot = gate.authenticate(&secret).await.unwrap();
    let (dba_secret, _) = gate
        .create_token(
            &system,
            NewToken {
                name: "alice".into(),
                kind: PrincipalKind::User,
                groups: vec!["dba".into()],
                owner: None,
                ttl: None,
            },
        )
        .await
        .unwrap();
    let alice = gate.authenticate(&dba_secret).await.unwrap();
    let held = gate
        .submit(&bot, ddl(), SurfaceContext::named("api"))
        .await
        .unwrap();
    let root = holdpoint_core::Identity {
        principal: holdpoint_core::Principal::new(PrincipalKind::Admin, "root"),
        groups: Vec::new(),
        owner: None,
    };
    assert!(
        gate.revoke_token(&alice, "ci-bot", "api").await.is_err(),
        "only an admin revokes"
    );
    gate.revoke_token(&root, "ci-bot", "api").await.unwrap();
    assert!(gate.authenticate(&secret).await.is_err());
    let decided = gate
        .review(
            &alice,
            &held.id,
            holdpoint_core::Decision::Approve,
            "",
            "api",
        )
        .await
        .unwrap();
    assert_eq!(decided.status, Status::Denied);
    assert!(
        decided
            .verdict
            .reason
            .contains("no longer has a live token"),
        "{}",
        decided.verdict.reason
    );
}

#[tokio::test]
async fn a_vouch_survives_a_restart_and_the_approval_it_backs_releases_the_hold() {
    let t = TestGate::with_policies(POLICY).build().await;
    let clock = t.clock.clone();
    // Alice has no token: only the identity provider says she is in `dba`.
    let alice = Identity {
        principal: holdpoint_core::Principal::new(PrincipalKind::User, "alice"),
        groups: vec!["dba".into()],
        owner: None,
    };
    let first = t.gate.clone();
    let (secret, _) = first
        .create_token(
            &Actor::system(),
            NewToken {
                name: "ci-bot".into(),
                kind: PrincipalKind::Agent,
                groups: vec![],
                owner: None,
                ttl: None,
            },
        )
        .await
        .unwrap();
    let bot = first.authenticate(&secret).await.unwrap();
    let until = clock.now() + chrono::Duration::hours(1);
    first.vouch(alice.clone(), until).await.unwrap();
    let held = first
        .submit(&bot, ddl(), SurfaceContext::named("api"))
        .await
        .unwrap();
    drop(first);

    // After the restart the vouch is still there: her approval counts at release.
    let second = t.restart().build().await.gate;
    assert_eq!(
        second.live_identity(&alice.principal).await.unwrap(),
        Some(alice.clone())
    );
    let approved = second
        .review(
            &alice,
            &held.id,
            holdpoint_core::Decision::Approve,
            "",
            "web",
        )
        .await
        .unwrap();
    assert_eq!(approved.status, Status::Approved, "{:?}", approved.verdict);

    // Withdrawn (an admin ended her session), or past its deadline, it counts no more.
    let mut other = ddl();
    other.params = serde_json::json!({"sql": "ALTER TABLE t ADD d int"});
    let again = second
        .submit(&bot, other, SurfaceContext::named("api"))
        .await
        .unwrap();
    assert_eq!(again.status, Status::Pending);
    second.unvouch(&alice.principal).await.unwrap();
    let waiting = second
        .review(
            &alice,
            &again.id,
            holdpoint_core::Decision::Approve,
            "",
            "web",
        )
        .await
        .unwrap();
    assert_eq!(waiting.status, Status::Pending, "unvouched: not counted");
    second.vouch(alice.clone(), until).await.unwrap();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(second.live_identity(&alice.principal).await.unwrap(), None);
    let types: Vec<_> = second
        .store_for_tests()
        .audit_events(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .filter(|t| {
            matches!(
                t,
                holdpoint_core::EventType::IdentityVouched
                    | holdpoint_core::EventType::IdentityUnvouched
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            holdpoint_core::EventType::IdentityVouched,
            holdpoint_core::EventType::IdentityUnvouched,
            holdpoint_core::EventType::IdentityVouched
        ]
    );
}
