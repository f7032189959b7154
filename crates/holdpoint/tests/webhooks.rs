//! Signed webhooks through the durable outbox, end to end: a real gateway, and a local
//! receiver that checks each Standard Webhooks signature and can be made to fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Gateway;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the receiver does and has seen.
#[derive(Default)]
struct Receiver {
    /// The status it answers with: 200 unless a test says otherwise.
    answer: Mutex<Option<StatusCode>>,
    /// Verified deliveries: (webhook-id, body).
    seen: Mutex<Vec<(String, Value)>>,
    /// Deliveries whose signature did not verify.
    forged: Mutex<u32>,
}

async fn receive(
    axum::extract::State(receiver): axum::extract::State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let key = holdpoint_webhooks::decode_secret(SECRET).unwrap();
    let expected = holdpoint_webhooks::sign(
        &key,
        &id,
        timestamp.parse().unwrap_or(0),
        std::str::from_utf8(&body).unwrap(),
    );
    if signature != expected {
        *receiver.forged.lock().unwrap() += 1;
        return (StatusCode::UNAUTHORIZED, HeaderMap::new());
    }
    let answer = receiver.answer.lock().unwrap().unwrap_or(StatusCode::OK);
    let mut out = HeaderMap::new();
    if answer == StatusCode::TOO_MANY_REQUESTS {
        out.insert("retry-after", "1".parse().unwrap());
    }
    if answer.is_success() {
        receiver
            .seen
            .lock()
            .unwrap()
            .push((id, serde_json::from_slice(&body).unwrap()));
    }
    (answer, out)
}

/// Starts the receiver on 127.0.0.1; its URL.
async fn start_receiver(receiver: Arc<Receiver>) -> String {
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn gateway(dir: &std::path::Path, url: &str) -> Gateway {
    let config = dir.join("holdpoint.toml");
    std::fs::write(
        &config,
        format!("[[webhooks]]\nname = \"siem\"\nurl = \"{url}\"\nsecret = \"SIEM_SECRET\"\n"),
    )
    .unwrap();
    Gateway::start_logged(
        &dir.join("data"),
        &["--config", config.to_str().unwrap()],
        &[("SIEM_SECRET", SECRET)],
        &dir.join(format!("log-{}", std::process::id())),
    )
}

/// Submits a production schema change (held by the starter policies) with a secret in it.
fn hold(gw: &Gateway, agent: &str, table: &str) -> String {
    gw.submit_ddl(
        agent,
        &format!("postgres/prod/{table}"),
        &["password=hunter2-Sup3r-Secret!"],
        "",
    )
}

/// Waits (up to 20 s) until `check` holds of what the receiver saw.
async fn until(receiver: &Receiver, what: &str, check: impl Fn(&[(String, Value)]) -> bool) {
    for _ in 0..200 {
        if check(&receiver.seen.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never saw {what}: {:?}", receiver.seen.lock().unwrap());
}

fn of_action<'a>(seen: &'a [(String, Value)], id: &str) -> Vec<&'a Value> {
    seen.iter()
        .map(|(_, body)| body)
        .filter(|b| b["data"]["action_id"] == id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_events_arrive_signed_and_masked() {
    let receiver = Arc::new(Receiver::default());
    let url = start_receiver(receiver.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &url);
    let agent = gw.create_token("bot", "agent", &[]);
    let id = hold(&gw, &agent, "customers");
    until(&receiver, "hold.created", |seen| {
        of_action(seen, &id).len() == 1
    })
    .await;
    let approved = gw.cli(
        &gw.admin_token(),
        &["approve", &id, "--comment", "ok for tonight"],
    );
    assert!(approved.status.success());
    until(&receiver, "hold.decided", |seen| {
        of_action(seen, &id).len() == 2
    })
    .await;
    let seen = receiver.seen.lock().unwrap().clone();
    let events = of_action(&seen, &id);
    assert_eq!(events[0]["type"], "hold.created");
    assert_eq!(events[0]["data"]["request"]["kind"], "db.ddl");
    assert_eq!(events[1]["type"], "hold.decided");
    assert_eq!(events[1]["data"]["status"], "approved");
    let all = serde_json::to_string(&seen).unwrap();
    assert!(
        !all.contains("hunter2"),
        "a raw secret reached the webhook: {all}"
    );
    assert_eq!(*receiver.forged.lock().unwrap(), 0);
    // Each delivery has its own id.
    let mut ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
    ids.dedup();
    assert_eq!(ids.len(), seen.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_retried_visibly_and_a_restart_resumes_once_each() {
    let receiver = Arc::new(Receiver::default());
    *receiver.answer.lock().unwrap() = Some(StatusCode::INTERNAL_SERVER_ERROR);
    let url = start_receiver(receiver.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &url);
    let agent = gw.create_token("bot", "agent", &[]);
    let first = hold(&gw, &agent, "orders");

    // The hold is there and reviewable while the channel fails; the failure is visible.
    let mut failing = Value::Null;
    for _ in 0..100 {
        failing = serde_json::from_str(&gw.admin_get("/v1/deliveries?undelivered=true")).unwrap();
        if failing["deliveries"][0]["attempts"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failing["undelivered"], 1, "{failing}");
    assert!(
        failing["deliveries"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{failing}"
    );
    let metrics = gw.admin_get("/metrics");
    assert!(
        metrics.contains("holdpoint_delivery_failures_total"),
        "{metrics}"
    );

    // kill -9 with the item undelivered; a second hold is queued by the new process.
    gw.crash();
    *receiver.answer.lock().unwrap() = Some(StatusCode::TOO_MANY_REQUESTS);
    let gw = gateway(dir.path(), &url);
    let second = hold(&gw, &agent, "invoices");
    *receiver.answer.lock().unwrap() = None;
    until(&receiver, "both holds", |seen| {
        of_action(seen, &first).len() == 1 && of_action(seen, &second).len() == 1
    })
    .await;
    let after: Value = serde_json::from_str(&gw.admin_get("/v1/deliveries")).unwrap();
    assert_eq!(after["undelivered"], 0, "{after}");
    // Delivered once each, however many attempts it took.
    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
}
