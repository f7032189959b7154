//! The `[masking]` section of `holdpoint.toml`, and the errors of this crate.

use serde::Deserialize;
use std::path::PathBuf;

/// Operator settings for masking. Every field may be left out.
///
/// ```toml
/// [masking]
/// disable = ["phone"]
/// fields = ["pin", "employee_ssn"]
/// exempt_fields = ["trace_id"]
/// patterns = [{ name = "employee_id", regex = 'EMP-\d{6}' }]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskConfig {
    /// Detector names to turn off (see [`crate::Redactor::detector_names`]).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Extra secret field names, matched whole and case-insensitively.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Field names never masked: neither the key nor anything under it.
    #[serde(default)]
    pub exempt_fields: Vec<String>,
    /// Extra regex detectors.
    #[serde(default)]
    pub patterns: Vec<PatternConfig>,
}

/// An operator's regex detector. When the regex has a capture group, only the first
/// group is masked; otherwise the whole match is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    /// Shown in the mask, e.g. `[employee_id:1a2b]`: lowercase letters, digits and `_`.
    pub name: String,
    /// Rust `regex` syntax.
    pub regex: String,
}

/// What can go wrong building a [`crate::Redactor`] or reading its key.
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    /// An extra pattern that is not usable; `message` says why.
    #[error("masking pattern `{name}`: {message}")]
    BadPattern { name: String, message: String },
    /// `disable` names a detector that does not exist.
    #[error("unknown masking detector `{0}`")]
    UnknownDetector(String),
    /// The HMAC key is shorter than 32 bytes.
    #[error("masking key is {len} bytes; at least 32 are needed")]
    ShortKey { len: usize },
    /// The key file could not be read, written or decoded.
    #[error("masking key `{}`: {message}", path.display())]
    Key { path: PathBuf, message: String },
}
