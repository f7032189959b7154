//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use holdpoint_mask::{MaskConfig, Redactor};
use std::sync::LazyLock;

/// A fixed test key: fingerprints are stable from run to run.
pub const KEY: &[u8] = b"holdpoint-test-key-0123456789abcdef";

static DEFAULT: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::new(KEY, &MaskConfig::default()).unwrap());

/// The redactor with default settings.
pub fn redactor() -> &'static Redactor {
    &DEFAULT
}

pub fn mask(text: &str) -> String {
    redactor().mask_text(text)
}

/// `secret` is gone from `text` once masked, and a `[kind:…]` mask stands in.
pub fn assert_masks(text: &str, secret: &str, kind: &str) {
    let out = mask(text);
    assert!(!out.contains(secret), "`{secret}` still shows in `{out}`");
    assert!(
        out.contains(&format!("[{kind}:")),
        "no `{kind}` mask in `{out}` (from `{text}`)"
    );
}

/// `text` comes out as it went in.
pub fn assert_untouched(text: &str) {
    assert_eq!(mask(text), text, "`{text}` should stay readable");
}
