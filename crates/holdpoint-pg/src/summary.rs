//! Allowed statements, summarised for the audit log: each connection writes one
//! `statements.allowed` event per second of activity or per 1,000 statements (whichever
//! comes first, and once more when it closes), listing each distinct normalised
//! statement (pg_query's fingerprint) with its kind, count and masked text. Held and
//! denied statements are full actions instead.

use crate::kind::Kind;
use holdpoint_core::mask::Masker;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const EVERY: Duration = Duration::from_secs(1);
pub const AT_MOST: u64 = 1_000;
/// The longest statement text kept in a summary.
const TEXT_CHARS: usize = 300;

#[derive(Default)]
pub struct Summary {
    entries: HashMap<String, Entry>,
    total: u64,
    since: Option<Instant>,
}

struct Entry {
    kind: Kind,
    count: u64,
    text: String,
}

impl Summary {
    /// Counts one allowed message.
    pub fn add(&mut self, fingerprint: &str, sql: &str, kind: Kind, masker: &dyn Masker) {
        self.total += 1;
        self.since.get_or_insert_with(Instant::now);
        if let Some(entry) = self.entries.get_mut(fingerprint) {
            entry.count += 1;
            return;
        }
        self.entries
            .entry(fingerprint.to_string())
            .or_insert_with(|| Entry {
                kind,
                count: 0,
                text: masker.mask_text(&sql.chars().take(TEXT_CHARS).collect::<String>()),
            })
            .count += 1;
    }

    /// True when the summary should be written now.
    pub fn due(&self) -> bool {
        self.total >= AT_MOST || self.since.is_some_and(|s| s.elapsed() >= EVERY)
    }

    /// The event data for what was counted, and a fresh start.
    pub fn take(&mut self, listener: &str) -> Option<Value> {
        if self.total == 0 {
            return None;
        }
        let mut statements: Vec<Value> = self
            .entries
            .drain()
            .map(|(fingerprint, e)| {
                json!({"fingerprint": fingerprint, "kind": e.kind.as_str(), "count": e.count, "text": e.text})
            })
            .collect();
        statements.sort_by_key(|s| std::cmp::Reverse(s["count"].as_u64().unwrap_or(0)));
        let total = std::mem::take(&mut self.total);
        self.since = None;
        Some(json!({"listener": listener, "total": total, "statements": statements}))
    }
}
