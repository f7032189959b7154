//! Careless operator: web sessions live in the store with the timeouts they were opened
//! with. After a restart with shorter `[web]` timeouts (say, after an incident), a
//! session opened under the old ones must not outlive the new ones.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{Identity, Principal, PrincipalKind};
use holdpoint_gate::testing::TestGate;
use holdpoint_web::{Sessions, Via};
use std::time::Duration;

#[tokio::test]
async fn a_restart_with_shorter_timeouts_ends_sessions_opened_under_longer_ones() {
    let t = TestGate::with_policies(r#"permit(principal, action == Action::"db.read", resource);"#)
        .build()
        .await;
    let clock = t.clock.clone();
    let carol = Identity {
        principal: Principal::new(PrincipalKind::User, "carol"),
        groups: vec!["dba".into()],
        owner: None,
    };
    let id = {
        let before = Sessions::new(
            t.gate.clone(),
            Duration::from_secs(8 * 3600),
            Duration::from_secs(7 * 24 * 3600),
        );
        before.start(carol, Via::Oidc, None).await.unwrap()
    };
    // The operator restarts with a 15-minute idle and a 1-hour absolute timeout.
    let after = Sessions::new(
        t.restart().build().await.gate,
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
