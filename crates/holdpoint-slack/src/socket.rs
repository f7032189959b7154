//! Socket Mode: instead of a public endpoint, the gateway holds a WebSocket to Slack.
//! `apps.connections.open` (with the app-level token, `xapp-…`) gives a URL; every
//! envelope that arrives (`interactive`, `slash_commands`) is acknowledged with its
//! `envelope_id` (and the inline answer, when there is one) and handled as the HTTP
//! endpoints would. When Slack sends `disconnect`, or the socket drops, the gateway opens
//! a new one, waiting longer after each failure (1 s doubling to 30 s).

use crate::interactions::{SlackState, command, interaction};
use crate::json::{at, str_at};
use futures::{SinkExt, StreamExt};
use holdpoint_notify::DeliveryError;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, Message};

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

/// Why a Socket Mode connection ended other than by Slack's `disconnect`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SocketError {
    #[error("{}", .0.reason)]
    Open(DeliveryError),
    #[error("apps.connections.open gave no url")]
    NoUrl,
    #[error("cannot open the Socket Mode WebSocket: {0}")]
    Connect(tungstenite::Error),
    #[error("the socket failed: {0}")]
    Failed(tungstenite::Error),
    #[error("cannot answer a ping: {0}")]
    Ping(tungstenite::Error),
    #[error("Slack closed the socket")]
    Closed,
    #[error("cannot acknowledge an envelope: {0}")]
    Ack(tungstenite::Error),
    #[error("the socket ended")]
    Ended,
}

/// One connection, until Slack asks to reconnect (`Ok`) or it fails.
async fn session(state: &SlackState, app_token: &str) -> Result<(), SocketError> {
    let opened = state
        .api
        .call_as("apps.connections.open", app_token, &json!({}))
        .await
        .map_err(SocketError::Open)?;
    let url = str_at(&opened, "/url").ok_or(SocketError::NoUrl)?;
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(SocketError::Connect)?;
    tracing::info!("Slack Socket Mode connected");
    let (mut sink, mut stream) = socket.split();
    while let Some(message) = stream.next().await {
        let text = match message.map_err(SocketError::Failed)? {
            Message::Text(text) => text.to_string(),
            Message::Ping(data) => {
                sink.send(Message::Pong(data))
                    .await
                    .map_err(SocketError::Ping)?;
                continue;
            }
            Message::Close(_) => return Err(SocketError::Closed),
            _ => continue,
        };
        let Ok(envelope) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match str_at(&envelope, "/type") {
            Some("disconnect") => {
                tracing::info!(reason = ?str_at(&envelope, "/reason"), "Slack asked to reconnect");
                return Ok(());
            }
            Some("hello") => continue,
            _ => {}
        }
        let Some(id) = str_at(&envelope, "/envelope_id") else {
            continue;
        };
        let payload = at(&envelope, "/payload").clone();
        let answer = match str_at(&envelope, "/type") {
            Some("interactive") => interaction(state, payload).await,
            Some("slash_commands") => Some(
                command(
                    state,
                    str_at(&payload, "/text").unwrap_or_default(),
                    str_at(&payload, "/user_id").unwrap_or_default(),
                )
                .await,
            ),
            _ => None,
        };
        let ack = match answer {
            Some(answer) => json!({"envelope_id": id, "payload": answer}),
            None => json!({"envelope_id": id}),
        };
        sink.send(Message::text(ack.to_string()))
            .await
            .map_err(SocketError::Ack)?;
    }
    Err(SocketError::Ended)
}
