//! The parse tree, down to each simple command and redirection. Every list, pipeline,
//! compound command and function body is walked; every word is read for the command
//! substitutions it runs; every redirection's target is a path.

use super::words::{self, Value, Word};
use super::{Access, MAX_DEPTH, Part, PathUse};
use brush_parser::ParserOptions;
use brush_parser::ast::{
    AndOr, AndOrList, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList,
    ExtendedTestExpr, IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline,
    SimpleCommand, SubshellCommand,
};
use brush_parser::word::WordPiece;

/// Collects the parts of one command line.
pub struct Walker {
    pub(super) options: ParserOptions,
    pub(super) cwd: String,
    pub(super) parts: Vec<Part>,
}

/// What a simple command's words and redirections came to.
pub(super) struct Simple {
    pub words: Vec<Value>,
    /// Its input comes from a pipe or a redirection rather than a terminal.
    pub fed: bool,
}

impl Walker {
    pub fn new(cwd: &str) -> Walker {
        Walker {
            options: ParserOptions::default(),
            cwd: cwd.to_string(),
            parts: Vec::new(),
        }
    }

    pub fn into_parts(self) -> Vec<Part> {
        self.parts
    }

    pub(super) fn unknown(&mut self, why: impl Into<String>) {
        self.parts.push(Part::Unknown(why.into()));
    }

    /// Parses `text` as a shell program and walks it.
    pub fn program(&mut self, text: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return self.unknown("commands nested too deeply to read");
        }
        if super::depth::too_deep(text) {
            return self.unknown("brackets or substitutions nested too deeply to read");
        }
        let options = self.options.clone();
        // The parser is not ours: a panic in it is a command that cannot be read.
        let parsed = std::panic::catch_unwind(move || {
            brush_parser::Parser::new(text.as_bytes(), &options).parse_program()
        });
        match parsed {
            Ok(Ok(program)) => {
                for list in &program.complete_commands {
                    self.list(list, depth);
                }
            }
            Ok(Err(e)) => self.unknown(format!("the shell parser cannot read it ({e})")),
            Err(_) => self.unknown("the shell parser failed on it"),
        }
    }

    fn list(&mut self, list: &CompoundList, depth: usize) {
        for item in &list.0 {
            self.and_or(&item.0, depth);
        }
    }

    fn and_or(&mut self, list: &AndOrList, depth: usize) {
        self.pipeline(&list.first, depth);
        for next in &list.additional {
            match next {
                AndOr::And(p) | AndOr::Or(p) => self.pipeline(p, depth),
            }
        }
    }

    fn pipeline(&mut self, pipeline: &Pipeline, depth: usize) {
        for (i, command) in pipeline.seq.iter().enumerate() {
            self.command(command, i > 0, depth);
        }
    }

    fn command(&mut self, command: &Command, piped: bool, depth: usize) {
        match command {
            Command::Simple(simple) => self.simple(simple, piped, depth),
            Command::Compound(compound, redirects) => {
                self.compound(compound, depth);
                for r in redirects.iter().flat_map(|r| r.0.iter()) {
                    self.redirect(r, "", depth);
                }
            }
            Command::Function(definition) => {
                self.compound(&definition.body.0, depth);
                for r in definition.body.1.iter().flat_map(|r| r.0.iter()) {
                    self.redirect(r, "", depth);
                }
            }
            Command::ExtendedTest(test, redirects) => {
                self.test(&test.expr, depth);
                for r in redirects.iter().flat_map(|r| r.0.iter()) {
                    self.redirect(r, "", depth);
                }
            }
        }
    }

    fn compound(&mut self, compound: &CompoundCommand, depth: usize) {
        match compound {
            CompoundCommand::Arithmetic(a) => self.arithmetic(&a.expr.value),
            CompoundCommand::ArithmeticForClause(a) => {
                for e in [&a.initializer, &a.condition, &a.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arithmetic(&e.value);
                }
                self.list(&a.body.list, depth);
            }
            CompoundCommand::BraceGroup(b) => self.list(&b.list, depth),
            CompoundCommand::Subshell(s) => self.list(&s.list, depth),
            CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(&w.value, depth);
                }
                self.list(&f.body.list, depth);
            }
            CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value, depth);
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, depth);
                    }
                    if let Some(list) = &item.cmd {
                        self.list(list, depth);
                    }
                }
            }
            CompoundCommand::IfClause(i) => {
                self.list(&i.condition, depth);
                self.list(&i.then, depth);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, depth);
                    }
                    self.list(&e.body, depth);
                }
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                self.list(&w.0, depth);
                self.list(&w.1.list, depth);
            }
            CompoundCommand::Coprocess(c) => self.command(&c.body, false, depth),
        }
    }

    fn test(&mut self, expr: &ExtendedTestExpr, depth: usize) {
        match expr {
            ExtendedTestExpr::And(a, b) | ExtendedTestExpr::Or(a, b) => {
                self.test(a, depth);
                self.test(b, depth);
            }
            ExtendedTestExpr::Not(a) | ExtendedTestExpr::Parenthesized(a) => self.test(a, depth),
            ExtendedTestExpr::UnaryTest(_, w) => {
                self.word(&w.value, depth);
            }
            ExtendedTestExpr::BinaryTest(_, a, b) => {
                self.word(&a.value, depth);
                self.word(&b.value, depth);
            }
        }
    }

    fn arithmetic(&mut self, text: &str) {
        if words::hides_a_substitution(text) {
            self.unknown("a command substitution inside an arithmetic expression");
        }
    }

    /// Reads a word, walking the command substitutions it runs.
    pub(super) fn word(&mut self, raw: &str, depth: usize) -> Word {
        let word = words::read(raw, &self.options);
        for program in &word.substitutions {
            self.program(program, depth + 1);
        }
        if let Some(why) = word.unreadable {
            self.unknown(why);
        }
        word
    }

    fn subshell(&mut self, subshell: &SubshellCommand, depth: usize) {
        self.list(&subshell.list, depth + 1);
    }

    fn simple(&mut self, command: &SimpleCommand, piped: bool, depth: usize) {
        let mut simple = Simple {
            words: Vec::new(),
            fed: piped,
        };
        let program = command
            .word_or_name
            .as_ref()
            .map(|w| self.word(&w.value, depth).value);
        let program_text = program.as_ref().map(|p| p.text().to_string());
        let program_text = program_text.as_deref().unwrap_or("");
        // `X=$(…) cmd`: the assignment's substitution runs; the assignment is no argument.
        for item in command.prefix.iter().flat_map(|p| p.0.iter()) {
            self.item(item, program_text, &mut simple, depth, false);
        }
        simple.words.extend(program);
        for item in command.suffix.iter().flat_map(|s| s.0.iter()) {
            self.item(item, program_text, &mut simple, depth, true);
        }
        self.run(simple, depth);
    }

    fn item(
        &mut self,
        item: &CommandPrefixOrSuffixItem,
        program: &str,
        simple: &mut Simple,
        depth: usize,
        argument: bool,
    ) {
        match item {
            CommandPrefixOrSuffixItem::Word(w) => {
                let word = self.word(&w.value, depth).value;
                simple.words.push(word);
            }
            CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                // `declare x=…` passes the word to its program.
                let word = self.word(&w.value, depth).value;
                if argument {
                    simple.words.push(word);
                }
            }
            CommandPrefixOrSuffixItem::IoRedirect(r) => {
                if self.redirect(r, program, depth) {
                    simple.fed = true;
                }
            }
            CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                self.subshell(sub, depth);
                simple.words.push(Value::Dynamic("<(…)".into()));
            }
        }
    }

    /// Walks a redirection; true when it feeds the command's standard input.
    fn redirect(&mut self, redirect: &IoRedirect, program: &str, depth: usize) -> bool {
        match redirect {
            IoRedirect::File(fd, kind, target) => {
                let access = match kind {
                    IoFileRedirectKind::Read | IoFileRedirectKind::DuplicateInput => Access::Read,
                    _ => Access::Write,
                };
                let stdin = access == Access::Read && fd.is_none_or(|fd| fd == 0);
                match target {
                    IoFileRedirectTarget::Filename(w) | IoFileRedirectTarget::Duplicate(w) => {
                        let word = self.word(&w.value, depth).value;
                        let text = word.text();
                        let is_fd = text == "-" || text.chars().all(|c| c.is_ascii_digit());
                        if !is_fd {
                            self.path(text, access, program);
                        }
                        stdin && !is_fd
                    }
                    IoFileRedirectTarget::Fd(_) => false,
                    IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                        self.subshell(sub, depth);
                        stdin
                    }
                }
            }
            IoRedirect::HereDocument(fd, doc) => {
                if doc.requires_expansion {
                    self.here_document(&doc.doc.value, depth);
                }
                fd.is_none_or(|fd| fd == 0)
            }
            IoRedirect::HereString(fd, w) => {
                self.word(&w.value, depth);
                fd.is_none_or(|fd| fd == 0)
            }
            IoRedirect::OutputAndError(w, _) => {
                let word = self.word(&w.value, depth).value;
                self.path(word.text(), Access::Write, program);
                false
            }
        }
    }

    /// Walks the substitutions an unquoted here-document runs.
    fn here_document(&mut self, text: &str, depth: usize) {
        let Ok(pieces) = brush_parser::word::parse_heredoc(text, &self.options) else {
            return self.unknown("a here-document the shell parser cannot read");
        };
        for piece in &pieces {
            let source = text.get(piece.start_index..piece.end_index).unwrap_or(text);
            match &piece.piece {
                WordPiece::CommandSubstitution(p) | WordPiece::BackquotedCommandSubstitution(p) => {
                    self.program(p, depth + 1)
                }
                WordPiece::ParameterExpansion(_) | WordPiece::ArithmeticExpression(_)
                    if words::hides_a_substitution(source) =>
                {
                    self.unknown("a command substitution inside an expansion")
                }
                _ => {}
            }
        }
    }

    /// Records `text` as a path, made absolute against the working directory.
    pub(super) fn path(&mut self, text: &str, access: Access, program: &str) {
        if text.is_empty() {
            return;
        }
        self.parts.push(Part::Path(PathUse {
            path: absolute(&self.cwd, text),
            access,
            program: program.to_string(),
        }));
    }
}

/// `text` made absolute against `cwd`, with `.` and `..` resolved as the file tools'
/// paths are; a path under `~` (or `~user`) stays so.
pub fn absolute(cwd: &str, text: &str) -> String {
    match text.strip_prefix('~') {
        Some(rest) => {
            let (user, below) = rest.split_once('/').unwrap_or((rest, ""));
            let below = crate::normalize("/", below);
            format!("~{user}{}", if below == "/" { "" } else { &below })
        }
        None => crate::normalize(cwd, text),
    }
}
