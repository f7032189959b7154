//! The detectors, by family, and what they have in common.
//!
//! A [`Detector`] is a [`Trigger`] (a cheap test of whether it can find anything in a
//! text at all) and a [`Finder`] (the search itself, usually one regex). Families:
//! - [`vendor`]: tokens with a known shape: PEM keys, JWTs, cloud and SaaS keys.
//! - [`credentials`]: `Authorization` values, credentials in URLs and DSNs.
//! - [`fields`]: values named by a secret key: `key=value`, `"key": "value"`,
//!   `--password x`, `-pSECRET`, `curl -u`, SQL `PASSWORD '…'`.
//! - [`personal`]: emails, phone numbers, cards, US SSNs, IBANs.
//! - [`generic`]: high-entropy strings and the operator's own patterns.

mod credentials;
mod fields;
mod generic;
mod personal;
mod vendor;

use crate::config::{MaskConfig, MaskError};
use crate::kind::Kind;
use crate::lex::Lexed;
use regex::Regex;
use std::cell::OnceCell;

/// A span of the text that should be masked, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Finding {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The text being searched, and (made once, when first needed) its ASCII-lowercase
/// copy. The copy has the same byte offsets, so a case-insensitive detector searches
/// it with plain lowercase literals, which the regex engine can look for with fast
/// literal scans (a `(?i)` pattern of long words defeats them).
///
/// It also keeps the text's [`Lexed`] pass, shared by the byte-level detectors.
pub(crate) struct Haystack<'t> {
    pub text: &'t str,
    lower: OnceCell<String>,
    lexed: OnceCell<Lexed>,
}

impl<'t> Haystack<'t> {
    /// `lexed`, when the trigger test has made it already.
    pub(crate) fn new(text: &'t str, lexed: Option<Lexed>) -> Self {
        Haystack {
            text,
            lower: OnceCell::new(),
            lexed: lexed.map(OnceCell::from).unwrap_or_default(),
        }
    }

    pub(crate) fn lower(&self) -> &str {
        self.lower.get_or_init(|| self.text.to_ascii_lowercase())
    }

    pub(crate) fn lexed(&self) -> &Lexed {
        self.lexed.get_or_init(|| Lexed::of(self.text.as_bytes()))
    }

    fn get(&self, case: Case) -> &str {
        match case {
            Case::Sensitive => self.text,
            Case::Lower => self.lower(),
        }
    }
}

/// Which form of the text a regex searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// The text as it is.
    Sensitive,
    /// The ASCII-lowercase copy: the pattern is written in lower case and matches any.
    Lower,
}

/// When a detector is worth running on a text.
pub(crate) enum Trigger {
    /// One of these words occurs, ignoring ASCII case.
    Words(Vec<String>),
    /// The text's [`Lexed`] pass found something for it.
    Lexed(LexedTest),
    /// Always.
    Always,
}

/// Whether a text with this [`Lexed`] pass can hold a finding.
pub(crate) type LexedTest = fn(&Lexed) -> bool;

/// Checks a regex match in its (original) text before it becomes a finding.
pub(crate) type Check = fn(text: &str, start: usize, end: usize) -> bool;

/// A search for findings in a text.
pub(crate) type FindFn = Box<dyn Fn(&Haystack<'_>, &mut Vec<Finding>) + Send + Sync>;

pub(crate) enum Finder {
    /// Each match that passes `check` is a finding of `kind` spanning capture `group`
    /// (0: the whole match).
    Regex {
        re: Regex,
        case: Case,
        kind: Kind,
        group: usize,
        check: Option<Check>,
    },
    /// A search of its own.
    Custom(FindFn),
}

pub(crate) struct Detector {
    pub trigger: Trigger,
    pub finder: Finder,
}

impl Detector {
    pub(crate) fn find(&self, hay: &Haystack<'_>, out: &mut Vec<Finding>) {
        let text = hay.text;
        match &self.finder {
            Finder::Regex {
                re,
                case,
                kind,
                group: 0,
                check,
            } => {
                for m in re.find_iter(hay.get(*case)) {
                    if check.is_none_or(|c| c(text, m.start(), m.end())) {
                        out.push(finding(m.start(), m.end(), *kind));
                    }
                }
            }
            Finder::Regex {
                re,
                case,
                kind,
                group,
                check,
            } => {
                for caps in re.captures_iter(hay.get(*case)) {
                    if let Some(m) = caps.get(*group)
                        && check.is_none_or(|c| c(text, m.start(), m.end()))
                    {
                        out.push(finding(m.start(), m.end(), *kind));
                    }
                }
            }
            Finder::Custom(find) => find(hay, out),
        }
    }
}

pub(crate) fn finding(start: usize, end: usize, kind: Kind) -> Finding {
    Finding { start, end, kind }
}

/// What the families need from the operator's config.
pub(crate) struct Context<'a> {
    pub config: &'a MaskConfig,
}

/// Every detector: the built-in families, then the operator's patterns.
pub(crate) fn build(config: &MaskConfig) -> Result<Vec<Detector>, MaskError> {
    let cx = Context { config };
    let mut all = Vec::new();
    all.extend(vendor::detectors()?);
    all.extend(credentials::detectors()?);
    all.extend(fields::detectors(&cx)?);
    all.extend(personal::detectors()?);
    all.extend(generic::detectors(&cx)?);
    Ok(all)
}

/// Compiles a built-in pattern. `\b` is made ASCII-only and `\d` means `[0-9]`, so the
/// fast DFA engines can run them over any text.
pub(crate) fn regex(kind: Kind, pattern: &str) -> Result<Regex, MaskError> {
    let pattern = pattern.replace(r"\b", r"(?-u:\b)").replace(r"\d", "[0-9]");
    Regex::new(&pattern).map_err(|e| MaskError::BadPattern {
        name: kind.builtin_name().unwrap_or("built-in").to_string(),
        message: e.to_string(),
    })
}

/// A detector that is one regex, triggered by `words`. A pattern starting `(?i)` is
/// run over the lowercase copy instead: it must then be written in lower case.
pub(crate) fn simple(
    kind: Kind,
    words: &[&str],
    group: usize,
    pattern: &str,
    check: Option<Check>,
) -> Result<Detector, MaskError> {
    let (case, pattern) = match pattern.strip_prefix("(?i)") {
        Some(rest) => (Case::Lower, rest),
        None => (Case::Sensitive, pattern),
    };
    Ok(Detector {
        trigger: Trigger::Words(words.iter().map(|w| (*w).to_string()).collect()),
        finder: Finder::Regex {
            re: regex(kind, pattern)?,
            case,
            kind,
            group,
            check,
        },
    })
}

/// The byte before `start`, if any.
pub(crate) fn byte_before(text: &str, start: usize) -> Option<u8> {
    start
        .checked_sub(1)
        .and_then(|i| text.as_bytes().get(i).copied())
}

/// The byte at `end`, if any.
pub(crate) fn byte_at(text: &str, end: usize) -> Option<u8> {
    text.as_bytes().get(end).copied()
}

/// The part of `text` from `start` to `end`, or nothing.
pub(crate) fn slice(text: &str, start: usize, end: usize) -> &str {
    text.get(start..end).unwrap_or_default()
}
