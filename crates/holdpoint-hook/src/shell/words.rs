//! One shell word as the shell will see it after quote removal: a literal text, or a
//! text only known at run time (a variable, a command substitution, a glob, a brace
//! expansion). Command and process substitutions found inside a word are programs of
//! their own; they are handed back to be read in turn.

use brush_parser::ParserOptions;
use brush_parser::word::{self, TildeExpr, WordPiece, WordPieceWithSource};

/// A word after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// What the shell passes, exactly.
    Literal(String),
    /// Known only when it runs: `text` is the word as written.
    Dynamic(String),
}

impl Value {
    pub fn literal(&self) -> Option<&str> {
        match self {
            Value::Literal(text) => Some(text),
            Value::Dynamic(_) => None,
        }
    }

    /// The literal text, or the word as written for one known only at run time.
    pub fn text(&self) -> &str {
        match self {
            Value::Literal(text) | Value::Dynamic(text) => text,
        }
    }
}

/// A word read: its value, and the command substitutions it runs (their source text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub value: Value,
    pub substitutions: Vec<String>,
    /// A substitution hides where it cannot be read (inside `${…}` or `$((…))`).
    pub unreadable: Option<&'static str>,
}

/// Characters that make an unquoted word a pattern the shell expands (globs, braces).
const PATTERN: &[char] = &['*', '?', '[', '{'];

/// Reads `raw`, a word as the parser gives it (quotes and all).
pub fn read(raw: &str, options: &ParserOptions) -> Word {
    let mut word = Word {
        value: Value::Literal(String::new()),
        substitutions: Vec::new(),
        unreadable: None,
    };
    match word::parse(raw, options) {
        Ok(pieces) => {
            let mut text = String::new();
            let literal = pieces_into(raw, &pieces, false, &mut text, &mut word);
            word.value = if literal {
                Value::Literal(text)
            } else {
                Value::Dynamic(raw.to_string())
            };
        }
        Err(_) => {
            word.value = Value::Dynamic(raw.to_string());
            word.unreadable = Some("a word the shell parser cannot read");
        }
    }
    word
}

/// Appends the pieces' text to `text`; false once any piece is known only at run time.
fn pieces_into(
    raw: &str,
    pieces: &[WordPieceWithSource],
    quoted: bool,
    text: &mut String,
    word: &mut Word,
) -> bool {
    let mut literal = true;
    for piece in pieces {
        let source = raw.get(piece.start_index..piece.end_index).unwrap_or(raw);
        match &piece.piece {
            WordPiece::Text(t) => {
                if !quoted && t.contains(PATTERN) {
                    literal = false;
                }
                text.push_str(t);
            }
            WordPiece::SingleQuotedText(t) => text.push_str(t),
            // `$'\x72m'` is `rm`: escapes in ANSI-C quotes are decoded by the shell, not here.
            WordPiece::AnsiCQuotedText(t) => {
                if t.contains('\\') {
                    literal = false;
                }
                text.push_str(t);
            }
            // A backslash before a newline joins the lines: both go.
            WordPiece::EscapeSequence(t) if t == "\\\n" => {}
            WordPiece::EscapeSequence(t) => text.push_str(t.strip_prefix('\\').unwrap_or(t)),
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                literal &= pieces_into(raw, inner, true, text, word);
            }
            WordPiece::TildeExpansion(tilde) => text.push_str(&tilde_text(tilde)),
            WordPiece::CommandSubstitution(program)
            | WordPiece::BackquotedCommandSubstitution(program) => {
                word.substitutions.push(program.clone());
                literal = false;
            }
            WordPiece::ParameterExpansion(_) | WordPiece::ArithmeticExpression(_) => {
                if hides_a_substitution(source) {
                    word.unreadable = Some("a command substitution inside an expansion");
                }
                literal = false;
            }
        }
    }
    literal
}

/// `~`, `~user`, `~+`, `~-` as written: paths under them are judged as such.
fn tilde_text(tilde: &TildeExpr) -> String {
    match tilde {
        TildeExpr::Home => "~".into(),
        TildeExpr::UserHome(user) => format!("~{user}"),
        TildeExpr::WorkingDir => "~+".into(),
        TildeExpr::OldWorkingDir => "~-".into(),
        TildeExpr::NthDirFromTopOfDirStack { n, plus_used } => {
            format!("~{}{n}", if *plus_used { "+" } else { "" })
        }
        TildeExpr::NthDirFromBottomOfDirStack { n } => format!("~-{n}"),
    }
}

/// Whether an expansion's text could run a command: `$(`, a backquote, `<(` or `>(`.
pub fn hides_a_substitution(text: &str) -> bool {
    text.contains("$(") || text.contains('`') || text.contains("<(") || text.contains(">(")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> Value {
        read(raw, &ParserOptions::default()).value
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(value("'-rf'"), Value::Literal("-rf".into()));
        assert_eq!(value("\"-r\"f"), Value::Literal("-rf".into()));
        assert_eq!(value("\\rm"), Value::Literal("rm".into()));
        assert_eq!(value("r''m"), Value::Literal("rm".into()));
        assert_eq!(value("$'rm'"), Value::Literal("rm".into()));
        assert!(matches!(value("$'\\x72m'"), Value::Dynamic(_)));
    }

    #[test]
    fn run_time_words_are_dynamic_and_substitutions_are_kept() {
        assert!(matches!(value("$RM"), Value::Dynamic(_)));
        assert!(matches!(value("/bin/r?"), Value::Dynamic(_)));
        assert!(matches!(value("{rm,-rf,x}"), Value::Dynamic(_)));
        let word = read("\"$(rm -rf x)\"", &ParserOptions::default());
        assert_eq!(word.substitutions, vec!["rm -rf x".to_string()]);
        let hidden = read("${X:-$(rm -rf x)}", &ParserOptions::default());
        assert!(hidden.unreadable.is_some());
    }
}
