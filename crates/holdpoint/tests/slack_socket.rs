//! Slack's Socket Mode end to end: a real gateway holding a WebSocket to a local stand-in
//! that speaks Socket Mode's envelopes, drops the socket mid-session, and asks the gateway
//! to reconnect; a click after each reconnect still counts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use axum::Json;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Gateway;
use tokio::sync::mpsc;

#[derive(Default)]
struct Slack {
    base: Mutex<String>,
    /// How many times the gateway opened a connection.
    opens: Mutex<u32>,
    /// Where to send envelopes on the open socket; `None` drops it.
    socket: Mutex<Option<mpsc::UnboundedSender<Option<String>>>>,
    /// How many sockets were accepted.
    sockets: Mutex<u32>,
    /// Envelope ids the gateway acknowledged, with any payload.
    acks: Mutex<Vec<Value>>,
    posts: Mutex<Vec<Value>>,
}

async fn web_api(
    State(slack): State<Arc<Slack>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    match method.as_str() {
        "apps.connections.open" if auth == "Bearer xapp-test" => {
            *slack.opens.lock().unwrap() += 1;
            let url = format!(
                "{}/socket",
                slack.base.lock().unwrap().replace("http://", "ws://")
            );
            Json(json!({"ok": true, "url": url}))
        }
        _ if auth != "Bearer xoxb-test" => Json(json!({"ok": false, "error": "invalid_auth"})),
        "chat.postMessage" => {
            slack
                .posts
                .lock()
                .unwrap()
                .push(body.map(|Json(b)| b).unwrap_or_default());
            Json(json!({"ok": true, "channel": "C_HOLDS", "ts": "1.2"}))
        }
        _ => Json(json!({"ok": true})),
    }
}

async fn socket(State(slack): State<Arc<Slack>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |ws| serve_socket(slack, ws))
}

async fn serve_socket(slack: Arc<Slack>, mut ws: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<String>>();
    *slack.socket.lock().unwrap() = Some(tx);
    *slack.sockets.lock().unwrap() += 1;
    let _ = ws
        .send(Message::text(json!({"type": "hello"}).to_string()))
        .await;
    loop {
        tokio::select! {
            outgoing = rx.recv() => match outgoing.flatten() {
                Some(text) => { let _ = ws.send(Message::text(text)).await; }
                // Dropped mid-session, with no close frame.
                None => return,
            },
            incoming = ws.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    slack.acks.lock().unwrap().push(serde_json::from_str(&text).unwrap());
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never saw {what}");
}

fn send(slack: &Slack, envelope: Value) {
    let socket = slack
        .socket
        .lock()
        .unwrap()
        .clone()
        .expect("an open socket");
    socket.send(Some(envelope.to_string())).unwrap();
}

fn click(envelope_id: &str, id: &str) -> Value {
    json!({"envelope_id": envelope_id, "type": "interactive", "accepts_response_payload": false,
        "payload": {"type": "block_actions", "user": {"id": "U_DANA"},
            "actions": [{"action_id": holdpoint_slack::APPROVE, "value": id}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_mode_survives_a_dropped_socket_and_a_disconnect() {
    let slack = Arc::new(Slack::default());
    let app = axum::Router::new()
        .route("/api/{method}", axum::routing::post(web_api))
        .route("/socket", axum::routing::get(socket))
        .with_state(slack.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *slack.base.lock().unwrap() = base.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(
        dir.path().join("policies/ddl.cedar"),
        r#"@id("prod-ddl") @hold("Schema change") @approvers("dba")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/prod");"#,
    )
    .unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        format!("[policy]\ndir = \"policies\"\n\n[slack]\nchannel = \"C_HOLDS\"\napi_url = \"{base}/api\"\nsocket_mode = true\n\n[[users]]\nname = \"dana\"\ngroups = [\"dba\"]\nslack_id = \"U_DANA\"\n"),
    )
    .unwrap();
    let gw = Gateway::start_logged(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
        &[
            ("SLACK_BOT_TOKEN", "xoxb-test"),
            ("SLACK_APP_TOKEN", "xapp-test"),
        ],
        &dir.path().join("log"),
    );
    // No signing secret is needed, and no interaction endpoint is served.
    let status = reqwest::Client::new()
        .post(format!("{}/integrations/slack/interactions", gw.base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);

    let agent = gw.create_token("bot", "agent", &[]);
    let hold = |table: &str| gw.submit_ddl(&agent, &format!("postgres/prod/{table}"), &[], "");
    let status_of = |id: &str| -> String {
        let action: Value =
            serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap();
        action["status"].as_str().unwrap().to_string()
    };

    let sockets = |n: u32| {
        let slack = slack.clone();
        move || (*slack.sockets.lock().unwrap() == n).then_some(())
    };
    until("the first connection", sockets(1)).await;
    // The stand-in drops the socket mid-session; the gateway opens another.
    slack
        .socket
        .lock()
        .unwrap()
        .clone()
        .unwrap()
        .send(None)
        .unwrap();
    until("a reconnect after the drop", sockets(2)).await;
    let first = hold("customers");
    until("the message", || {
        (!slack.posts.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    send(&slack, click("env-1", &first));
    until("the ack", || {
        slack
            .acks
            .lock()
            .unwrap()
            .iter()
            .any(|a| a["envelope_id"] == "env-1")
            .then_some(())
    })
    .await;
    until("approved after the reconnect", || {
        (status_of(&first) == "approved").then_some(())
    })
    .await;

    // Slack asks the gateway to reconnect; a click on the new socket counts too.
    send(
        &slack,
        json!({"type": "disconnect", "reason": "refresh_requested"}),
    );
    until("a reconnect after the disconnect", sockets(3)).await;
    assert_eq!(
        *slack.opens.lock().unwrap(),
        3,
        "one apps.connections.open per socket"
    );
    let second = hold("orders");
    until("the second message", || {
        (slack.posts.lock().unwrap().len() == 2).then_some(())
    })
    .await;
    send(&slack, click("env-2", &second));
    until("approved on the new socket", || {
        (status_of(&second) == "approved").then_some(())
    })
    .await;
    // Every envelope was acknowledged, once.
    let acks = slack.acks.lock().unwrap().clone();
    assert_eq!(
        acks.iter().filter(|a| a["envelope_id"] == "env-2").count(),
        1,
        "{acks:?}"
    );
}
