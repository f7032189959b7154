//! The Slack Web API calls holdpoint makes, against a configurable base URL
//! (`https://slack.com/api` in production, a stand-in in tests), with the bot token.
//! Slack answers HTTP 200 with `{"ok": false, "error": …}` for most failures and 429 with
//! `Retry-After` when rate limited; both become a [`DeliveryError`] the worker retries.

use crate::json::{at, str_at};
use holdpoint_notify::DeliveryError;
use serde_json::{Value, json};
use std::time::Duration;

/// Why the Web API client cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SlackApiError {
    /// The HTTP client could not be built (its TLS backend failed to start).
    #[error("{0}")]
    Client(reqwest::Error),
}

#[derive(Clone)]
pub struct SlackApi {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl SlackApi {
    pub fn new(base: &str, token: &str) -> Result<SlackApi, SlackApiError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(SlackApiError::Client)?;
        Ok(SlackApi {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http,
        })
    }

    /// Calls `method` with a JSON body; the answer when `ok`.
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value, DeliveryError> {
        self.call_as(method, &self.token, body).await
    }

    /// [`SlackApi::call`] with another token (the app-level one, for Socket Mode).
    pub async fn call_as(
        &self,
        method: &str,
        token: &str,
        body: &Value,
    ) -> Result<Value, DeliveryError> {
        let response = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(|e| failed(format!("cannot reach Slack for {method}: {e}"), None))?;
        answer(method, response).await
    }

    /// `users.info`: the user's email, when Slack gives it.
    pub async fn email_of(&self, user: &str) -> Result<Option<String>, DeliveryError> {
        let response = self
            .http
            .get(format!("{}/users.info", self.base))
            .bearer_auth(&self.token)
            .query(&[("user", user)])
            .send()
            .await
            .map_err(|e| failed(format!("cannot reach Slack for users.info: {e}"), None))?;
        let info = answer("users.info", response).await?;
        Ok(str_at(&info, "/user/profile/email").map(str::to_string))
    }

    /// Posts an ephemeral answer to an interaction's `response_url`.
    pub async fn respond(&self, response_url: &str, text: &str) {
        let sent = self
            .http
            .post(response_url)
            .json(&json!({"response_type": "ephemeral", "replace_original": false, "text": text}))
            .send()
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "cannot answer a Slack interaction");
        }
    }
}

async fn answer(method: &str, response: reqwest::Response) -> Result<Value, DeliveryError> {
    let status = response.status();
    let retry_after = holdpoint_notify::retry_after(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
    );
    if !status.is_success() {
        return Err(failed(
            format!("Slack answered {method} with HTTP {status}"),
            retry_after,
        ));
    }
    let body: Value = response
        .json()
        .await
        .map_err(|e| failed(format!("Slack's answer to {method} is not JSON: {e}"), None))?;
    if at(&body, "/ok") != true {
        let error = str_at(&body, "/error").unwrap_or("unknown_error");
        return Err(failed(
            format!("Slack refused {method}: {error}"),
            retry_after,
        ));
    }
    Ok(body)
}

fn failed(reason: String, retry_after: Option<Duration>) -> DeliveryError {
    DeliveryError {
        reason,
        retry_after,
    }
}
