//! A `tools/call` as an action: kind `mcp.call`, resource `mcp/{server}/{tool}`, params =
//! the arguments, and `context.mcp` with the server, the tool and its annotations.
//!
//! Annotations take the MCP specification's defaults when the server leaves them out:
//! `readOnlyHint` false, `destructiveHint` true (false for a read-only tool),
//! `idempotentHint` false, `openWorldHint` true. An unannotated tool therefore counts as
//! destructive, so a policy that holds destructive tools fails closed.

use crate::ActionRequest;
use crate::action::resource_segment;
use serde_json::{Map, Value, json};

/// The kind of every MCP tool call.
pub const KIND: &str = "mcp.call";

/// One tool call as an action, with what only the MCP surface knows.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub request: ActionRequest,
    pub context: Map<String, Value>,
}

/// The resource of a tool: `mcp/{server}/{tool}`, each name made a valid segment.
pub fn resource(server: &str, tool: &str) -> String {
    format!(
        "mcp/{}/{}",
        resource_segment(server),
        resource_segment(tool)
    )
}

/// The action for calling `tool` of `server` with `arguments`. `annotations` is the
/// tool's `annotations` object from `tools/list`, when known.
pub fn tool_call(
    server: &str,
    tool: &str,
    arguments: Map<String, Value>,
    annotations: Option<&Value>,
    environment: &str,
) -> ToolCall {
    let hint = |name: &str| {
        annotations
            .and_then(|a| a.get(name))
            .and_then(Value::as_bool)
    };
    let read_only = hint("readOnlyHint").unwrap_or(false);
    let destructive = !read_only && hint("destructiveHint").unwrap_or(true);
    let mut context = Map::new();
    context.insert(
        "mcp".into(),
        json!({
            "server": server,
            "tool": tool,
            "readOnlyHint": read_only,
            "destructiveHint": destructive,
            "idempotentHint": hint("idempotentHint").unwrap_or(false),
            "openWorldHint": hint("openWorldHint").unwrap_or(true),
        }),
    );
    ToolCall {
        request: ActionRequest {
            kind: KIND.into(),
            resource: resource(server, tool),
            environment: environment.into(),
            params: Value::Object(arguments),
            justification: String::new(),
        },
        context,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn annotations_default_to_the_cautious_reading() {
        let bare = tool_call("gh", "delete repo", Map::new(), None, "prod");
        assert_eq!(bare.request.resource, "mcp/gh/delete_repo");
        assert_eq!(bare.context["mcp"]["destructiveHint"], true);
        assert_eq!(bare.context["mcp"]["readOnlyHint"], false);
        assert!(bare.request.validate().is_ok());

        let read = json!({"readOnlyHint": true, "destructiveHint": true});
        let call = tool_call("gh", "get", Map::new(), Some(&read), "");
        assert_eq!(call.context["mcp"]["destructiveHint"], false);

        let explicit = json!({"destructiveHint": false});
        let call = tool_call("gh", "comment", Map::new(), Some(&explicit), "");
        assert_eq!(call.context["mcp"]["destructiveHint"], false);
        // A non-boolean hint is no hint.
        let odd = json!({"readOnlyHint": "yes"});
        let call = tool_call("gh", "x", Map::new(), Some(&odd), "");
        assert_eq!(call.context["mcp"]["readOnlyHint"], false);
        assert_eq!(call.context["mcp"]["destructiveHint"], true);
    }
}
