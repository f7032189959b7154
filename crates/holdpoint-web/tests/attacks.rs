//! Careless operator: web sessions live in the store with the timeouts they were opened
//! with. After a restart with shorter `[web]` timeouts (say, after an incident), a
//! session opened under the old ones must not outlive the new ones.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::mask::NoMasking;
use holdpoint_core::{Identity, ManualClock, Principal, PrincipalKind};
use holdpoint_gate::{Directory, Gate, GateParts, GateSettings};
use holdpoint_policy::{HoldDefaults, PolicyEngine, PolicySet, PolicySource};
use holdpoint_store::{OpenMode, SqlStore};
use holdpoint_web::{Sessions, Via};
use std::sync::Arc;
use std::time::Duration;

async fn gate(dir: &std::path::Path, clock: Arc<ManualClock>) -> Arc<Gate> {
    let defaults = HoldDefaults {
        approvers: vec!["admins".into()],
        expiry: Duration::from_secs(900),
        max_duration: holdpoint_policy::MAX_DURATION,
    };
    let source = PolicySource {
        file: "p.cedar".into(),
        text: r#"permit(principal, action == Action::"db.read", resource);"#.into(),
    };
    let set = PolicySet::compile(&[source], &defaults, None).unwrap();
    let url = format!("sqlite://{}", dir.join("hp.db").display());
    let store = SqlStore::open(&url, OpenMode::Serve).await.unwrap();
    Gate::new(GateParts {
        store: Arc::new(store),
        policy: Arc::new(PolicyEngine::new(set, defaults, None)),
        clock,
        masker: Arc::new(NoMasking),
        directory: Directory::default(),
        settings: GateSettings::default(),
    })
}

#[tokio::test]
async fn a_restart_with_shorter_timeouts_ends_sessions_opened_under_longer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::starting_now());
    let carol = Identity {
        principal: Principal::new(PrincipalKind::User, "carol"),
        groups: vec!["dba".into()],
        owner: None,
    };
    let id = {
        let before = Sessions::new(
            gate(dir.path(), clock.clone()).await,
            Duration::from_secs(8 * 3600),
            Duration::from_secs(7 * 24 * 3600),
        );
        before.start(carol, Via::Oidc, None).await.unwrap()
    };
    // The operator restarts with a 15-minute idle and a 1-hour absolute timeout.
    let after = Sessions::new(
        gate(dir.path(), clock.clone()).await,
        Duration::from_secs(15 * 60),
        Duration::from_secs(3600),
    );
    // Active every ten minutes for three hours.
    for _ in 0..18 {
        clock.advance(Duration::from_secs(600));
        if after.get(&id, true).await.unwrap().is_none() {
            return;
        }
    }
    panic!("a session opened under the old timeouts is live three hours on, past the new 1h");
}
