//! The parse tree, down to each simple command and redirection. Every list, pipeline,
//! compound command and function body is walked; every word is read for the command
//! substitutions it runs; every redirection's target is a path. Assignments are noted
//! ([`Vars`]), and an assignment to a variable that makes programs run code
//! (`GIT_SSH_COMMAND`, `BASH_ENV`, …) is read as the code it runs (see `env.rs`).

use super::words::{self, Value, Vars, Word};
use super::{Access, MAX_DEPTH, Part, PathUse};
use brush_parser::ParserOptions;
use brush_parser::ast::{
    AndOr, AndOrList, Assignment, AssignmentName, AssignmentValue, Command,
    CommandPrefixOrSuffixItem, CompoundCommand, CompoundList, ExtendedTestExpr, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline, ProcessSubstitutionKind, SimpleCommand,
    SubshellCommand,
};
use brush_parser::word::WordPiece;

/// Collects the parts of one command line.
pub struct Walker {
    pub(super) options: ParserOptions,
    /// The folder the agent works in: `in_project` is judged against it.
    pub(super) root: String,
    /// Where the line is when a path is named (after `cd`).
    pub(super) cwd: String,
    /// A `cd` went somewhere known only when it runs: relative paths are not known to
    /// lie in the project.
    pub(super) cwd_unknown: bool,
    pub(super) parts: Vec<Part>,
    pub(super) vars: Vars,
    /// Walking what `>(…)` runs: its input is the outer command's output.
    fed_scope: bool,
    /// How many more commands this walk may read (wrappers read both ways can multiply
    /// them).
    pub(super) budget: usize,
}

/// What a simple command's words and redirections came to.
pub(super) struct Simple {
    pub words: Vec<Value>,
    /// Its input comes from a pipe or a redirection rather than a terminal.
    pub fed: bool,
}

impl Walker {
    pub fn new(cwd: &str, vars: Vars) -> Walker {
        Walker {
            options: ParserOptions::default(),
            root: cwd.to_string(),
            cwd: cwd.to_string(),
            cwd_unknown: false,
            parts: Vec::new(),
            vars,
            fed_scope: false,
            budget: super::MAX_COMMANDS_READ,
        }
    }

    pub fn into_parts(self) -> (Vec<Part>, Vars) {
        (self.parts, self.vars)
    }

    pub(super) fn unknown(&mut self, why: impl Into<String>) {
        self.parts.push(Part::Unknown(why.into()));
    }

    /// Parses `text` as a shell program and walks it.
    pub fn program(&mut self, text: &str, depth: usize) {
        match self.parse(text, depth) {
            Ok(program) => self.walk_program(&program, depth),
            Err(why) => self.unknown(why),
        }
    }

    /// Walks `text` if it parses as a shell program; bash may read `((…))` and `$((…))`
    /// as nested subshells rather than arithmetic.
    fn program_if_parses(&mut self, text: &str, depth: usize) {
        if depth > MAX_DEPTH || super::depth::too_deep(text) {
            return self.unknown("arithmetic nested too deeply to read");
        }
        if let Ok(program) = self.parse(text, depth) {
            self.walk_program(&program, depth);
        }
    }

    fn parse(&self, text: &str, depth: usize) -> Result<brush_parser::ast::Program, String> {
        if depth > MAX_DEPTH {
            return Err("commands nested too deeply to read".into());
        }
        if super::depth::too_deep(text) {
            return Err("brackets or substitutions nested too deeply to read".into());
        }
        let options = self.options.clone();
        // The parser is not ours: a panic in it is a command that cannot be read.
        let parsed = std::panic::catch_unwind(move || {
            brush_parser::Parser::new(text.as_bytes(), &options).parse_program()
        });
        match parsed {
            Ok(Ok(program)) => Ok(program),
            Ok(Err(e)) => Err(format!("the shell parser cannot read it ({e})")),
            Err(_) => Err("the shell parser failed on it".into()),
        }
    }

    fn walk_program(&mut self, program: &brush_parser::ast::Program, depth: usize) {
        for list in &program.complete_commands {
            self.list(list, depth);
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
            self.command(command, i > 0 || self.fed_scope, depth);
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
            CompoundCommand::Arithmetic(a) => self.arithmetic(&a.expr.value, depth),
            CompoundCommand::ArithmeticForClause(a) => {
                for e in [&a.initializer, &a.condition, &a.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arithmetic(&e.value, depth);
                }
                self.list(&a.body.list, depth);
            }
            CompoundCommand::BraceGroup(b) => self.list(&b.list, depth),
            CompoundCommand::Subshell(s) => self.list(&s.list, depth),
            CompoundCommand::ForClause(f) => {
                let mut values = Vec::new();
                for w in f.values.iter().flatten() {
                    values.extend(self.word(&w.value, depth).values);
                }
                for value in &values {
                    self.vars.assign(&f.variable_name, value);
                }
                if f.values.is_none() {
                    self.vars.assign_unknown(&f.variable_name);
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

    /// An arithmetic expression: what it could run.
    fn arithmetic(&mut self, text: &str, depth: usize) {
        if words::hides_a_substitution(text) {
            self.unknown("a command substitution inside an arithmetic expression");
        }
        self.program_if_parses(text, depth + 1);
    }

    /// Reads a word, walking the command substitutions it runs.
    pub(super) fn word(&mut self, raw: &str, depth: usize) -> Word {
        let word = words::read(raw, &self.options, &self.vars);
        for program in &word.substitutions {
            self.program(program, depth + 1);
        }
        for text in &word.arithmetic {
            self.arithmetic(text, depth);
        }
        if let Some(why) = word.unreadable {
            self.unknown(why);
        }
        word
    }

    fn subshell(
        &mut self,
        subshell: &SubshellCommand,
        kind: &ProcessSubstitutionKind,
        depth: usize,
    ) {
        let outer = self.fed_scope;
        self.fed_scope = matches!(kind, ProcessSubstitutionKind::Write);
        self.list(&subshell.list, depth + 1);
        self.fed_scope = outer;
    }

    fn simple(&mut self, command: &SimpleCommand, piped: bool, depth: usize) {
        let mut simple = Simple {
            words: Vec::new(),
            fed: piped,
        };
        let program = (command.word_or_name.as_ref()).map(|w| self.word(&w.value, depth).values);
        let program_text = (program.as_ref())
            .and_then(|p| p.first())
            .map(|p| p.text().to_string());
        let program_text = program_text.as_deref().unwrap_or("");
        // `X=$(…) cmd`: the assignment's substitution runs; the assignment is no argument.
        for item in command.prefix.iter().flat_map(|p| p.0.iter()) {
            self.item(item, program_text, &mut simple, depth, false);
        }
        simple.words.extend(program.into_iter().flatten());
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
                let word = self.word(&w.value, depth);
                simple.words.extend(word.values);
            }
            CommandPrefixOrSuffixItem::AssignmentWord(assignment, w) => {
                // `declare x=…` passes the word to its program.
                self.assignment(assignment, depth);
                let word = self.word(&w.value, depth);
                if argument {
                    simple.words.extend(word.values);
                }
            }
            CommandPrefixOrSuffixItem::IoRedirect(r) => {
                if self.redirect(r, program, depth) {
                    simple.fed = true;
                }
            }
            CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                self.subshell(sub, kind, depth);
                simple.words.push(Value::dynamic("<(…)"));
            }
        }
    }

    /// `NAME=value`: noted for the words after it, and read as code where the variable
    /// makes programs run code.
    fn assignment(&mut self, assignment: &Assignment, depth: usize) {
        let name = match &assignment.name {
            AssignmentName::VariableName(name) | AssignmentName::ArrayElementName(name, _) => name,
        };
        let value = match &assignment.value {
            AssignmentValue::Scalar(w) if !assignment.append => {
                let raw = w.value.clone();
                let words = words::read(&raw, &self.options, &self.vars);
                words.values.into_iter().next()
            }
            _ => None,
        };
        match &value {
            Some(value) => self.vars.assign(name, value),
            None => self.vars.assign_unknown(name),
        }
        self.environment(name, value.as_ref(), depth);
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
                        let mut named_a_file = false;
                        for value in self.word(&w.value, depth).values {
                            if value.runtime() {
                                self.unknown("a redirection to a file named when the line runs");
                            }
                            let text = value.text();
                            let is_fd = text == "-" || text.chars().all(|c| c.is_ascii_digit());
                            if !is_fd {
                                self.path_value(&value, access, program);
                                named_a_file = true;
                            }
                        }
                        stdin && named_a_file
                    }
                    IoFileRedirectTarget::Fd(_) => false,
                    IoFileRedirectTarget::ProcessSubstitution(kind, sub) => {
                        self.subshell(sub, kind, depth);
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
                for value in self.word(&w.value, depth).values {
                    self.path_value(&value, Access::Write, program);
                }
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
        let path = absolute(&self.cwd, text);
        let raw = if text.starts_with('/') || text.starts_with('~') {
            text.to_string()
        } else {
            format!("{}/{text}", self.cwd.trim_end_matches('/'))
        };
        self.parts.push(Part::Path(PathUse {
            in_project: self.in_project(text, &path),
            raw,
            path,
            access,
            program: program.to_string(),
            pattern: None,
            hidden: false,
        }));
    }

    /// Whether a path written `text`, `absolute` once resolved, lies in the project.
    fn in_project(&self, text: &str, absolute: &str) -> bool {
        let relative = !text.starts_with('/') && !text.starts_with('~');
        !(relative && self.cwd_unknown) && inside(&self.root, absolute)
    }

    /// `cd DIR`, `pushd DIR`, `popd`: where relative paths after it resolve.
    pub(super) fn change_directory(&mut self, program: &str, rest: &[Value]) {
        let target = rest
            .iter()
            .find(|w| !w.text().starts_with('-') || w.text() == "-");
        match target.and_then(Value::literal) {
            Some(dir) if program != "popd" && dir != "-" && !dir.starts_with('~') => {
                self.cwd = absolute(&self.cwd, dir);
            }
            _ => self.cwd_unknown = true,
        }
    }

    /// Records a word as a path: a glob or run-time word as the directory its literal
    /// start names, with the pattern it could match.
    pub(super) fn path_value(&mut self, value: &Value, access: Access, program: &str) {
        let dynamic = match value {
            Value::Literal(text) => return self.path(text, access, program),
            Value::Dynamic(d) => d,
        };
        let pattern = absolute(&self.cwd, &words::unescape(&dynamic.pattern));
        let literal_start = literal_directory(&dynamic.pattern);
        let path = absolute(&self.cwd, &literal_start);
        self.parts.push(Part::Path(PathUse {
            in_project: self.in_project(&dynamic.pattern, &pattern),
            raw: path.clone(),
            path,
            access,
            program: program.to_string(),
            pattern: Some(pattern),
            hidden: matches_hidden(&dynamic.pattern),
        }));
    }
}

/// The directories of a pattern before its first component with a glob or an unknown
/// piece (`~/.ss*/id` → `~`, `.e*` → ``).
fn literal_directory(pattern: &str) -> String {
    let mut kept: Vec<String> = Vec::new();
    for component in pattern.split('/') {
        if words::has_glob(component) {
            break;
        }
        kept.push(words::unescape(component));
    }
    if kept.len() == pattern.split('/').count() {
        kept.pop();
    }
    let joined = kept.join("/");
    if joined.is_empty() && pattern.starts_with('/') {
        "/".into()
    } else {
        joined
    }
}

/// Whether a pattern's part after its literal directory has a component that starts with
/// `.` (`.e*`, `~/.ss*/id`, `*/.ssh/id`): it can match a hidden file or folder.
fn matches_hidden(pattern: &str) -> bool {
    (pattern.split('/'))
        .skip_while(|component| !words::has_glob(component))
        .any(|component| words::unescape(component).starts_with('.'))
}

/// Whether `path` (absolute, or under `~`) lies inside `cwd`.
fn inside(cwd: &str, path: &str) -> bool {
    let root = crate::normalize(cwd, "");
    path == root || path.starts_with(&format!("{}/", root.trim_end_matches('/')))
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
