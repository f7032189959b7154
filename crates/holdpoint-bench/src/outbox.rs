//! A stand-in for Slack's Web API and for webhook receivers that answers at once, and the
//! time from a hold's submission to its `chat.postMessage` arriving at the stand-in, over
//! N holds submitted one at a time.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Default)]
struct Seen {
    /// When each action's message arrived.
    posted: Mutex<HashMap<String, Instant>>,
    arrived: Notify,
}

async fn slack(
    State(seen): State<Arc<Seen>>,
    Path(method): Path<String>,
    body: Bytes,
) -> Json<Value> {
    if method == "chat.postMessage" {
        let text = String::from_utf8_lossy(&body);
        if let Some(start) = text.find("act_") {
            let id: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            seen.posted
                .lock()
                .unwrap()
                .entry(id)
                .or_insert_with(Instant::now);
            seen.arrived.notify_waiters();
        }
    }
    Json(json!({"ok": true, "channel": "C_BENCH", "ts": "1700000000.000100"}))
}

async fn webhook() -> &'static str {
    ""
}

pub async fn slack_latency(
    url: &str,
    port: u16,
    agent: Option<&str>,
    holds: usize,
    serve_secs: u64,
) -> anyhow::Result<()> {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/api/{method}", axum::routing::post(slack))
        .route("/hooks/{name}", axum::routing::post(webhook))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    if holds == 0 {
        tokio::time::sleep(Duration::from_secs(serve_secs)).await;
        return Ok(());
    }
    let agent = agent.ok_or_else(|| anyhow::anyhow!("--agent is needed with --holds"))?;
    let http = reqwest::Client::new();
    let mut times = Vec::with_capacity(holds);
    for i in 0..holds {
        let body = json!({"kind": "db.ddl", "resource": "postgres/prod/customers", "environment": "prod",
                          "params": {"sql": "CREATE INDEX", "i": i, "run": super::run_id().to_string()}});
        let started = Instant::now();
        let answer: Value = http
            .post(format!("{url}/v1/actions"))
            .bearer_auth(agent)
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let id = answer["id"].as_str().unwrap_or_default().to_string();
        anyhow::ensure!(answer["status"] == "pending", "not held: {answer}");
        let arrived = loop {
            let waiting = seen.arrived.notified();
            if let Some(at) = seen.posted.lock().unwrap().get(&id) {
                break *at;
            }
            tokio::time::timeout(Duration::from_secs(30), waiting)
                .await
                .map_err(|_| anyhow::anyhow!("no chat.postMessage for {id} within 30 s"))?;
        };
        // From the submit sent, so the figure includes the submit's own round trip: the
        // message may arrive before the agent has its answer.
        times.push(arrived.saturating_duration_since(started).as_secs_f64() * 1000.0);
    }
    let (p50, p99, max) = super::summary(times);
    println!(
        "submit of a hold sent → its chat.postMessage at the stand-in: holds={holds} p50_ms={p50:.2} p99_ms={p99:.2} max_ms={max:.2}"
    );
    Ok(())
}
