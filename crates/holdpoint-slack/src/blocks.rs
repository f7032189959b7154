//! The Slack message of a hold, in Block Kit, built from the outbox payload (the masked
//! review request). Every text an agent or a reviewer wrote is untrusted: `&`, `<` and
//! `>` are escaped (no mention, link or `<!channel>` can be smuggled in), control and
//! bidi characters are made inert, and long fields are cut.

use crate::json::{at, str_at};
use holdpoint_core::text::inert;
use serde_json::{Value, json};

/// Slack's limit on a section's text is 3,000 characters; the params get less.
const MAX_FIELD: usize = 1500;
const MAX_PARAMS: usize = 1200;

/// Action ids of the buttons.
pub const APPROVE: &str = "holdpoint_approve";
pub const REJECT: &str = "holdpoint_reject";

/// Untrusted text made safe for mrkdwn.
pub fn escape(text: &str) -> String {
    let text = inert(text);
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    cut(&escaped, MAX_FIELD)
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}…")
}

fn field(request: &Value, key: &str) -> String {
    escape(request.get(key).and_then(Value::as_str).unwrap_or_default())
}

/// The message for `payload`: its fallback text and its blocks. Buttons only while the
/// hold is pending.
pub fn message(payload: &Value) -> (String, Value) {
    let request = at(payload, "/request");
    let id = str_at(request, "/action_id").unwrap_or_default();
    let status = str_at(payload, "/status").unwrap_or("pending");
    let title = field(request, "title");
    let requester = format!(
        "{} `{}`",
        str_at(request, "/requester/kind").unwrap_or("agent"),
        escape(str_at(request, "/requester/name").unwrap_or_default())
    );
    let owner = str_at(request, "/owner")
        .map(|o| format!(" (owner `{}`)", escape(o)))
        .unwrap_or_default();
    let params = cut(&escape(&at(request, "/params").to_string()), MAX_PARAMS);
    let requirements: Vec<String> = at(request, "/requirements")
        .as_array()
        .map(|reqs| {
            reqs.iter()
                .map(|r| {
                    let groups: Vec<String> = at(r, "/approvers")
                        .as_array()
                        .map(|g| g.iter().filter_map(Value::as_str).map(escape).collect())
                        .unwrap_or_default();
                    format!(
                        "{} of {}",
                        at(r, "/quorum").as_u64().unwrap_or(1),
                        groups.join(", ")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let reviews: Vec<&Value> = at(request, "/reviews")
        .as_array()
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    let approvals = reviews
        .iter()
        .filter(|r| str_at(r, "/decision") == Some("approve"))
        .count();
    let needed: u64 = at(request, "/requirements")
        .as_array()
        .map(|reqs| {
            reqs.iter()
                .map(|r| at(r, "/quorum").as_u64().unwrap_or(1))
                .sum()
        })
        .unwrap_or(1);
    let review_lines: Vec<String> = reviews
        .iter()
        .map(|r| {
            let comment = str_at(r, "/comment").filter(|c| !c.is_empty());
            format!(
                "• `{}` {} in {} at {}{}",
                escape(str_at(r, "/reviewer/name").unwrap_or_default()),
                if str_at(r, "/decision") == Some("approve") {
                    "approved"
                } else {
                    "rejected"
                },
                escape(str_at(r, "/channel").unwrap_or_default()),
                escape(str_at(r, "/at").unwrap_or_default()),
                comment
                    .map(|c| format!(": {}", escape(c)))
                    .unwrap_or_default()
            )
        })
        .collect();
    let outcome = match (status, at(payload, "/consumed").as_bool().unwrap_or(false)) {
        ("pending", _) => format!("*Waiting for approval* ({approvals} of {needed} approvals)"),
        ("approved", true) => "*Approved*, and used".to_string(),
        ("approved", false) => "*Approved*".to_string(),
        ("rejected", _) => "*Rejected*".to_string(),
        ("expired", _) => "*Expired* before anyone decided".to_string(),
        ("cancelled", _) => "*Withdrawn* by the requester".to_string(),
        (other, _) => format!("*{}*", escape(other)),
    };
    let mut details = format!(
        "*Requested by* {requester}{owner}\n*Action* `{}` on `{}`{}\n*Why* {}",
        field(request, "kind"),
        field(request, "resource"),
        str_at(request, "/environment")
            .filter(|e| !e.is_empty())
            .map(|e| format!(" in `{}`", escape(e)))
            .unwrap_or_default(),
        match field(request, "justification") {
            j if j.is_empty() => "_(none given)_".to_string(),
            j => j,
        }
    );
    for note in at(request, "/notes").as_array().into_iter().flatten() {
        if let Some(note) = note.as_str() {
            details.push_str(&format!("\n*Note* {}", escape(note)));
        }
    }
    if !requirements.is_empty() {
        details.push_str(&format!("\n*Needs* {}", requirements.join("; ")));
    }
    if let Some(expires) = str_at(request, "/expires_at") {
        details.push_str(&format!("\n*Expires* {}", escape(expires)));
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&inert(str_at(request, "/title").unwrap_or("Held action")), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": details}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Params* (masked)\n```{params}```")}}),
    ];
    if let Some(link) = str_at(request, "/link") {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{}|{}>", escape(link), escape(id))}]}));
    } else {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("`{}`", escape(id))}]}));
    }
    let mut status_text = outcome;
    if !review_lines.is_empty() {
        status_text.push('\n');
        status_text.push_str(&review_lines.join("\n"));
    }
    blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": status_text}}));
    if status == "pending" {
        blocks.push(
            json!({"type": "actions", "block_id": "holdpoint_review", "elements": [
                {"type": "button", "action_id": APPROVE, "style": "primary", "value": id,
                 "text": {"type": "plain_text", "text": "Approve"}},
                {"type": "button", "action_id": REJECT, "style": "danger", "value": id,
                 "text": {"type": "plain_text", "text": "Reject"}}
            ]}),
        );
    }
    let text = format!("{title} ({status}): {}", field(request, "kind"));
    (text, Value::Array(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(status: &str, reviews: Value) -> Value {
        json!({"type": "hold.created", "status": status, "consumed": false, "request": {
            "action_id": "act_1", "title": "Schema change", "kind": "db.ddl",
            "resource": "postgres/prod", "environment": "prod",
            "requester": {"kind": "agent", "name": "bot"}, "owner": "alice",
            "justification": "<!channel> please <https://evil.example|click>",
            "params": {"sql": "ALTER TABLE t"},
            "requirements": [{"policy": "p", "approvers": ["dba"], "quorum": 2}],
            "expires_at": "2026-11-30T10:00:00Z", "reviews": reviews}})
    }

    #[test]
    fn untrusted_text_cannot_mention_or_link_and_buttons_go_once_decided() {
        let (_, blocks) = message(&payload("pending", json!([])));
        let text = blocks.to_string();
        assert!(
            !text.contains("<!channel>") && !text.contains("<https://evil"),
            "{text}"
        );
        assert!(text.contains("&lt;!channel&gt;"));
        assert!(text.contains(APPROVE) && text.contains("0 of 2 approvals"));
        let reviewed = json!([{"reviewer": {"kind": "user", "name": "dana"}, "decision": "approve",
            "comment": "fine", "channel": "cli"}]);
        let (_, blocks) = message(&payload("pending", reviewed.clone()));
        assert!(blocks.to_string().contains("1 of 2 approvals"));
        let (_, blocks) = message(&payload("approved", reviewed));
        let text = blocks.to_string();
        assert!(!text.contains(APPROVE) && text.contains("*Approved*") && text.contains("dana"));
    }

    #[test]
    fn a_surface_note_is_shown_and_escaped() {
        let mut p = payload("pending", json!([]));
        if let Some(request) = p.get_mut("request").and_then(Value::as_object_mut) {
            request.insert(
                "notes".into(),
                json!(["The tool `mcp/gh/deploy` changed; it now says: <!here> deploy all"]),
            );
        }
        let (_, blocks) = message(&p);
        let text = blocks.to_string();
        assert!(
            text.contains("*Note* The tool `mcp/gh/deploy` changed"),
            "{text}"
        );
        assert!(
            !text.contains("<!here>") && text.contains("&lt;!here&gt;"),
            "{text}"
        );
    }
}
