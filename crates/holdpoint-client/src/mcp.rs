//! `/v1/mcp/{server}/…`: what the stdio MCP proxy asks the gateway.

use crate::{ActionView, Client, ClientError, McpOutlooks};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

impl Client {
    /// `POST /v1/mcp/{server}/calls`: one tool call as an action.
    pub async fn mcp_call(&self, server: &str, call: &Value) -> Result<ActionView, ClientError> {
        let path = format!("/v1/mcp/{server}/calls");
        let request = self.request(Method::POST, &path, Duration::ZERO).json(call);
        Ok(self.send(request).await?.1)
    }

    /// `POST /v1/mcp/{server}/tools`: what policy says of each tool for the caller.
    pub async fn mcp_outlooks(
        &self,
        server: &str,
        tools: &Value,
    ) -> Result<McpOutlooks, ClientError> {
        let path = format!("/v1/mcp/{server}/tools");
        let request = self
            .request(Method::POST, &path, Duration::ZERO)
            .json(tools);
        Ok(self.send(request).await?.1)
    }
}
