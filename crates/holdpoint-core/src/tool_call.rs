//! A `tools/call` as an action: kind `mcp.call`, resource `mcp/{server}/{tool}`, params =
//! the arguments, and `context.mcp` with the server, the tool and its annotations.
//!
//! A call to a tool whose listing is known is [`pinned`](ToolCall::pinned) to the tool's
//! [`fingerprint`] (its name, description, input schema and annotations as `tools/list`
//! gave them): `context.mcp.fingerprint` for reviewers and policies, and `context.pin`,
//! which the digest covers. An approval of a call therefore passes only calls to the
//! tool as it was when reviewed: a tool whose description or schema changed since is a
//! different action, held anew.
//!
//! Annotations take the MCP specification's defaults when the server leaves them out:
//! `readOnlyHint` false, `destructiveHint` true (false for a read-only tool),
//! `idempotentHint` false, `openWorldHint` true. An unannotated tool therefore counts as
//! destructive, so a policy that holds destructive tools fails closed.

use crate::ActionRequest;
use crate::action::resource_segment;
use crate::digest::PIN_KEY;
use crate::review_request::NOTES_KEY;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The kind of every MCP tool call.
pub const KIND: &str = "mcp.call";

/// One tool call as an action, with what only the MCP surface knows.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub request: ActionRequest,
    pub context: Map<String, Value>,
}

/// A tool's fingerprint: `sha256:` + hex of SHA-256 over the RFC 8785 canonical JSON of
/// its name, description, input schema and annotations, as the upstream listed them.
pub fn fingerprint(
    name: &str,
    description: Option<&str>,
    input_schema: &Value,
    annotations: Option<&Value>,
) -> String {
    let doc = json!({
        "name": name,
        "description": description,
        "inputSchema": input_schema,
        "annotations": annotations,
    });
    // INVARIANT: a serde_json::Value always serialises; the fallback is never reached.
    let canonical = serde_jcs::to_vec(&doc).unwrap_or_else(|_| doc.to_string().into_bytes());
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

impl ToolCall {
    /// The call pinned to the tool's `fingerprint` (see the module docs); `None` leaves
    /// it unpinned (a tool no listing carried).
    pub fn pinned(mut self, fingerprint: Option<&str>) -> Self {
        let Some(fingerprint) = fingerprint else {
            return self;
        };
        if let Some(Value::Object(mcp)) = self.context.get_mut("mcp") {
            mcp.insert("fingerprint".into(), Value::String(fingerprint.into()));
        }
        self.context
            .insert(PIN_KEY.into(), Value::String(fingerprint.into()));
        self
    }

    /// The call with `note` added to what reviewers are told (`context.notes`).
    pub fn noted(mut self, note: String) -> Self {
        let notes = self
            .context
            .entry(NOTES_KEY)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(notes) = notes {
            notes.push(Value::String(note));
        }
        self
    }

    /// The fingerprint the call is pinned to, if any.
    pub fn fingerprint(&self) -> Option<&str> {
        self.context
            .get("mcp")
            .and_then(|mcp| mcp.get("fingerprint"))
            .and_then(Value::as_str)
    }
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
    fn a_pinned_call_carries_the_fingerprint_and_the_pin() {
        let schema = json!({"type": "object"});
        let a = fingerprint("deploy", Some("Deploys"), &schema, None);
        let b = fingerprint("deploy", Some("Deploys everything"), &schema, None);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint("deploy", Some("Deploys"), &schema, None));
        let ro = json!({"readOnlyHint": true});
        assert_ne!(
            a,
            fingerprint("deploy", Some("Deploys"), &schema, Some(&ro))
        );
        let call = tool_call("gh", "deploy", Map::new(), None, "").pinned(Some(&a));
        assert_eq!(call.fingerprint(), Some(a.as_str()));
        assert_eq!(call.context[PIN_KEY], a.as_str());
        let bare = tool_call("gh", "deploy", Map::new(), None, "").pinned(None);
        assert!(bare.fingerprint().is_none() && !bare.context.contains_key(PIN_KEY));
    }

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
