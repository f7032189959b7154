//! # holdpoint-mask: secrets and personal data masked before anyone sees an action
//!
//! Reviewers must see enough to judge an action and never its secrets (DESIGN §2.7).
//! A [`Redactor`] turns each secret into a mask that keeps its kind and a short keyed
//! fingerprint, `[aws_secret_key:7f3a]`: the same value masks alike within one
//! deployment, so a reviewer can see two values match without seeing them.
//!
//! A tour, from the outside in:
//! - [`Redactor`]: the entry point, and `holdpoint_core::mask::Masker` for the gate.
//! - [`config`]: the `[masking]` section ([`MaskConfig`]) and [`MaskError`].
//! - [`key`]: the deployment's HMAC key in `DATA_DIR/mask.key` ([`load_or_create_key`]).
//! - `json`: params walked as a tree: secret-named keys, exempt keys, everything else
//!   as text.
//! - `text`: free text (SQL, shell, headers, prose) masked in place.
//! - `resource`: an action's resource masked, still a `/` path of segments.
//! - `scan`: which detectors run on a text, and which findings win an overlap; `lex`:
//!   the one byte-level pass the trigger test and the byte-level detectors share.
//! - `detectors`: the detectors by family (vendor tokens, credentials, secret fields,
//!   personal data, high entropy, operator patterns).
//! - `names`, `entropy`, `checksum`: what names a secret, what looks random, and the
//!   Luhn / IBAN / SSN checks; `class`: byte classes for the byte-by-byte scanners.
//! - `fingerprint`: the HMAC and the mask format.

mod checksum;
mod class;
pub mod config;
mod detectors;
mod entropy;
mod fingerprint;
mod json;
pub mod key;
mod kind;
mod lex;
mod names;
mod resource;
mod scan;
mod text;

pub use config::{MaskConfig, MaskError, PatternConfig};
pub use key::load_or_create_key;

use fingerprint::Fingerprinter;
use kind::Kind;
use scan::Scanner;
use serde_json::Value;
use std::fmt;

/// Masks secrets and personal data in JSON values and free text.
///
/// Build one per deployment at start-up and share it (`Arc<Redactor>`): it is
/// `Send + Sync`, and masking takes `&self`.
pub struct Redactor {
    fingerprint: Fingerprinter,
    scanner: Scanner,
    /// Names of the operator's patterns, by `Kind::Custom` index.
    custom_names: Vec<String>,
    disabled: Vec<Kind>,
    fields: Vec<String>,
    exempt: Vec<String>,
}

impl Redactor {
    /// A redactor keyed by the deployment's HMAC key (at least 32 bytes; see
    /// [`load_or_create_key`]) with the operator's `[masking]` settings.
    pub fn new(key: &[u8], config: &MaskConfig) -> Result<Redactor, MaskError> {
        if key.len() < key::KEY_LEN {
            return Err(MaskError::ShortKey { len: key.len() });
        }
        let disabled = config
            .disable
            .iter()
            .map(|name| {
                Kind::from_name(name).ok_or_else(|| MaskError::UnknownDetector(name.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fingerprint = Fingerprinter::new(key).ok_or(MaskError::ShortKey { len: key.len() })?;
        let scanner = Scanner::new(detectors::build(config)?, disabled.clone())?;
        Ok(Redactor {
            fingerprint,
            scanner,
            custom_names: config.patterns.iter().map(|p| p.name.clone()).collect(),
            disabled,
            fields: config.fields.clone(),
            exempt: config.exempt_fields.clone(),
        })
    }

    /// The names of the built-in detectors, as shown in masks and accepted by `disable`.
    pub fn detector_names() -> &'static [&'static str] {
        &kind::NAMES
    }

    /// `value` with its secrets masked: keys and values, through nested arrays and
    /// objects. Everything under a secret-named key is masked whole.
    pub fn mask_value(&self, value: &Value) -> Value {
        self.walk(value, None)
    }

    /// `text` with its secrets masked in place; what is not secret stays as it was.
    pub fn mask_text(&self, text: &str) -> String {
        self.mask_str(text).into_owned()
    }

    /// The mask for `raw` found as `kind`.
    fn mask_as(&self, kind: Kind, raw: &str) -> String {
        let name = match kind {
            Kind::Custom(i) => self
                .custom_names
                .get(usize::from(i))
                .map_or("pattern", String::as_str),
            builtin => builtin.builtin_name().unwrap_or("secret"),
        };
        self.fingerprint.mask(name, raw)
    }

    fn enabled(&self, kind: Kind) -> bool {
        !self.disabled.contains(&kind)
    }
}

impl holdpoint_core::mask::Masker for Redactor {
    fn mask_value(&self, value: &Value) -> Value {
        Redactor::mask_value(self, value)
    }

    fn mask_text(&self, text: &str) -> String {
        Redactor::mask_text(self, text)
    }

    fn mask_resource(&self, resource: &str) -> String {
        Redactor::mask_resource(self, resource)
    }
}

impl fmt::Debug for Redactor {
    // The key never shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("patterns", &self.custom_names)
            .field("disabled", &self.disabled)
            .field("fields", &self.fields)
            .field("exempt", &self.exempt)
            .finish_non_exhaustive()
    }
}
