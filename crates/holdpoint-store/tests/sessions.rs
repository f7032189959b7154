//! Web sessions and vouched identities in the store, each test run on SQLite and on
//! PostgreSQL (see `harness`): round trips, the caps, the purge, ending, and a second
//! store on the same database (a replica) seeing the same.

// Test code: a failed unwrap is a failed test (clippy.toml covers only `#[test]` bodies).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod harness;

use harness::{Harness, event, now, user};
use holdpoint_core::audit::truncate_to_micros;
use holdpoint_core::token::hash_token;
use holdpoint_core::{
    Change, EventType, Identity, Op, Principal, PrincipalKind, SessionRecord, SessionVia, Store,
    StoreError, Timestamp, VouchRecord,
};
use holdpoint_store::{OpenMode, SqlStore};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    sessions_round_trip_touch_forward_and_end,
    the_caps_end_the_oldest_of_the_person_then_of_anyone,
    purge_deletes_only_what_is_past_its_deadline,
    vouches_round_trip_replace_and_withdraw,
    a_second_store_on_the_database_shares_sessions_and_vouches,
);

// ---- helpers ----

const IDLE: Duration = Duration::from_secs(600);

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

/// A time the store keeps exactly (microseconds).
fn t0() -> Timestamp {
    truncate_to_micros(now())
}

fn identity(kind: PrincipalKind, name: &str, groups: &[&str]) -> Identity {
    Identity {
        principal: Principal::new(kind, name),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        owner: None,
    }
}

/// A session of `name` (a user in `dba`) started and last seen at `at`, idle 10 minutes,
/// ending an hour after `at`.
fn session(key: &str, name: &str, at: Timestamp) -> SessionRecord {
    SessionRecord {
        key: key.into(),
        identity: identity(PrincipalKind::User, name, &["dba", "sre"]),
        via: SessionVia::Oidc,
        csrf: format!("csrf-{key}"),
        created_at: at,
        last_seen: at,
        idle: IDLE,
        expires_at: at + secs(3600),
    }
}

fn insert_op(session: &SessionRecord, per: u32, total: u32) -> Op {
    Op::InsertSession {
        session: session.clone(),
        max_per_principal: per,
        max_total: total,
    }
}

async fn apply(h: &Harness, ops: Vec<Op>) -> Result<(), StoreError> {
    h.store.apply(Change::new(ops, Vec::new())).await.map(drop)
}

async fn insert(h: &Harness, session: &SessionRecord, per: u32, total: u32) {
    apply(h, vec![insert_op(session, per, total)])
        .await
        .unwrap();
}

async fn keys_live(h: &Harness, at: Timestamp) -> Vec<String> {
    let mut keys: Vec<String> = h
        .store
        .sessions(at, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    keys.sort();
    keys
}

fn keys(names: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = names.iter().map(|k| k.to_string()).collect();
    keys.sort();
    keys
}

// ---- tests ----

async fn sessions_round_trip_touch_forward_and_end(h: Harness) {
    let t = t0();
    let oidc = session("k-oidc", "alice", t);
    let mut token = session("k-token", "root", t + secs(1));
    token.identity = identity(PrincipalKind::Admin, "root", &[]);
    token.via = SessionVia::Token {
        hash: hash_token("hp_root"),
    };
    // Started with its audit event, in one change.
    let events = h
        .store
        .apply(Change::new(
            vec![insert_op(&oidc, 20, 100), insert_op(&token, 20, 100)],
            vec![event(
                EventType::SessionStarted,
                None,
                json!({"session": "k-oidc"}),
            )],
        ))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(h.store.session("k-oidc").await.unwrap(), Some(oidc.clone()));
    assert_eq!(
        h.store.session("k-token").await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(h.store.session("k-none").await.unwrap(), None);
    // The same key twice is refused, and changes nothing.
    let mut again = session("k-oidc", "mallory", t);
    again.csrf = "other".into();
    let refused = apply(&h, vec![insert_op(&again, 20, 100)]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(h.store.session("k-oidc").await.unwrap(), Some(oidc.clone()));

    // Most recently active first; only live ones.
    let listed: Vec<String> = h
        .store
        .sessions(t + secs(2), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(listed, ["k-token", "k-oidc"]);
    assert_eq!(h.store.sessions(t + secs(2), 1).await.unwrap().len(), 1);

    // A touch moves last_seen forward, never back, and keeps the session alive past
    // its first idle deadline.
    let later = t + secs(500);
    apply(
        &h,
        vec![Op::TouchSession {
            key: "k-oidc".into(),
            at: later,
        }],
    )
    .await
    .unwrap();
    apply(
        &h,
        vec![Op::TouchSession {
            key: "k-oidc".into(),
            at: t + secs(100),
        }],
    )
    .await
    .unwrap();
    let touched = h.store.session("k-oidc").await.unwrap().unwrap();
    assert_eq!(touched.last_seen, later);
    assert!(touched.is_live(t + secs(900)));
    assert_eq!(keys_live(&h, t + secs(900)).await, keys(&["k-oidc"]));
    assert_eq!(
        h.store.sessions(t + secs(900), 10).await.unwrap()[0].last_seen,
        later
    );

    // Ending: gone at once; a second end is NotFound; a touch after it does nothing.
    apply(
        &h,
        vec![Op::EndSession {
            key: "k-oidc".into(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(h.store.session("k-oidc").await.unwrap(), None);
    let twice = apply(
        &h,
        vec![Op::EndSession {
            key: "k-oidc".into(),
        }],
    )
    .await;
    assert!(matches!(twice, Err(StoreError::NotFound(_))), "{twice:?}");
    apply(
        &h,
        vec![Op::TouchSession {
            key: "k-oidc".into(),
            at: t + secs(901),
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        h.store.session("k-oidc").await.unwrap(),
        None,
        "a touch does not bring an ended session back"
    );
}

async fn the_caps_end_the_oldest_of_the_person_then_of_anyone(h: Harness) {
    let t = t0();
    // Alice's three, a second apart; the second is the least recently active after a
    // touch of the first.
    for (i, key) in ["a1", "a2", "a3"].iter().enumerate() {
        insert(&h, &session(key, "alice", t + secs(i as i64)), 3, 100).await;
    }
    apply(
        &h,
        vec![Op::TouchSession {
            key: "a1".into(),
            at: t + secs(10),
        }],
    )
    .await
    .unwrap();
    // Another person, an admin of the same name and a dead session of alice's do not
    // count toward her cap.
    insert(&h, &session("b1", "bob", t), 3, 100).await;
    let mut admin = session("x1", "alice", t);
    admin.identity.principal.kind = PrincipalKind::Admin;
    insert(&h, &admin, 3, 100).await;

    // A fourth, under another case of her name: her least recently active goes.
    insert(&h, &session("a4", "ALICE", t + secs(20)), 3, 100).await;
    let at = t + secs(21);
    assert_eq!(
        keys_live(&h, at).await,
        keys(&["a1", "a3", "a4", "b1", "x1"])
    );
    // Dead sessions are not counted: a3 (last seen at t+2) idles out ten minutes later,
    // and then a1 (touched at t+10) and a4 (t+20) are her live ones: two, under the cap.
    let idle_at = t + secs(2) + chrono::Duration::from_std(IDLE).unwrap();
    insert(&h, &session("a5", "alice", idle_at), 3, 100).await;
    assert!(
        h.store.session("a3").await.unwrap().is_some(),
        "dead, not ended"
    );
    assert_eq!(
        keys_live(&h, idle_at).await,
        keys(&["a1", "a4", "a5"]),
        "b1 and x1 idled out too"
    );

    // The global cap, once a1 and a4 have idled out too: at five live sessions, a new
    // one ends the least recently active of anyone's (a5, whoever's it is).
    let u = t + secs(700);
    for (i, name) in ["carol", "dave", "erin"].iter().enumerate() {
        insert(&h, &session(name, name, u + secs(i as i64)), 20, 5).await;
    }
    assert_eq!(
        keys_live(&h, u + secs(3)).await,
        keys(&["a5", "carol", "dave", "erin"])
    );
    insert(&h, &session("frank", "frank", u + secs(3)), 20, 5).await;
    insert(&h, &session("gina", "gina", u + secs(4)), 20, 5).await;
    assert_eq!(
        keys_live(&h, u + secs(5)).await,
        keys(&["carol", "dave", "erin", "frank", "gina"]),
        "the least recently active of anyone (a5) was ended"
    );
    assert!(h.store.session("a5").await.unwrap().is_none());
}

async fn purge_deletes_only_what_is_past_its_deadline(h: Harness) {
    let t = t0();
    let live = session("live", "alice", t);
    let idle = session("idle", "bob", t - secs(601));
    let mut old = session("old", "carol", t - secs(3600));
    old.last_seen = t - secs(1); // active, but past its absolute deadline
    let vouch = |name: &str, until: Timestamp| VouchRecord {
        identity: identity(PrincipalKind::User, name, &["dba"]),
        at: t - secs(3600),
        until,
    };
    apply(
        &h,
        vec![
            insert_op(&live, 20, 100),
            insert_op(&idle, 20, 100),
            insert_op(&old, 20, 100),
            Op::Vouch(vouch("alice", t + secs(1))),
            Op::Vouch(vouch("bob", t)),
        ],
    )
    .await
    .unwrap();
    assert_eq!(h.raw.count("SELECT COUNT(*) FROM web_sessions").await, 3);
    apply(&h, vec![Op::PurgeExpired { now: t }]).await.unwrap();
    assert_eq!(h.raw.count("SELECT COUNT(*) FROM web_sessions").await, 1);
    assert!(h.store.session("live").await.unwrap().is_some());
    assert!(h.store.session("idle").await.unwrap().is_none());
    assert!(h.store.session("old").await.unwrap().is_none());
    assert_eq!(h.raw.count("SELECT COUNT(*) FROM vouches").await, 1);
    assert!(h.store.vouch("alice").await.unwrap().is_some());
    assert!(h.store.vouch("bob").await.unwrap().is_none());
}

async fn vouches_round_trip_replace_and_withdraw(h: Harness) {
    let t = t0();
    let first = VouchRecord {
        identity: identity(PrincipalKind::User, "Alice", &["dba"]),
        at: t,
        until: t + secs(3600),
    };
    apply(&h, vec![Op::Vouch(first.clone())]).await.unwrap();
    assert_eq!(h.store.vouch("alice").await.unwrap(), Some(first.clone()));
    assert_eq!(h.store.vouch("ALICE").await.unwrap(), Some(first.clone()));
    assert_eq!(h.store.vouch("bob").await.unwrap(), None);

    // The latest sign-in replaces an earlier one, whatever the kind.
    let second = VouchRecord {
        identity: identity(PrincipalKind::Admin, "alice", &["sre"]),
        at: t + secs(5),
        until: t + secs(60),
    };
    apply(&h, vec![Op::Vouch(second.clone())]).await.unwrap();
    assert_eq!(h.store.vouch("alice").await.unwrap(), Some(second.clone()));
    assert_eq!(h.raw.count("SELECT COUNT(*) FROM vouches").await, 1);

    // Withdrawing needs the same kind; the name in any case.
    apply(&h, vec![Op::Unvouch(user("alice"))]).await.unwrap();
    assert_eq!(h.store.vouch("alice").await.unwrap(), Some(second));
    apply(
        &h,
        vec![Op::Unvouch(Principal::new(PrincipalKind::Admin, "ALICE"))],
    )
    .await
    .unwrap();
    assert_eq!(h.store.vouch("alice").await.unwrap(), None);
    // Withdrawing nothing is fine.
    apply(&h, vec![Op::Unvouch(user("alice"))]).await.unwrap();
}

async fn a_second_store_on_the_database_shares_sessions_and_vouches(h: Harness) {
    let t = t0();
    let replica = SqlStore::open(&h.url, OpenMode::Serve).await.unwrap();
    let s = session("shared", "alice", t);
    insert(&h, &s, 20, 100).await;
    h.store
        .apply(Change::new(
            vec![Op::Vouch(VouchRecord {
                identity: s.identity.clone(),
                at: t,
                until: s.expires_at,
            })],
            Vec::new(),
        ))
        .await
        .unwrap();
    assert_eq!(replica.session("shared").await.unwrap(), Some(s.clone()));
    assert!(replica.vouch("alice").await.unwrap().is_some());
    // Ended on the replica: the first store no longer has it either.
    replica
        .apply(Change::new(
            vec![
                Op::EndSession {
                    key: "shared".into(),
                },
                Op::Unvouch(user("alice")),
            ],
            vec![event(
                EventType::SessionEnded,
                None,
                json!({"session": "shared"}),
            )],
        ))
        .await
        .unwrap();
    assert_eq!(h.store.session("shared").await.unwrap(), None);
    assert_eq!(h.store.vouch("alice").await.unwrap(), None);
    replica.close().await;
    // And a store opened afresh (a restart) reads what was committed.
    insert(&h, &session("kept", "bob", t), 20, 100).await;
    h.store.close().await;
    let reopened = SqlStore::open(&h.url, OpenMode::Serve).await.unwrap();
    assert!(reopened.session("kept").await.unwrap().is_some());
    let types: Vec<EventType> = reopened
        .audit_events(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [EventType::SessionEnded],
        "the event types read back"
    );
    reopened.close().await;
}
