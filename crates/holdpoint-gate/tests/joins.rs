//! Where a hold is waited on, and what an approval passes across surfaces (issue 19):
//! the digest covers the surface and the pin (`context.pin`, an MCP tool's fingerprint),
//! so a hold opened through the API with wording the agent chose is never joined by a
//! proxy's call, nor its approval used by one; a repeat on the same surface joins and is
//! audited (`hold.joined`); a `@grant` window passes only the same surface and pin.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::digest::PIN_KEY;
use holdpoint_core::{ActionRequest, Decision, EventType, PrincipalKind, Status};
use holdpoint_gate::SurfaceContext;
use holdpoint_gate::testing::TestGate;
use serde_json::{Map, Value, json};

const POLICY: &str = r#"
@id("writes") @hold("A file write") @approvers("sre")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/fs/write_file");
@id("deploys") @hold("Deploy") @approvers("sre") @grant("10m")
permit(principal, action == Action::"deploy.run", resource);
"#;

fn write(path: &str) -> ActionRequest {
    ActionRequest {
        kind: "mcp.call".into(),
        resource: "mcp/fs/write_file".into(),
        environment: String::new(),
        params: json!({"path": path, "content": "x"}),
        justification: String::new(),
    }
}

fn pinned(pin: &str) -> Option<Map<String, Value>> {
    let mut m = Map::new();
    m.insert(PIN_KEY.into(), json!(pin));
    Some(m)
}

/// The MCP proxy: it executes the call itself.
fn mcp(pin: &str) -> SurfaceContext {
    SurfaceContext {
        surface: "mcp".into(),
        extra: pinned(pin),
        executes: true,
    }
}

#[tokio::test]
async fn a_hold_opened_through_the_api_is_neither_joined_nor_used_by_a_proxy_call() {
    let w = TestGate::with_policies(POLICY).build().await;
    let bot = w.token("claude", PrincipalKind::Agent, &[]).await.1;
    let sre = w.token("sam", PrincipalKind::User, &["sre"]).await.1;
    let mut decoy_request = write("/etc/cron.d/x");
    decoy_request.justification = "rotating a log file, harmless".into();
    let decoy = w
        .gate
        .submit(&bot, decoy_request, SurfaceContext::named("api"))
        .await
        .unwrap();
    assert_eq!(decoy.status, Status::Pending);
    let call = w
        .gate
        .submit(&bot, write("/etc/cron.d/x"), mcp("sha256:a"))
        .await
        .unwrap();
    assert_eq!(call.status, Status::Pending);
    assert_ne!(call.id, decoy.id, "the proxy's call joined the API's hold");
    assert_ne!(call.digest, decoy.digest);
    // Approved, the API's hold passes nothing on the proxy.
    w.gate
        .review(&sre, &decoy.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    let again = w
        .gate
        .submit(&bot, write("/etc/cron.d/x"), mcp("sha256:a"))
        .await
        .unwrap();
    assert_eq!(again.status, Status::Pending, "{again:?}");
    assert_eq!(again.id, call.id);
}

#[tokio::test]
async fn a_repeat_on_the_same_surface_joins_the_hold_and_is_audited() {
    let w = TestGate::with_policies(POLICY).build().await;
    let bot = w.token("claude", PrincipalKind::Agent, &[]).await.1;
    let admin = w.token("root", PrincipalKind::Admin, &[]).await.1;
    let first = w
        .gate
        .submit(&bot, write("/tmp/a"), mcp("sha256:a"))
        .await
        .unwrap();
    let repeat = w
        .gate
        .submit(&bot, write("/tmp/a"), mcp("sha256:a"))
        .await
        .unwrap();
    assert_eq!(repeat.id, first.id);
    let events = w.gate.audit_events(&admin, 0, 1000).await.unwrap();
    let joined: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == EventType::HoldJoined)
        .collect();
    assert_eq!(joined.len(), 1, "{events:?}");
    assert_eq!(joined[0].action_id.as_ref(), Some(&first.id));
    assert_eq!(joined[0].data["surface"], "mcp");
    assert_eq!(joined[0].data["principal"]["name"], "claude");
    assert_eq!(joined[0].actor.channel, "mcp");
}

#[tokio::test]
async fn an_approval_passes_only_the_tool_fingerprint_that_was_reviewed() {
    let w = TestGate::with_policies(POLICY).build().await;
    let bot = w.token("claude", PrincipalKind::Agent, &[]).await.1;
    let sre = w.token("sam", PrincipalKind::User, &["sre"]).await.1;
    let held = w
        .gate
        .submit(&bot, write("/tmp/a"), mcp("sha256:old"))
        .await
        .unwrap();
    w.gate
        .review(&sre, &held.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    let changed = w
        .gate
        .submit(&bot, write("/tmp/a"), mcp("sha256:new"))
        .await
        .unwrap();
    assert_eq!(changed.status, Status::Pending, "{changed:?}");
    let same = w
        .gate
        .submit(&bot, write("/tmp/a"), mcp("sha256:old"))
        .await
        .unwrap();
    assert_eq!(same.status, Status::Allowed, "{same:?}");
    assert_eq!(same.granted_by, Some(held.id));
}

#[tokio::test]
async fn a_grant_window_passes_only_the_same_surface_and_pin() {
    let w = TestGate::with_policies(POLICY).build().await;
    let bot = w.token("claude", PrincipalKind::Agent, &[]).await.1;
    let sre = w.token("sam", PrincipalKind::User, &["sre"]).await.1;
    let deploy = |v: &str| ActionRequest {
        kind: "deploy.run".into(),
        resource: "k8s/prod/web".into(),
        environment: "prod".into(),
        params: json!({ "version": v }),
        justification: String::new(),
    };
    // A surface whose client executes the action, with a pin.
    let client = |surface: &str, pin: &str| SurfaceContext {
        surface: surface.into(),
        extra: pinned(pin),
        executes: false,
    };
    let held = w
        .gate
        .submit(&bot, deploy("1"), client("hook", "sha256:a"))
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
        .submit(&bot, deploy("2"), client("hook", "sha256:a"))
        .await
        .unwrap();
    assert_eq!(
        next.status,
        Status::Allowed,
        "the window passes the same pin"
    );
    for (surface, pin) in [("hook", "sha256:b"), ("api", "sha256:a")] {
        let other = w
            .gate
            .submit(&bot, deploy("3"), client(surface, pin))
            .await
            .unwrap();
        assert_eq!(other.status, Status::Pending, "{surface} {pin}");
    }
    let unpinned = w
        .gate
        .submit(&bot, deploy("4"), SurfaceContext::named("hook"))
        .await
        .unwrap();
    assert_eq!(unpinned.status, Status::Pending);
}
