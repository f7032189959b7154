//! Names the agent chooses (resource URIs, prompt names) as segments of an action's
//! resource, safely and deterministically.
//!
//! A URI is read as servers read it: by the WHATWG URL parser (`new URL(…)` in Node,
//! the `url` crate here), which lowercases the scheme, resolves `.` and `..` segments
//! (also spelled `%2e`), and, for `file:` and the web's schemes, reads `\` as `/`. It
//! then becomes `{scheme}/{host}/{segment}/…`, each path segment percent-decoded once and
//! kept when every character is one a resource segment allows (letters, digits,
//! `-_.:@+`), otherwise written with each other byte as `=HH` (`=` itself included, so
//! two different segments never share a form). Empty segments are dropped (`a//b` is
//! `a/b`). So `file:///srv/data/a.txt`, `file:///srv/x/../data/./a.txt` and
//! `file:///srv/d%61ta/a.txt` are all `file/srv/data/a.txt`, and a policy on
//! `resource in Resource::"mcp/fs/resources/file/srv/data"` covers what is below it.
//!
//! A URI that servers could read in more than one way is never given a path: one that
//! does not parse, holds a control character, a segment that still decodes to `%HH` (a
//! server that decodes twice), to `/`, `\`, `.` or `..`, or a `file:` URI naming a host,
//! is `_opaque/sha256-{digest}`, and its action is [`UNKNOWN`]: no `mcp.resource` rule
//! permits it. A form longer than a resource may be keeps its leading segments and ends
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

/// The kind of a read whose URI [`uri_path`] could not give a path.
pub const UNKNOWN: &str = "mcp.unknown";

/// The segment of every URI that servers could read in more than one way.
pub const OPAQUE: &str = "_opaque";

/// True when `resource` (from [`uri_path`]) names no path: its action is [`UNKNOWN`].
pub fn is_opaque(resource: &str) -> bool {
    resource.split('/').any(|s| s == OPAQUE)
}

/// A path segment as the server reads it, decoded once; `None` when a server could read
/// it otherwise (decoding again, or as a separator, a dot segment or a control).
fn decoded_segment(raw: &str) -> Option<String> {
    let once = percent_decoded(raw);
    let text = String::from_utf8(once).ok()?;
    let twice = percent_decoded(&text);
    if twice != text.as_bytes()
        || text == "."
        || text == ".."
        || text
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return None;
    }
    Some(text)
}

/// The segments of `uri` after its prefix, or `None` when it has no one reading.
fn segments_of(uri: &str) -> Option<Vec<String>> {
    if uri.chars().any(char::is_control) || uri.starts_with(OPAQUE) {
        return None;
    }
    let url = url::Url::parse(uri).ok()?;
    let scheme = url.scheme().to_string();
    if scheme.len() > MAX_SCHEME_LEN {
        return None;
    }
    let mut segments = vec![scheme.clone()];
    match url.host_str() {
        // A file on another host is not a path on this one.
        Some(host) if scheme == "file" && !host.is_empty() && host != "localhost" => {
            return None;
        }
        Some(host) if scheme != "file" && !host.is_empty() => {
            let mut host = decoded_segment(host)?;
            if let Some(port) = url.port() {
                host = format!("{host}:{port}");
            }
            segments.push(segment(&host));
        }
        _ => {}
    }
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    match url.path_segments() {
        Some(path) => {
            for raw in path.filter(|s| !s.is_empty()) {
                segments.push(segment(&decoded_segment(raw)?));
            }
        }
        // A path that is not a hierarchy (`mailto:x`): one segment.
        None => segments.push(segment(&decoded_segment(url.path())?)),
    }
    // The query and fragment name something too: a segment of their own each.
    if let Some(query) = url.query() {
        segments.push(segment(&format!("?{query}")));
    }
    if let Some(fragment) = url.fragment() {
        segments.push(segment(&format!("#{fragment}")));
    }
    Some(segments)
}

const MAX_SCHEME_LEN: usize = 32;

/// `prefix/{the URI as segments}`, as described in the module's documentation.
pub fn uri_path(prefix: &str, uri: &str) -> String {
    match segments_of(uri) {
        Some(segments) => fit(prefix, &segments, uri),
        None => fit(prefix, &[OPAQUE.to_string(), digest_segment(uri)], uri),
    }
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
            "mcp/fs/resources/https/example.com/x=20y"
        );
        assert_eq!(
            uri_path(P, "demo://resource/static/document/1"),
            "mcp/fs/resources/demo/resource/static/document/1"
        );
        // `=` is always encoded: `a=20b` and `a b` differ.
        assert_ne!(uri_path(P, "x://h/a=20b"), uri_path(P, "x://h/a b"));
    }

    #[test]
    fn every_spelling_a_server_resolves_is_the_path_it_resolves_to() {
        let cases = [
            ("file:///srv/data/../etc/passwd", "file/srv/etc/passwd"),
            ("file:///srv/data/%2e%2E/etc/passwd", "file/srv/etc/passwd"),
            ("file:///srv/data/.%2e/etc", "file/srv/etc"),
            ("file:///srv/data/./x", "file/srv/data/x"),
            ("file:///../../etc/passwd", "file/etc/passwd"),
            ("file:///srv/secre%74/key.txt", "file/srv/secret/key.txt"),
            ("file:///srv/%73ecret/key.txt", "file/srv/secret/key.txt"),
            (
                "file://localhost/srv/secret/key.txt",
                "file/srv/secret/key.txt",
            ),
            ("file:///srv/data/..\\etc", "file/srv/etc"),
            ("rec://data/secre%74/key.txt", "rec/data/secret/key.txt"),
            (
                "demo://resource/static/document/./architecture.md",
                "demo/resource/static/document/architecture.md",
            ),
            (
                "demo://resource/static/x/../document/architecture.md",
                "demo/resource/static/document/architecture.md",
            ),
            (
                "demo://resource/static/document/%2e/architecture.md",
                "demo/resource/static/document/architecture.md",
            ),
            ("x://h/a?b=c", "x/h/a/=3Fb=3Dc"),
        ];
        for (uri, expected) in cases {
            assert_eq!(uri_path(P, uri), format!("{P}/{expected}"), "{uri}");
            assert!(!is_opaque(&uri_path(P, uri)), "{uri}");
        }
    }

    #[test]
    fn a_uri_servers_could_read_otherwise_is_opaque() {
        for uri in [
            "file:///srv/data/%252e%252e/etc",
            "file:///srv/secre%2574/key.txt",
            "file:///srv/data/a%2fb",
            "rec://data/a%5cb",
            "rec://data/..\\etc",
            "file:///srv/data/x\u{0}y",
            "file:///srv/data/\u{1b}[2J",
            "file://srv/data/etc/passwd",
            "file://user:pw@/etc/passwd",
            "no scheme at all",
            "_opaque:x",
            "1http://x",
        ] {
            let path = uri_path(P, uri);
            assert!(
                path.starts_with("mcp/fs/resources/_opaque/sha256-"),
                "{uri}: {path}"
            );
            assert!(is_opaque(&path));
            assert!(validate_resource(&path).is_ok(), "{uri}: {path}");
        }
        // Deterministic, and one per URI.
        assert_eq!(uri_path(P, "a:/%2561"), uri_path(P, "a:/%2561"));
        assert_ne!(uri_path(P, "a:/%2561"), uri_path(P, "a:/%2562"));
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
