//! An action's resource is masked wherever it is shown (the record's `masked_resource`,
//! the audit log), and nowhere else: policy judges the raw resource, the digest binds
//! it, and a `@grant` window matches it. The masker here masks every AWS key id in a
//! resource alike, so two different actions look the same to anyone reading them; the
//! gate must still keep them apart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::digest::{Binding, action_digest};
use holdpoint_core::mask::Masker;
use holdpoint_core::{ActionRequest, Decision, EventType, PrincipalKind, Status};
use holdpoint_gate::SurfaceContext;
use holdpoint_gate::testing::TestGate;
use serde_json::{Value, json};
use std::sync::Arc;

const A: &str = "AKIAIOSFODNN7EXAMPLE";
const B: &str = "AKIAI44QH8DHBEXAMPLE";
const MARK: &str = "@aws_access_key_id:0000@";

/// Masks every segment that starts `AKIA` as one and the same mark, and `AKIA…` in
/// texts as one and the same mask: the worst collision a short fingerprint allows.
struct Colliding;

impl Masker for Colliding {
    fn mask_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.mask_text(s)),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.mask_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn mask_text(&self, text: &str) -> String {
        text.split('/')
            .map(|s| {
                if s.starts_with("AKIA") {
                    "[aws_access_key_id:0000]"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    fn mask_resource(&self, resource: &str) -> String {
        resource
            .split('/')
            .map(|s| if s.starts_with("AKIA") { MARK } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Reads of public files are held; the one file below is permitted only by its raw name,
/// which no masked resource matches.
const POLICY: &str = r#"
@id("public-reads") @hold("Read a public file") @approvers("sre")
permit(principal, action == Action::"mcp.resource",
       resource == Resource::"mcp/rec/resources/rec/data/public/AKIAIOSFODNN7EXAMPLE");
@id("public-reads-b") @hold("Read a public file") @approvers("sre")
permit(principal, action == Action::"mcp.resource",
       resource == Resource::"mcp/rec/resources/rec/data/public/AKIAI44QH8DHBEXAMPLE");
@id("exports") @hold("Export") @approvers("sre") @grant("10m")
permit(principal, action == Action::"data.export", resource in Resource::"exports");
"#;

fn read(key: &str) -> ActionRequest {
    ActionRequest {
        kind: "mcp.resource".into(),
        resource: format!("mcp/rec/resources/rec/data/public/{key}"),
        environment: String::new(),
        params: json!({"uri": format!("rec://data/public/{key}")}),
        justification: String::new(),
    }
}

/// The MCP proxy: it executes the read itself, so only the exact digest passes.
fn mcp() -> SurfaceContext {
    SurfaceContext {
        surface: "mcp".into(),
        extra: None,
        executes: true,
    }
}

#[tokio::test]
async fn a_resource_is_shown_masked_but_judged_and_bound_as_it_is() {
    let w = TestGate::with_policies(POLICY)
        .masker(Arc::new(Colliding))
        .build()
        .await;
    let bot = w.token("claude", PrincipalKind::Agent, &[]).await.1;
    let sre = w.token("sam", PrincipalKind::User, &["sre"]).await.1;
    let admin = w.token("root", PrincipalKind::Admin, &[]).await.1;

    // Judged on the raw resource: a masked one would match no policy and be denied.
    let a = w.gate.submit(&bot, read(A), mcp()).await.unwrap();
    assert_eq!(a.status, Status::Pending, "{a:?}");
    assert_eq!(a.resource, format!("mcp/rec/resources/rec/data/public/{A}"));
    assert_eq!(
        a.masked_resource,
        format!("mcp/rec/resources/rec/data/public/{MARK}")
    );
    assert_eq!(
        a.digest,
        action_digest(
            &a.principal,
            &a.kind,
            &a.resource,
            "",
            &a.params,
            Binding {
                surface: "mcp",
                pin: None
            }
        ),
        "the digest binds the raw resource"
    );

    // Another key masks alike, and is still another action: its own hold, its own
    // digest, not a join of the first.
    let b = w.gate.submit(&bot, read(B), mcp()).await.unwrap();
    assert_eq!(b.status, Status::Pending, "{b:?}");
    assert_eq!(b.masked_resource, a.masked_resource);
    assert_ne!(b.id, a.id);
    assert_ne!(b.digest, a.digest);

    // Approved on re-check against the raw resource; the approval passes the same read
    // once, and never the other key's.
    let approved = w
        .gate
        .review(&sre, &a.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    assert_eq!(approved.status, Status::Approved, "{approved:?}");
    let other = w.gate.submit(&bot, read(B), mcp()).await.unwrap();
    assert_eq!(other.status, Status::Pending, "{other:?}");
    assert_eq!(other.id, b.id, "the other key joins its own hold");
    let once = w.gate.submit(&bot, read(A), mcp()).await.unwrap();
    assert_eq!(once.status, Status::Allowed, "{once:?}");
    assert_eq!(once.granted_by.as_ref(), Some(&a.id));
    let twice = w.gate.submit(&bot, read(A), mcp()).await.unwrap();
    assert_eq!(
        twice.status,
        Status::Pending,
        "the approval was used: {twice:?}"
    );

    // The audit log shows the masked resource only.
    let events = w.gate.audit_events(&admin, 0, 1000).await.unwrap();
    let submitted: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == EventType::ActionSubmitted)
        .collect();
    // Four submissions: the other key's repeat joined its hold (`hold.joined`).
    assert_eq!(submitted.len(), 4, "{events:?}");
    for e in &submitted {
        assert_eq!(
            e.data["resource"],
            format!("mcp/rec/resources/rec/data/public/{MARK}"),
            "{e:?}"
        );
    }
    let log = serde_json::to_string(&events).unwrap();
    assert!(!log.contains(A) && !log.contains(B), "{log}");
}

#[tokio::test]
async fn a_grant_window_passes_only_the_resource_approved_not_one_that_masks_alike() {
    let w = TestGate::with_policies(POLICY)
        .masker(Arc::new(Colliding))
        .build()
        .await;
    let bot = w.token("claude", PrincipalKind::Agent, &[]).await.1;
    let sre = w.token("sam", PrincipalKind::User, &["sre"]).await.1;
    let export = |key: &str| ActionRequest {
        kind: "data.export".into(),
        resource: format!("exports/{key}"),
        environment: String::new(),
        params: json!({}),
        justification: String::new(),
    };
    let api = || SurfaceContext::named("api");
    let first = w.gate.submit(&bot, export(A), api()).await.unwrap();
    assert_eq!(first.status, Status::Pending, "{first:?}");
    assert_eq!(first.masked_resource, format!("exports/{MARK}"));
    w.gate
        .review(&sre, &first.id, Decision::Approve, "", "api")
        .await
        .unwrap();
    let same = w.gate.submit(&bot, export(A), api()).await.unwrap();
    assert_eq!(same.status, Status::Allowed, "{same:?}");
    assert_eq!(same.granted_by.as_ref(), Some(&first.id));
    let other = w.gate.submit(&bot, export(B), api()).await.unwrap();
    assert_eq!(other.masked_resource, first.masked_resource);
    assert_eq!(other.status, Status::Pending, "{other:?}");
}
