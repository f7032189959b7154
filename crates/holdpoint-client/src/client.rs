//! [`Client`]: a gateway's base URL and a bearer token, and how one request goes.

use crate::ClientError;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// How much longer than the wait it asks for a request may take.
const SLACK: Duration = Duration::from_secs(30);

/// A client of one gateway, as one principal. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// A client of the gateway at `base` (`http://127.0.0.1:8470`), sending `token`.
    pub fn new(base: &str, token: &str) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .build()
            .map_err(ClientError::Setup)?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    /// The gateway's base URL, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `path`, allowed `wait` plus some slack to answer.
    pub(crate) fn request(&self, method: Method, path: &str, wait: Duration) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(wait.saturating_add(SLACK))
    }

    /// Sends `request`; its status and body, whatever the status.
    pub(crate) async fn exchange(
        &self,
        request: RequestBuilder,
    ) -> Result<(StatusCode, Option<Duration>, Vec<u8>), ClientError> {
        let unreachable = |error| ClientError::Unreachable {
            base: self.base.clone(),
            error,
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(unreachable)?;
        Ok((status, retry_after, body.to_vec()))
    }

    /// Sends `request` and reads a success as `T`; an error answer is [`ClientError::Api`].
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<(StatusCode, T), ClientError> {
        let (status, retry_after, body) = self.exchange(request).await?;
        if !status.is_success() {
            let detail: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let text = |key: &str, default: &str| {
                detail
                    .get("error")
                    .and_then(|e| e.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or(default)
                    .to_string()
            };
            return Err(ClientError::Api {
                status: status.as_u16(),
                code: text("code", "error"),
                message: text("message", "no message"),
                retry_after,
            });
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        let value = serde_json::from_slice(body).map_err(|e| ClientError::Unexpected {
            status: status.as_u16(),
            detail: e.to_string(),
        })?;
        Ok((status, value))
    }
}

/// `wait` as the API reads it: whole seconds when it is, else milliseconds.
pub(crate) fn wait_param(wait: Duration) -> String {
    if wait.subsec_millis() == 0 {
        format!("{}s", wait.as_secs())
    } else {
        format!("{}ms", wait.as_millis())
    }
}
