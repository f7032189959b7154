//! Every way a secret may be written in an upstream's answer, as one regular expression
//! per secret. An answer is searched for all of them ([`crate::Redactor`]):
//! - as it is, and with any of its characters escaped as JSON escapes them (`\"`, `\\`,
//!   `\n`, `\u00e9`, in upper or lower case), once or twice (JSON text inside a JSON
//!   string, as `JSON.stringify` of a structure that holds JSON text prints it);
//! - URL-encoded: any byte as `%hh` (upper or lower case hex), a space also as `+`;
//! - base64, standard and URL-safe, with or without padding, alone or at any of the three
//!   alignments inside a longer base64 text. Inside a longer text only the characters
//!   that depend on the secret's bytes alone are matched: the one or two characters at
//!   each edge that mix in neighbouring bytes stay (they carry at most 4 bits of it).
//!
//! Mixed forms (part escaped, part not) match too: each character is matched in any of
//! its forms independently.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use std::fmt::Write;

/// The pattern (regex syntax) matching `secret` in every form of the module docs.
pub fn pattern(secret: &str) -> String {
    let mut alternatives = base64_forms(secret.as_bytes());
    // Longest first: at one position, the full padded encoding wins over its core.
    alternatives.sort_by_key(|form| std::cmp::Reverse(form.len()));
    alternatives.dedup();
    let mut out: Vec<String> = alternatives.iter().map(|f| regex::escape(f)).collect();
    out.insert(0, secret.chars().map(char_pattern).collect());
    out.join("|")
}

/// One character in any of its textual forms: as it is, JSON-escaped (once or twice),
/// or percent-encoded.
fn char_pattern(c: char) -> String {
    let mut buf = [0_u8; 4];
    let literal = c.encode_utf8(&mut buf);
    let mut alternatives = vec![regex::escape(literal)];
    for once in json_escapes(c) {
        alternatives.push(regex_ci(&once));
        // The escape, escaped again (JSON text inside a JSON string).
        let twice = serde_json::to_string(&once).unwrap_or_default();
        let twice = twice
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or_default();
        alternatives.push(regex_ci(twice));
    }
    let percent: String = literal.bytes().fold(String::new(), |mut s, b| {
        let _ = write!(s, "%{b:02x}");
        s
    });
    alternatives.push(regex_ci(&percent));
    if c == ' ' {
        alternatives.push(regex::escape("+"));
    }
    format!("(?:{})", alternatives.join("|"))
}

/// `text` as a regex that matches it in any letter case (hex digits of escapes).
fn regex_ci(text: &str) -> String {
    format!("(?i:{})", regex::escape(text))
}

/// The ways JSON writes `c` inside a string besides as itself: its short escape, if it
/// has one, and `\uXXXX` (a surrogate pair outside the basic plane).
fn json_escapes(c: char) -> Vec<String> {
    let mut out = Vec::new();
    let short = match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        '/' => Some("\\/"),
        '\u{8}' => Some("\\b"),
        '\u{c}' => Some("\\f"),
        '\n' => Some("\\n"),
        '\r' => Some("\\r"),
        '\t' => Some("\\t"),
        _ => None,
    };
    if let Some(short) = short {
        out.push(short.to_string());
    }
    let mut units = [0_u16; 2];
    let unicode = c
        .encode_utf16(&mut units)
        .iter()
        .fold(String::new(), |mut s, u| {
            let _ = write!(s, "\\u{u:04x}");
            s
        });
    out.push(unicode);
    out
}

/// The base64 texts of `secret`: whole (padded and not), and the stable core at each
/// alignment inside a longer text, each in the standard and the URL-safe alphabet.
pub fn base64_forms(secret: &[u8]) -> Vec<String> {
    let mut out = vec![
        STANDARD.encode(secret),
        STANDARD_NO_PAD.encode(secret),
        URL_SAFE.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    let n = secret.len();
    for offset in 0..3_usize {
        let mut shifted = vec![0_u8; offset];
        shifted.extend_from_slice(secret);
        // Character i holds bits 6i..6i+6 of the text: the secret's alone when they lie
        // within bits 8·offset..8·(offset+n).
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + n) / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&shifted);
            if let Some(core) = encoded.get(first..end)
                && !core.is_empty()
            {
                out.push(core.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn every_alignment_of_a_secret_inside_base64_is_found() {
        let secret = b"s3cr3t-\"quoted\\value";
        let forms = base64_forms(secret);
        for prefix in 0..6 {
            for suffix in 0..4 {
                let mut text = vec![b'x'; prefix];
                text.extend_from_slice(secret);
                text.extend(std::iter::repeat_n(b'y', suffix));
                for encoded in [STANDARD.encode(&text), URL_SAFE_NO_PAD.encode(&text)] {
                    assert!(
                        forms.iter().any(|f| encoded.contains(f.as_str())),
                        "prefix {prefix}, suffix {suffix}: {encoded}"
                    );
                }
            }
        }
    }
}
