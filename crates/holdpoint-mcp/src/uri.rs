//! Names the agent chooses (resource URIs, prompt names) as segments of an action's
//! resource, safely and deterministically.
//!
//! A URI becomes `{scheme}/{segment}/…`: the scheme lowercased, the authority and each
//! path segment kept when every character is one a resource segment allows (letters,
//! digits, `-_.:@+`), and otherwise written with each other byte as `=HH` (`=` itself
//! included, so two different segments never share a form). Empty segments are dropped
//! (`a//b` is `a/b`). So `file:///srv/data/a.txt` is `file/srv/data/a.txt`, and a policy on
//! `resource in Resource::"mcp/fs/resources/file/srv/data"` covers what is below it.
//!
//! A URI that could name something outside the path it spells is never given that path:
//! one without a valid scheme, or with a `.` or `..` segment (also percent-encoded, as
//! `%2e%2E`), a segment that decodes to a `/` or `\`, or a control character, is
//! `_opaque/sha256-{digest}`. No scheme begins with `_`, so no policy on a real path
//! covers it. A form longer than a resource may be keeps its leading segments and ends
//! with `sha256-{digest}` of the whole text. The full text is always in the action's
//! params, so the digest of an approval still names exactly one URI.

use holdpoint_core::action::MAX_NAME_LEN;
use sha2::{Digest, Sha256};

/// The last segment of a name that was too long or odd: `sha256-` and 32 hex digits.
fn digest_segment(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "sha256-{}",
        hex::encode(digest.get(..16).unwrap_or_default())
    )
}

fn allowed(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_.:@+".contains(&c)
}

/// `text` as one resource segment: allowed characters kept, every other byte `=HH`.
/// Never empty, `.` or `..` (those become `=2E` forms).
pub fn segment(text: &str) -> String {
    if text.is_empty() {
        return "=".into();
    }
    if text == "." || text == ".." {
        return text.bytes().map(|_| "=2E").collect();
    }
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if allowed(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("={byte:02X}"));
        }
    }
    out
}

/// `prefix` followed by `segments`, cut to fit a resource: when too long, the leading
/// segments that fit and then the digest of `whole`.
fn fit(prefix: &str, segments: &[String], whole: &str) -> String {
    let mut path = prefix.to_string();
    for s in segments {
        path.push('/');
        path.push_str(s);
    }
    if path.len() <= MAX_NAME_LEN {
        return path;
    }
    let last = digest_segment(whole);
    let mut path = prefix.to_string();
    for s in segments {
        if path.len() + 1 + s.len() + 1 + last.len() > MAX_NAME_LEN {
            break;
        }
        path.push('/');
        path.push_str(s);
    }
    format!("{path}/{last}")
}

/// `prefix/{name}`, with `name` as one [`segment`] (digested when too long).
pub fn named(prefix: &str, name: &str) -> String {
    fit(prefix, &[segment(name)], name)
}

/// The bytes of `text` with each `%HH` decoded; a `%` not followed by two hex digits
/// stays as it is.
fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// True when a segment could step out of the path it is in, or hides characters.
fn odd_segment(raw: &str) -> bool {
    let decoded = percent_decoded(raw);
    // Decoded twice: a server that decodes again would see `%252e` as `.`.
    let twice = percent_decoded(&String::from_utf8_lossy(&decoded));
    [decoded, twice].iter().any(|bytes| {
        bytes == b"."
            || bytes == b".."
            || bytes
                .iter()
                .any(|&b| b == b'/' || b == b'\\' || b < 0x20 || b == 0x7f)
    })
}

const MAX_SCHEME_LEN: usize = 32;

fn scheme_of(uri: &str) -> Option<(String, &str)> {
    let (scheme, rest) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || scheme.len() > MAX_SCHEME_LEN
        || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), rest))
}

/// `prefix/{the URI as segments}`, as described in the module's documentation.
pub fn uri_path(prefix: &str, uri: &str) -> String {
    let opaque = || fit(prefix, &["_opaque".to_string(), digest_segment(uri)], uri);
    let Some((scheme, rest)) = scheme_of(uri) else {
        return opaque();
    };
    if uri.chars().any(char::is_control) {
        return opaque();
    }
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let raw: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if raw.iter().any(|s| odd_segment(s)) {
        return opaque();
    }
    let mut segments = vec![scheme];
    segments.extend(raw.iter().map(|s| segment(s)));
    fit(prefix, &segments, uri)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use holdpoint_core::action::validate_resource;

    const P: &str = "mcp/fs/resources";

    #[test]
    fn a_plain_uri_keeps_its_path() {
        assert_eq!(
            uri_path(P, "file:///srv/data/a.txt"),
            "mcp/fs/resources/file/srv/data/a.txt"
        );
        assert_eq!(
            uri_path(P, "HTTPS://Example.com//x y"),
            "mcp/fs/resources/https/Example.com/x=20y"
        );
        assert_eq!(
            uri_path(P, "demo://resource/static/document/1"),
            "mcp/fs/resources/demo/resource/static/document/1"
        );
        // `=` is always encoded: `a=20b` and `a b` differ.
        assert_ne!(uri_path(P, "x://a=20b"), uri_path(P, "x://a b"));
    }

    #[test]
    fn a_uri_that_could_step_outside_is_opaque() {
        for uri in [
            "file:///srv/data/../etc/passwd",
            "file:///srv/data/%2e%2E/etc/passwd",
            "file:///srv/data/.%2e/etc",
            "file:///srv/data/%252e%252e/etc",
            "file:///srv/data/a%2fb",
            "file:///srv/data/..\\etc",
            "file:///srv/data/./x",
            "file:///srv/data/x\u{0}y",
            "file:///srv/data/\u{1b}[2J",
            "no scheme at all",
            "_opaque:x",
            "1http://x",
        ] {
            let path = uri_path(P, uri);
            assert!(
                path.starts_with("mcp/fs/resources/_opaque/sha256-"),
                "{uri}: {path}"
            );
            assert!(validate_resource(&path).is_ok(), "{uri}: {path}");
        }
        // Deterministic, and one per URI.
        assert_eq!(uri_path(P, "a:/../b"), uri_path(P, "a:/../b"));
        assert_ne!(uri_path(P, "a:/../b"), uri_path(P, "a:/../c"));
    }

    #[test]
    fn every_form_is_a_valid_resource_even_long_ones() {
        let long = format!("file:///srv/data/{}", "x".repeat(10_000));
        let path = uri_path(P, &long);
        assert!(
            path.starts_with("mcp/fs/resources/file/srv/data/sha256-"),
            "{path}"
        );
        assert!(validate_resource(&path).is_ok(), "{path}");
        let deep = format!("file:///{}", "a/".repeat(500));
        assert!(validate_resource(&uri_path(P, &deep)).is_ok());
        let wide = format!("file:///{}", "\u{e9}".repeat(300));
        assert!(validate_resource(&uri_path(P, &wide)).is_ok());
        for name in ["", ".", "..", "a/b", "\u{202e}evil", &"n".repeat(400)] {
            let path = named("mcp/fs/prompts", name);
            assert!(validate_resource(&path).is_ok(), "{name}: {path}");
        }
        assert_ne!(named("p", "a/b"), named("p", "a_b"));
    }
}
