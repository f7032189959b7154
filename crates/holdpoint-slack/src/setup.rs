//! From [`SlackSettings`] to what the gateway runs: the outbox channel, and either the
//! interaction endpoints or the Socket Mode connection.

use crate::config::{ConfigError, SlackSettings};
use crate::{SlackApi, SlackChannel, SlackState};
use holdpoint_core::Store;
use holdpoint_gate::Gate;
use std::future::Future;
use std::sync::Arc;

/// Slack, ready to run.
pub struct Slack {
    /// The outbox channel: posts a message per hold and updates it in place.
    pub channel: SlackChannel,
    /// How reviewers' clicks arrive.
    pub interactions: Interactions,
}

pub enum Interactions {
    /// `POST /integrations/slack/…`, to merge into the gateway's router.
    Http(axum::Router),
    /// Socket Mode: a WebSocket the gateway opens to Slack.
    Socket(SocketMode),
}

/// The Socket Mode connection, not yet opened.
pub struct SocketMode {
    state: SlackState,
    app_token: String,
}

impl SocketMode {
    /// Holds the socket until `shutdown` completes, reconnecting as needed.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        crate::socket::run(self.state, self.app_token, shutdown).await;
    }
}

impl SlackSettings {
    /// The channel and the interactions. `store` keeps each hold's message reference, so
    /// every later change updates the same message.
    pub fn build(self, gate: Arc<Gate>, store: Arc<dyn Store>) -> Result<Slack, ConfigError> {
        let api = SlackApi::new(&self.api_url, &self.bot_token)?;
        let channel = SlackChannel {
            api: api.clone(),
            channel: self.channel.clone(),
            store,
            directory: gate.directory().clone(),
        };
        let state = SlackState {
            gate,
            api,
            signing_secret: self.signing_secret.unwrap_or_default(),
        };
        let interactions = match self.app_token {
            Some(app_token) => {
                tracing::info!(channel = %self.channel, "reviews in Slack over Socket Mode");
                Interactions::Socket(SocketMode { state, app_token })
            }
            None => {
                tracing::info!(channel = %self.channel, "reviews in Slack at /integrations/slack/interactions");
                Interactions::Http(crate::router(state))
            }
        };
        Ok(Slack {
            channel,
            interactions,
        })
    }
}
