//! Socket Mode: instead of a public endpoint, the gateway holds a WebSocket to Slack.
//! `apps.connections.open` (with the app-level token, `xapp-…`) gives a URL; every
//! envelope that arrives (`interactive`, `slash_commands`) is acknowledged with its
//! `envelope_id` (and the inline answer, when there is one) and handled as the HTTP
//! endpoints would. When Slack sends `disconnect`, or the socket drops, the gateway opens
//! a new one, waiting longer after each failure (1 s doubling to 30 s).

use crate::interactions::{SlackState, command, interaction};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const MAX_WAIT: Duration = Duration::from_secs(30);

/// Holds the socket until `shutdown` completes, reconnecting as needed.
pub async fn run(
    state: SlackState,
    app_token: String,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut wait = Duration::from_secs(1);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            ended = session(&state, &app_token) => match ended {
                Ok(()) => wait = Duration::from_secs(1),
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_secs = wait.as_secs(), "Slack Socket Mode connection lost");
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(MAX_WAIT);
                }
            },
        }
    }
}

/// One connection, until Slack asks to reconnect (`Ok`) or it fails.
async fn session(state: &SlackState, app_token: &str) -> Result<(), String> {
    let opened = state
        .api
        .call_as("apps.connections.open", app_token, &json!({}))
        .await
        .map_err(|e| e.reason)?;
    let url = opened["url"]
        .as_str()
        .ok_or("apps.connections.open gave no url")?;
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("cannot open the Socket Mode WebSocket: {e}"))?;
    tracing::info!("Slack Socket Mode connected");
    let (mut sink, mut stream) = socket.split();
    while let Some(message) = stream.next().await {
        let text = match message.map_err(|e| format!("the socket failed: {e}"))? {
            Message::Text(text) => text.to_string(),
            Message::Ping(data) => {
                sink.send(Message::Pong(data))
                    .await
                    .map_err(|e| format!("cannot answer a ping: {e}"))?;
                continue;
            }
            Message::Close(_) => return Err("Slack closed the socket".into()),
            _ => continue,
        };
        let Ok(envelope) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match envelope["type"].as_str() {
            Some("disconnect") => {
                tracing::info!(reason = ?envelope["reason"].as_str(), "Slack asked to reconnect");
                return Ok(());
            }
            Some("hello") => continue,
            _ => {}
        }
        let Some(id) = envelope["envelope_id"].as_str() else {
            continue;
        };
        let payload = envelope["payload"].clone();
        let answer = match envelope["type"].as_str() {
            Some("interactive") => interaction(state, payload).await,
            Some("slash_commands") => Some(
                command(
                    state,
                    payload["text"].as_str().unwrap_or_default(),
                    payload["user_id"].as_str().unwrap_or_default(),
                )
                .await,
            ),
            _ => None,
        };
        let mut ack = json!({"envelope_id": id});
        if let Some(answer) = answer {
            ack["payload"] = answer;
        }
        sink.send(Message::text(ack.to_string()))
            .await
            .map_err(|e| format!("cannot acknowledge an envelope: {e}"))?;
    }
    Err("the socket ended".into())
}
