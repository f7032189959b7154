//! Web sessions through the gate, on SQLite with a manual clock: timeouts, the touch
//! step, the per-person cap, sign-out, revoked tokens, vouching at an OIDC sign-in,
//! admins' methods (and non-admins refused), and two gates on one store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::token::hash_token;
use holdpoint_core::{Actor, Clock, EventType, Identity, Principal, PrincipalKind, SessionVia};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{Gate, GateError, MAX_SESSIONS_PER_PRINCIPAL, NewSession, NewToken};
use std::time::Duration;

const IDLE: Duration = Duration::from_secs(600);
const ABSOLUTE: Duration = Duration::from_secs(3600);

type Setup = TestGate;

async fn setup() -> Setup {
    TestGate::with_policies(
        "@id(\"reads\") permit(principal, action == Action::\"db.read\", resource);",
    )
    .build()
    .await
}

fn person(kind: PrincipalKind, name: &str) -> Identity {
    Identity {
        principal: Principal::new(kind, name),
        groups: vec!["dba".into()],
        owner: None,
    }
}

fn new_session(key: &str, identity: Identity, via: SessionVia) -> NewSession {
    NewSession {
        key: key.into(),
        identity,
        via,
        csrf: format!("csrf-{key}"),
        idle: IDLE,
        absolute: ABSOLUTE,
        replaces: None,
    }
}

fn oidc(key: &str, name: &str) -> NewSession {
    new_session(key, person(PrincipalKind::User, name), SessionVia::Oidc)
}

async fn token(gate: &Gate, name: &str, kind: PrincipalKind) -> String {
    gate.create_token(
        &Actor::system(),
        NewToken {
            name: name.into(),
            kind,
            groups: vec!["dba".into()],
            owner: None,
            ttl: None,
        },
    )
    .await
    .unwrap()
    .0
}

async fn event_types(gate: &Gate) -> Vec<EventType> {
    gate.store_for_tests()
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .filter(|t| matches!(t, EventType::SessionStarted | EventType::SessionEnded))
        .collect()
}

#[tokio::test]
async fn sessions_idle_out_end_absolutely_and_touch_only_once_per_step() {
    let s = setup().await;
    let gate = &s.gate;
    let opened = gate.open_session(oidc("k1", "alice")).await.unwrap();
    assert_eq!(opened.csrf, "csrf-k1");
    assert_eq!(
        gate.session("k1", IDLE, ABSOLUTE)
            .await
            .unwrap()
            .unwrap()
            .identity
            .principal
            .name,
        "alice"
    );

    // Within the step (a minute here), activity writes nothing.
    s.clock.advance(Duration::from_secs(59));
    let seen = gate.session("k1", IDLE, ABSOLUTE).await.unwrap().unwrap();
    assert!(!gate.touch_session(&seen).await.unwrap(), "within the step");
    assert_eq!(
        gate.store_for_tests()
            .session("k1")
            .await
            .unwrap()
            .unwrap()
            .last_seen,
        opened.last_seen
    );
    s.clock.advance(Duration::from_secs(1));
    assert!(gate.touch_session(&seen).await.unwrap(), "a step old");
    let touched = gate
        .store_for_tests()
        .session("k1")
        .await
        .unwrap()
        .unwrap()
        .last_seen;
    assert_eq!(touched, opened.last_seen + chrono::Duration::seconds(60));

    // Idle: ten minutes after the last touch it is gone; a look does not touch.
    s.clock.advance(Duration::from_secs(599));
    assert!(
        gate.session("k1", IDLE, ABSOLUTE).await.unwrap().is_some(),
        "a look"
    );
    s.clock.advance(Duration::from_secs(1));
    assert!(
        gate.session("k1", IDLE, ABSOLUTE).await.unwrap().is_none(),
        "idle"
    );

    // Absolute: an hour after sign-in, however active.
    let opened = gate.open_session(oidc("k2", "alice")).await.unwrap();
    for _ in 0..7 {
        s.clock.advance(Duration::from_secs(540));
        if let Some(live) = gate.session("k2", IDLE, ABSOLUTE).await.unwrap() {
            gate.touch_session(&live).await.unwrap();
        }
    }
    assert!(s.clock.now() >= opened.expires_at);
    assert!(
        gate.session("k2", IDLE, ABSOLUTE).await.unwrap().is_none(),
        "absolute"
    );
    // The next sign-in purges both dead sessions.
    gate.open_session(oidc("k3", "bob")).await.unwrap();
    assert!(
        gate.store_for_tests()
            .session("k1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        gate.store_for_tests()
            .session("k2")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn one_person_keeps_at_most_twenty_sessions_and_others_keep_theirs() {
    let s = setup().await;
    let gate = &s.gate;
    gate.open_session(oidc("bob", "bob")).await.unwrap();
    gate.open_session(oidc("first", "alice")).await.unwrap();
    s.clock.advance(Duration::from_secs(1));
    for i in 0..MAX_SESSIONS_PER_PRINCIPAL {
        gate.open_session(oidc(&format!("later-{i}"), "alice"))
            .await
            .unwrap();
    }
    assert!(
        gate.session("first", IDLE, ABSOLUTE)
            .await
            .unwrap()
            .is_none(),
        "her oldest"
    );
    for i in 0..MAX_SESSIONS_PER_PRINCIPAL {
        assert!(
            gate.session(&format!("later-{i}"), IDLE, ABSOLUTE)
                .await
                .unwrap()
                .is_some()
        );
    }
    assert!(
        gate.session("bob", IDLE, ABSOLUTE).await.unwrap().is_some(),
        "not hers"
    );
}

#[tokio::test]
async fn sign_out_and_a_new_sign_in_end_the_session_with_their_events() {
    let s = setup().await;
    let gate = &s.gate;
    gate.open_session(oidc("k1", "alice")).await.unwrap();
    // A new sign-in in the same browser ends the session it had.
    let mut again = oidc("k2", "alice");
    again.replaces = Some("k1".into());
    gate.open_session(again).await.unwrap();
    assert!(gate.session("k1", IDLE, ABSOLUTE).await.unwrap().is_none());
    // One that ended already is no obstacle.
    let mut third = oidc("k3", "alice");
    third.replaces = Some("k1".into());
    gate.open_session(third).await.unwrap();

    let ended = gate.end_session("k2").await.unwrap().unwrap();
    assert_eq!(ended.identity.principal.name, "alice");
    assert!(gate.session("k2", IDLE, ABSOLUTE).await.unwrap().is_none());
    assert!(gate.end_session("k2").await.unwrap().is_none(), "once");
    assert_eq!(
        event_types(gate).await,
        [
            EventType::SessionStarted,
            EventType::SessionEnded,
            EventType::SessionStarted,
            EventType::SessionStarted,
            EventType::SessionEnded,
        ]
    );
    let events = gate.store_for_tests().audit_events(0, 1000).await.unwrap();
    let signed_out = events.last().unwrap();
    assert_eq!(
        (
            signed_out.actor.name.as_str(),
            signed_out.actor.channel.as_str()
        ),
        ("alice", "web")
    );
    assert_eq!(signed_out.data["reason"], "signed out");
    assert!(
        !events.iter().any(|e| e.data.to_string().contains("csrf-")),
        "no anti-forgery token in the log"
    );
}

#[tokio::test]
async fn a_token_session_follows_its_token_and_agents_never_sign_in() {
    let s = setup().await;
    let gate = &s.gate;
    let secret = token(gate, "carol", PrincipalKind::User).await;
    let carol = gate.authenticate(&secret).await.unwrap();
    let via = SessionVia::Token {
        hash: hash_token(&secret),
    };
    gate.open_session(new_session("k1", carol.clone(), via))
        .await
        .unwrap();
    assert_eq!(
        gate.session("k1", IDLE, ABSOLUTE)
            .await
            .unwrap()
            .unwrap()
            .identity,
        carol
    );
    let root = person(PrincipalKind::Admin, "root");
    gate.revoke_token(&root, "carol", "test").await.unwrap();
    assert!(
        gate.session("k1", IDLE, ABSOLUTE).await.unwrap().is_none(),
        "revoked"
    );
    assert!(
        gate.store_for_tests()
            .session("k1")
            .await
            .unwrap()
            .is_none(),
        "and ended in the store"
    );

    let agent = person(PrincipalKind::Agent, "ci-bot");
    let refused = gate
        .open_session(new_session("k3", agent, SessionVia::Oidc))
        .await;
    assert!(
        matches!(refused, Err(GateError::Forbidden(_))),
        "{refused:?}"
    );
    // A provider's name that a live token has is refused.
    token(gate, "dana", PrincipalKind::Agent).await;
    let refused = gate.open_session(oidc("k4", "DANA")).await;
    assert!(
        matches!(refused, Err(GateError::Conflict(_))),
        "{refused:?}"
    );
    assert!(
        gate.store_for_tests()
            .session("k4")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn only_admins_list_and_end_sessions_and_ending_withdraws_the_vouch() {
    let s = setup().await;
    let gate = &s.gate;
    gate.open_session(oidc("k1", "alice")).await.unwrap();
    let alice = person(PrincipalKind::User, "alice");
    assert_eq!(
        gate.live_identity(&alice.principal).await.unwrap(),
        Some(alice.clone()),
        "the provider's word counts while the session may last"
    );
    // No token may take her name meanwhile.
    let taken = gate
        .create_token(
            &Actor::system(),
            NewToken {
                name: "alice".into(),
                kind: PrincipalKind::Agent,
                groups: vec![],
                owner: None,
                ttl: None,
            },
        )
        .await;
    assert!(matches!(taken, Err(GateError::Conflict(_))), "{taken:?}");

    // A user (even alice herself) may neither list nor end sessions as an admin.
    let listed = gate.list_sessions(&alice).await;
    assert!(matches!(listed, Err(GateError::Forbidden(_))), "{listed:?}");
    let ended = gate.end_session_as_admin(&alice, "k1").await;
    assert!(matches!(ended, Err(GateError::Forbidden(_))), "{ended:?}");
    assert!(
        gate.session("k1", IDLE, ABSOLUTE).await.unwrap().is_some(),
        "unchanged"
    );

    let root = person(PrincipalKind::Admin, "root");
    let listed = gate.list_sessions(&root).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].key.as_str(), listed[0].via), ("k1", "oidc"));
    let ended = gate.end_session_as_admin(&root, "k1").await.unwrap();
    assert_eq!(ended.unwrap().principal, alice.principal);
    assert!(gate.session("k1", IDLE, ABSOLUTE).await.unwrap().is_none());
    assert_eq!(
        gate.live_identity(&alice.principal).await.unwrap(),
        None,
        "her vouch is withdrawn"
    );
    assert!(
        gate.end_session_as_admin(&root, "k1")
            .await
            .unwrap()
            .is_none()
    );
    let last = gate.store_for_tests().audit_events(0, 1000).await.unwrap();
    let last = last.last().unwrap();
    assert_eq!(last.event_type, EventType::SessionEnded);
    assert_eq!(last.actor.name, "root");
    assert_eq!(last.data["unvouched"], true);
}

#[tokio::test]
async fn a_session_ended_on_one_gate_is_refused_by_another_on_the_same_store() {
    let s = setup().await;
    let replica = s.restart().build().await.gate;
    s.gate.open_session(oidc("k1", "alice")).await.unwrap();
    assert!(
        replica
            .session("k1", IDLE, ABSOLUTE)
            .await
            .unwrap()
            .is_some(),
        "shared"
    );
    replica.end_session("k1").await.unwrap().unwrap();
    assert!(
        s.gate
            .session("k1", IDLE, ABSOLUTE)
            .await
            .unwrap()
            .is_none()
    );
}
