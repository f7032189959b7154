//! What templates show. Values here are masked already (they come from
//! [`ReviewRequest`](holdpoint_notify::ReviewRequest) or the audit log) and still
//! untrusted: the templates escape them.

use holdpoint_core::text::{escape_json_text, inert_lines};
use holdpoint_core::{ActionRecord, Timestamp};
use holdpoint_notify::ReviewRequest;
use serde_json::Value;

/// A value longer than this, or with more lines, is folded behind its first line.
const FOLD_CHARS: usize = 300;
const FOLD_LINES: usize = 12;
/// How much of a folded value shows before it is opened.
const PREVIEW_CHARS: usize = 120;

/// Untrusted text as a page shows it: lines kept, control characters and the
/// bidirectional overrides (which would reorder what a reviewer reads) written as
/// visible escapes. The templates then escape the markup.
pub fn shown(text: &str) -> String {
    inert_lines(text).into_owned()
}

/// The review request with every text an agent or reviewer wrote made [`shown`].
pub fn shown_request(mut r: ReviewRequest) -> ReviewRequest {
    for text in [
        &mut r.title,
        &mut r.kind,
        &mut r.resource,
        &mut r.environment,
        &mut r.justification,
        &mut r.reason,
    ] {
        *text = shown(text);
    }
    r.owner = r.owner.as_deref().map(shown);
    for note in &mut r.notes {
        *note = shown(note);
    }
    for review in &mut r.reviews {
        review.comment = shown(&review.comment);
    }
    r
}

/// The signed-in bar at the top of each page.
#[derive(Debug, Clone)]
pub struct Nav {
    pub user: String,
    pub admin: bool,
    pub csrf: String,
}

/// One parameter, ready to show.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    /// The value as text: strings as they are (SQL and commands keep their lines), other
    /// values as indented JSON.
    pub text: String,
    /// Shown folded, with `preview`, when long.
    pub folded: bool,
    pub preview: String,
    /// Code-like (SQL, a command line, JSON) is shown in a monospaced block.
    pub code: bool,
}

/// The params of an action, one entry per top-level key.
pub fn params(params: &Value) -> Vec<Param> {
    match params {
        Value::Object(map) => map.iter().map(|(k, v)| param(k, v)).collect(),
        Value::Null => Vec::new(),
        other => vec![param("params", other)],
    }
}

fn param(name: &str, value: &Value) -> Param {
    let (text, code) = match value {
        Value::String(s) => (shown(s), looks_like_code(name, s)),
        Value::Array(items) if name == "command" && items.iter().all(Value::is_string) => (
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|a| shown(&quote_arg(a)))
                .collect::<Vec<_>>()
                .join(" "),
            true,
        ),
        other => (
            escape_json_text(&serde_json::to_string_pretty(other).unwrap_or_default()),
            true,
        ),
    };
    let folded = text.chars().count() > FOLD_CHARS || text.lines().count() > FOLD_LINES;
    let first_line = text.lines().next().unwrap_or("");
    let mut preview: String = first_line.chars().take(PREVIEW_CHARS).collect();
    if folded {
        preview.push_str(" …");
    }
    Param {
        name: shown(name),
        text,
        folded,
        preview,
        code,
    }
}

fn looks_like_code(name: &str, text: &str) -> bool {
    ["sql", "query", "command", "cmd", "script", "statement"].contains(&name) || text.contains('\n')
}

/// A shell word as a reader would type it: quoted when it holds anything but plain
/// characters.
fn quote_arg(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `12m 05s left`, `expired`.
pub fn time_left(expires_at: Timestamp, now: Timestamp) -> String {
    let left = (expires_at - now).num_seconds();
    if left <= 0 {
        return "expired".into();
    }
    let (d, h, m, s) = (left / 86_400, left / 3600 % 24, left / 60 % 60, left % 60);
    if d > 0 {
        format!("{d}d {h}h left")
    } else if h > 0 {
        format!("{h}h {m:02}m left")
    } else {
        format!("{m}m {s:02}s left")
    }
}

/// `2026-11-30 21:55:10 UTC`.
pub fn when(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// One hold in the inbox.
#[derive(Debug, Clone)]
pub struct HoldRow {
    pub id: String,
    pub title: String,
    pub requester: String,
    pub kind: String,
    pub resource: String,
    pub environment: String,
    pub created: String,
    pub time_left: String,
    pub expires_at: String,
}

/// One action in history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub id: String,
    pub status: String,
    pub requester: String,
    pub kind: String,
    pub resource: String,
    pub environment: String,
    pub created: String,
}

impl HistoryRow {
    pub fn new(record: &ActionRecord, masker: &dyn holdpoint_core::mask::Masker) -> Self {
        HistoryRow {
            id: record.id.to_string(),
            status: record.status.as_str().to_string(),
            requester: record.principal.to_string(),
            kind: shown(&record.kind),
            resource: shown(&record.shown_resource(masker)),
            environment: shown(&record.environment),
            created: when(record.created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_values_fold_and_commands_read_as_typed() {
        let p = params(&json!({
            "sql": "SELECT 1",
            "command": ["rm", "-rf", "/tmp/a b", "it's"],
            "body": "x".repeat(400),
            "n": 5
        }));
        let by = |n: &str| p.iter().find(|x| x.name == n).cloned();
        let sql = by("sql").unwrap_or_else(|| param("", &Value::Null));
        assert!(sql.code && !sql.folded);
        let cmd = by("command").unwrap_or_else(|| param("", &Value::Null));
        assert_eq!(cmd.text, r"rm -rf '/tmp/a b' 'it'\''s'");
        let body = by("body").unwrap_or_else(|| param("", &Value::Null));
        assert!(body.folded && body.preview.ends_with('…'));
        assert_eq!(by("n").map(|x| x.text), Some("5".to_string()));
    }

    #[test]
    fn bidirectional_overrides_and_controls_are_shown_not_applied() {
        let p =
            params(&json!({"sql": "DELETE FROM t \u{2067}x\u{2069} -- \u{1b}[2J\nWHERE id = 5"}));
        assert_eq!(
            p[0].text,
            "DELETE FROM t \\u{2067}x\\u{2069} -- \\u{1b}[2J\nWHERE id = 5"
        );
    }

    #[test]
    fn time_left_reads_naturally() {
        let now = chrono::DateTime::UNIX_EPOCH;
        assert_eq!(
            time_left(now + chrono::Duration::seconds(725), now),
            "12m 05s left"
        );
        assert_eq!(
            time_left(now + chrono::Duration::seconds(7300), now),
            "2h 01m left"
        );
        assert_eq!(time_left(now, now), "expired");
    }
}
