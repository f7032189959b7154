//! One simple command, as it will run. The program is its first word, unless that is a
//! wrapper that runs another program (`sudo rm …`, `env X=1 rm …`, `xargs rm`,
//! `find … -exec rm … ;`): then both are parts. A shell given a string (`bash -c`,
//! `eval`) runs that string, which is read in turn; a shell or interpreter that reads
//! its code from a pipe, a redirection or a process substitution runs code no one can
//! read here, and is unknown. So is a program known only at run time.

use super::flags;
use super::walk::{Simple, Walker};
use super::words::Value;
use super::{Access, Command, Part};

/// Programs that run the program their arguments name, with the options each takes a
/// value for (skipped with their value).
const WRAPPERS: &[(&str, &[&str])] = &[
    (
        "sudo",
        &[
            "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-R",
        ],
    ),
    ("doas", &["-u", "-C"]),
    ("env", &["-u", "-C", "--unset", "--chdir"]),
    ("nohup", &[]),
    ("nice", &["-n", "--adjustment"]),
    ("ionice", &["-c", "-n", "-p", "-P", "-u"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("time", &["-f", "-o", "--format", "--output"]),
    ("command", &[]),
    ("builtin", &[]),
    ("exec", &["-a"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    ("setsid", &[]),
    ("chrt", &[]),
    ("taskset", &[]),
    (
        "xargs",
        &[
            "-I",
            "-i",
            "-n",
            "-P",
            "-L",
            "-l",
            "-d",
            "-E",
            "-e",
            "-s",
            "-a",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
            "--replace",
        ],
    ),
    ("watch", &["-n", "-d", "--interval"]),
    ("strace", &["-o", "-e", "-p", "-s"]),
];

/// Shells: `-c STRING` runs STRING; no script and a fed input runs the input.
const SHELLS: &[&str] = &["bash", "sh", "zsh", "dash", "ksh", "ash", "fish", "busybox"];

/// Interpreters that run the code their input gives them when named with no script.
const INTERPRETERS: &[&str] = &[
    "python",
    "python2",
    "python3",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "php",
    "deno",
    "bun",
    "lua",
    "Rscript",
    "osascript",
    "pwsh",
];

/// git's global options that take a value as the next word.
const GIT_VALUE_OPTIONS: &[&str] = &[
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

/// What `find` runs: the words after one of these, up to `;` or `+`.
const FIND_EXEC: &[&str] = &["-exec", "-execdir", "-ok", "-okdir"];

impl Walker {
    /// Judges one simple command: its program, and what that program runs in turn.
    pub(super) fn run(&mut self, simple: Simple, depth: usize) {
        self.run_words(&simple.words, simple.fed, false, depth);
    }

    fn run_words(&mut self, words: &[Value], fed: bool, more_args: bool, depth: usize) {
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
        if let Some((_, takes_value)) = WRAPPERS.iter().find(|(name, _)| *name == program) {
            let inner = wrapped(rest, takes_value, &program);
            self.record(&program, rest, more_args);
            if program == "xargs" {
                // xargs adds what it reads to the command's arguments.
                return self.run_words(inner, false, true, depth);
            }
            return self.run_words(inner, fed, more_args, depth);
        }
        if SHELLS.contains(&program.as_str()) || program == "eval" {
            return self.shell(&program, rest, fed, more_args, depth);
        }
        if INTERPRETERS.contains(&program.as_str()) {
            let script = rest.iter().any(|w| !w.text().starts_with('-'));
            let inline = rest
                .iter()
                .any(|w| matches!(w.text(), "-c" | "-e" | "-m" | "-E"));
            if rest
                .iter()
                .any(|w| matches!(w, Value::Dynamic(t) if t.starts_with("<(")))
                || (fed && !script && !inline)
            {
                return self.unknown(format!("{program} runs code from its input"));
            }
        }
        if (program == "source" || program == ".")
            && rest.first().is_none_or(|w| w.literal().is_none())
        {
            return self.unknown(format!("{program} runs a file known only when it runs"));
        }
        if program == "git" && self.git_alias(rest) {
            return;
        }
        if program == "find" {
            self.find_exec(rest, depth);
        }
        self.record(&program, rest, more_args);
    }

    /// `bash -c STRING`, `eval STRING…`, or a shell reading a script or its input.
    fn shell(&mut self, program: &str, rest: &[Value], fed: bool, more_args: bool, depth: usize) {
        self.record(program, rest, more_args);
        if program == "eval" {
            let mut text = Vec::new();
            for word in rest {
                match word.literal() {
                    Some(t) => text.push(t),
                    None => return self.unknown("eval of a string known only when it runs"),
                }
            }
            return self.program(&text.join(" "), depth + 1);
        }
        let mut words = rest.iter();
        let mut runs_string = false;
        let mut reads_input = false;
        while let Some(word) = words.next() {
            let text = word.text();
            if text == "--" {
                break;
            }
            if let Some(letters) = text.strip_prefix('-').filter(|l| !l.starts_with('-')) {
                runs_string |= letters.contains('c');
                reads_input |= letters.contains('s');
                if letters.contains('o') || letters.contains('O') {
                    words.next();
                }
                continue;
            }
            if text.starts_with("--") || text.starts_with('+') {
                continue;
            }
            if runs_string {
                return match word.literal() {
                    Some(string) => self.program(string, depth + 1),
                    None => {
                        self.unknown(format!("{program} -c of a string known only when it runs"))
                    }
                };
            }
            // A script file: its content is not read here; a substitution is.
            if word.literal().is_none() || text.starts_with("/dev/") {
                return self.unknown(format!("{program} runs a script known only when it runs"));
            }
            return;
        }
        if runs_string {
            return self.unknown(format!("{program} -c with no string"));
        }
        if fed || reads_input {
            self.unknown(format!("{program} runs code from its input"));
        }
    }

    /// `git -c alias.x=… x`: a command defined on the command line, read nowhere.
    fn git_alias(&mut self, rest: &[Value]) -> bool {
        let mut words = rest.iter();
        while let Some(word) = words.next() {
            let text = word.text();
            if text == "-c" {
                let value = words.next().map(Value::text).unwrap_or_default();
                if value.to_ascii_lowercase().starts_with("alias.") {
                    self.unknown("a git alias defined on the command line");
                    return true;
                }
            } else if !text.starts_with('-') {
                break;
            }
        }
        false
    }

    fn find_exec(&mut self, rest: &[Value], depth: usize) {
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            i += 1;
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

    /// Records `program` run with `rest`: flags normalized, paths named.
    fn record(&mut self, program: &str, rest: &[Value], more_args: bool) {
        let subcommand = subcommand(program, rest);
        let mut command = Command {
            program: program.to_string(),
            subcommand,
            dynamic: more_args,
            ..Command::default()
        };
        let mut flag_words: Vec<&str> = Vec::new();
        let mut paths: Vec<&str> = Vec::new();
        let mut options_end = false;
        for word in rest {
            let text = word.text();
            command.dynamic |= word.literal().is_none();
            if !options_end && text == "--" {
                options_end = true;
            } else if !options_end && text.starts_with('-') && text.len() > 1 {
                flag_words.push(text);
                paths.extend(text.split_once('=').map(|(_, value)| value));
            } else {
                command.args.push(text.to_string());
                paths.push(text);
            }
        }
        command.flags = flags::normalize(program, command.subcommand.as_deref(), &flag_words);
        if program == "git" && command.subcommand.as_deref() == Some("push") {
            refspec_flags(&mut command);
        }
        self.parts.push(Part::Command(command));
        for path in paths.into_iter().filter(|p| looks_like_a_path(p)) {
            self.path(path, Access::Named, program);
        }
    }
}

/// The words a wrapper runs: after its options (and their values) and, for `env`, its
/// assignments, and for `timeout` its duration.
fn wrapped<'a>(rest: &'a [Value], takes_value: &[&str], program: &str) -> &'a [Value] {
    let mut i = 0;
    let mut positional_skipped = false;
    while let Some(word) = rest.get(i) {
        let text = word.text();
        if text == "--" {
            i += 1;
            break;
        }
        if text.starts_with('-') && text.len() > 1 {
            i += if takes_value.contains(&text) { 2 } else { 1 };
            continue;
        }
        if program == "env" && text.contains('=') && !text.starts_with('=') {
            i += 1;
            continue;
        }
        if matches!(program, "timeout" | "chrt" | "taskset") && !positional_skipped {
            positional_skipped = true;
            i += 1;
            continue;
        }
        break;
    }
    rest.get(i..).unwrap_or_default()
}

/// git's subcommand (after its global options), or the first word that is no flag.
fn subcommand(program: &str, rest: &[Value]) -> Option<String> {
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
