//! A real gateway for tests: SQLite in a temp dir, policies from text, a manual clock,
//! the axum server on 127.0.0.1:0, and a small JSON client.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{Actor, ManualClock, PrincipalKind};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{DirectoryUser, Gate, GateSettings, Limits, NewToken};
use holdpoint_policy::HoldDefaults;
use holdpoint_server::ServerLimits;
use holdpoint_store::SqlStore;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub struct Harness {
    pub base: String,
    pub gate: Arc<Gate>,
    pub clock: Arc<ManualClock>,
    pub admin: String,
    pub policy_dir: PathBuf,
    pub store: SqlStore,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Keeps the gate's folder (store and policies) for the harness's life.
    _t: TestGate,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The masker every test gateway uses, with a fixed test key.
pub fn redactor() -> holdpoint_mask::Redactor {
    holdpoint_mask::Redactor::new(&[7u8; 32], &holdpoint_mask::MaskConfig::default()).unwrap()
}

/// Test gateways do not limit request rates; the limit tests turn limits on.
pub fn settings() -> GateSettings {
    GateSettings {
        limits: Limits {
            requests_per_second: 0,
            request_burst: 0,
            pending_holds: 1000,
            long_polls: 1000,
        },
        ..GateSettings::default()
    }
}

pub fn defaults() -> HoldDefaults {
    HoldDefaults {
        approvers: vec!["admins".into()],
        expiry: Duration::from_secs(15 * 60),
        max_duration: holdpoint_policy::MAX_DURATION,
    }
}

impl Harness {
    /// A gateway whose policy folder holds one file, `policies.cedar`, with `policies`.
    pub async fn start(policies: &str) -> Harness {
        Self::start_with_users(policies, Vec::new()).await
    }

    pub async fn start_with_users(policies: &str, users: Vec<DirectoryUser>) -> Harness {
        Self::start_with(policies, users, settings(), ServerLimits::default()).await
    }

    pub async fn start_with(
        policies: &str,
        users: Vec<DirectoryUser>,
        settings: GateSettings,
        limits: ServerLimits,
    ) -> Harness {
        Self::start_full(policies, users, settings, limits, Vec::new()).await
    }

    /// A gateway whose hook endpoint marks paths inside `own` as its own files (as the app
    /// marks its data folder).
    pub async fn start_with_own_files(policies: &str, own: Vec<String>) -> Harness {
        Self::start_full(
            policies,
            Vec::new(),
            settings(),
            ServerLimits::default(),
            own,
        )
        .await
    }

    async fn start_full(
        policies: &str,
        users: Vec<DirectoryUser>,
        settings: GateSettings,
        limits: ServerLimits,
        own: Vec<String>,
    ) -> Harness {
        let t = TestGate::with_policies(policies)
            .hold_defaults(defaults())
            .users(users)
            .settings(settings)
            .masker(Arc::new(redactor()))
            .build()
            .await;
        let (gate, clock, store, policy_dir) = (
            t.gate.clone(),
            t.clock.clone(),
            t.store.clone(),
            t.policy_dir(),
        );
        let (admin, _) = gate
            .create_token(
                &Actor::system(),
                token_request("admin", PrincipalKind::Admin, &[], None),
            )
            .await
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (stop_expiry_tx, stop_expiry_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(gate.clone().run_expiry(async move {
            let mut rx = stop_expiry_rx;
            let _ = rx.wait_for(|s| *s).await;
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // The surfaces the app mounts beside the API, as the app mounts them.
        let documented = holdpoint_mcp::http::api_routes(Default::default()).merge(
            holdpoint_hook::http::routes(holdpoint_hook::http::OwnFiles(own)),
        );
        let router = holdpoint_server::router_with(gate.clone(), documented, axum::Router::new());
        tokio::spawn(holdpoint_server::serve(
            listener,
            router,
            gate.clone(),
            limits,
            async move {
                let _ = stopped.await;
                let _ = stop_expiry_tx.send(true);
            },
        ));
        Harness {
            base,
            gate,
            clock,
            admin,
            policy_dir,
            store,
            http: reqwest::Client::new(),
            stop: Some(stop),
            _t: t,
        }
    }

    /// Creates a token through the API, as the admin.
    pub async fn token(
        &self,
        name: &str,
        kind: &str,
        groups: &[&str],
        owner: Option<&str>,
    ) -> String {
        let (status, body) = self
            .post(
                &self.admin,
                "/v1/tokens",
                serde_json::json!({"name": name, "kind": kind, "groups": groups, "owner": owner}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// Another admin, created directly: through the API a new admin token is held for
    /// another admin.
    pub async fn second_admin(&self, name: &str) -> String {
        let request = token_request(name, PrincipalKind::Admin, &[], None);
        let (secret, _) = self
            .gate
            .create_token(&Actor::system(), request)
            .await
            .unwrap();
        secret
    }

    /// Revokes the token `name` as the admin; asserts it was revoked.
    pub async fn revoke(&self, name: &str) {
        let response = self
            .http
            .delete(format!("{}/v1/tokens/{name}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "revoke {name}");
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    pub async fn submit(&self, token: &str, kind: &str, resource: &str, params: Value) -> Value {
        let (status, body) = self
            .post(
                token,
                "/v1/actions",
                serde_json::json!({"kind": kind, "resource": resource, "environment": "prod",
                                   "params": params, "justification": "test"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn review(&self, token: &str, id: &str, decision: &str) -> (StatusCode, Value) {
        self.post(
            token,
            &format!("/v1/actions/{id}/reviews"),
            serde_json::json!({"decision": decision, "comment": "looked at it"}),
        )
        .await
    }

    /// Event types recorded for one action, in order.
    pub async fn events_of(&self, id: &str) -> Vec<String> {
        let events = self
            .gate
            .store_for_tests()
            .audit_events(0, 10_000)
            .await
            .unwrap();
        events
            .iter()
            .filter(|e| e.action_id.as_ref().is_some_and(|a| a.as_str() == id))
            .map(|e| e.event_type.to_string())
            .collect()
    }
}

pub fn token_request(
    name: &str,
    kind: PrincipalKind,
    groups: &[&str],
    owner: Option<&str>,
) -> NewToken {
    NewToken {
        name: name.into(),
        kind,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        owner: owner.map(String::from),
        ttl: None,
    }
}

/// The message of an error answer, or "" when there is none.
pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// Long-polls `id` as `token` in the background.
pub fn spawn_poll(h: &Harness, token: &str, id: &str) -> tokio::task::JoinHandle<Value> {
    let (http, base, token, id) = (
        h.http.clone(),
        h.base.clone(),
        token.to_string(),
        id.to_string(),
    );
    tokio::spawn(async move {
        let r = http
            .get(format!("{base}/v1/actions/{id}?wait=60s"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()
    })
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The policies most tests use.
pub const POLICIES: &str = r#"
@id("reads-pass")
permit(principal, action in Action::"db.read", resource);

@id("prod-schema-change")
@hold("Schema change in production")
@approvers("dba")
@expires("30m")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/prod");

@id("export")
@hold("Data export")
@approvers("dba, sre")
@quorum("2")
permit(principal, action == Action::"db.export", resource);

@id("separate-duty")
@hold("Privileged change")
@approvers("dba")
@separate
permit(principal, action == Action::"infra.change", resource);

@id("shell-window")
@hold("Shell session")
@approvers("dba")
@grant("10m")
permit(principal, action == Action::"shell.exec", resource);

@id("no-grants-by-agents")
@reason("agents may not change database privileges")
forbid(principal in Group::"agents", action == Action::"db.privilege", resource);

@id("privilege-pass")
permit(principal, action == Action::"db.privilege", resource);
"#;
