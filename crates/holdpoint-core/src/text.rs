//! Agent-controlled text made inert for terminals: control characters (C0, DEL, C1, which
//! carry ESC sequences and carriage returns) and the bidirectional overrides that reorder
//! what a reader sees are written as visible escapes, so an agent cannot rewrite or hide
//! what a reviewer reads.

use std::borrow::Cow;

/// True for characters that change how a terminal shows text rather than showing one.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every unsafe character written as `\u{…}`; borrowed when nothing changes.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`inert`] for text that keeps its lines: newlines and tabs stay (SQL, scripts), every
/// other unsafe character is written as `\u{…}`. For HTML pages, which escape markup but
/// would still apply bidirectional overrides.
pub fn inert_lines(text: &str) -> Cow<'_, str> {
    let unsafe_here = |c: char| is_unsafe_char(c) && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_here(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Pretty JSON safe to print: serde_json already escapes C0 controls inside strings;
/// this also escapes DEL, C1 and the bidirectional controls as `\uXXXX`, so the output
/// is still valid JSON with the same meaning.
pub fn json_for_terminal(value: &serde_json::Value) -> String {
    escape_json_text(&serde_json::to_string_pretty(value).unwrap_or_default())
}

/// JSON text (from serde_json) with DEL, C1 and the bidirectional controls inside its
/// strings written as `\uXXXX`: the same JSON, safe to print or export.
pub fn escape_json_text(text: &str) -> String {
    if !text.chars().any(|c| is_unsafe_char(c) && c != '\n') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe_char(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_overrides_become_visible() {
        let hostile = "ok\u{1b}[2K\rapproved\u{9b}31m \u{202e}txt.exe";
        let shown = inert(hostile);
        assert!(!shown.chars().any(is_unsafe_char), "{shown}");
        assert!(shown.contains("\\u{1b}") && shown.contains("\\u{d}"));
        assert!(shown.contains("\\u{202e}") && shown.contains("\\u{9b}"));
        assert!(matches!(inert("plain café"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_stays_valid_and_equal() {
        let value = serde_json::json!({"why": "a\u{1b}]0;x\u{7}\u{9b}\u{2066}b"});
        let shown = json_for_terminal(&value);
        assert!(
            !shown.chars().any(|c| is_unsafe_char(c) && c != '\n'),
            "{shown}"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, value);
    }
}
