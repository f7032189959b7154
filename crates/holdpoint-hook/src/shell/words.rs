//! One shell word as the shell will see it after expansion and quote removal: one or
//! more literal texts, or texts only known at run time. A tour:
//! - braces expand as bash expands them (`{.env,x}` is two words, `{a..c}` three; see
//!   `patterns.rs`), so a name spelled with braces is seen;
//! - a variable the line itself sets to a literal (`F=.env; cat $F`) is replaced by
//!   what it could hold ([`Vars`]); `$HOME` is `~`; one the line sets when it runs
//!   (`read F`, `F=$(…)`) is [`Dynamic::runtime`];
//! - a glob (`*`, `?`, `[…]`; a lone `[` is none) or a piece known only when it runs is
//!   a [`Dynamic`] word, with the glob pattern it could match (an unknown piece is `*`).
//!
//! Command substitutions and arithmetic found inside a word are programs of their own;
//! they are handed back to be read in turn.

use brush_parser::ParserOptions;
use brush_parser::word::{
    self, Parameter, ParameterExpr, TildeExpr, WordPiece, WordPieceWithSource,
};
use std::collections::HashMap;

use super::patterns::{decode_ansi_c, escape_braces, expand_braces, unescape_globs};
pub use super::patterns::{escape, has_glob, unescape};

/// A word after expansion and quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// What the shell passes, exactly.
    Literal(String),
    /// Known only when it runs.
    Dynamic(Dynamic),
}

/// A word known only when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dynamic {
    /// The word as written.
    pub text: String,
    /// The glob pattern it can match: quoted characters kept literally (escaped with
    /// `\`), a piece known only at run time written `*`.
    pub pattern: String,
    /// It holds a variable this line sets to a value known only when it runs.
    pub runtime: bool,
}

impl Value {
    pub fn dynamic(text: &str) -> Value {
        Value::Dynamic(Dynamic {
            text: text.to_string(),
            pattern: "*".into(),
            runtime: false,
        })
    }

    pub fn literal(&self) -> Option<&str> {
        match self {
            Value::Literal(text) => Some(text),
            Value::Dynamic(_) => None,
        }
    }

    /// The literal text, or the word as written for one known only at run time.
    pub fn text(&self) -> &str {
        match self {
            Value::Literal(text) => text,
            Value::Dynamic(d) => &d.text,
        }
    }

    pub fn runtime(&self) -> bool {
        matches!(self, Value::Dynamic(d) if d.runtime)
    }
}

/// `text`, a piece of `word` (the value glued to an option): literal only if the word is.
pub fn part_of(word: Option<&Value>, text: &str) -> Value {
    match word {
        Some(Value::Literal(_)) => Value::Literal(text.to_string()),
        _ => Value::dynamic(text),
    }
}

/// What the variables a line sets could hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars {
    map: HashMap<String, Var>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Var {
    /// Each value it is given, as a glob pattern (see [`Dynamic::pattern`]).
    Known(Vec<String>),
    /// Set to something known only when the line runs.
    Unknown,
}

impl Vars {
    /// `$HOME` is `~`, `$PWD` the working directory.
    pub fn new(cwd: &str) -> Vars {
        let mut vars = Vars::default();
        vars.map.insert("HOME".into(), Var::Known(vec!["~".into()]));
        vars.map.insert("PWD".into(), Var::Known(vec![escape(cwd)]));
        vars
    }

    /// `name` is given `value` somewhere in the line (each value is kept: the line may
    /// take any branch).
    pub fn assign(&mut self, name: &str, value: &Value) {
        let pattern = match value {
            Value::Literal(text) => escape(text),
            Value::Dynamic(d) if !d.runtime && !d.text.contains('$') && !d.text.contains('`') => {
                d.pattern.clone()
            }
            Value::Dynamic(_) => return self.assign_unknown(name),
        };
        match self
            .map
            .entry(name.to_string())
            .or_insert(Var::Known(Vec::new()))
        {
            Var::Known(values) if !values.contains(&pattern) => values.push(pattern),
            _ => {}
        }
    }

    /// `name` is set to something known only when the line runs (`read`, `$(…)`).
    pub fn assign_unknown(&mut self, name: &str) {
        self.map.insert(name.to_string(), Var::Unknown);
    }
}

/// A word read: its values, and the programs it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// One per word the braces give (one without braces).
    pub values: Vec<Value>,
    /// Command substitutions (their source text).
    pub substitutions: Vec<String>,
    /// Arithmetic expansions (their text): bash may read `$( (…) )` as one.
    pub arithmetic: Vec<String>,
    /// Why a part of it cannot be read at all.
    pub unreadable: Option<&'static str>,
}

/// Reads `raw`, a word as the parser gives it (quotes and all).
pub fn read(raw: &str, options: &ParserOptions, vars: &Vars) -> Word {
    let mut word = Word {
        values: Vec::new(),
        substitutions: Vec::new(),
        arithmetic: Vec::new(),
        unreadable: None,
    };
    match word::parse(raw, options) {
        Ok(pieces) => {
            let mut built = Built::default();
            built.pieces(raw, &pieces, false, (vars, options), &mut word);
            word.values = built.values(raw, &mut word);
        }
        Err(_) => {
            word.values = vec![Value::dynamic(raw)];
            word.unreadable = Some("a word the shell parser cannot read");
        }
    }
    word
}

/// A word's pattern as it is built piece by piece.
#[derive(Default)]
struct Built {
    pattern: String,
    /// A piece is known only at run time.
    dynamic: bool,
    runtime: bool,
}

impl Built {
    fn pieces(
        &mut self,
        raw: &str,
        pieces: &[WordPieceWithSource],
        quoted: bool,
        (vars, options): (&Vars, &ParserOptions),
        word: &mut Word,
    ) {
        for piece in pieces {
            let source = raw.get(piece.start_index..piece.end_index).unwrap_or(raw);
            match &piece.piece {
                WordPiece::Text(t) if quoted => self.pattern.push_str(&escape(t)),
                WordPiece::Text(t) => self.pattern.push_str(t),
                WordPiece::SingleQuotedText(t) => self.pattern.push_str(&escape(t)),
                // `$'\x72m'` is `rm`: the escapes are decoded as bash decodes them.
                WordPiece::AnsiCQuotedText(t) => match decode_ansi_c(t) {
                    Some(text) => self.pattern.push_str(&escape(&text)),
                    None => self.unknown_piece(),
                },
                // A backslash before a newline joins the lines: both go.
                WordPiece::EscapeSequence(t) if t == "\\\n" => {}
                WordPiece::EscapeSequence(t) => self
                    .pattern
                    .push_str(&escape(t.strip_prefix('\\').unwrap_or(t))),
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.pieces(raw, inner, true, (vars, options), word)
                }
                WordPiece::TildeExpansion(tilde) => self.pattern.push_str(&tilde_text(tilde)),
                WordPiece::CommandSubstitution(program)
                | WordPiece::BackquotedCommandSubstitution(program) => {
                    word.substitutions.push(program.clone());
                    match super::output::literal_output(program, options, vars) {
                        // `$(cat <<'EOF' … EOF)`, `$(echo x)`: a text written here.
                        Some(out) => self.insert(&[escape(&out)], quoted),
                        // Its output names what it names: known only when the line runs.
                        None => {
                            self.runtime = true;
                            self.unknown_piece();
                        }
                    }
                }
                WordPiece::ParameterExpansion(expr) => {
                    if hides_a_substitution(source) {
                        word.unreadable = Some("a command substitution inside an expansion");
                    }
                    self.parameter(expr, quoted, vars);
                }
                WordPiece::ArithmeticExpression(expr) => {
                    if hides_a_substitution(source) {
                        word.unreadable = Some("a command substitution inside an expansion");
                    }
                    word.arithmetic.push(expr.value.clone());
                    self.unknown_piece();
                }
            }
        }
    }

    fn unknown_piece(&mut self) {
        self.pattern.push('*');
        self.dynamic = true;
    }

    /// `$NAME` or `${NAME}`: what the line set it to, else a piece known only when it
    /// runs.
    fn parameter(&mut self, expr: &ParameterExpr, quoted: bool, vars: &Vars) {
        let name = match expr {
            ParameterExpr::Parameter {
                parameter: Parameter::Named(name),
                indirect: false,
            } => Some(name),
            _ => None,
        };
        let named = expr_name(expr);
        if named.is_some_and(|n| matches!(vars.map.get(n), Some(Var::Unknown))) {
            self.runtime = true;
        }
        let values = match name.and_then(|n| vars.map.get(n)) {
            Some(Var::Known(values)) if !values.is_empty() => values,
            _ => return self.unknown_piece(),
        };
        self.insert(values, quoted);
    }

    /// Inserts what an expansion could give (patterns, see [`Dynamic::pattern`]).
    fn insert(&mut self, values: &[String], quoted: bool) {
        let mut inserted: Vec<String> = Vec::new();
        for value in values {
            if quoted {
                inserted.push(value.clone());
            } else if unescape(value).contains(char::is_whitespace) {
                // Split into words when it runs: not followed here.
                self.runtime = true;
                return self.unknown_piece();
            } else {
                inserted.push(unescape_globs(value));
            }
        }
        // `~` only means home where the word starts.
        if inserted.iter().any(|v| v.starts_with('~')) && !self.pattern.is_empty() {
            return self.unknown_piece();
        }
        match inserted.as_slice() {
            [one] => self.pattern.push_str(one),
            many => {
                let escaped: Vec<String> = many.iter().map(|v| escape_braces(v)).collect();
                self.pattern.push('{');
                self.pattern.push_str(&escaped.join(","));
                self.pattern.push('}');
            }
        }
    }

    /// The words the pattern expands to.
    fn values(self, raw: &str, word: &mut Word) -> Vec<Value> {
        let Some(alternatives) = expand_braces(&self.pattern) else {
            word.unreadable = Some("a brace expansion too large to read");
            return vec![Value::dynamic(raw)];
        };
        let single = alternatives.len() == 1;
        (alternatives.into_iter())
            .map(|pattern| {
                if !self.dynamic && !self.runtime && !has_glob(&pattern) {
                    return Value::Literal(unescape(&pattern));
                }
                let text = if single {
                    raw.to_string()
                } else {
                    unescape(&pattern)
                };
                Value::Dynamic(Dynamic {
                    text,
                    pattern,
                    runtime: self.runtime,
                })
            })
            .collect()
    }
}

/// The variable an expansion reads, whatever its form (`${F:-x}`, `${#F}`, …).
fn expr_name(expr: &ParameterExpr) -> Option<&str> {
    let parameter = match expr {
        ParameterExpr::Parameter { parameter, .. }
        | ParameterExpr::UseDefaultValues { parameter, .. }
        | ParameterExpr::AssignDefaultValues { parameter, .. }
        | ParameterExpr::IndicateErrorIfNullOrUnset { parameter, .. }
        | ParameterExpr::UseAlternativeValue { parameter, .. }
        | ParameterExpr::ParameterLength { parameter, .. }
        | ParameterExpr::RemoveSmallestSuffixPattern { parameter, .. }
        | ParameterExpr::RemoveLargestSuffixPattern { parameter, .. }
        | ParameterExpr::RemoveSmallestPrefixPattern { parameter, .. }
        | ParameterExpr::RemoveLargestPrefixPattern { parameter, .. }
        | ParameterExpr::Substring { parameter, .. }
        | ParameterExpr::Transform { parameter, .. }
        | ParameterExpr::UppercaseFirstChar { parameter, .. }
        | ParameterExpr::UppercasePattern { parameter, .. }
        | ParameterExpr::LowercaseFirstChar { parameter, .. }
        | ParameterExpr::LowercasePattern { parameter, .. }
        | ParameterExpr::ReplaceSubstring { parameter, .. } => parameter,
        _ => return None,
    };
    match parameter {
        Parameter::Named(name)
        | Parameter::NamedWithIndex { name, .. }
        | Parameter::NamedWithAllIndices { name, .. } => Some(name),
        _ => None,
    }
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

    fn values(raw: &str) -> Vec<Value> {
        read(raw, &ParserOptions::default(), &Vars::new("/app")).values
    }

    fn value(raw: &str) -> Value {
        values(raw).remove(0)
    }

    fn literal(text: &str) -> Value {
        Value::Literal(text.into())
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(value("'-rf'"), literal("-rf"));
        assert_eq!(value("\"-r\"f"), literal("-rf"));
        assert_eq!(value("\\rm"), literal("rm"));
        assert_eq!(value("r''m"), literal("rm"));
        assert_eq!(value("$'rm'"), literal("rm"));
        assert_eq!(value("$'\\x72m'"), literal("rm"));
        assert_eq!(value("$'\\056env'"), literal(".env"));
        assert_eq!(value("$'\\u002eenv'"), literal(".env"));
        assert!(matches!(value("$'\\cA'"), Value::Dynamic(_)));
        assert_eq!(value("'*'"), literal("*"));
    }

    #[test]
    fn run_time_words_are_dynamic_and_substitutions_are_kept() {
        assert!(matches!(value("$RM"), Value::Dynamic(_)));
        assert!(matches!(value("/bin/r?"), Value::Dynamic(_)));
        let word = read(
            "\"$(rm -rf x)\"",
            &ParserOptions::default(),
            &Vars::new("/"),
        );
        assert_eq!(word.substitutions, vec!["rm -rf x".to_string()]);
        let hidden = read(
            "${X:-$(rm -rf x)}",
            &ParserOptions::default(),
            &Vars::new("/"),
        );
        assert!(hidden.unreadable.is_some());
    }

    #[test]
    fn braces_expand_and_a_lone_bracket_is_no_glob() {
        assert_eq!(
            values("{rm,-rf,x}"),
            vec![literal("rm"), literal("-rf"), literal("x")]
        );
        assert_eq!(values("{.env,x}"), vec![literal(".env"), literal("x")]);
        assert_eq!(
            values("a{b,c{d,e}}"),
            vec![literal("ab"), literal("acd"), literal("ace")]
        );
        assert_eq!(
            values("x{1..3}"),
            vec![literal("x1"), literal("x2"), literal("x3")]
        );
        assert_eq!(values("'{a,b}'"), vec![literal("{a,b}")]);
        assert_eq!(value("{}"), literal("{}"));
        assert_eq!(value("["), literal("["));
        assert_eq!(value("a[b"), literal("a[b"));
        assert!(matches!(value(".[e]nv"), Value::Dynamic(_)));
        assert!(
            read("{1..100000}", &ParserOptions::default(), &Vars::new("/"))
                .unreadable
                .is_some()
        );
    }

    #[test]
    fn variables_the_line_sets_are_replaced() {
        let mut vars = Vars::new("/app");
        vars.assign("F", &literal(".env"));
        vars.assign("G", &literal("a"));
        vars.assign("G", &literal("~/.ssh/id_rsa"));
        vars.assign_unknown("R");
        let read = |raw: &str| read(raw, &ParserOptions::default(), &vars).values;
        assert_eq!(read("$F"), vec![literal(".env")]);
        assert_eq!(read("\"${F}\""), vec![literal(".env")]);
        assert_eq!(read("$G"), vec![literal("a"), literal("~/.ssh/id_rsa")]);
        assert_eq!(read("$HOME/.ssh"), vec![literal("~/.ssh")]);
        assert!(read("$R")[0].runtime());
        assert!(read("${R:-x}")[0].runtime());
        let Value::Dynamic(unset) = &read("$UNSET/.ssh/id")[0] else {
            panic!()
        };
        assert_eq!(unset.pattern, "*/.ssh/id");
    }
}
