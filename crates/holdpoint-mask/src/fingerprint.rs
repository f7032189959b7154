//! The mask itself: `[kind:7f3a]`, where `7f3a` is the first 4 hex digits of
//! HMAC-SHA256(deployment key, raw value).

use hmac::{Hmac, KeyInit, Mac};
use regex::Regex;
use sha2::Sha256;
use std::sync::LazyLock;

/// Finds masks already in a text, so masking twice changes nothing.
static MASK: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\[[a-z][a-z0-9_]{0,31}:[0-9a-f]{4}\]").ok());

/// A keyed fingerprint: the same value gives the same mask within one deployment, and
/// another key gives another.
#[derive(Clone)]
pub(crate) struct Fingerprinter {
    keyed: Hmac<Sha256>,
}

impl Fingerprinter {
    /// `None` only if HMAC refused the key, which HMAC never does for any length.
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        Hmac::<Sha256>::new_from_slice(key)
            .ok()
            .map(|keyed| Self { keyed })
    }

    /// `[kind:xxxx]` for `raw`.
    pub(crate) fn mask(&self, kind: &str, raw: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(raw.as_bytes());
        let code = mac.finalize().into_bytes();
        let short = hex::encode(code.get(..2).unwrap_or_default());
        format!("[{kind}:{short}]")
    }
}

/// Whether `text` is exactly one mask.
pub(crate) fn is_mask(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first() == Some(&b'[')
        && bytes.last() == Some(&b']')
        && text.len() <= 40
        && masks_in(text).first() == Some(&(0, text.len()))
}

/// The spans of the masks in `text`.
pub(crate) fn masks_in(text: &str) -> Vec<(usize, usize)> {
    if !text.contains('[') {
        return Vec::new();
    }
    match MASK.as_ref() {
        Some(re) => re.find_iter(text).map(|m| (m.start(), m.end())).collect(),
        None => Vec::new(),
    }
}

/// Whether `name` may be shown in a mask (and found again by [`masks_in`]).
pub(crate) fn valid_kind_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}
