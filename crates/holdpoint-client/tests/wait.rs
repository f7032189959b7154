//! The remote ask-and-wait loop against a stand-in gateway: a held action is polled in
//! steps until decided, and a 429 is waited out for its `Retry-After`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use holdpoint_client::{Client, ClientError, Submission};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn action(status: &str) -> Value {
    json!({
        "id": "act_1", "status": status, "proceed": status == "approved",
        "principal": {"kind": "agent", "name": "ci-bot"},
        "kind": "db.ddl", "resource": "postgres/prod", "environment": "prod",
        "params": {}, "justification": "", "digest": "sha256:00", "surface": "api",
        "verdict": {"outcome": "hold", "policies": ["p"], "reason": "Schema change"},
        "hold": null, "granted_by": null, "consumed_by": null, "approval_until": null,
        "grant_until": null, "created_at": "2026-11-21T10:00:00Z", "decided_at": null,
    })
}

/// What the stand-in saw: each request's path and `wait`.
#[derive(Default)]
struct Seen {
    requests: Vec<String>,
    /// Answers for the polls (with a `Retry-After` in seconds), in order; then `approved`.
    polls: Vec<(StatusCode, Value, u64)>,
}

type Shared = Arc<Mutex<Seen>>;

async fn submit(State(seen): State<Shared>, body: axum::Json<Value>) -> Response {
    let wait = body["wait"].as_str().unwrap_or_default().to_string();
    seen.lock()
        .unwrap()
        .requests
        .push(format!("submit wait={wait}"));
    axum::Json(action("pending")).into_response()
}

async fn poll(
    State(seen): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut seen = seen.lock().unwrap();
    let wait = query.get("wait").cloned().unwrap_or_default();
    seen.requests.push(format!("poll {id} wait={wait}"));
    if seen.polls.is_empty() {
        return axum::Json(action("approved")).into_response();
    }
    let (status, body, retry) = seen.polls.remove(0);
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert("retry-after", retry.to_string().parse().unwrap());
    }
    response
}

async fn stand_in(polls: Vec<(StatusCode, Value, u64)>) -> (String, Shared) {
    let seen = Arc::new(Mutex::new(Seen {
        requests: Vec::new(),
        polls,
    }));
    let app = axum::Router::new()
        .route("/v1/actions", post(submit))
        .route("/v1/actions/{id}", get(poll))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn ddl() -> Submission {
    Submission {
        kind: "db.ddl".into(),
        resource: "postgres/prod".into(),
        environment: "prod".into(),
        ..Submission::default()
    }
}

fn too_many(retry_after: u64) -> (StatusCode, Value, u64) {
    (
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": {"code": "too_many_requests", "message": "too many long-polls"}}),
        retry_after,
    )
}

#[tokio::test]
async fn a_held_action_is_polled_until_decided_and_a_429_is_waited_out() {
    let (base, seen) = stand_in(vec![(StatusCode::OK, action("pending"), 0), too_many(1)]).await;
    let client = Client::new(&base, "hp_agent").unwrap();
    let started = std::time::Instant::now();
    let answer = client
        .ask_and_wait(&ddl(), Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(answer.status, holdpoint_core::Status::Approved);
    assert!(answer.proceed);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the Retry-After was not waited out"
    );
    let requests = seen.lock().unwrap().requests.clone();
    assert_eq!(
        requests,
        [
            "submit wait=60s",
            "poll act_1 wait=60s",
            "poll act_1 wait=60s",
            "poll act_1 wait=60s"
        ]
    );
}

#[tokio::test]
async fn a_429_that_outlasts_the_wait_is_the_answer() {
    let (base, _) = stand_in(vec![too_many(5)]).await;
    let client = Client::new(&base, "hp_agent").unwrap();
    let err = client
        .ask_and_wait(&ddl(), Duration::from_secs(3))
        .await
        .unwrap_err();
    match &err {
        ClientError::Api {
            status: 429,
            retry_after: Some(d),
            ..
        } => assert_eq!(*d, Duration::from_secs(5)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "too many long-polls (too_many_requests, HTTP 429)"
    );
}

#[tokio::test]
async fn no_wait_submits_once_and_answers_pending() {
    let (base, seen) = stand_in(Vec::new()).await;
    let client = Client::new(&base, "hp_agent").unwrap();
    let answer = client.ask_and_wait(&ddl(), Duration::ZERO).await.unwrap();
    assert!(answer.status.is_pending());
    assert_eq!(seen.lock().unwrap().requests, ["submit wait=0s"]);
}

#[tokio::test]
async fn an_unreachable_gateway_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(&base, "hp_agent").unwrap();
    let err = client.pending(10).await.unwrap_err();
    assert!(
        err.chain()
            .starts_with(&format!("cannot reach holdpoint at {base}: ")),
        "{}",
        err.chain()
    );
}
