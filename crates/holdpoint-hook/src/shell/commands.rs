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

/// Programs for which a variable set when the line runs is no reason to hold.
const PRINTS_ONLY: &[&str] = &["echo", "printf", "test", "[", "true", "false", ":"];

impl Walker {
    /// Judges one simple command: its program, and what that program runs in turn.
    pub(super) fn run(&mut self, simple: super::walk::Simple, depth: usize) {
        self.run_words(&simple.words, simple.fed, false, depth);
    }

    pub(super) fn run_words(&mut self, words: &[Value], fed: bool, more_args: bool, depth: usize) {
        let Some((first, rest)) = words.split_first() else {
            return;
        };
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
        if program == "shopt" && rest.iter().any(|w| w.text().contains("dotglob")) {
            self.unknown("shopt dotglob makes globs match hidden files");
        }
        self.record(&program, rest, more_args);
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
        let subcommand = subcommand(program, rest);
        let mut command = Command {
            program: program.to_string(),
            subcommand,
            dynamic: more_args,
            ..Command::default()
        };
        let mut flag_words: Vec<&str> = Vec::new();
        let mut paths: Vec<&Value> = Vec::new();
        let mut glued: Vec<String> = Vec::new();
        let mut options_end = false;
        let mut runtime = false;
        // `find` reads its whole expression as options, `--` or not.
        let options_end_word = if program == "find" { None } else { Some("--") };
        for word in rest {
            let text = word.text();
            command.dynamic |= word.literal().is_none();
            runtime |= word.runtime();
            if !options_end && Some(text) == options_end_word {
                options_end = true;
            } else if !options_end && text.starts_with('-') && text.len() > 1 {
                flag_words.push(text);
                glued.extend(glued_paths(text));
            } else {
                command.args.push(text.to_string());
                paths.push(word);
                glued.extend(text.split_once('=').map(|(_, v)| v.to_string()));
            }
        }
        if runtime && !PRINTS_ONLY.contains(&program) {
            self.unknown(format!(
                "{program} is given a variable set only when the line runs"
            ));
        }
        command.flags = flags::normalize(program, command.subcommand.as_deref(), &flag_words);
        if program == "dd" {
            operand_flags(&mut command);
        }
        if program == "git" && command.subcommand.as_deref() == Some("push") {
            refspec_flags(&mut command);
        }
        self.parts.push(Part::Command(command));
        self.named_paths(program, &paths, &glued);
        self.written_files(program, rest);
    }

    /// The paths a command's arguments and glued option values name.
    fn named_paths(&mut self, program: &str, paths: &[&Value], glued: &[String]) {
        let access = if program == "tee" {
            Access::Write
        } else {
            Access::Named
        };
        for value in paths {
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
        for text in glued {
            let text = text.strip_prefix('@').unwrap_or(text);
            if looks_like_a_path(text) {
                self.path(text, Access::Named, program);
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
