//! What no other detector names: high-entropy strings (see [`crate::entropy`]) and the
//! operator's own `[[masking.patterns]]`.

use super::{Case, Context, Detector, Finder, Finding, Haystack, Trigger, finding};
use crate::config::MaskError;
use crate::entropy::random_span;
use crate::fingerprint::valid_kind_name;
use crate::kind::{Kind, NAMES};
use regex::Regex;

pub(super) fn detectors(cx: &Context<'_>) -> Result<Vec<Detector>, MaskError> {
    let mut all = vec![high_entropy()];
    for (i, pattern) in cx.config.patterns.iter().enumerate() {
        let bad = |message: String| MaskError::BadPattern {
            name: pattern.name.clone(),
            message,
        };
        if !valid_kind_name(&pattern.name) {
            return Err(bad(
                "a name is 1 to 32 lowercase letters, digits or `_`, starting with a letter".into(),
            ));
        }
        if NAMES.contains(&pattern.name.as_str()) {
            return Err(bad("that name is a built-in detector".into()));
        }
        if cx
            .config
            .patterns
            .iter()
            .take(i)
            .any(|p| p.name == pattern.name)
        {
            return Err(bad("that name is used twice".into()));
        }
        let re = Regex::new(&pattern.regex).map_err(|e| bad(e.to_string()))?;
        if re.is_match("") {
            return Err(bad("the regex matches the empty string".into()));
        }
        let index = u16::try_from(i).map_err(|_| bad("too many patterns".into()))?;
        let group = usize::from(re.captures_len() > 1);
        all.push(Detector {
            trigger: Trigger::Always,
            finder: Finder::Regex {
                re,
                case: Case::Sensitive,
                kind: Kind::Custom(index),
                group,
                check: None,
            },
        });
    }
    Ok(all)
}

fn high_entropy() -> Detector {
    Detector {
        trigger: Trigger::Lexed(|lexed| !lexed.long_tokens.is_empty()),
        finder: Finder::Custom(Box::new(find_random)),
    }
}

/// Asks [`random_span`] about each long run of token bytes.
fn find_random(hay: &Haystack<'_>, out: &mut Vec<Finding>) {
    let bytes = hay.text.as_bytes();
    for &(start, end) in &hay.lexed().long_tokens {
        if let Some((s, e)) = bytes.get(start..end).and_then(random_span) {
            out.push(finding(start + s, start + e, Kind::HighEntropy));
        }
    }
}
