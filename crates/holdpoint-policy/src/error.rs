//! [`PolicyError`]: every way a policy directory can be refused, named by file and line.

use miette::Diagnostic;

/// Why a policy set was refused. Each message names the file and line where known, so
/// `holdpoint policy check` and the reload log point straight at the mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A file or directory could not be read or written.
    #[error("`{path}`: {message}")]
    Io { path: String, message: String },
    /// Cedar could not parse a file.
    #[error("`{file}` line {line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    /// An annotation holdpoint reads has a bad value or sits on the wrong policy.
    #[error("`{file}` line {line}: policy `{policy}`: {message}")]
    Annotation {
        policy: String,
        file: String,
        line: usize,
        message: String,
    },
    /// Two policies carry the same id (`first` and `second` are `file:line`).
    #[error("policy id `{id}` is used twice: at {first} and at {second}")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
    /// A policy does not validate against `schema.cedarschema`.
    #[error("`{file}` line {line}: {message}")]
    Validation {
        file: String,
        line: usize,
        message: String,
    },
    /// `schema.cedarschema` itself is invalid.
    #[error("bad schema `{file}`: {message}", file = crate::load::SCHEMA_FILE)]
    Schema { message: String },
    /// `reload` or `watch` was asked of an engine that has no policy directory.
    #[error("no policy directory to reload from: the policies were not loaded from a directory")]
    NoDirectory,
}

impl PolicyError {
    pub(crate) fn io(path: &std::path::Path, err: impl std::fmt::Display) -> Self {
        PolicyError::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        }
    }
}

/// The 1-based line of a byte offset in `text`. Offsets past the end give the last line.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.bytes().take(end).filter(|b| *b == b'\n').count() + 1
}

/// The earliest labelled source offset of a cedar diagnostic, if it has one.
pub(crate) fn first_offset(diag: &dyn Diagnostic) -> Option<usize> {
    diag.labels()
        .and_then(|labels| labels.map(|l| l.offset()).min())
}

/// A one-line message for a cedar diagnostic: its text, the label texts (such as
/// "expected `;`") and its help, lowercased at the start.
pub(crate) fn describe(diag: &dyn Diagnostic) -> String {
    let mut message = diag.to_string();
    if let Some(labels) = diag.labels() {
        for label in labels {
            if let Some(text) = label.label()
                && !text.is_empty()
                && !message.contains(text)
            {
                message.push_str(": ");
                message.push_str(text);
            }
        }
    }
    if let Some(help) = diag.help() {
        let help = help.to_string();
        if !help.is_empty() {
            message.push_str(" (");
            message.push_str(&help);
            message.push(')');
        }
    }
    lowercase_first(&message)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_clamped() {
        let text = "a\nb\nc";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 2), 2);
        assert_eq!(line_of(text, 4), 3);
        assert_eq!(line_of(text, 400), 3);
    }

    #[test]
    fn display_names_file_and_line() {
        let err = PolicyError::Syntax {
            file: "10-holds.cedar".into(),
            line: 4,
            message: "unexpected token `)`".into(),
        };
        assert_eq!(
            err.to_string(),
            "`10-holds.cedar` line 4: unexpected token `)`"
        );
    }
}
