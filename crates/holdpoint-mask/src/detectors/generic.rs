//! What no other detector names: high-entropy strings (see [`crate::entropy`]) and the
//! operator's own `[[masking.patterns]]`.

use super::{Case, Context, Detector, Finder, Finding, Trigger, finding};
use crate::config::MaskError;
use crate::entropy::{MIN_RUN, is_token_byte, random_span};
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
        trigger: Trigger::Shape(|shape| shape.longest_run >= MIN_RUN),
        finder: Finder::Custom(Box::new(|hay, out| find_random(hay.text, out))),
    }
}

/// Walks the runs of token bytes and asks [`random_span`] about the long ones.
fn find_random(text: &str, out: &mut Vec<Finding>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(rest) = bytes.get(i..) {
        let Some(skip) = rest.iter().position(|b| is_token_byte(*b)) else {
            break;
        };
        let start = i + skip;
        let run = rest.get(skip..).unwrap_or_default();
        let len = run
            .iter()
            .position(|b| !is_token_byte(*b))
            .unwrap_or(run.len());
        if len >= MIN_RUN
            && let Some((s, e)) = run.get(..len).and_then(random_span)
        {
            out.push(finding(start + s, start + e, Kind::HighEntropy));
        }
        i = start + len;
    }
}
