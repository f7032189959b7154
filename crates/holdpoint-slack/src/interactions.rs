//! `POST /integrations/slack/interactions`: a reviewer clicked Approve or Reject.
//!
//! The request is refused (401, nothing changes) unless its Slack signature verifies and
//! its timestamp is within five minutes. It is acknowledged at once, inside Slack's three
//! seconds, and the review is done after: the clicking Slack user is mapped to a holdpoint
//! user (the directory's `slack_id`, else `users.info`'s email matched against the
//! directory's `email`), and the review goes through the gate's rules like any other,
//! with channel `slack`. Any refusal (an unmapped user, self-review, a decided hold, a
//! second click) is told to the clicker alone, through the interaction's `response_url`.

use crate::api::SlackApi;
use crate::blocks::{APPROVE, REJECT};
use crate::signature;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use holdpoint_core::{ActionId, Decision};
use holdpoint_gate::Gate;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct SlackState {
    pub gate: Arc<Gate>,
    pub api: SlackApi,
    pub signing_secret: String,
}

/// The clicks this endpoint understands.
struct Click {
    user: String,
    decision: Decision,
    action_id: String,
    response_url: Option<String>,
}

pub async fn interactions(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let now = state.gate.clock().now().timestamp();
    if let Err(why) = signature::verify(
        &state.signing_secret,
        header("x-slack-request-timestamp"),
        &body,
        header("x-slack-signature"),
        now,
    ) {
        tracing::warn!(reason = why, "refused a Slack request");
        return (StatusCode::UNAUTHORIZED, "invalid Slack signature");
    }
    let Some(click) = parse(&body) else {
        return (StatusCode::OK, "");
    };
    // Acknowledged now; the review happens after.
    tokio::spawn(review(state, click));
    (StatusCode::OK, "")
}

fn parse(body: &[u8]) -> Option<Click> {
    let payload = url::form_urlencoded::parse(body)
        .find(|(key, _)| key == "payload")
        .map(|(_, value)| value.into_owned())?;
    let payload: Value = serde_json::from_str(&payload).ok()?;
    if payload["type"] != "block_actions" {
        return None;
    }
    let action = payload["actions"].as_array()?.first()?;
    let decision = match action["action_id"].as_str()? {
        APPROVE => Decision::Approve,
        REJECT => Decision::Reject,
        _ => return None,
    };
    Some(Click {
        user: payload["user"]["id"].as_str()?.to_string(),
        decision,
        action_id: action["value"].as_str()?.to_string(),
        response_url: payload["response_url"].as_str().map(str::to_string),
    })
}

async fn review(state: SlackState, click: Click) {
    let outcome = match reviewer(&state, &click.user).await {
        Ok(identity) => state
            .gate
            .review(
                &identity,
                &ActionId(click.action_id.clone()),
                click.decision,
                "",
                "slack",
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(why) => Err(why),
    };
    if let Err(why) = outcome {
        tracing::info!(user = %click.user, action = %click.action_id, reason = %why, "a Slack review was refused");
        if let Some(url) = &click.response_url {
            state
                .api
                .respond(url, &format!("holdpoint did not record your review: {why}"))
                .await;
        }
    }
}

/// The holdpoint user behind a Slack user, with their groups.
async fn reviewer(
    state: &SlackState,
    slack_user: &str,
) -> Result<holdpoint_core::Identity, String> {
    let directory = state.gate.directory();
    let user = match directory.by_slack_id(slack_user) {
        Some(user) => user.clone(),
        None => {
            let email = state
                .api
                .email_of(slack_user)
                .await
                .map_err(|e| format!("cannot look your Slack account up ({})", e.reason))?;
            email
                .and_then(|email| directory.by_email(&email).cloned())
                .ok_or("your Slack account is not mapped to a holdpoint user ([[users]] slack_id or email)")?
        }
    };
    state
        .gate
        .directory_identity(&user)
        .await
        .map_err(|e| e.to_string())
}
