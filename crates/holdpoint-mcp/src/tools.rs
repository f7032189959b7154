//! What the proxy remembers of the upstream's tools: each tool's `annotations`, so a
//! `tools/call` is judged by what the server says about the tool, never by the client.
//! Forgotten when the upstream says its list changed.

use rmcp::model::Tool;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::RwLock;

#[derive(Debug, Default)]
pub struct ToolCache {
    /// `None` until a `tools/list` was seen (or after a list change).
    known: RwLock<Option<HashMap<String, Option<Value>>>>,
}

impl ToolCache {
    /// The annotations of `tool`: `None` when no list was seen yet, `Some(None)` for a
    /// tool the list did not carry or that has no annotations.
    pub fn annotations(&self, tool: &str) -> Option<Option<Value>> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        known.as_ref().map(|map| map.get(tool).cloned().flatten())
    }

    /// Remembers one page of tools.
    pub fn remember(&self, tools: &[Tool]) {
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        let map = known.get_or_insert_with(HashMap::new);
        for tool in tools {
            let annotations = tool
                .annotations
                .as_ref()
                .and_then(|a| serde_json::to_value(a).ok());
            map.insert(tool.name.to_string(), annotations);
        }
    }

    pub fn forget(&self) {
        *self.known.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
