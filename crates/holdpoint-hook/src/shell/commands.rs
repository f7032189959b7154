//! One simple command, as it will run. The program is its first word, unless that is a
//! wrapper that runs another program (`sudo rm …`, `env X=1 rm …`, `xargs rm`; see
//! `wrappers.rs`), a shell or interpreter given code (`shells.rs`), or git running
//! commands of its own (`git.rs`); `find … -exec rm … ;` runs one too. A program known
//! only at run time is unknown.
//!
//! The command is recorded with its flags normalized (`flags.rs`) and every path it
//! names: an argument that looks like one, a value glued to an option (`-f.env`,
//! `--file=~/.env`, `-C/root`, `-d@~/.ssh/id_rsa`, `of=/dev/sda`), a glob. Files it is
//! told to write (`tee`, `dd of=`, `curl -o`, `wget -O`, `find -fprint`) are written.

use super::flags;
use super::walk::Walker;
use super::words::{self, Value};
use super::{Access, Command, Part};

/// What `find` runs: the words after one of these, up to `;` or `+`.
const FIND_EXEC: &[&str] = &["-exec", "-execdir", "-ok", "-okdir"];

/// `find` actions that write the file named next.
const FIND_WRITES: &[&str] = &["-fprint", "-fprint0", "-fprintf", "-fls"];

/// Programs that set a variable to what they read (`read F`, `printf -v F`).
const ASSIGNS_AT_RUN_TIME: &[&str] = &["read", "printf", "mapfile", "readarray", "getopts"];

/// Builtins whose arguments are assignments.
const DECLARES: &[&str] = &["export", "declare", "local", "readonly", "typeset"];

/// Programs for which a word known only when the line runs is no reason to hold: they
/// print or test it, note it (`export X=$(…)`, judged where it is used), or move the
/// line (`cd "$(…)"`: relative paths after it are then not known to be in the project).
const PRINTS_ONLY: &[&str] = &[
    "echo", "printf", "test", "[", "true", "false", ":", "export", "declare", "local", "readonly",
    "typeset", "cd", "pushd",
];

/// Programs that change or remove every file they name.
const WRITES_EVERY_ARGUMENT: &[&str] = &[
    "rm", "rmdir", "unlink", "touch", "mkdir", "truncate", "shred", "chmod", "chown", "chgrp",
    "chattr", "setfacl", "tee",
];

/// Programs that write the last file they name (`cp a b`, `mv a b`).
const WRITES_LAST_ARGUMENT: &[&str] = &["cp", "mv", "install", "ln", "rsync", "scp"];

impl Walker {
    /// Judges one simple command: its program, and what that program runs in turn.
    pub(super) fn run(&mut self, simple: super::walk::Simple, depth: usize) {
        self.run_words(&simple.words, simple.fed, false, depth);
    }

    pub(super) fn run_words(&mut self, words: &[Value], fed: bool, more_args: bool, depth: usize) {
        let Some((first, rest)) = words.split_first() else {
            return;
        };
        if depth > super::MAX_DEPTH {
            return self.unknown("commands nested too deeply to read");
        }
        // Past the budget, said once: the line is unknown.
        match self.budget {
            0 => return,
            1 => {
                self.budget = 0;
                return self.unknown("more commands than can be read");
            }
            _ => self.budget -= 1,
        }
        let Some(written) = first.literal() else {
            return self.unknown(format!(
                "the program is known only when it runs: {}",
                first.text()
            ));
        };
        if written.contains('/') {
            self.path(written, Access::Named, written);
        }
        let program = written.rsplit('/').next().unwrap_or(written).to_string();
        if self.wrapper(&program, rest, fed, more_args, depth)
            || self.shell_like(&program, rest, fed, more_args, depth)
            || (program == "git" && self.git(rest, more_args, depth))
        {
            return;
        }
        if program == "find" {
            self.find_exec(rest, depth);
        }
        if ASSIGNS_AT_RUN_TIME.contains(&program.as_str()) {
            self.assigns_at_run_time(&program, rest);
        }
        self.builtin(&program, rest, depth);
        self.command_options(&program, rest, depth);
        self.record(&program, rest, more_args);
        if matches!(program.as_str(), "cd" | "pushd" | "popd") {
            self.change_directory(&program, rest);
        }
    }

    /// Builtins that change how the rest of the line reads.
    fn builtin(&mut self, program: &str, rest: &[Value], depth: usize) {
        let texts = || rest.iter().map(Value::text);
        if program == "shopt" && texts().any(|t| t.contains("dotglob")) {
            self.unknown("shopt dotglob makes globs match hidden files");
        }
        // `declare -n R=F`: R names another variable.
        let declares = matches!(program, "declare" | "typeset" | "local");
        if declares && texts().any(|t| t.starts_with('-') && t.contains('n')) {
            for name in texts().filter(|t| !t.starts_with('-')) {
                self.vars
                    .assign_unknown(name.split('=').next().unwrap_or(name));
            }
        }
        // `alias x='rm -rf y'`: a later line may run it.
        if program == "alias" {
            for (_, value) in rest.iter().filter_map(|w| w.text().split_once('=')) {
                self.program(value, depth + 1);
            }
        }
    }

    fn find_exec(&mut self, rest: &[Value], depth: usize) {
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            i += 1;
            if let Some(file) = rest.get(i).filter(|_| FIND_WRITES.contains(&word.text())) {
                self.path_value(file, Access::Write, "find");
            }
            if FIND_EXEC.contains(&word.text()) {
                let start = i;
                while rest.get(i).is_some_and(|w| !matches!(w.text(), ";" | "+")) {
                    i += 1;
                }
                let inner = rest.get(start..i).unwrap_or_default();
                self.run_words(inner, false, true, depth);
            }
        }
    }

    /// `read F`, `printf -v F …`, `mapfile A`: the variables hold what they read.
    fn assigns_at_run_time(&mut self, program: &str, rest: &[Value]) {
        let names: Vec<&str> = match program {
            "printf" => (rest.iter())
                .position(|w| w.text() == "-v")
                .and_then(|i| rest.get(i + 1))
                .map(Value::text)
                .into_iter()
                .collect(),
            "getopts" => rest.get(1).map(Value::text).into_iter().collect(),
            _ => (rest.iter().map(Value::text))
                .filter(|t| !t.starts_with('-'))
                .collect(),
        };
        for name in names {
            self.vars.assign_unknown(name);
        }
        if matches!(program, "mapfile" | "readarray") {
            self.vars.assign_unknown("MAPFILE");
        }
        if program == "read" {
            self.vars.assign_unknown("REPLY");
        }
    }

    /// Records `program` run with `rest`: flags normalized, paths named.
    pub(super) fn record(&mut self, program: &str, rest: &[Value], more_args: bool) {
        let words = Sorted::of(program, rest);
        if words.runtime && !PRINTS_ONLY.contains(&program) {
            self.unknown(format!(
                "{program} is given a variable set only when the line runs"
            ));
        }
        let mut command = Command {
            program: program.to_string(),
            subcommand: subcommand(program, rest),
            dynamic: more_args || words.dynamic,
            args: words.args.clone(),
            ..Command::default()
        };
        command.flags = flags::normalize(program, command.subcommand.as_deref(), &words.flags);
        if program == "dd" {
            operand_flags(&mut command);
        }
        if program == "git" && command.subcommand.as_deref() == Some("push") {
            refspec_flags(&mut command);
        }
        self.parts.push(Part::Command(command));
        let in_place = matches!(program, "sed" | "perl")
            && (words.flags.iter())
                .any(|f| f.starts_with("--in-place") || (!f.starts_with("--") && f.contains('i')));
        // `export X=…` names no file: what X names is judged where X is used.
        if !DECLARES.contains(&program) {
            self.named_paths(program, &words.paths, &words.glued, in_place);
        }
        self.written_files(program, rest);
    }

    /// The paths a command's arguments and glued option values name.
    fn named_paths(&mut self, program: &str, paths: &[&Value], glued: &[String], in_place: bool) {
        for (i, value) in paths.iter().enumerate() {
            let access = access_of(program, i + 1 == paths.len(), in_place);
            match value {
                Value::Literal(text) => {
                    let text = text.strip_prefix('@').unwrap_or(text);
                    if looks_like_a_path(text) {
                        self.path(text, access, program);
                    }
                }
                Value::Dynamic(d) => {
                    let pattern = words::unescape(&d.pattern);
                    if looks_like_a_path(&pattern) || words::has_glob(&d.pattern) {
                        self.path_value(value, access, program);
                    }
                }
            }
        }
        let access = if WRITES_LAST_ARGUMENT.contains(&program) {
            Access::Write
        } else {
            Access::Named
        };
        for text in glued {
            let text = text.strip_prefix('@').unwrap_or(text);
            if looks_like_a_path(text) {
                self.path(text, access, program);
            }
        }
    }

    /// Files a program is told to write: `dd of=`, `curl -o`, `wget -O`.
    fn written_files(&mut self, program: &str, rest: &[Value]) {
        let options: &[&str] = match program {
            "curl" => &["-o", "--output", "--output-dir"],
            "wget" => &[
                "-O",
                "--output-document",
                "-P",
                "--directory-prefix",
                "-o",
                "--output-file",
            ],
            "dd" => &["of"],
            _ => return,
        };
        let mut words = rest.iter().peekable();
        while let Some(word) = words.next() {
            let next = words.peek().map(|w| w.text());
            if let Some(file) = written_file(word.text(), next, options).filter(|f| f != "-") {
                self.path(&file, Access::Write, program);
            }
        }
    }
}

/// The file `text` (with the word after it, `next`) names for one of `options`:
/// `--output=f`, `of=f`, `-o f`, `-of`, `-sSo f`.
fn written_file(text: &str, next: Option<&str>, options: &[&str]) -> Option<String> {
    if let Some((_, value)) = text
        .split_once('=')
        .filter(|(name, _)| options.contains(name))
    {
        return Some(value.to_string());
    }
    if options.contains(&text) {
        return next.map(str::to_string);
    }
    let cluster = text.strip_prefix('-').filter(|c| !c.starts_with('-'))?;
    for option in options.iter().filter(|o| o.len() == 2) {
        let letter = option.chars().nth(1)?;
        if let Some(at) = cluster.find(letter) {
            let glued = cluster.get(at + 1..).unwrap_or_default();
            return if glued.is_empty() {
                next.map(str::to_string)
            } else {
                Some(glued.to_string())
            };
        }
    }
    None
}

/// git's global options that take a value as the next word.
pub(super) const GIT_VALUE_OPTIONS: &[&str] = &[
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--exec-path",
    "--config-env",
    "--super-prefix",
    "--list-cmds",
];

/// git's subcommand (after its global options), or the first word that is no flag.
pub(super) fn subcommand(program: &str, rest: &[Value]) -> Option<String> {
    let mut i = 0;
    while let Some(word) = rest.get(i) {
        let text = word.text();
        if !text.starts_with('-') {
            return Some(text.to_string());
        }
        let takes_value = program == "git" && GIT_VALUE_OPTIONS.contains(&text);
        i += if takes_value { 2 } else { 1 };
    }
    None
}

/// The paths a flag word carries: `--file=~/.env`, `-f.env`, `-C/root`, `-d@~/x`.
fn glued_paths(text: &str) -> Option<String> {
    if let Some(long) = text.strip_prefix("--") {
        return long.split_once('=').map(|(_, v)| v.to_string());
    }
    let body = text.get(1..)?;
    let start = body.find(['/', '~', '.', '@'])?;
    (start > 0)
        .then(|| body.get(start..).map(str::to_string))
        .flatten()
}

/// `dd if=a of=b`: each operand's name is a flag (`of=`).
fn operand_flags(command: &mut Command) {
    for arg in &command.args {
        if let Some((name, _)) = arg.split_once('=') {
            let flag = format!("{name}=");
            if !command.flags.contains(&flag) {
                command.flags.push(flag);
            }
        }
    }
}

/// `git push origin +main` forces, `git push origin :main` deletes; a push with a lease,
/// or a mirror, forces too.
fn refspec_flags(command: &mut Command) {
    let mut extra = Vec::new();
    if (command.flags.iter()).any(|f| f == "--force-with-lease" || f == "--mirror") {
        extra.push("--force");
    }
    for arg in &command.args {
        if arg.starts_with('+') || arg.contains(":+") {
            extra.push("--force");
        }
        if arg.starts_with(':') {
            extra.push("--delete");
        }
    }
    for flag in extra {
        if !command.flags.iter().any(|f| f == flag) {
            command.flags.push(flag.to_string());
        }
    }
}

/// Arguments that name files: with a `/`, or starting with `.` or `~`.
fn looks_like_a_path(text: &str) -> bool {
    text.contains('/') || text.starts_with('.') || text.starts_with('~')
}

/// A command's words sorted: flags, arguments, the words that may be paths.
struct Sorted<'a> {
    flags: Vec<&'a str>,
    args: Vec<String>,
    /// Arguments that may name files (a `sed` or `perl -e` script is none).
    paths: Vec<&'a Value>,
    /// Values glued to options or operands (`--file=x`, `-fx`, `of=x`).
    glued: Vec<String>,
    dynamic: bool,
    runtime: bool,
}

impl<'a> Sorted<'a> {
    fn of(program: &str, rest: &'a [Value]) -> Sorted<'a> {
        let mut sorted = Sorted {
            flags: Vec::new(),
            args: Vec::new(),
            paths: Vec::new(),
            glued: Vec::new(),
            dynamic: false,
            runtime: false,
        };
        let scripted = matches!(program, "sed" | "perl");
        let script_option = |t: &str| matches!(t, "-e" | "-E" | "--expression" | "-f");
        let mut script_expected = scripted && !rest.iter().any(|w| script_option(w.text()));
        let mut options_end = false;
        // `find` reads its whole expression as options, `--` or not.
        let options_end_word = if program == "find" { None } else { Some("--") };
        for word in rest {
            let text = word.text();
            sorted.dynamic |= word.literal().is_none();
            sorted.runtime |= word.runtime();
            if !options_end && Some(text) == options_end_word {
                options_end = true;
            } else if !options_end && text.starts_with('-') && text.len() > 1 {
                sorted.flags.push(text);
                sorted.glued.extend(glued_paths(text));
                script_expected |= scripted && script_option(text);
            } else {
                sorted.args.push(text.to_string());
                if !std::mem::take(&mut script_expected) {
                    sorted.paths.push(word);
                }
                (sorted.glued).extend(text.split_once('=').map(|(_, v)| v.to_string()));
            }
        }
        sorted
    }
}

/// How a program uses a path argument: `rm`, `touch`, `tee` write every one, `cp` and
/// `mv` the last, `sed -i` every file.
fn access_of(program: &str, last: bool, in_place: bool) -> Access {
    if in_place
        || WRITES_EVERY_ARGUMENT.contains(&program)
        || (last && WRITES_LAST_ARGUMENT.contains(&program))
    {
        Access::Write
    } else {
        Access::Named
    }
}
