//! `/v1/tokens`: create, list, revoke (admin).

use crate::{ActionView, Client, ClientError, CreatedToken, TokenList};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// A token to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewToken {
    pub name: String,
    /// `agent`, `user` or `admin`.
    pub kind: String,
    pub groups: Vec<String>,
    pub owner: Option<String>,
    /// e.g. `30d`; none means until revoked.
    pub ttl: Option<String>,
}

/// What `POST /v1/tokens` gave.
#[derive(Debug)]
pub enum TokenCreation {
    /// The token, shown this once.
    Created(CreatedToken),
    /// Policy holds it (a new admin token waits for another admin): the action to wait
    /// for. Once approved, the same request again collects the token.
    Held(Box<ActionView>),
}

impl Client {
    pub async fn create_token(&self, token: &NewToken) -> Result<TokenCreation, ClientError> {
        let request = self
            .request(Method::POST, "/v1/tokens", Duration::ZERO)
            .json(token);
        let (status, answer): (StatusCode, Value) = self.send(request).await?;
        let unexpected = |e: serde_json::Error| ClientError::Unexpected {
            status: status.as_u16(),
            detail: e.to_string(),
        };
        Ok(if status == StatusCode::ACCEPTED {
            TokenCreation::Held(Box::new(
                serde_json::from_value(answer).map_err(unexpected)?,
            ))
        } else {
            TokenCreation::Created(serde_json::from_value(answer).map_err(unexpected)?)
        })
    }

    pub async fn tokens(&self) -> Result<TokenList, ClientError> {
        Ok(self
            .send(self.request(Method::GET, "/v1/tokens", Duration::ZERO))
            .await?
            .1)
    }

    pub async fn revoke_token(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/v1/tokens/{name}");
        let _: (StatusCode, Value) = self
            .send(self.request(Method::DELETE, &path, Duration::ZERO))
            .await?;
        Ok(())
    }
}
