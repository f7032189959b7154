//! `/v1/actions`: submit, read, list, review, cancel.

use crate::client::wait_param;
use crate::{ActionList, ActionView, Client, ClientError};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// An action to submit (`POST /v1/actions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Submission {
    pub kind: String,
    pub resource: String,
    pub environment: String,
    pub params: Map<String, Value>,
    /// Why it is needed; shown to reviewers.
    pub justification: String,
}

impl Client {
    /// Submits `action`; a held one is waited for up to `wait` (at most what the server
    /// allows in one request) before the answer.
    pub async fn submit(
        &self,
        action: &Submission,
        wait: Duration,
    ) -> Result<ActionView, ClientError> {
        let mut body = serde_json::to_value(action).map_err(|e| ClientError::Unexpected {
            status: 0,
            detail: e.to_string(),
        })?;
        if let Some(fields) = body.as_object_mut() {
            fields.insert("wait".into(), Value::String(wait_param(wait)));
        }
        let request = self.request(Method::POST, "/v1/actions", wait).json(&body);
        Ok(self.send(request).await?.1)
    }

    /// The action `id`; with a `wait`, long-polls until it is decided or the wait ends.
    pub async fn action(&self, id: &str, wait: Duration) -> Result<ActionView, ClientError> {
        let path = if wait.is_zero() {
            format!("/v1/actions/{id}")
        } else {
            format!("/v1/actions/{id}?wait={}", wait_param(wait))
        };
        Ok(self.send(self.request(Method::GET, &path, wait)).await?.1)
    }

    /// Pending actions the caller requested or may review, newest first, at most `limit`.
    pub async fn pending(&self, limit: u32) -> Result<ActionList, ClientError> {
        let path = format!("/v1/actions?status=pending&limit={limit}");
        Ok(self
            .send(self.request(Method::GET, &path, Duration::ZERO))
            .await?
            .1)
    }

    /// Reviews the action `id`: `approve` or `reject`, with a comment.
    pub async fn review(
        &self,
        id: &str,
        decision: &str,
        comment: &str,
    ) -> Result<ActionView, ClientError> {
        let request = self
            .request(
                Method::POST,
                &format!("/v1/actions/{id}/reviews"),
                Duration::ZERO,
            )
            .json(&json!({"decision": decision, "comment": comment}));
        Ok(self.send(request).await?.1)
    }

    /// Withdraws the caller's pending action `id`.
    pub async fn cancel(&self, id: &str) -> Result<ActionView, ClientError> {
        let request = self
            .request(
                Method::POST,
                &format!("/v1/actions/{id}/cancel"),
                Duration::ZERO,
            )
            .json(&json!({}));
        Ok(self.send(request).await?.1)
    }
}
