//! The store's behaviour, each test run on SQLite and on PostgreSQL (see `harness`).

// Test code: a failed unwrap is a failed test (clippy.toml covers only `#[test]` bodies).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod harness;

use harness::{Backend, Harness, agent, event, held, minutes, next_version, now, record, user};
use holdpoint_core::audit::GENESIS_HASH;
use holdpoint_core::review::{Decision, Review};
use holdpoint_core::store::ActionFilter;
use holdpoint_core::token::hash_token;
use holdpoint_core::{
    ActionId, ActionRecord, AuditEvent, Change, EventType, Op, PrincipalKind, Status, Store,
    StoreError, TokenRecord,
};
use holdpoint_store::{OpenMode, SqlStore};
use serde_json::json;
use std::time::{Duration, Instant};

on_both_backends!(
    opens_empty_and_names_its_backend,
    action_round_trip,
    stale_update_conflicts_and_changes_nothing,
    a_failing_change_leaves_the_rest_of_its_batch_alone,
    events_chain_with_consecutive_seqs,
    verification_pages_through_long_chains,
    two_stores_on_one_database_share_one_chain,
    listing_filters,
    expiry_queries,
    grants_and_single_use_approvals,
    tokens_insert_conflict_revoke_and_lookup,
    tamper_edited_data_is_found,
    tamper_deleted_event_is_found,
    tamper_swapped_seqs_are_found,
    tamper_unreadable_or_slipped_in_events_are_found,
    acknowledged_changes_survive_reopening,
    inspect_needs_an_existing_database,
    unavailable_when_the_database_is_gone,
    unavailable_while_another_writer_holds_the_lock,
);

// ---- helpers ----

async fn insert(h: &Harness, rec: &ActionRecord) -> Vec<AuditEvent> {
    h.store
        .apply(Change::new(
            vec![Op::InsertAction(rec.clone())],
            vec![event(
                EventType::ActionSubmitted,
                Some(&rec.id),
                json!({"kind": rec.kind}),
            )],
        ))
        .await
        .unwrap()
}

fn update(rec: &ActionRecord, expected_version: i64, event_type: EventType) -> Change {
    Change::new(
        vec![Op::UpdateAction {
            record: rec.clone(),
            expected_version,
        }],
        vec![event(
            event_type,
            Some(&rec.id),
            json!({"status": rec.status}),
        )],
    )
}

async fn all_events(h: &Harness) -> Vec<AuditEvent> {
    h.store.audit_events(0, 10_000).await.unwrap()
}

fn ids(records: &[ActionRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

/// Five events, seq 1 to 5, as a chain the tamper tests then damage.
async fn five_events(h: &Harness) {
    for i in 1..=5 {
        h.store
            .apply(Change::new(
                vec![],
                vec![event(EventType::PolicyLoaded, None, json!({"i": i}))],
            ))
            .await
            .unwrap();
    }
    assert!(h.store.verify_chain().await.unwrap().ok);
}

// ---- tests ----

async fn opens_empty_and_names_its_backend(h: Harness) {
    let expected = match h.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(h.store.backend(), expected);
    if h.backend == Backend::Sqlite {
        let wal = h
            .raw
            .count("SELECT COUNT(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'")
            .await;
        assert_eq!(wal, 1, "the database is in WAL mode");
    }
    h.store.ping().await.unwrap();
    let report = h.store.verify_chain().await.unwrap();
    assert!(report.ok);
    assert_eq!(report.events, 0);
    assert_eq!(report.head, GENESIS_HASH);
    assert_eq!(h.store.next_expiry().await.unwrap(), None);
    assert!(h.store.tokens().await.unwrap().is_empty());
    // Opening an already migrated database again is fine.
    let again = SqlStore::open(&h.url, OpenMode::Serve).await.unwrap();
    again.close().await;
}

async fn action_round_trip(h: Harness) {
    let rec = held(
        "act_01",
        &agent("ci-bot"),
        &["dba", "sre"],
        now() + minutes(15),
    );
    let events = insert(&h, &rec).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].seq, events[0].prev_hash.as_str()),
        (1, GENESIS_HASH)
    );
    assert_eq!(h.store.action(&rec.id).await.unwrap(), Some(rec.clone()));

    let approved = next_version(&rec, |r| {
        r.status = Status::Approved;
        r.decided_at = Some(now());
        r.grant_until = Some(now() + minutes(10));
        if let Some(hold) = r.hold.as_mut() {
            hold.reviews.push(Review {
                reviewer: user("bob"),
                decision: Decision::Approve,
                comment: "ok — looks right ✓".into(),
                channel: "slack".into(),
                groups: vec!["dba".into()],
                at: now(),
            });
        }
    });
    let events = h
        .store
        .apply(update(&approved, 1, EventType::HoldApproved))
        .await
        .unwrap();
    assert_eq!(events[0].seq, 2);
    assert_eq!(h.store.action(&rec.id).await.unwrap(), Some(approved));
    assert_eq!(
        h.store
            .action(&ActionId("act_missing".into()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(h.store.count_by_status(Status::Approved).await.unwrap(), 1);
    assert_eq!(h.store.count_by_status(Status::Pending).await.unwrap(), 0);
}

async fn stale_update_conflicts_and_changes_nothing(h: Harness) {
    let rec = held("act_01", &agent("ci-bot"), &["dba"], now() + minutes(15));
    insert(&h, &rec).await;
    let approved = next_version(&rec, |r| r.status = Status::Approved);
    h.store
        .apply(update(&approved, 1, EventType::HoldApproved))
        .await
        .unwrap();
    let before = all_events(&h).await;
    assert_eq!(before.len(), 2);

    // A second reviewer who read version 1 loses.
    let rejected = next_version(&rec, |r| r.status = Status::Rejected);
    let err = h
        .store
        .apply(update(&rejected, 1, EventType::HoldRejected))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // A version that does not move by exactly one is refused too.
    let skipped = next_version(&next_version(&approved, |_| {}), |_| {});
    let err = h
        .store
        .apply(update(&skipped, 2, EventType::HoldRejected))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    // And so is a second insert of the same id.
    let err = h
        .store
        .apply(Change::new(vec![Op::InsertAction(rec.clone())], vec![]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert_eq!(
        h.store.action(&rec.id).await.unwrap(),
        Some(approved.clone())
    );
    assert_eq!(all_events(&h).await, before);
    // The chain continues from where it was.
    let events = h
        .store
        .apply(update(
            &next_version(&approved, |r| r.status = Status::Executed),
            2,
            EventType::ActionReleased,
        ))
        .await
        .unwrap();
    assert_eq!(events[0].seq, 3);
    assert_eq!(events[0].prev_hash, before[1].hash);
    assert!(h.store.verify_chain().await.unwrap().ok);
}

async fn a_failing_change_leaves_the_rest_of_its_batch_alone(h: Harness) {
    let base = held("act_base", &agent("ci-bot"), &["dba"], now() + minutes(15));
    insert(&h, &base).await;

    // Hold the writer up while the changes queue, so that the writer takes change 0 alone
    // and then changes 1 to 49, the bad one among them, as one batch.
    let lock = h.hold_write_lock().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        if i == 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let store = h.store.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            let change = if i == 25 {
                // Its first op would succeed; its second is stale (the stored version is
                // 1), so neither may remain.
                let mut bad = next_version(&base, |r| r.status = Status::Approved);
                bad.version = 8;
                let mut change = update(&bad, 7, EventType::HoldApproved);
                let extra = record("act_bad", &agent("ci-bot"), Status::Allowed);
                change.ops.insert(0, Op::InsertAction(extra));
                change
            } else {
                let rec = record(&format!("act_{i:03}"), &agent("ci-bot"), Status::Allowed);
                Change::new(
                    vec![Op::InsertAction(rec.clone())],
                    vec![event(
                        EventType::ActionAllowed,
                        Some(&rec.id),
                        json!({"i": i}),
                    )],
                )
            };
            (i, store.apply(change).await)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.release().await;
    let mut returned = Vec::new();
    for task in tasks {
        let (i, outcome) = task.await.unwrap();
        if i == 25 {
            assert!(
                matches!(outcome, Err(StoreError::Conflict(_))),
                "{outcome:?}"
            );
        } else {
            let events = outcome.unwrap();
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].data, json!({"i": i}));
            returned.extend(events);
        }
    }
    for i in (0..50).filter(|i| *i != 25) {
        let id = ActionId(format!("act_{i:03}"));
        assert!(
            h.store.action(&id).await.unwrap().is_some(),
            "{id} is missing"
        );
    }
    assert_eq!(h.store.action(&base.id).await.unwrap(), Some(base));
    let bad = ActionId("act_bad".into());
    assert_eq!(
        h.store.action(&bad).await.unwrap(),
        None,
        "the bad change was rolled back"
    );

    let stored = all_events(&h).await;
    assert_eq!(stored.len(), 50);
    let seqs: Vec<i64> = stored.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    assert!(
        stored
            .iter()
            .all(|e| e.event_type != EventType::HoldApproved)
    );
    // What each caller was told is exactly what was stored.
    returned.sort_by_key(|e| e.seq);
    assert_eq!(returned.as_slice(), &stored[1..]);
    let report = h.store.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 50);
}

async fn events_chain_with_consecutive_seqs(h: Harness) {
    let loaded = h
        .store
        .apply(Change::new(
            vec![],
            vec![event(EventType::PolicyLoaded, None, json!({"policies": 3}))],
        ))
        .await
        .unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        (loaded[0].seq, loaded[0].prev_hash.as_str()),
        (1, GENESIS_HASH)
    );

    let rec = held("act_01", &agent("ci-bot"), &["dba"], now() + minutes(15));
    let three = h
        .store
        .apply(Change::new(
            vec![Op::InsertAction(rec.clone())],
            vec![
                event(
                    EventType::ActionSubmitted,
                    Some(&rec.id),
                    json!({"nested": {"a": [1, 2, null]}}),
                ),
                event(
                    EventType::HoldCreated,
                    Some(&rec.id),
                    json!({"approvers": ["dba"]}),
                ),
                event(
                    EventType::ActionDenied,
                    None,
                    json!("a string, with ünïcode"),
                ),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        three.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(three[0].prev_hash, loaded[0].hash);
    assert_eq!(three[1].prev_hash, three[0].hash);
    assert_eq!(three[2].prev_hash, three[1].hash);

    // A change with nothing in it is fine and adds nothing.
    assert!(h.store.apply(Change::default()).await.unwrap().is_empty());

    // Events read back exactly as they were returned, page by page.
    let first = h.store.audit_events(0, 2).await.unwrap();
    let rest = h.store.audit_events(2, 10).await.unwrap();
    assert_eq!(
        first.as_slice(),
        [loaded[0].clone(), three[0].clone()].as_slice()
    );
    assert_eq!(rest.as_slice(), &three[1..]);
    assert!(h.store.audit_events(4, 10).await.unwrap().is_empty());

    let report = h.store.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 4);
    assert_eq!(report.head, three[2].hash);
}

async fn verification_pages_through_long_chains(h: Harness) {
    let events = (1..=1200)
        .map(|i| event(EventType::PolicyLoaded, None, json!({"i": i})))
        .collect();
    let chained = h.store.apply(Change::new(vec![], events)).await.unwrap();
    assert_eq!(chained.last().map(|e| e.seq), Some(1200));
    let report = h.store.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 1200);
    // A break on the second page is found there.
    h.raw
        .exec(r#"UPDATE audit SET data = '{"i":0}' WHERE seq = 1100"#)
        .await;
    let report = h.store.verify_chain().await.unwrap();
    assert_eq!(
        (report.ok, report.bad_seq),
        (false, Some(1100)),
        "{report:?}"
    );
}

async fn two_stores_on_one_database_share_one_chain(h: Harness) {
    // Two gateways (replicas, on PostgreSQL) writing at once serialize on the chain lock.
    let second = SqlStore::open(&h.url, OpenMode::Serve).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 {
            h.store.clone()
        } else {
            second.clone()
        };
        tasks.push(tokio::spawn(async move {
            let ev = event(EventType::PolicyLoaded, None, json!({"i": i}));
            store.apply(Change::new(vec![], vec![ev])).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    second.close().await;
    let report = h.store.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 40);
}

async fn listing_filters(h: Harness) {
    let a = agent("ci-bot");
    let b = agent("other-bot");
    let alice = user("alice");
    let t = now() + minutes(15);
    let mut approved = held("act_0007", &a, &["ops"], t);
    approved.status = Status::Approved;
    let records = vec![
        record("act_0001", &a, Status::Allowed),
        held("act_0002", &a, &["dba"], t),
        held("act_0003", &b, &["sre", "dba"], t),
        held("act_0004", &b, &["sre"], t),
        record("act_0005", &b, Status::Denied),
        held("act_0006", &alice, &["DBA"], t),
        approved,
    ];
    for rec in &records {
        insert(&h, rec).await;
    }
    let list = |filter: ActionFilter| {
        let store = h.store.clone();
        async move { store.actions(&filter).await.unwrap() }
    };
    let all = ActionFilter {
        limit: 100,
        ..ActionFilter::default()
    };

    assert_eq!(
        ids(&list(all.clone()).await),
        [
            "act_0007", "act_0006", "act_0005", "act_0004", "act_0003", "act_0002", "act_0001"
        ]
    );
    assert_eq!(
        list(all.clone()).await[6],
        records[0],
        "records round-trip in listings"
    );
    let pending = ActionFilter {
        status: Some(Status::Pending),
        ..all.clone()
    };
    assert_eq!(
        ids(&list(pending.clone()).await),
        ["act_0006", "act_0004", "act_0003", "act_0002"]
    );
    let mine = ActionFilter {
        requester: Some(a.clone()),
        ..all.clone()
    };
    assert_eq!(ids(&list(mine).await), ["act_0007", "act_0002", "act_0001"]);
    // Group matching is exact: not `DBA`, and `db` is not a prefix match.
    let dba = ActionFilter {
        reviewer_groups: vec!["dba".into()],
        ..all.clone()
    };
    assert_eq!(ids(&list(dba).await), ["act_0003", "act_0002"]);
    let odd = ActionFilter {
        reviewer_groups: vec!["db".into(), "%".into(), "_ba".into()],
        ..all.clone()
    };
    assert!(list(odd).await.is_empty());
    // Requested by b, or reviewable by ops.
    let either = ActionFilter {
        requester: Some(b.clone()),
        reviewer_groups: vec!["ops".into()],
        ..all.clone()
    };
    assert_eq!(
        ids(&list(either).await),
        ["act_0007", "act_0005", "act_0004", "act_0003"]
    );
    // The same name as a user is someone else.
    let user_named_ci_bot = ActionFilter {
        requester: Some(user("ci-bot")),
        ..all.clone()
    };
    assert!(list(user_named_ci_bot).await.is_empty());
    let pending_for_sre_or_mine = ActionFilter {
        requester: Some(a.clone()),
        reviewer_groups: vec!["sre".into()],
        ..pending.clone()
    };
    assert_eq!(
        ids(&list(pending_for_sre_or_mine).await),
        ["act_0004", "act_0003", "act_0002"]
    );

    // Paging with the cursor.
    let page = |before: Option<&str>| ActionFilter {
        before: before.map(|id| ActionId(id.into())),
        limit: 2,
        ..pending.clone()
    };
    assert_eq!(ids(&list(page(None)).await), ["act_0006", "act_0004"]);
    assert_eq!(
        ids(&list(page(Some("act_0004"))).await),
        ["act_0003", "act_0002"]
    );
    assert!(list(page(Some("act_0002"))).await.is_empty());
    assert!(
        list(ActionFilter::default()).await.is_empty(),
        "limit 0 lists nothing"
    );
}

async fn expiry_queries(h: Harness) {
    let t0 = now();
    let a = agent("ci-bot");
    assert_eq!(h.store.next_expiry().await.unwrap(), None);
    let p1 = held("act_01", &a, &["dba"], t0 + minutes(10));
    let p2 = held("act_02", &a, &["dba"], t0 + minutes(5));
    let p3 = held("act_03", &a, &["dba"], t0 + minutes(20));
    let mut decided = held("act_04", &a, &["dba"], t0 + minutes(1));
    decided.status = Status::Rejected;
    for rec in [&p1, &p2, &p3, &decided] {
        insert(&h, rec).await;
    }
    let micros = |t: holdpoint_core::Timestamp| holdpoint_core::audit::truncate_to_micros(t);

    assert_eq!(
        h.store.next_expiry().await.unwrap(),
        Some(micros(t0 + minutes(5)))
    );
    assert!(h.store.due_for_expiry(t0, 10).await.unwrap().is_empty());
    let due = h.store.due_for_expiry(t0 + minutes(10), 10).await.unwrap();
    assert_eq!(due, vec![p2.clone(), p1.clone()]);
    assert_eq!(
        ids(&h.store.due_for_expiry(t0 + minutes(30), 1).await.unwrap()),
        ["act_02"]
    );

    let expired = next_version(&p2, |r| r.status = Status::Expired);
    h.store
        .apply(update(&expired, 1, EventType::HoldExpired))
        .await
        .unwrap();
    assert_eq!(
        h.store.next_expiry().await.unwrap(),
        Some(micros(t0 + minutes(10)))
    );
    assert_eq!(
        ids(&h.store.due_for_expiry(t0 + minutes(30), 10).await.unwrap()),
        ["act_01", "act_03"]
    );
}

async fn grants_and_single_use_approvals(h: Harness) {
    let t = now();
    let a = agent("ci-bot");
    let mut window = record("act_01", &a, Status::Approved);
    window.grant_until = Some(t + minutes(10));
    let mut single = record("act_02", &a, Status::Approved);
    single.digest = "sha256:same".into();
    single.approval_until = Some(t + minutes(15));
    let mut pending_same = held("act_03", &a, &["dba"], t + minutes(15));
    pending_same.digest = "sha256:same".into();
    let mut other_agents = record("act_04", &agent("other-bot"), Status::Approved);
    other_agents.digest = "sha256:theirs".into();
    other_agents.approval_until = Some(t + minutes(15));
    // Approved by an older version: no approval_until, so it counts as lapsed.
    let mut legacy = record("act_05", &a, Status::Approved);
    legacy.digest = "sha256:legacy".into();
    for rec in [&window, &single, &pending_same, &other_agents, &legacy] {
        insert(&h, rec).await;
    }

    let kind = window.kind.clone();
    let res = window.resource.clone();
    let grant = |p: holdpoint_core::Principal, k: &str, r: &str, env: &str, at| {
        let store = h.store.clone();
        let (k, r, env) = (k.to_string(), r.to_string(), env.to_string());
        async move { store.window_grants(&p, &k, &r, &env, at).await.unwrap() }
    };
    assert_eq!(
        grant(a.clone(), &kind, &res, "prod", t).await,
        vec![window.clone()]
    );
    assert!(
        grant(a.clone(), &kind, &res, "prod", t + minutes(10))
            .await
            .is_empty(),
        "the window has closed"
    );
    assert!(
        grant(a.clone(), &kind, &res, "staging", t).await.is_empty(),
        "a window is bound to its environment"
    );
    assert!(
        grant(a.clone(), "db.read", &res, "prod", t)
            .await
            .is_empty()
    );
    assert!(
        grant(a.clone(), &kind, "postgres/dev", "prod", t)
            .await
            .is_empty()
    );
    assert!(
        grant(agent("other-bot"), &kind, &res, "prod", t)
            .await
            .is_empty()
    );

    let unused = |p: holdpoint_core::Principal, digest: &str, at| {
        let store = h.store.clone();
        let digest = digest.to_string();
        async move { store.unused_approvals(&p, &digest, at).await.unwrap() }
    };
    assert_eq!(
        unused(a.clone(), "sha256:same", t).await,
        vec![single.clone()]
    );
    assert!(
        unused(a.clone(), "sha256:same", t + minutes(15))
            .await
            .is_empty(),
        "an unused approval lapses"
    );
    assert!(unused(a.clone(), "sha256:legacy", t).await.is_empty());
    assert!(unused(a.clone(), "sha256:theirs", t).await.is_empty());
    assert!(
        unused(agent("other-bot"), "sha256:same", t)
            .await
            .is_empty()
    );
    // A window grant is not a single-use approval.
    assert!(unused(a.clone(), &window.digest, t).await.is_empty());

    let consumed = next_version(&single, |r| r.consumed_by = Some(ActionId("act_09".into())));
    h.store
        .apply(update(&consumed, 1, EventType::ActionConsumed))
        .await
        .unwrap();
    assert!(unused(a.clone(), "sha256:same", t).await.is_empty());
    assert_eq!(h.store.count_pending_by(&a).await.unwrap(), 1);
    assert_eq!(
        h.store.count_pending_by(&agent("other-bot")).await.unwrap(),
        0
    );
}

fn token(name: &str, secret: &str) -> TokenRecord {
    TokenRecord {
        name: name.into(),
        kind: PrincipalKind::Agent,
        groups: vec!["agents".into(), "deployers".into()],
        owner: Some("alice".into()),
        hash: hash_token(secret),
        created_at: holdpoint_core::audit::truncate_to_micros(now()),
        expires_at: Some(holdpoint_core::audit::truncate_to_micros(
            now() + minutes(60),
        )),
        revoked_at: None,
    }
}

async fn tokens_insert_conflict_revoke_and_lookup(h: Harness) {
    let created = |t: &TokenRecord| {
        Change::new(
            vec![Op::InsertToken(t.clone())],
            vec![event(
                EventType::TokenCreated,
                None,
                json!({"name": t.name}),
            )],
        )
    };
    let first = token("ci-bot", "hp_first-secret");
    h.store.apply(created(&first)).await.unwrap();
    assert_eq!(
        h.store.token_by_hash(&first.hash).await.unwrap(),
        Some(first.clone())
    );
    // Only the hash is stored: the raw token finds nothing and appears nowhere.
    assert_eq!(
        h.store.token_by_hash("hp_first-secret").await.unwrap(),
        None
    );
    let leaks = h
        .raw
        .count("SELECT COUNT(*) FROM tokens WHERE hash LIKE '%first-secret%' OR name LIKE '%first-secret%' OR groups LIKE '%first-secret%'")
        .await;
    assert_eq!(leaks, 0);

    let same_name = token("ci-bot", "hp_second-secret");
    let err = h.store.apply(created(&same_name)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let same_hash = token("another-bot", "hp_first-secret");
    let err = h.store.apply(created(&same_hash)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        all_events(&h).await.len(),
        1,
        "refused changes write no events"
    );

    let at = holdpoint_core::audit::truncate_to_micros(now());
    let revoke = |name: &str| {
        Change::new(
            vec![Op::RevokeToken {
                name: name.into(),
                at,
            }],
            vec![event(EventType::TokenRevoked, None, json!({"name": name}))],
        )
    };
    h.store.apply(revoke("ci-bot")).await.unwrap();
    let revoked = h.store.token_by_hash(&first.hash).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    assert_eq!(
        h.store.token_by_name("ci-bot").await.unwrap(),
        None,
        "only tokens not revoked"
    );
    for name in ["ci-bot", "nobody"] {
        let err = h.store.apply(revoke(name)).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    }

    // Once revoked, the name is free again.
    h.store.apply(created(&same_name)).await.unwrap();
    assert_eq!(
        h.store.token_by_name("ci-bot").await.unwrap(),
        Some(same_name.clone())
    );
    let all = h.store.tokens().await.unwrap();
    assert_eq!(all, vec![revoked, same_name]);
    assert_eq!(all_events(&h).await.len(), 3);
}

async fn tamper_edited_data_is_found(h: Harness) {
    five_events(&h).await;
    h.raw
        .exec(r#"UPDATE audit SET data = '{"i":99}' WHERE seq = 3"#)
        .await;
    let report = h.store.verify_chain().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.bad_seq, Some(3), "{report:?}");
}

async fn tamper_deleted_event_is_found(h: Harness) {
    five_events(&h).await;
    h.raw.exec("DELETE FROM audit WHERE seq = 3").await;
    let report = h.store.verify_chain().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.bad_seq, Some(3), "{report:?}");
}

async fn tamper_swapped_seqs_are_found(h: Harness) {
    five_events(&h).await;
    h.raw
        .exec(
            "UPDATE audit SET seq = -1 WHERE seq = 2; \
             UPDATE audit SET seq = 2 WHERE seq = 4; \
             UPDATE audit SET seq = 4 WHERE seq = -1;",
        )
        .await;
    let report = h.store.verify_chain().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.bad_seq, Some(2), "{report:?}");
}

async fn tamper_unreadable_or_slipped_in_events_are_found(h: Harness) {
    five_events(&h).await;
    // An event slipped in before the first one.
    h.raw
        .exec(
            "INSERT INTO audit (seq, time, type, actor_kind, actor_name, actor_channel, action_id, data, prev_hash, hash) \
             SELECT 0, time, type, actor_kind, actor_name, actor_channel, action_id, data, prev_hash, hash \
             FROM audit WHERE seq = 1",
        )
        .await;
    let report = h.store.verify_chain().await.unwrap();
    assert_eq!((report.ok, report.bad_seq), (false, Some(0)), "{report:?}");
    h.raw.exec("DELETE FROM audit WHERE seq = 0").await;
    assert!(h.store.verify_chain().await.unwrap().ok);

    // Data that is no longer JSON, and a type that no longer exists.
    h.raw
        .exec("UPDATE audit SET data = 'not json' WHERE seq = 4")
        .await;
    let report = h.store.verify_chain().await.unwrap();
    assert_eq!((report.ok, report.bad_seq), (false, Some(4)), "{report:?}");
    h.raw
        .exec("UPDATE audit SET type = 'action.approved.by.magic' WHERE seq = 2")
        .await;
    let report = h.store.verify_chain().await.unwrap();
    assert_eq!((report.ok, report.bad_seq), (false, Some(2)), "{report:?}");
}

async fn acknowledged_changes_survive_reopening(h: Harness) {
    let rec = held("act_01", &agent("ci-bot"), &["dba"], now() + minutes(15));
    insert(&h, &rec).await;
    // Committed before it was acknowledged: another store on the same database sees it
    // while the first is still open.
    let reader = SqlStore::open(&h.url, OpenMode::Inspect).await.unwrap();
    assert_eq!(reader.action(&rec.id).await.unwrap(), Some(rec.clone()));
    let err = reader.apply(Change::default()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_)),
        "inspect does not write: {err:?}"
    );
    reader.close().await;

    h.store.close().await;
    let reopened = SqlStore::open(&h.url, OpenMode::Serve).await.unwrap();
    assert_eq!(reopened.action(&rec.id).await.unwrap(), Some(rec.clone()));
    let events = reopened
        .apply(Change::new(
            vec![],
            vec![event(EventType::PolicyLoaded, None, json!({}))],
        ))
        .await
        .unwrap();
    assert_eq!(events[0].seq, 2);
    let report = reopened.verify_chain().await.unwrap();
    assert!(report.ok && report.events == 2, "{report:?}");
    reopened.close().await;

    // An auditor's copy of the file alone (closing checkpointed the WAL into it) verifies.
    if let Some(path) = h.url.strip_prefix("sqlite://") {
        let copy = std::path::Path::new(path).with_file_name("copy.db");
        std::fs::copy(path, &copy).unwrap();
        let inspected = SqlStore::open(&format!("sqlite://{}", copy.display()), OpenMode::Inspect)
            .await
            .unwrap();
        let report = inspected.verify_chain().await.unwrap();
        assert!(report.ok && report.events == 2, "{report:?}");
        assert_eq!(inspected.action(&rec.id).await.unwrap(), Some(rec));
        inspected.close().await;
    }
}

async fn inspect_needs_an_existing_database(h: Harness) {
    let url = h.fresh_url().await;
    let err = SqlStore::open(&url, OpenMode::Inspect).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    if let Some(path) = url.strip_prefix("sqlite://") {
        assert!(
            !std::path::Path::new(path).exists(),
            "inspect created {path}"
        );
        assert!(!std::path::Path::new(path).parent().unwrap().exists());
    }
    // Serve creates it, directories and all; then it can be inspected.
    let created = SqlStore::open(&url, OpenMode::Serve).await.unwrap();
    created.close().await;
    let inspected = SqlStore::open(&url, OpenMode::Inspect).await.unwrap();
    assert!(inspected.verify_chain().await.unwrap().ok);
    inspected.close().await;

    let err = SqlStore::open("mysql://localhost/holdpoint", OpenMode::Serve)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

async fn unavailable_when_the_database_is_gone(h: Harness) {
    let rec = record("act_01", &agent("ci-bot"), Status::Allowed);
    insert(&h, &rec).await;
    h.drop_database().await;

    let next = record("act_02", &agent("ci-bot"), Status::Allowed);
    let err = h
        .store
        .apply(Change::new(vec![Op::InsertAction(next)], vec![]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = h.store.action(&rec.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = h.store.verify_chain().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    h.store.close().await;
    let err = h.store.apply(Change::default()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = h.store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    h.store.close().await;
}

async fn unavailable_while_another_writer_holds_the_lock(h: Harness) {
    insert(&h, &record("act_01", &agent("ci-bot"), Status::Allowed)).await;
    let ev = || {
        Change::new(
            vec![],
            vec![event(EventType::PolicyLoaded, None, json!({}))],
        )
    };

    let lock = h.hold_write_lock().await;
    let started = Instant::now();
    let err = h.store.apply(ev()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "gave up after {:?}",
        started.elapsed()
    );
    lock.release().await;

    // Nothing of the refused batch remains, and the chain goes on.
    let events = h.store.apply(ev()).await.unwrap();
    assert_eq!(events[0].seq, 2);
    assert!(h.store.verify_chain().await.unwrap().ok);
}

#[tokio::test]
async fn an_in_memory_sqlite_store_works_for_tests() {
    let store = SqlStore::open("sqlite::memory:", OpenMode::Serve)
        .await
        .unwrap();
    let rec = record("act_01", &agent("ci-bot"), Status::Allowed);
    let change = Change::new(
        vec![Op::InsertAction(rec.clone())],
        vec![event(EventType::ActionAllowed, Some(&rec.id), json!({}))],
    );
    assert_eq!(store.apply(change).await.unwrap()[0].seq, 1);
    assert_eq!(store.action(&rec.id).await.unwrap(), Some(rec));
    assert!(store.verify_chain().await.unwrap().ok);
    store.close().await;
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_and_says_why() {
    let err = SqlStore::open(
        "postgres://postgres:secret@127.0.0.1:1/none",
        OpenMode::Serve,
    )
    .await
    .unwrap_err();
    let StoreError::Unavailable(msg) = err else {
        panic!("expected unavailable, got {err:?}");
    };
    assert!(msg.contains("cannot connect to postgres"), "{msg}");
    assert!(!msg.contains("secret"), "the password leaked: {msg}");
}
