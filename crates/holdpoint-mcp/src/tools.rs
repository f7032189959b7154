//! What the proxy remembers of the upstream's tools: each tool's `annotations`, so a
//! `tools/call` is judged by what the server says about the tool, never by the client,
//! and its fingerprint (name, description, input schema, annotations), which pins every
//! call to the tool as listed. Marked stale when the upstream says its list changed; the
//! fingerprints stay, so the next listing shows which tools changed since.

use holdpoint_core::tool_call::{ToolCall, fingerprint};
use rmcp::model::{TaskSupport, Tool};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::RwLock;

/// One tool as the last `tools/list` gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub annotations: Option<Value>,
    pub fingerprint: String,
    pub description: Option<String>,
    /// The fingerprint it had in the listing before, when that one differed.
    pub changed_from: Option<String>,
    /// True when the upstream runs it as a task (its `execution.taskSupport` is
    /// `optional` or `required`).
    pub runs_as_task: bool,
}

/// How much of a changed tool's description reviewers are shown.
const SHOWN_DESCRIPTION: usize = 300;

impl Listed {
    pub fn of(tool: &Tool) -> Self {
        let annotations = tool
            .annotations
            .as_ref()
            .and_then(|a| serde_json::to_value(a).ok());
        let schema = Value::Object((*tool.input_schema).clone());
        Listed {
            fingerprint: fingerprint(
                &tool.name,
                tool.description.as_deref(),
                &schema,
                annotations.as_ref(),
            ),
            annotations,
            description: tool.description.as_deref().map(str::to_string),
            changed_from: None,
            runs_as_task: tool.task_support() != TaskSupport::Forbidden,
        }
    }

    /// `call` pinned to this fingerprint; when the tool changed since the listing
    /// before, with a note that tells reviewers so (and what the tool now says).
    pub fn pin(&self, call: ToolCall) -> ToolCall {
        let mut call = call.pinned(Some(&self.fingerprint));
        let Some(before) = &self.changed_from else {
            return call;
        };
        let said = shown(self.description.as_deref());
        // What the stdio proxy tells the gateway of a server the gateway does not host.
        if let Some(Value::Object(mcp)) = call.context.get_mut("mcp") {
            mcp.insert("changed_from".into(), Value::String(before.clone()));
            mcp.insert("description".into(), Value::String(said.clone()));
        }
        let tool = call.request.resource.clone();
        call.noted(changed_note(&tool, &said, ""))
    }
}

/// At most [`SHOWN_DESCRIPTION`] characters of a tool's description.
pub fn shown(description: Option<&str>) -> String {
    description
        .unwrap_or_default()
        .chars()
        .take(SHOWN_DESCRIPTION)
        .collect()
}

/// What reviewers are told of a call to a tool that changed since the last listing;
/// `source` says whose listing it was, when not the gateway's.
pub fn changed_note(tool: &str, said: &str, source: &str) -> String {
    format!(
        "The tool `{tool}` changed (description, input schema or annotations) since the \
         last tools/list{source}; approvals of it before do not pass this call. It now \
         says: {said}"
    )
}

/// A tool whose fingerprint changed between two listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub tool: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Default)]
struct Known {
    tools: HashMap<String, Listed>,
    /// False until a `tools/list` was seen, and again after a list change.
    fresh: bool,
}

#[derive(Debug, Default)]
pub struct ToolCache {
    known: RwLock<Known>,
}

impl ToolCache {
    /// `tool` as listed: `None` when no fresh list was seen, `Some(None)` for a tool the
    /// list did not carry.
    pub fn listed(&self, tool: &str) -> Option<Option<Listed>> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        known.fresh.then(|| known.tools.get(tool).cloned())
    }

    /// The annotations of `tool`, as [`ToolCache::listed`] gives the tool.
    pub fn annotations(&self, tool: &str) -> Option<Option<Value>> {
        self.listed(tool)
            .map(|listed| listed.and_then(|l| l.annotations))
    }

    /// Remembers one page of tools; returns those whose fingerprint changed since the
    /// previous listing.
    pub fn remember(&self, tools: &[Tool]) -> Vec<Changed> {
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        known.fresh = true;
        let mut changed = Vec::new();
        for tool in tools {
            let mut listed = Listed::of(tool);
            if let Some(before) = known.tools.get(tool.name.as_ref())
                && before.fingerprint != listed.fingerprint
            {
                changed.push(Changed {
                    tool: tool.name.to_string(),
                    before: before.fingerprint.clone(),
                    after: listed.fingerprint.clone(),
                });
                listed.changed_from = Some(before.fingerprint.clone());
            }
            known.tools.insert(tool.name.to_string(), listed);
        }
        changed
    }

    /// The list changed upstream: the next call lists again.
    pub fn forget(&self) {
        self.known.write().unwrap_or_else(|e| e.into_inner()).fresh = false;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::sync::Arc;

    fn tool(description: &str) -> Tool {
        Tool::new(
            "deploy",
            description.to_string(),
            Arc::new(serde_json::Map::new()),
        )
    }

    #[test]
    fn a_changed_description_is_reported_and_a_list_change_makes_the_cache_stale() {
        let cache = ToolCache::default();
        assert_eq!(cache.listed("deploy"), None);
        assert!(cache.remember(&[tool("Deploys staging")]).is_empty());
        let first = cache.listed("deploy").unwrap().unwrap();
        cache.forget();
        assert_eq!(cache.listed("deploy"), None);
        let changed = cache.remember(&[tool("Deploys production, deletes staging")]);
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].before, first.fingerprint);
        assert_ne!(changed[0].after, first.fingerprint);
        // A call to it now tells reviewers the tool changed, and what it says.
        let now = cache.listed("deploy").unwrap().unwrap();
        assert_eq!(
            now.changed_from.as_deref(),
            Some(first.fingerprint.as_str())
        );
        let call =
            holdpoint_core::tool_call::tool_call("s", "deploy", Default::default(), None, "");
        let noted = now.pin(call);
        let notes = noted.context[holdpoint_core::review_request::NOTES_KEY].to_string();
        assert!(
            notes.contains("changed") && notes.contains("deletes staging"),
            "{notes}"
        );
        assert_eq!(noted.fingerprint(), Some(now.fingerprint.as_str()));
        assert!(
            cache
                .remember(&[tool("Deploys production, deletes staging")])
                .is_empty()
        );
        assert_eq!(cache.listed("other"), Some(None));
    }
}
