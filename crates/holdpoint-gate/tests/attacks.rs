//! Adversarial review of the gate as the only door: a hostile agent and a careless
//! operator try to get past the rules of DESIGN §2 by calling the gate as a surface
//! would. Each test asserts the refusal the rules demand; a test marked
//! an ignored test (`finding: …`) is an attack that succeeds today.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{
    ActionRequest, Actor, Decision, Identity, Principal, PrincipalKind, SessionVia, Status,
};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{
    DirectoryUser, GateError, GateSettings, Limits, NewSession, NewToken, Ruling, SurfaceContext,
};
use serde_json::{Value, json};
use std::time::Duration;

const POLICY: &str = r#"
@id("reads") permit(principal, action == Action::"db.read", resource);
@id("ddl") @hold("Schema change") @approvers("dba") @expires("10m")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/prod");
@id("payments") @hold("Payments schema change") @approvers("security") @expires("10m")
permit(principal, action == Action::"db.ddl", resource == Resource::"postgres/prod/payments");
@id("deploys") @hold("Deploy") @approvers("sre") @grant("10m")
permit(principal, action == Action::"deploy.run", resource);
@id("tokens") @hold("A token") @approvers("admins")
permit(principal, action in Action::"token.create", resource);
"#;

type World = TestGate;

async fn world_with(limits: Limits, users: Vec<DirectoryUser>) -> World {
    TestGate::with_policies(POLICY)
        .settings(GateSettings {
            limits,
            ..GateSettings::default()
        })
        .users(users)
        .build()
        .await
}

async fn world() -> World {
    world_with(Limits::default(), Vec::new()).await
}

fn ddl(resource: &str, sql: &str) -> ActionRequest {
    ActionRequest {
        kind: "db.ddl".into(),
        resource: resource.into(),
        environment: "prod".into(),
        params: json!({ "sql": sql }),
        justification: String::new(),
    }
}

fn proxy(extra: Option<serde_json::Map<String, Value>>) -> SurfaceContext {
    SurfaceContext {
        surface: "postgres".into(),
        extra,
        executes: true,
    }
}

fn parts(list: Value) -> Option<serde_json::Map<String, Value>> {
    let mut m = serde_json::Map::new();
    m.insert(holdpoint_gate::PARTS_KEY.into(), list);
    Some(m)
}

const SHORT: Duration = Duration::from_millis(50);

/// The hostile agent first opens a hold through the API for exactly the digest its
/// PostgreSQL statement will have (same kind, resource, environment and `{"sql": …}`),
/// but without the surface's context: only the head part is judged, so only `dba` is
/// asked. The proxy, asking for the two-table statement, is answered with that pending
/// hold (a "repeat"), and once `dba` approves it, the proxy runs the statement, which
/// also changes `payments`, for which policy wants `security`.
#[tokio::test]
async fn a_hold_opened_elsewhere_does_not_lend_its_weaker_terms_to_a_proxy_statement() {
    let w = world().await;
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let dba = w.token("alice", PrincipalKind::User, &["dba"]).await.1;
    let sql = "ALTER TABLE aaa ADD c int; ALTER TABLE payments ADD d int";
    let request = ddl("postgres/prod/aaa", sql);
    let ctx = proxy(parts(
        json!([{"kind": "db.ddl", "resource": "postgres/prod/payments"}]),
    ));
    // What the proxy's statement needs: dba and security.
    let terms = w.gate.check(&bot, &request, &ctx).unwrap();
    let groups: Vec<String> = terms
        .terms()
        .unwrap()
        .requirements
        .iter()
        .flat_map(|r| r.approvers.clone())
        .collect();
    assert!(groups.contains(&"security".to_string()), "{groups:?}");
    // The decoy, through the API: only dba.
    let decoy = w
        .gate
        .submit(&bot, request.clone(), SurfaceContext::named("api"))
        .await
        .unwrap();
    assert_eq!(decoy.status, Status::Pending);
    let mut asking = w.gate.ask(&bot, request, ctx).await.unwrap();
    assert!(matches!(asking.ruling(), Ruling::Held(_)));
    w.gate
        .review(&dba, &decoy.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    let ruling = asking.wait(SHORT).await.unwrap().clone();
    assert!(
        !matches!(ruling, Ruling::Proceed(_)),
        "the proxy ran a statement on `payments` that nobody in `security` approved: {ruling:?}"
    );
}

/// Two connections send the same held statement; one approval; both wake and resubmit at
/// once. Exactly one runs it; the other is held afresh.
#[tokio::test]
async fn two_connections_resubmitting_one_approval_run_it_once() {
    let w = world().await;
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let dba = w.token("alice", PrincipalKind::User, &["dba"]).await.1;
    let request = ddl("postgres/prod/t", "ALTER TABLE t ADD c int");
    let mut one = w
        .gate
        .ask(&bot, request.clone(), proxy(None))
        .await
        .unwrap();
    let mut two = w
        .gate
        .ask(&bot, request.clone(), proxy(None))
        .await
        .unwrap();
    let id = one.record().id.clone();
    assert_eq!(
        two.record().id,
        id,
        "the repeat is answered with the same hold"
    );
    w.gate
        .review(&dba, &id, Decision::Approve, "", "api")
        .await
        .unwrap();
    let (a, b) = tokio::join!(one.wait(SHORT), two.wait(SHORT));
    let (a, b) = (a.unwrap().clone(), b.unwrap().clone());
    let proceeded = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Ruling::Proceed(_)))
        .count();
    assert_eq!(proceeded, 1, "{a:?}\n{b:?}");
    let other = if matches!(a, Ruling::Proceed(_)) {
        &b
    } else {
        &a
    };
    assert!(
        matches!(other, Ruling::Held(r) if r.id != id),
        "the loser waits for its own approval: {other:?}"
    );
    // And a retry after a lost answer finds no approval left.
    let retry = w.gate.ask(&bot, request, proxy(None)).await.unwrap();
    assert!(matches!(retry.ruling(), Ruling::Held(_)));
}

/// The API requester's read (which hands the approval over) and a proxy's resubmission of
/// the same digest race: one of them gets it, never both.
#[tokio::test]
async fn the_api_read_and_a_proxy_resubmission_never_both_take_one_approval() {
    for api_first in [true, false] {
        let w = world().await;
        let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
        let dba = w.token("alice", PrincipalKind::User, &["dba"]).await.1;
        let request = ddl("postgres/prod/t", "ALTER TABLE t ADD c int");
        let (first, second) = if api_first {
            (SurfaceContext::named("api"), proxy(None))
        } else {
            (proxy(None), SurfaceContext::named("api"))
        };
        let mut a = w.gate.ask(&bot, request.clone(), first).await.unwrap();
        let mut b = w.gate.ask(&bot, request.clone(), second).await.unwrap();
        let id = a.record().id.clone();
        w.gate
            .review(&dba, &id, Decision::Approve, "", "api")
            .await
            .unwrap();
        let gate = w.gate.clone();
        let bot2 = bot.clone();
        let id2 = id.clone();
        let (ra, rb, read) = tokio::join!(a.wait(SHORT), b.wait(SHORT), async move {
            gate.wait(&bot2, &id2, Duration::ZERO).await
        });
        let passes = [ra.unwrap(), rb.unwrap()]
            .iter()
            .filter(|r| matches!(r, Ruling::Proceed(_)))
            .count()
            + usize::from(read.unwrap().proceed);
        assert_eq!(passes, 1, "api first: {api_first}");
    }
}

/// `@grant("10m")` opens a window for other params of the same kind and resource, but
/// never for a surface that executes the action itself: its approval is single-use and a
/// window opened through the API does not pass the proxy.
#[tokio::test]
async fn a_grant_window_never_lets_an_executing_surface_run_other_params() {
    let w = world().await;
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let sre = w.token("sam", PrincipalKind::User, &["sre"]).await.1;
    let deploy = |v: &str| ActionRequest {
        kind: "deploy.run".into(),
        resource: "k8s/prod/web".into(),
        environment: "prod".into(),
        params: json!({ "version": v }),
        justification: String::new(),
    };
    // Through the API: a window opens.
    let held = w
        .gate
        .submit(&bot, deploy("1"), SurfaceContext::named("api"))
        .await
        .unwrap();
    let approved = w
        .gate
        .review(&sre, &held.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    assert!(approved.grant_until.is_some());
    let next = w
        .gate
        .submit(&bot, deploy("2"), SurfaceContext::named("api"))
        .await
        .unwrap();
    assert_eq!(next.status, Status::Allowed, "the window passes the API");
    // The proxy, with other params or the same ones, is held.
    for v in ["3", "1"] {
        let through_proxy = w.gate.submit(&bot, deploy(v), proxy(None)).await.unwrap();
        assert_eq!(through_proxy.status, Status::Pending, "version {v}");
    }
    // Approved through the proxy: no window, one use.
    let held = w.gate.submit(&bot, deploy("3"), proxy(None)).await.unwrap();
    let approved = w
        .gate
        .review(&sre, &held.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    assert!(approved.grant_until.is_none(), "{approved:?}");
    let once = w.gate.submit(&bot, deploy("3"), proxy(None)).await.unwrap();
    assert_eq!(once.status, Status::Allowed);
    let twice = w.gate.submit(&bot, deploy("3"), proxy(None)).await.unwrap();
    assert_eq!(twice.status, Status::Pending);
}

/// A hold withdrawn (the client left) at the moment it is approved: the withdrawal loses
/// or wins, and either way the waiting surface does not run it.
#[tokio::test]
async fn a_withdrawn_hold_approved_at_the_same_moment_is_not_run() {
    for approve_first in [true, false] {
        let w = world().await;
        let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
        let dba = w.token("alice", PrincipalKind::User, &["dba"]).await.1;
        let mut asking = w
            .gate
            .ask(
                &bot,
                ddl("postgres/prod/t", "ALTER TABLE t ADD c int"),
                proxy(None),
            )
            .await
            .unwrap();
        let id = asking.record().id.clone();
        if approve_first {
            w.gate
                .review(&dba, &id, Decision::Approve, "", "api")
                .await
                .unwrap();
            asking.withdraw().await.unwrap();
        } else {
            asking.withdraw().await.unwrap();
            let late = w.gate.review(&dba, &id, Decision::Approve, "", "api").await;
            assert!(matches!(late, Err(GateError::Conflict(_))), "{late:?}");
        }
        assert!(
            matches!(asking.ruling(), Ruling::Refused { .. }),
            "{:?}",
            asking.ruling()
        );
        // A further wait does not take it either.
        let after = asking.wait(SHORT).await.unwrap();
        assert!(matches!(after, Ruling::Refused { .. }), "{after:?}");
        let record = w.gate.get(&bot, &id).await.unwrap();
        assert!(record.consumed_by.is_none(), "{record:?}");
    }
}

/// An admin never gets an action through any of the one path's steps, even one that is
/// approved and waiting to be taken: `follow` for a surface that executes refuses them.
#[tokio::test]
async fn an_admin_cannot_take_someone_elses_approval_on_the_one_path() {
    let w = world().await;
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let dba = w.token("alice", PrincipalKind::User, &["dba"]).await.1;
    let admin = w.token("root", PrincipalKind::Admin, &[]).await.1;
    let held = w
        .gate
        .submit(
            &bot,
            ddl("postgres/prod/t", "ALTER TABLE t ADD c int"),
            proxy(None),
        )
        .await
        .unwrap();
    w.gate
        .review(&dba, &held.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    for executes in [true, false] {
        match w.gate.follow(&admin, &held.id, SHORT, executes).await {
            Ok(Ruling::Proceed(r)) => panic!("an admin took it: {r:?}"),
            Ok(_) | Err(GateError::Forbidden(_)) => {}
            Err(e) => panic!("{e}"),
        }
        // Nor does a reviewer, who can see it.
        match w.gate.follow(&dba, &held.id, SHORT, executes).await {
            Ok(Ruling::Proceed(r)) => assert_ne!(
                r.granted_by.as_ref(),
                Some(&held.id),
                "a reviewer took the agent's approval"
            ),
            Ok(_) | Err(GateError::Forbidden(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let record = w.gate.get(&bot, &held.id).await.unwrap();
    assert!(
        record.consumed_by.is_none(),
        "still the agent's: {record:?}"
    );
    let mine = w
        .gate
        .submit(
            &bot,
            ddl("postgres/prod/t", "ALTER TABLE t ADD c int"),
            proxy(None),
        )
        .await
        .unwrap();
    assert_eq!(mine.status, Status::Allowed);
}

/// A user approving their own request: refused on every channel name, whatever the case
/// of their name on the review.
#[tokio::test]
async fn a_user_never_approves_their_own_request() {
    let w = world().await;
    let alice = w.token("alice", PrincipalKind::User, &["dba"]).await.1;
    let held = w
        .gate
        .submit(
            &alice,
            ddl("postgres/prod/t", "ALTER TABLE t ADD c int"),
            proxy(None),
        )
        .await
        .unwrap();
    for channel in ["api", "web", "slack", "cli"] {
        let r = w
            .gate
            .review(&alice, &held.id, Decision::Approve, "", channel)
            .await;
        assert!(
            matches!(r, Err(GateError::Forbidden(_))),
            "{channel}: {r:?}"
        );
    }
    // The same person as the identity provider spells them.
    let shouting = Identity {
        principal: Principal::new(PrincipalKind::User, "ALICE"),
        groups: vec!["dba".into()],
        owner: None,
    };
    let r = w
        .gate
        .review(&shouting, &held.id, Decision::Approve, "", "web")
        .await;
    assert!(r.is_err(), "{r:?}");
}

/// A careless operator names an agent token after a person of the `[[users]]` directory
/// (who reviews in Slack, with no token). Names are unique across kinds (DESIGN §1):
/// the token must be refused, or `alice` approves `alice`'s requests.
#[tokio::test]
async fn a_token_cannot_take_the_name_of_a_directory_person() {
    let users = vec![DirectoryUser {
        name: "alice".into(),
        groups: vec!["dba".into()],
        ..DirectoryUser::default()
    }];
    let w = world_with(Limits::default(), users).await;
    let minted = w
        .gate
        .create_token(
            &Actor::system(),
            NewToken {
                name: "Alice".into(),
                kind: PrincipalKind::Agent,
                groups: Vec::new(),
                owner: None,
                ttl: None,
            },
        )
        .await;
    if let Ok((secret, _)) = minted {
        let agent = w.gate.authenticate(&secret).await.unwrap();
        let held = w
            .gate
            .submit(
                &agent,
                ddl("postgres/prod/t", "ALTER TABLE t ADD c int"),
                proxy(None),
            )
            .await
            .unwrap();
        let person = w
            .gate
            .directory_identity(w.gate.directory().user("alice").unwrap())
            .await
            .unwrap();
        let review = w
            .gate
            .review(&person, &held.id, Decision::Approve, "", "slack")
            .await;
        panic!("the agent `alice` was created, and `alice` reviewed its hold: {review:?}");
    }
}

/// Case variants of a name and a switch between a token and a web session signed in
/// with it are one principal: one bucket.
#[tokio::test]
async fn a_rate_is_not_escaped_by_case_or_by_switching_to_a_web_session() {
    let w = world_with(
        Limits {
            requests_per_second: 1,
            request_burst: 3,
            ..Limits::default()
        },
        Vec::new(),
    )
    .await;
    let s = w.token("Bob", PrincipalKind::User, &["dba"]).await.0;
    // 1: the sign-in (counts), 2: an API request.
    let session = w
        .gate
        .open_session(NewSession {
            key: "k".repeat(64),
            identity: Identity {
                principal: Principal::new(PrincipalKind::User, "bob"),
                groups: Vec::new(),
                owner: None,
            },
            via: SessionVia::Token {
                hash: holdpoint_core::token::hash_token(&s),
            },
            csrf: "c".into(),
            idle: Duration::from_secs(600),
            absolute: Duration::from_secs(3600),
            replaces: None,
        })
        .await
        .unwrap();
    w.gate.authenticate(&s).await.unwrap();
    // 3: a page of the web session.
    assert!(
        w.gate
            .session(
                &session.key,
                Duration::from_secs(600),
                Duration::from_secs(3600)
            )
            .await
            .unwrap()
            .is_some()
    );
    // 4: over, on either surface.
    assert!(matches!(
        w.gate
            .session(
                &session.key,
                Duration::from_secs(600),
                Duration::from_secs(3600)
            )
            .await,
        Err(GateError::TooMany { .. })
    ));
    assert!(matches!(
        w.gate.authenticate(&s).await,
        Err(GateError::TooMany { .. })
    ));
    // An OIDC person under two spellings of their name is one bucket too.
    let oidc = |key: &str, name: &str| NewSession {
        key: key.repeat(64),
        identity: Identity {
            principal: Principal::new(PrincipalKind::User, name),
            groups: vec!["dba".into()],
            owner: None,
        },
        via: SessionVia::Oidc,
        csrf: "c".into(),
        idle: Duration::from_secs(600),
        absolute: Duration::from_secs(3600),
        replaces: None,
    };
    let a = w.gate.open_session(oidc("a", "Carol")).await.unwrap();
    let b = w.gate.open_session(oidc("b", "carol")).await.unwrap();
    let mut admitted = 0;
    for _ in 0..10 {
        for key in [&a.key, &b.key] {
            if w.gate
                .session(key, Duration::from_secs(600), Duration::from_secs(3600))
                .await
                .is_ok()
            {
                admitted += 1;
            }
        }
    }
    assert_eq!(admitted, 3, "one burst for `Carol` and `carol`");
}

/// A careless operator sets `request_burst = 0` with a rate: the rate still holds (a
/// burst of one), it does not turn the limit off.
#[tokio::test]
async fn a_zero_burst_with_a_rate_still_limits() {
    let w = world_with(
        Limits {
            requests_per_second: 1,
            request_burst: 0,
            ..Limits::default()
        },
        Vec::new(),
    )
    .await;
    let s = w.token("ci-bot", PrincipalKind::Agent, &[]).await.0;
    assert!(w.gate.authenticate(&s).await.is_ok());
    assert!(matches!(
        w.gate.authenticate(&s).await,
        Err(GateError::TooMany { .. })
    ));
    w.clock.advance(Duration::from_secs(1));
    assert!(w.gate.authenticate(&s).await.is_ok());
}

/// An admin ends a person's OIDC session, which withdraws the vouch: an approval they
/// gave no longer counts when the hold is released, and a review through a second,
/// still-open session of theirs does not count either.
#[tokio::test]
async fn an_ended_oidc_session_does_not_count_at_release() {
    let w = world().await;
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let admin = w.token("root", PrincipalKind::Admin, &[]).await.1;
    let carol = Identity {
        principal: Principal::new(PrincipalKind::User, "carol"),
        groups: vec!["dba".into()],
        owner: None,
    };
    let session = |key: &str| NewSession {
        key: key.repeat(64),
        identity: carol.clone(),
        via: SessionVia::Oidc,
        csrf: "c".into(),
        idle: Duration::from_secs(600),
        absolute: Duration::from_secs(3600),
        replaces: None,
    };
    let one = w.gate.open_session(session("a")).await.unwrap();
    let two = w.gate.open_session(session("b")).await.unwrap();
    let held = w
        .gate
        .submit(
            &bot,
            ddl("postgres/prod/t", "ALTER TABLE t ADD c int"),
            proxy(None),
        )
        .await
        .unwrap();
    w.gate
        .end_session_as_admin(&admin, &one.key)
        .await
        .unwrap()
        .unwrap();
    // Her other session is still open (only the vouch went): she approves through it,
    // and the release re-check does not count her.
    let still = w
        .gate
        .session(
            &two.key,
            Duration::from_secs(600),
            Duration::from_secs(3600),
        )
        .await
        .unwrap()
        .expect("still open");
    let r = w
        .gate
        .review(&still.identity, &held.id, Decision::Approve, "", "web")
        .await
        .unwrap();
    assert_eq!(
        r.status,
        Status::Pending,
        "a person whose vouch an admin withdrew approved alone"
    );
    // Once she signs in again, the provider vouches for her afresh.
    w.gate.open_session(session("c")).await.unwrap();
    let again = w.gate.get(&bot, &held.id).await.unwrap();
    assert_eq!(
        again.status,
        Status::Pending,
        "nothing is released by a sign-in"
    );
}

/// The gate is the only door: a wait far beyond any surface's cap does not panic it.
#[tokio::test]
async fn a_huge_wait_does_not_panic_the_gate() {
    let w = world().await;
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let gate = w.gate.clone();
    let task = tokio::spawn(async move {
        gate.decide(
            &bot,
            ActionRequest {
                kind: "db.read".into(),
                ..ddl("postgres/prod/t", "SELECT 1")
            },
            SurfaceContext::named("api"),
            Duration::MAX,
            std::future::pending(),
        )
        .await
    });
    let ruling = task.await.expect("decide panicked").unwrap();
    assert!(matches!(ruling, Ruling::Proceed(_)));
}

/// Odd names: control characters, other scripts, huge lengths are refused as token names,
/// and the parts list of an action cannot carry a kind of its own choosing past a deny.
#[tokio::test]
async fn odd_names_are_refused() {
    let w = world().await;
    for name in [
        "ali\u{0}ce",
        "ali\nce",
        "\u{1b}[31mroot",
        "аlice", // Cyrillic а
        "alice\u{200b}",
        &"a".repeat(65),
        "",
        "../admin",
    ] {
        let r = w
            .gate
            .create_token(
                &Actor::system(),
                NewToken {
                    name: name.into(),
                    kind: PrincipalKind::User,
                    groups: vec!["dba".into()],
                    owner: None,
                    ttl: None,
                },
            )
            .await;
        assert!(matches!(r, Err(GateError::Invalid(_))), "{name:?}: {r:?}");
    }
    // Too many parts is refused, never evaluated part by part.
    let bot = w.token("ci-bot", PrincipalKind::Agent, &[]).await.1;
    let many: Vec<Value> = (0..=holdpoint_gate::MAX_PARTS)
        .map(|i| json!({"kind": "db.read", "resource": format!("postgres/prod/t{i}")}))
        .collect();
    let r = w
        .gate
        .submit(
            &bot,
            ActionRequest {
                kind: "db.read".into(),
                ..ddl("postgres/prod/t", "SELECT 1")
            },
            proxy(parts(Value::Array(many))),
        )
        .await
        .unwrap();
    assert_eq!(r.status, Status::Denied);
}
