//! Free text masked in place: SQL, shell command lines, HTTP headers, prose. Every
//! finding is replaced by its mask; everything around it is kept as it was.

use crate::Redactor;
use crate::detectors::Finding;
use std::borrow::Cow;

/// Passes over a text before its masking is taken as settled (see `scan::Settled`).
pub(crate) const MAX_PASSES: usize = 4;

impl Redactor {
    /// `text` with every finding replaced by its mask; borrowed when nothing is found.
    pub(crate) fn mask_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut current = Cow::Borrowed(text);
        for _ in 0..MAX_PASSES {
            let settled = self.scanner.findings(&current);
            if settled.findings.is_empty() {
                break;
            }
            let next = self.render(&current, &settled.findings);
            current = Cow::Owned(next);
            if settled.complete {
                break;
            }
        }
        current
    }

    pub(crate) fn render(&self, text: &str, findings: &[Finding]) -> String {
        let mut out = String::with_capacity(text.len() + findings.len() * 8);
        let mut pos = 0;
        for f in findings {
            // INVARIANT: findings are sorted, disjoint and on char boundaries (regex
            // matches, or runs of ASCII bytes); `get` keeps this total regardless.
            out.push_str(text.get(pos..f.start).unwrap_or_default());
            let raw = text.get(f.start..f.end).unwrap_or_default();
            out.push_str(&self.mask_as(f.kind, raw));
            pos = f.end;
        }
        out.push_str(text.get(pos..).unwrap_or_default());
        out
    }
}
