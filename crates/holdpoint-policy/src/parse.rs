//! One `.cedar` file → its static policies, each with the line it starts on.
//!
//! Files are parsed one at a time so a syntax error names the right file, and each
//! policy's first line is found from the source text cedar keeps for it.

use crate::PolicySource;
use crate::error::{PolicyError, describe, first_offset, line_of};
use cedar_policy as cedar;
use std::str::FromStr;

/// A policy as parsed, still under cedar's generated id (`policy0`, …).
pub(crate) struct Parsed {
    pub policy: cedar::Policy,
    /// 1-based line of the policy's first line (its first annotation, if any).
    pub line: usize,
}

/// Parses one file. Templates (`?principal`, `?resource`) are refused: holdpoint has no
/// way to link them, so they would silently never apply.
pub(crate) fn parse_file(source: &PolicySource) -> Result<Vec<Parsed>, PolicyError> {
    let set = cedar::PolicySet::from_str(&source.text).map_err(|errs| syntax(source, &errs))?;
    if let Some(template) = set.templates().next() {
        let line = template
            .to_cedar()
            .lines()
            .next()
            .and_then(|first| source.text.find(first.trim()))
            .map_or(1, |offset| line_of(&source.text, offset));
        return Err(PolicyError::Syntax {
            file: source.file.clone(),
            line,
            message: "policy templates (`?principal`, `?resource`) are not supported: \
                      write the principal or resource out"
                .into(),
        });
    }
    // INVARIANT: `PolicySet::from_str` names the statements of a file `policy0`,
    // `policy1`, … in source order; with no templates there are no gaps.
    let mut parsed = Vec::with_capacity(set.num_of_policies());
    let mut cursor = 0;
    for index in 0..set.num_of_policies() {
        let id = cedar::PolicyId::new(format!("policy{index}"));
        let Some(policy) = set.policy(&id) else {
            return Err(PolicyError::Syntax {
                file: source.file.clone(),
                line: line_of(&source.text, cursor),
                message: format!("cedar did not return policy number {index} of this file"),
            });
        };
        let (offset, end) = locate(&source.text, cursor, policy);
        cursor = end;
        parsed.push(Parsed {
            policy: policy.clone(),
            line: line_of(&source.text, offset),
        });
    }
    Ok(parsed)
}

/// Where `policy`'s text starts and ends, searching from `from`. Cedar keeps the exact
/// source slice of each policy parsed from text; if it ever does not, `from` is used.
fn locate(text: &str, from: usize, policy: &cedar::Policy) -> (usize, usize) {
    let Some(own) = policy.to_cedar() else {
        return (from, from);
    };
    match text.get(from..).and_then(|rest| rest.find(own.as_str())) {
        Some(at) => (from + at, from + at + own.len()),
        None => (from, from),
    }
}

fn syntax(source: &PolicySource, errs: &cedar::ParseErrors) -> PolicyError {
    let line = first_offset(errs).map_or(1, |offset| line_of(&source.text, offset));
    let mut message = describe(errs);
    let more = errs.iter().count().saturating_sub(1);
    if more > 0 {
        message.push_str(&format!(" (and {more} more)"));
    }
    PolicyError::Syntax {
        file: source.file.clone(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> PolicySource {
        PolicySource {
            file: "t.cedar".into(),
            text: text.into(),
        }
    }

    #[test]
    fn policies_know_their_first_line() {
        let text = "// a comment\n\npermit(principal, action, resource);\n\n@id(\"x\")\n@hold(\"h\")\nforbid(principal, action, resource);\n";
        let parsed = parse_file(&source(text)).unwrap();
        let lines: Vec<usize> = parsed.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 5]);
    }

    #[test]
    fn identical_policies_get_their_own_lines() {
        let text = "permit(principal, action, resource);\npermit(principal, action, resource);\n";
        let parsed = parse_file(&source(text)).unwrap();
        let lines: Vec<usize> = parsed.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2]);
    }

    #[test]
    fn templates_are_refused() {
        let err = match parse_file(&source(
            "\npermit(principal == ?principal, action, resource);",
        )) {
            Err(e) => e,
            Ok(_) => panic!("template accepted"),
        };
        assert!(matches!(err, PolicyError::Syntax { line: 2, .. }), "{err}");
    }
}
