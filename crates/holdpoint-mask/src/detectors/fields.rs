//! Values named by a secret key, in the forms they take in text: `KEY=value`,
//! `export API_KEY=…`, `"key": "value"`, `key: value`, `X-Api-Key: …`,
//! `--password x`, mysql's `-pSECRET`, `docker login -p x`, `sshpass -p x`,
//! `curl -u user:pass`, and SQL's
//! `PASSWORD '…'` / `IDENTIFIED BY '…'`. The key stays readable; the value is masked.

use super::{
    Context, Detector, Finder, Finding, Haystack, Trigger, byte_before, finding, regex, simple,
    slice,
};
use crate::config::MaskError;
use crate::kind::Kind;
use crate::names::{SECRET_WORDS, is_secret_name, listed};

/// Words a secret key contains; [`is_secret_name`] has the last word. (`pw` only as
/// `_pw`: a bare two-letter literal would slow the search on every text.)
const KEY_WORDS: &str = r"pass|pwd|_pw|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|auth|cookie|session|credential|signing[_.-]?key|encryption[_.-]?key";

/// A quoted value (inside the quotes), an escaped-quoted one, or a bare one.
const VALUE: &str =
    r#"(?:"((?:[^"\\\r\n]|\\.)*)"|'([^'\r\n]*)'|\\"((?:[^"\\]|\\[^"])*)\\"|([^\s'"&;<>)\]}\\]+))"#;

pub(super) fn detectors(cx: &Context<'_>) -> Result<Vec<Detector>, MaskError> {
    Ok(vec![
        key_value(cx)?,
        flags(cx)?,
        simple(
            Kind::SecretField,
            &["mysql", "mariadb"],
            1,
            r#"(?:^|\s)-p('[^']*'|"[^"]*"|[^\s'"-][^\s'"]*)"#,
            None,
        )?,
        // `docker login -u bob -p x`, `helm registry login … -p x`, `sshpass -p x`.
        simple(
            Kind::SecretField,
            &["login"],
            1,
            r#"\b(?:docker|podman|buildah|skopeo|nerdctl|oras|helm)\b[^\n|;&]*?\blogin\b[^\n|;&]*?\s-p[ \t]+('[^']*'|"[^"]*"|[^\s'"]+)"#,
            None,
        )?,
        simple(
            Kind::SecretField,
            &["sshpass"],
            1,
            r#"\bsshpass[ \t]+-p[ \t]*('[^']*'|"[^"]*"|[^\s'"]+)"#,
            None,
        )?,
        curl_user()?,
        sql_password()?,
    ])
}

/// Decides whether a key's value is masked: secret-named or listed, and not exempt.
#[derive(Clone)]
struct Keys {
    fields: Vec<String>,
    exempt: Vec<String>,
}

impl Keys {
    fn secret(&self, key: &str) -> bool {
        let bare = key.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        !listed(&self.exempt, key)
            && !listed(&self.exempt, bare)
            && (listed(&self.fields, bare) || is_secret_name(bare))
    }
}

fn keys(cx: &Context<'_>) -> Keys {
    Keys {
        fields: cx.config.fields.clone(),
        exempt: cx.config.exempt_fields.clone(),
    }
}

/// The operator's field names join the built-in key words, and their triggers.
fn key_words_and_triggers(cx: &Context<'_>) -> (String, Vec<String>) {
    let mut words = KEY_WORDS.to_string();
    let mut triggers: Vec<String> = SECRET_WORDS.iter().map(|w| (*w).to_string()).collect();
    for field in cx.config.fields.iter().filter(|f| !f.is_empty()) {
        words.push('|');
        words.push_str(&regex::escape(&field.to_ascii_lowercase()));
        triggers.push(field.clone());
    }
    (words, triggers)
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// `key=value`, `key: value`, `"key": "value"`, `key => 'value'` and the like.
///
/// Searched in the lowercase copy from the secret word on, so the regex engine can
/// look for the words themselves; the rest of the key, before the word, is read back
/// from the text.
fn key_value(cx: &Context<'_>) -> Result<Detector, MaskError> {
    let (words, triggers) = key_words_and_triggers(cx);
    let pattern = format!(r#"(?:{words})[a-z0-9_.-]*\\?["']?[ \t]*(?:=>|==?|:=?)[ \t]*{VALUE}"#);
    let re = regex(Kind::SecretField, &pattern)?;
    let keys = keys(cx);
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let bytes = hay.text.as_bytes();
        for all in re.find_iter(hay.lower()) {
            let start = bytes
                .get(..all.start())
                .and_then(|head| head.iter().rposition(|b| !is_key_byte(*b)))
                .map_or(0, |i| i + 1);
            let end = bytes
                .get(all.start()..)
                .and_then(|tail| tail.iter().position(|b| !is_key_byte(*b)))
                .map_or(bytes.len(), |i| all.start() + i);
            let key = slice(hay.text, start, end);
            // `Authorization` has a detector of its own, which keeps the scheme.
            if !key.to_ascii_lowercase().ends_with("authorization") && keys.secret(key) {
                let value_at = after_separator(bytes, end);
                if let Some((s, e)) = value(hay.text, value_at, all.end()) {
                    out.push(finding(s, e, Kind::SecretField));
                }
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(triggers),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// `--password x`, `--api-key "x"`: a secret-named flag and its next argument.
fn flags(cx: &Context<'_>) -> Result<Detector, MaskError> {
    let (_, triggers) = key_words_and_triggers(cx);
    let re = regex(
        Kind::SecretField,
        r#"(?:^|\s)(--?[A-Za-z][A-Za-z0-9_-]*)[ \t]+(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s'"]+))"#,
    )?;
    let keys = keys(cx);
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let text = hay.text;
        for all in re.find_iter(text) {
            let m = all.as_str();
            let lead = m.len() - m.trim_start().len();
            let flag_len = m.get(lead..).and_then(|f| f.find([' ', '\t'])).unwrap_or(0);
            let flag = slice(text, all.start() + lead, all.start() + lead + flag_len);
            let rest = m.get(lead + flag_len..).unwrap_or_default();
            let value_at = all.start()
                + lead
                + flag_len
                + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
            if !flag.starts_with("--no-")
                && keys.secret(flag)
                && let Some((s, e)) = value(text, value_at, all.end())
                && !slice(text, s, e).starts_with('-')
            {
                out.push(finding(s, e, Kind::SecretField));
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(triggers),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// SQL's `PASSWORD '…'` and `IDENTIFIED [WITH plugin] BY '…'`: the literal goes whole,
/// quotes and all, so the statement reads `ALTER ROLE app PASSWORD [secret_field:1a2b]`.
fn sql_password() -> Result<Detector, MaskError> {
    // Searched in the lowercase copy.
    let re = regex(
        Kind::SecretField,
        r#"\b(?:password|identified\s+(?:with\s+\S+\s+)?by)\s+(?:'(?:[^']|'')*'|"[^"]*")"#,
    )?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        for m in re.find_iter(hay.lower()) {
            // The keywords hold no quote: the literal starts at the first one.
            if let Some(q) = m.as_str().find(['\'', '"']) {
                out.push(finding(m.start() + q, m.end(), Kind::SecretField));
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(vec!["password".into(), "identified".into()]),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// `curl -u user:pass`, `curl --user=user:pass`: the password, as Basic credentials.
fn curl_user() -> Result<Detector, MaskError> {
    let re = regex(
        Kind::Basic,
        r#"(?:-u|--user)(?:[ \t]+|=)?['"]?[^\s:'"]*:([^\s'"]+)"#,
    )?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        for caps in re.captures_iter(hay.text) {
            if let (Some(all), Some(pass)) = (caps.get(0), caps.get(1))
                && byte_before(hay.text, all.start()).is_none_or(|b| b.is_ascii_whitespace())
            {
                out.push(finding(pass.start(), pass.end(), Kind::Basic));
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(vec!["curl".into()]),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// Where the value starts, after the key ending at `key_end`, its closing quote, and
/// the separator (`=`, `:`, `=>`, `==`, `:=`) with the blanks around it.
fn after_separator(bytes: &[u8], key_end: usize) -> usize {
    let mut i = key_end;
    let at = |i: usize| bytes.get(i).copied();
    if at(i) == Some(b'\\') {
        i += 1;
    }
    if matches!(at(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    while matches!(at(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i += match (at(i), at(i + 1)) {
        (Some(b'='), Some(b'>' | b'=')) | (Some(b':'), Some(b'=')) => 2,
        (Some(b'=' | b':'), _) => 1,
        _ => 0,
    };
    while matches!(at(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// The value from `start` to `end` as matched, inside its quotes (`"…"`, `'…'` or
/// `\"…\"`), unless it is no secret at all: empty, `null`, a mask of stars, or a
/// reference like `$DB_PASSWORD` or `{{ secret }}`.
fn value(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let raw = slice(text, start, end);
    let (s, e) = if raw.len() >= 4 && raw.starts_with("\\\"") && raw.ends_with("\\\"") {
        (start + 2, end - 2)
    } else if raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')))
    {
        (start + 1, end - 1)
    } else {
        (start, end)
    };
    let v = slice(text, s, e);
    let placeholder = v.is_empty()
        || ["null", "none", "nil", "undefined"]
            .iter()
            .any(|w| v.eq_ignore_ascii_case(w))
        || v.bytes().all(|b| b == b'*')
        || ["${", "$(", "{{", "<%"].iter().any(|p| v.starts_with(p))
        || is_variable(v);
    (!placeholder).then_some((s, e))
}

/// `$DB_PASSWORD`: a shell variable in upper case.
fn is_variable(v: &str) -> bool {
    v.strip_prefix('$').is_some_and(|name| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    })
}
