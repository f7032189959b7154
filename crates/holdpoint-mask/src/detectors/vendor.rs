//! Secrets with a shape of their own: PEM private keys, JWTs, and the keys of AWS, GCP,
//! Azure, GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic and holdpoint itself.

use super::{
    Check, Detector, Finder, Finding, Haystack, Trigger, byte_at, finding, regex, simple, slice,
};
use crate::config::MaskError;
use crate::kind::Kind;

/// A token known by its shape; all of them are found in one regex pass, and the prefix
/// of a match (one of `words`) tells which it is.
struct Shaped {
    kind: Kind,
    /// Lowercase prefixes of every match, and the words that wake the detector.
    words: &'static [&'static str],
    pattern: &'static str,
    check: Option<Check>,
}

/// In order: a match is given to the first entry whose prefix it has (`sk-ant-` before
/// `sk-`).
const SHAPED: [Shaped; 10] = [
    // The whole block, headers and all; a block cut short ends with its base64.
    Shaped {
        kind: Kind::PrivateKey,
        words: &["-----begin"],
        pattern: r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:(?s:.)*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,-]*)",
        check: None,
    },
    Shaped {
        kind: Kind::Jwt,
        words: &["eyj"],
        pattern: r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        check: None,
    },
    Shaped {
        kind: Kind::AwsAccessKeyId,
        words: &[
            "akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "aroa", "apka",
            "asca",
        ],
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b",
        check: None,
    },
    Shaped {
        kind: Kind::GithubToken,
        words: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        check: None,
    },
    Shaped {
        kind: Kind::GitlabToken,
        words: &["glpat-", "gldt-", "glrt-", "glptt-", "gloas-"],
        pattern: r"\bgl(?:pat|dt|rt|ptt|oas)-[A-Za-z0-9_-]{20,}",
        check: None,
    },
    Shaped {
        kind: Kind::SlackToken,
        words: &["xox", "xapp-"],
        pattern: r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})",
        check: None,
    },
    Shaped {
        kind: Kind::StripeKey,
        words: &["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"],
        pattern: r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})",
        check: None,
    },
    Shaped {
        kind: Kind::AnthropicKey,
        words: &["sk-ant-"],
        pattern: r"\bsk-ant-[A-Za-z0-9_-]{20,}",
        check: Some(mixed_after_prefix),
    },
    Shaped {
        kind: Kind::OpenaiKey,
        words: &["sk-"],
        pattern: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        check: Some(mixed_after_prefix),
    },
    Shaped {
        kind: Kind::HoldpointToken,
        words: &["hp_"],
        pattern: r"\bhp_[0-9a-f]{64}\b",
        check: None,
    },
];

pub(super) fn detectors() -> Result<Vec<Detector>, MaskError> {
    Ok(vec![
        shaped()?,
        // The secret key has no shape of its own; its name gives it away.
        simple(
            Kind::AwsSecretKey,
            &["secret"],
            1,
            r#"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)\\?["']?\s*(?:[:=]|\s)\s*\\?["']?([a-z0-9/+]{40})"#,
            Some(not_followed_by_base64),
        )?,
        // In a service-account JSON read as text; the JSON walk knows the structure.
        simple(
            Kind::GcpServiceAccount,
            &["service_account"],
            1,
            r#""private_key(?:_id)?"\s*:\s*"((?:-----BEGIN|[0-9a-f]{40})[^"]*)""#,
            None,
        )?,
        simple(
            Kind::AzureStorageKey,
            &["accountkey", "sharedaccesskey"],
            1,
            r"(?i)\b(?:accountkey|sharedaccesskey)\s*=\s*([a-z0-9+/]{20,}={0,2})",
            None,
        )?,
        // A webhook URL: the host stays readable, the path is the secret.
        simple(
            Kind::SlackToken,
            &["hooks.slack.com"],
            1,
            r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/]{8,})",
            None,
        )?,
    ])
}

/// Every [`SHAPED`] token in one pass.
fn shaped() -> Result<Detector, MaskError> {
    let pattern = SHAPED
        .iter()
        .map(|s| format!("(?:{})", s.pattern))
        .collect::<Vec<_>>()
        .join("|");
    let re = regex(Kind::PrivateKey, &pattern)?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let text = hay.text;
        for m in re.find_iter(text) {
            let s = m.as_str();
            let entry = SHAPED.iter().find(|e| {
                e.words
                    .iter()
                    .any(|w| s.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w)))
            });
            if let Some(e) = entry
                && e.check.is_none_or(|c| c(text, m.start(), m.end()))
            {
                out.push(finding(m.start(), m.end(), e.kind));
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Words(
            SHAPED
                .iter()
                .flat_map(|e| e.words.iter().map(|w| (*w).to_string()))
                .collect(),
        ),
        finder: Finder::Custom(Box::new(find)),
    })
}

fn not_followed_by_base64(text: &str, _start: usize, end: usize) -> bool {
    !byte_at(text, end).is_some_and(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
}

/// `sk-learn-pipeline-config` is a name; a key mixes cases and digits.
fn mixed_after_prefix(text: &str, start: usize, end: usize) -> bool {
    let s = slice(text, start, end);
    let body = s.get(3..).unwrap_or_default();
    body.bytes().any(|b| b.is_ascii_uppercase())
        && body.bytes().any(|b| b.is_ascii_lowercase())
        && body.bytes().any(|b| b.is_ascii_digit())
}
