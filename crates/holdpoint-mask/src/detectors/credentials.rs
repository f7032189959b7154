//! Credentials with a place rather than a shape: `Authorization` header values, the
//! password in `scheme://user:pass@host`, and `password=` in a connection string.
//! Only the secret part is masked: the scheme, user and host stay readable.

use super::{
    Detector, Finder, Finding, Haystack, Trigger, byte_before, finding, regex, simple, slice,
};
use crate::config::MaskError;
use crate::kind::Kind;

pub(super) fn detectors() -> Result<Vec<Detector>, MaskError> {
    Ok(vec![
        url_password()?,
        connection_string()?,
        authorization_header()?,
        simple(
            Kind::Bearer,
            &["bearer"],
            1,
            r"(?i)\bbearer\s+([a-z0-9._~+/-]+=*)",
            Some(token_like),
        )?,
        simple(
            Kind::Basic,
            &["basic"],
            1,
            r"(?i)\bbasic\s+([a-z0-9+/]{8,}={0,2})",
            Some(base64_like),
        )?,
    ])
}

/// `scheme://user:pass@host`: only the password.
fn url_password() -> Result<Detector, MaskError> {
    let kind = Kind::UrlCredentials;
    let re = regex(
        kind,
        r#"\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/@'"?#\\]*:[^\s@/?#'"\\]+@"#,
    )?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        for m in re.find_iter(hay.text) {
            // The user holds no `:`, so the password starts after the first `:` past `//`.
            let s = m.as_str();
            if let Some(colon) = s
                .find("://")
                .and_then(|i| s.get(i + 3..)?.find(':').map(|j| i + 3 + j))
            {
                out.push(finding(m.start() + colon + 1, m.end() - 1, kind));
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(vec!["://".into()]),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// `password=…` (or `pwd=`, `passwd=`) in a key-value connection string: libpq
/// (`host=db password=x`), ADO.NET and JDBC (`Server=db;Password=x`).
fn connection_string() -> Result<Detector, MaskError> {
    let kind = Kind::UrlCredentials;
    // Both searched in the lowercase copy.
    let marker = regex(
        kind,
        r"\b(?:host|hostaddr|dbname|server|data source|database|user id|uid|port|sslmode|jdbc)\s*[=:]",
    )?;
    let re = regex(
        kind,
        r#"(?:password|pwd|passwd)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^\s;'"&]+))"#,
    )?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let lower = hay.lower();
        if !marker.is_match(lower) {
            return;
        }
        for caps in re.captures_iter(lower) {
            let starts_a_pair = caps.get(0).is_some_and(|all| {
                byte_before(hay.text, all.start()).is_none_or(|b| {
                    b.is_ascii_whitespace() || matches!(b, b';' | b',' | b'?' | b'&')
                })
            });
            if starts_a_pair
                && let Some(m) = caps.get(1).or_else(|| caps.get(2)).or_else(|| caps.get(3))
                && !m.as_str().is_empty()
            {
                out.push(finding(m.start(), m.end(), kind));
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(vec!["password".into(), "pwd".into(), "passwd".into()]),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// `Authorization: <scheme> <credentials>` as a header line, a JSON pair, or a
/// `curl -H '…'`: Bearer and Basic credentials under their own names, any other
/// scheme's as a secret field. The scheme stays readable.
fn authorization_header() -> Result<Detector, MaskError> {
    // Searched in the lowercase copy; the value is read from the text itself.
    let re = regex(
        Kind::SecretField,
        r#"(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*(\\?["']?)"#,
    )?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let text = hay.text;
        for caps in re.captures_iter(hay.lower()) {
            let (Some(all), Some(inner)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            let before = byte_before(text, all.start());
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                continue;
            }
            let outer = match before {
                Some(q @ (b'"' | b'\'')) => Some(char::from(q)),
                _ => None,
            };
            let value = header_value(text, all.end(), outer, inner.as_str());
            push_credentials(value, all.end(), out);
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(vec!["authorization".into()]),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// The header value starting at `at`: up to the quote that opened it (the value's own,
/// or the one around the whole header as in `-H '…'`), else to the end of the line.
fn header_value<'t>(text: &'t str, at: usize, outer: Option<char>, inner: &str) -> &'t str {
    let rest = text.get(at..).unwrap_or_default();
    let end = match (inner.chars().next(), outer) {
        (Some('\\'), _) => rest.find(['\\', '\r', '\n']),
        (Some(q), _) | (None, Some(q)) => rest.find([q, '\r', '\n']),
        (None, None) => rest.find(['\r', '\n']),
    };
    rest.get(..end.unwrap_or(rest.len())).unwrap_or_default()
}

/// `<scheme> <credentials>` or a bare credential, found at `at`.
fn push_credentials(value: &str, at: usize, out: &mut Vec<Finding>) {
    let (start, rest) = trim_ascii(at, value);
    if rest.is_empty() {
        return;
    }
    let Some(gap) = rest.find(|c: char| c.is_ascii_whitespace()) else {
        out.push(finding(start, start + rest.len(), Kind::SecretField));
        return;
    };
    let scheme = rest.get(..gap).unwrap_or_default();
    let (creds_start, creds) = trim_ascii(start + gap, rest.get(gap..).unwrap_or_default());
    let kind = if scheme.eq_ignore_ascii_case("bearer") {
        Kind::Bearer
    } else if scheme.eq_ignore_ascii_case("basic") {
        Kind::Basic
    } else {
        Kind::SecretField
    };
    let len = match kind {
        Kind::SecretField => creds.len(),
        _ => creds
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(creds.len()),
    };
    if len > 0 {
        out.push(finding(creds_start, creds_start + len, kind));
    }
}

/// Outside a header, `bearer` is also a word: the token must look like one.
fn token_like(text: &str, start: usize, end: usize) -> bool {
    let t = slice(text, start, end);
    let mixed =
        t.bytes().any(|b| b.is_ascii_uppercase()) && t.bytes().any(|b| b.is_ascii_lowercase());
    let digit = t.bytes().any(|b| b.is_ascii_digit());
    let symbol = t
        .bytes()
        .any(|b| matches!(b, b'.' | b'_' | b'~' | b'+' | b'/' | b'-' | b'='));
    t.len() >= 12 && (mixed || digit || symbol)
}

/// `text` (found at `at`) without ASCII whitespace around it, and where it now starts.
fn trim_ascii(at: usize, text: &str) -> (usize, &str) {
    let trimmed = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let start = at + (text.len() - trimmed.len());
    (
        start,
        trimmed.trim_end_matches(|c: char| c.is_ascii_whitespace()),
    )
}

/// `Basic dXNlcjpwYXNz`: base64, whole quads, not an English word.
fn base64_like(text: &str, start: usize, end: usize) -> bool {
    let t = slice(text, start, end);
    let mixed =
        t.bytes().any(|b| b.is_ascii_uppercase()) && t.bytes().any(|b| b.is_ascii_lowercase());
    let digit = t.bytes().any(|b| b.is_ascii_digit());
    t.len().is_multiple_of(4) && (mixed || digit)
}
