//! Validation against `schema.cedarschema` (Cedar's validator, strict mode).
//!
//! A schema is optional. Where there is one, every policy must type-check against it,
//! which catches misspelt attributes and actions before they silently never match.

use crate::PolicySource;
use crate::annotations::Meta;
use crate::error::{PolicyError, describe, first_offset, line_of};
use cedar_policy as cedar;
use std::collections::HashMap;

/// Parses `schema` and validates `set` against it. The first error is returned, named by
/// the file and line of the offending expression (or of its policy).
pub(crate) fn validate(
    set: &cedar::PolicySet,
    schema: &str,
    sources: &[PolicySource],
    metas: &[Meta],
    index: &HashMap<String, usize>,
) -> Result<(), PolicyError> {
    let schema = parse(schema)?;
    let validator = cedar::Validator::new(schema);
    let result = validator.validate(set, cedar::ValidationMode::Strict);
    let mut errors: Vec<(usize, PolicyError)> = result
        .validation_errors()
        .map(|err| {
            let id = err.policy_id().to_string();
            let meta = index.get(&id).and_then(|&i| metas.get(i).map(|m| (i, m)));
            let (rank, file, line) = match meta {
                Some((rank, meta)) => {
                    let text = sources
                        .iter()
                        .find(|s| s.file == meta.file)
                        .map(|s| s.text.as_str());
                    let line = match (first_offset(err), text) {
                        (Some(offset), Some(text)) => line_of(text, offset).max(meta.line),
                        _ => meta.line,
                    };
                    (rank, meta.file.clone(), line)
                }
                None => (usize::MAX, String::from("?"), 0),
            };
            let detail = describe(err);
            // Cedar's text starts "for policy `ID`, …"; the id is named once, here.
            let own = format!("for policy `{id}`, ");
            let detail = detail.strip_prefix(own.as_str()).unwrap_or(&detail);
            let message = format!("policy `{id}` does not match the schema: {detail}");
            (
                rank,
                PolicyError::Validation {
                    file,
                    line,
                    message,
                },
            )
        })
        .collect();
    errors.sort_by_key(|(rank, _)| *rank);
    match errors.into_iter().next() {
        Some((_, err)) => Err(err),
        None => Ok(()),
    }
}

fn parse(text: &str) -> Result<cedar::Schema, PolicyError> {
    match cedar::Schema::from_cedarschema_str(text) {
        Ok((schema, warnings)) => {
            for warning in warnings {
                tracing::warn!(%warning, "policy schema warning");
            }
            Ok(schema)
        }
        Err(err) => {
            let line = first_offset(&err).map(|offset| line_of(text, offset));
            let message = match line {
                Some(line) => format!("line {line}: {}", describe(&err)),
                None => describe(&err),
            };
            Err(PolicyError::Schema { message })
        }
    }
}
