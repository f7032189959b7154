//! An action's resource masked: a `/` path of segments (letters, digits, `-_.:@+=`)
//! that stays one after masking.
//!
//! A resource is masked like a text, then again segment by segment (a segment is a
//! name of its own, as each string of the params is: `users/john@example.com` masks
//! the address), each time first with its `=HH` escapes read decoded. Surfaces write
//! a byte a segment does not allow as `=HH` (an MCP URI's `?` and `=` are `=3F` and
//! `=3D`), which would glue `=3DAKIA…` into one word no token detector takes; read
//! decoded (`=  AKIA…`, same offsets) it is found, and masked in the resource as written.
//!
//! Each mask `[kind:7f3a]` then becomes `@kind:7f3a@`, which a segment allows: the same
//! kind and fingerprint the params show for the same value. A finding may cross a `/`
//! (a secret spelled over two segments); its mask then stands for both. Masking a
//! masked resource changes nothing.

use crate::Redactor;
use crate::detectors::Finding;
use crate::fingerprint::masks_in;
use crate::text::MAX_PASSES;
use holdpoint_core::action::resource_segment;
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// A mask as a resource writes it: `@kind:7f3a@`.
static MARK: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"@([a-z][a-z0-9_]{0,31}):([0-9a-f]{4})@").ok());

impl Redactor {
    /// `resource` with its secrets masked, still a `/` path of segments a resource
    /// allows (it may be longer than a submitted resource may be). What is not secret
    /// stays as it was; a resource without secrets comes back unchanged.
    pub fn mask_resource(&self, resource: &str) -> String {
        if resource.is_empty() {
            return String::new();
        }
        // Earlier marks back to masks, which masking leaves alone.
        let text = unmarked(resource);
        // Decoded first: there a token glued to an escape is found by its own detector,
        // before the escape's hex digits make it one random-looking run.
        let whole = self.mask_str(&self.mask_escaped(&text)).into_owned();
        let segments: Vec<String> = whole
            .split('/')
            .map(|segment| self.mask_str(&self.mask_escaped(segment)).into_owned())
            .collect();
        marked(&segments.join("/"))
    }

    /// `text` masked as read with its `=HH` escapes decoded; nothing to do without any.
    fn mask_escaped(&self, text: &str) -> String {
        let mut current = text.to_string();
        for _ in 0..MAX_PASSES {
            let (view, escapes) = decoded_view(&current);
            if escapes.is_empty() {
                break;
            }
            let settled = self.scanner.findings(&view);
            if settled.findings.is_empty() {
                break;
            }
            let findings = widened(settled.findings, &escapes);
            current = self.render(&current, &findings);
            if settled.complete {
                break;
            }
        }
        current
    }
}

/// `=HH`, the way surfaces write a byte a segment does not allow (`holdpoint-mcp`'s
/// `uri.rs`): `=` and two uppercase hex digits.
fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    match bytes.get(i..i + 3) {
        Some([b'=', hi, lo]) => {
            let digit = |b: u8| match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'A'..=b'F' => Some(b - b'A' + 10),
                _ => None,
            };
            Some(digit(*hi)? * 16 + digit(*lo)?)
        }
        _ => None,
    }
}

/// `text` with each `=HH` written as the byte it stands for and two spaces (three
/// spaces when that byte is not printable ASCII), so every offset stays where it was;
/// and the spans of the escapes.
fn decoded_view(text: &str) -> (String, Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    if !bytes.contains(&b'=') {
        return (text.to_string(), Vec::new());
    }
    let mut view = String::with_capacity(text.len());
    let mut escapes = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(byte) = escape_at(bytes, i) else {
            i += 1;
            continue;
        };
        // INVARIANT: `pos` and `i` sit on ASCII bytes (an escape's `=`, or past one),
        // so both are char boundaries; `get` keeps this total regardless.
        view.push_str(text.get(pos..i).unwrap_or_default());
        view.push(if byte == b' ' || byte.is_ascii_graphic() {
            char::from(byte)
        } else {
            ' '
        });
        view.push_str("  ");
        escapes.push((i, i + 3));
        i += 3;
        pos = i;
    }
    view.push_str(text.get(pos..).unwrap_or_default());
    (view, escapes)
}

/// `findings` (sorted, disjoint) grown to cover whole escapes where they end or start
/// inside one, and merged where that makes them meet.
fn widened(findings: Vec<Finding>, escapes: &[(usize, usize)]) -> Vec<Finding> {
    let inside = |at: usize| escapes.iter().find(|(s, e)| *s < at && at < *e).copied();
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for mut f in findings {
        if let Some((s, _)) = inside(f.start) {
            f.start = s;
        }
        if let Some((_, e)) = inside(f.end) {
            f.end = e;
        }
        match out.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => out.push(f),
        }
    }
    out
}

/// `resource` with its marks `@kind:7f3a@` written as masks `[kind:7f3a]`.
fn unmarked(resource: &str) -> Cow<'_, str> {
    match MARK.as_ref() {
        Some(re) if resource.contains('@') => re.replace_all(resource, "[$1:$2]"),
        _ => Cow::Borrowed(resource),
    }
}

/// `text` with its masks written as marks, every segment one a resource allows.
fn marked(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end) in masks_in(text) {
        out.push_str(text.get(pos..start).unwrap_or_default());
        let inner = text.get(start + 1..end - 1).unwrap_or_default();
        out.push('@');
        out.push_str(inner);
        out.push('@');
        pos = end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    // Only masks were added, and a mask is a mark now; anything else a segment does not
    // allow (never in a resource the gate accepted) becomes `_`.
    out.split('/')
        .map(resource_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::MaskConfig;
    use holdpoint_core::action::validate_resource;

    fn redactor() -> Redactor {
        Redactor::new(
            b"holdpoint-test-key-0123456789abcdef",
            &MaskConfig::default(),
        )
        .unwrap()
    }

    const AWS: &str = "AKIAIOSFODNN7EXAMPLE";
    const LIVE: &str = "sk_live_51HqLyjWDarjtT1zdp7dc";

    /// The masked form of `resource`: no `secret` in it, a `kind` mark, a valid
    /// resource, and masking it again changes nothing.
    fn masks(resource: &str, secret: &str, kind: &str) -> String {
        let r = redactor();
        let out = r.mask_resource(resource);
        assert!(!out.contains(secret), "`{secret}` still in `{out}`");
        assert!(out.contains(&format!("@{kind}:")), "no `{kind}` in `{out}`");
        assert!(validate_resource(&out).is_ok(), "`{out}` is no resource");
        assert_eq!(r.mask_resource(&out), out, "masking `{out}` again");
        out
    }

    #[test]
    fn a_secret_inside_a_segment_becomes_a_mark_with_the_fingerprint_of_the_params() {
        let r = redactor();
        let out = masks(
            &format!("mcp/rec/resources/rec/data/{AWS}"),
            AWS,
            "aws_access_key_id",
        );
        let mask = r.mask_text(AWS);
        let mark = format!("@{}@", &mask[1..mask.len() - 1]);
        assert_eq!(out, format!("mcp/rec/resources/rec/data/{mark}"));
        // Inside a segment, with text around it kept.
        let out = masks(&format!("files/report-{LIVE}.csv"), LIVE, "stripe_key");
        assert!(out.starts_with("files/report-@stripe_key:"), "{out}");
        assert!(out.ends_with("@.csv"), "{out}");
        // A segment that is a name of its own: an address is personal data there.
        let out = masks("mail/users/john.doe@example.com/inbox", "john.doe", "email");
        assert!(out.starts_with("mail/users/@email:"), "{out}");
        assert!(out.ends_with("@/inbox"), "{out}");
    }

    #[test]
    fn a_secret_in_an_escaped_query_segment_is_found() {
        // `?api_key=sk_live_…` as holdpoint-mcp writes a URI's query: one segment.
        // Found by its own detector, with the fingerprint the params show for it.
        let r = redactor();
        let out = masks(
            &format!("mcp/rec/resources/rec/data/public/a.txt/=3Fapi_key=3D{LIVE}"),
            LIVE,
            "stripe_key",
        );
        let mask = r.mask_text(LIVE);
        assert_eq!(
            out,
            format!(
                "mcp/rec/resources/rec/data/public/a.txt/=3Fapi_key=3D@{}@",
                &mask[1..mask.len() - 1]
            )
        );
        // A value no detector of its own takes is masked by the key that names it.
        let out = masks(
            "x/a.txt/=3Fpassword=3Dhunter2hunter2",
            "hunter2",
            "secret_field",
        );
        assert!(out.starts_with("x/a.txt/=3Fpassword="), "{out}");
        // Glued to an escape, a token no key names is found too, and only it is masked.
        let out = masks(&format!("x/a.txt/=3Fid=3D{AWS}"), AWS, "aws_access_key_id");
        assert!(
            out.starts_with("x/a.txt/=3Fid=3D@aws_access_key_id:"),
            "{out}"
        );
        masks(
            "x/a=20b=20ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ghp_aaaa",
            "github_token",
        );
        masks(&format!("x/=3Fx=3D{LIVE}"), LIVE, "stripe_key");
    }

    #[test]
    fn a_secret_over_two_segments_is_masked_whole() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let out = masks(
            &format!("s3/bucket/aws_secret_access_key=3D{secret}"),
            "K7MDENG",
            "aws_secret_key",
        );
        assert_eq!(out.matches('/').count(), 2, "{out}");
        assert!(
            !out.contains("wJalrXUtnFEMI") && !out.contains("bPxRfiCY"),
            "{out}"
        );
        let random = "q8Zr3kP0xVn7Tb2Lw9Yh/4Jd6Fs1Mc5Qe8Rt0Uy3";
        let out = masks(&format!("blobs/{random}"), "4Jd6Fs1Mc5", "high_entropy");
        assert!(!out.contains("q8Zr3kP0xV"), "{out}");
    }

    #[test]
    fn a_resource_that_is_exactly_a_secret_is_one_mark() {
        let r = redactor();
        for (secret, kind) in [(AWS, "aws_access_key_id"), (LIVE, "stripe_key")] {
            let out = masks(secret, secret, kind);
            assert!(out.starts_with('@') && out.ends_with('@'), "{out}");
            assert!(!out.contains('/'), "{out}");
            assert_eq!(r.mask_resource(secret), out, "deterministic");
        }
        assert_ne!(r.mask_resource(AWS), r.mask_resource(LIVE));
    }

    #[test]
    fn a_resource_without_secrets_is_unchanged() {
        let r = redactor();
        for resource in [
            "postgres/prod/customers",
            "mcp/fs/resources/file/srv/data/a.txt",
            "mcp/fs/resources/_opaque/sha256-0123456789abcdef0123456789abcdef",
            "mcp/rec/resources/rec/data/public/a.txt/=3Fpage=3D2",
            "http/api.github.com/repos/owner/repo/pulls/123",
            "k8s/prod/deployments/web-7f9c8d6b5-x2x9z",
            "holdpoint/tokens/ci-bot",
            "fs/home/dev/.ssh/id_rsa",
            "git/git@github.com:org/repo",
            "a/@b:abcd@/c",
            "",
        ] {
            assert_eq!(r.mask_resource(resource), resource);
        }
    }

    #[test]
    fn the_decoded_view_keeps_every_offset() {
        let (view, escapes) = decoded_view("a=3Fb=3Dc=C3=A9=ZZ=4");
        assert_eq!(view, "a?  b=  c      =ZZ=4");
        assert_eq!(escapes, vec![(1, 4), (5, 8), (9, 12), (12, 15)]);
        assert_eq!(decoded_view("plain").1, Vec::new());
    }
}
