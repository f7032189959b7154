//! Shells, interpreters and builtins that run code. A shell given a string (`bash -c`,
//! `eval`, `trap '…' EXIT`) runs that string, which is read in turn. A shell or
//! interpreter that reads its code from a pipe, a redirection, a process substitution
//! or a file that is its input in disguise (`/dev/stdin`, `/proc/self/fd/0`,
//! `/dev/fd/3`) runs code no one can read here, and is unknown; so is a shell told to
//! run a start-up file (`--rcfile`, `--init-file`). Options of other programs whose
//! value is a command line (`tar --to-command`, `rsync -e`, `man -P`) have it read in
//! turn; editors told to run commands (`vim -c`), tmux sessions given a command, and
//! `at` are unknown.

use super::walk::Walker;
use super::words::{Value, part_of};

/// Shells: `-c STRING` runs STRING; no script and a fed input runs the input.
const SHELLS: &[&str] = &[
    "bash", "sh", "zsh", "dash", "ksh", "ash", "fish", "mksh", "yash",
];

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
    "tclsh",
    "awk",
    "gawk",
];

/// Shell options that run a file at start-up.
const STARTUP_FILES: &[&str] = &["--rcfile", "--init-file"];

impl Walker {
    /// Judges `program` if it is a shell, an interpreter, `eval`, `source` or `trap`;
    /// false if it is none (then it is recorded as any command).
    pub(super) fn shell_like(
        &mut self,
        program: &str,
        rest: &[Value],
        fed: bool,
        more_args: bool,
        depth: usize,
    ) -> bool {
        if SHELLS.contains(&program) {
            self.record(program, rest, more_args);
            self.shell(program, rest, fed, depth);
        } else if program == "eval" {
            self.record(program, rest, more_args);
            self.shell_string(program, None, rest, depth);
        } else if program == "trap" {
            self.record(program, rest, more_args);
            self.trap(rest, depth);
        } else if program == "source" || program == "." {
            self.record(program, rest, more_args);
            if rest
                .first()
                .is_none_or(|w| w.literal().is_none_or(is_input))
            {
                self.unknown(format!("{program} runs a file known only when it runs"));
            }
        } else if INTERPRETERS.contains(&program) {
            self.record(program, rest, more_args);
            self.interpreter(program, rest, fed);
        } else {
            return false;
        }
        true
    }

    /// `bash [options] [-c STRING | SCRIPT]`.
    fn shell(&mut self, program: &str, rest: &[Value], fed: bool, depth: usize) {
        let mut words = rest.iter();
        let mut runs_string = false;
        let mut reads_input = false;
        while let Some(word) = words.next() {
            let text = word.text();
            if text == "--" {
                if let Some(w) = words.next() {
                    self.script(program, w, runs_string, depth);
                }
                return;
            }
            if STARTUP_FILES.contains(&text) {
                return self.unknown(format!("{program} {text} runs a start-up file"));
            }
            if text.starts_with("--") {
                continue;
            }
            if let Some(letters) = text.strip_prefix(['-', '+']).filter(|l| !l.is_empty()) {
                runs_string |= letters.contains('c');
                reads_input |= letters.contains('s') || letters.contains('i');
                if letters.contains('o') || letters.contains('O') {
                    words.next();
                }
                continue;
            }
            return self.script(program, word, runs_string, depth);
        }
        if runs_string {
            return self.unknown(format!("{program} -c with no string"));
        }
        if fed || reads_input {
            self.unknown(format!("{program} runs code from its input"));
        }
    }

    /// The first word after a shell's options: the string it runs, or its script.
    fn script(&mut self, program: &str, word: &Value, runs_string: bool, depth: usize) {
        if runs_string {
            return self.shell_string(program, Some(word), &[], depth);
        }
        // A script file: its content is not read here; its input in disguise is unknown.
        if word.literal().is_none_or(is_input) {
            self.unknown(format!("{program} runs a script known only when it runs"));
        }
    }

    /// `python3 [script]`: code from its input, or from its input in disguise, is unknown.
    fn interpreter(&mut self, program: &str, rest: &[Value], fed: bool) {
        let script = rest.iter().find(|w| !w.text().starts_with('-'));
        let inline = (rest.iter()).any(|w| matches!(w.text(), "-c" | "-e" | "-m" | "-E"));
        let hidden =
            (rest.iter()).any(|w| w.text().starts_with("<(") || w.literal().is_some_and(is_input));
        if hidden || (fed && script.is_none() && !inline) {
            self.unknown(format!("{program} runs code from its input"));
        }
        if !inline && script.is_some_and(|w| w.literal().is_none()) {
            self.unknown(format!("{program} runs a script known only when it runs"));
        }
    }

    /// `trap [--] ACTION SIGNAL…`: the action runs later, in this shell.
    fn trap(&mut self, rest: &[Value], depth: usize) {
        let mut i = 0;
        while rest
            .get(i)
            .is_some_and(|w| matches!(w.text(), "-p" | "-l" | "-P"))
        {
            i += 1;
        }
        if rest.get(i).is_some_and(|w| w.text() == "--") {
            i += 1;
        }
        if let Some(action) = rest.get(i).filter(|w| w.text() != "-") {
            self.shell_string("trap", Some(action), &[], depth);
        }
    }
}

/// Options whose value is a command line the program has a shell run.
const COMMAND_OPTIONS: &[(&str, &[&str])] = &[
    (
        "tar",
        &[
            "--to-command",
            "--use-compress-program",
            "-I",
            "--info-script",
            "--new-volume-script",
            "-F",
            "--rsh-command",
        ],
    ),
    ("rsync", &["-e", "--rsh", "--rsync-path"]),
    ("scp", &["-S"]),
    ("man", &["-P", "--pager"]),
    ("zip", &["-TT", "--unzip-command"]),
];

/// tmux commands that run a command line, or type one.
const TMUX_RUNS: &[&str] = &[
    "new-session",
    "new",
    "new-window",
    "neww",
    "split-window",
    "splitw",
    "respawn-pane",
    "respawnp",
    "respawn-window",
    "respawnw",
    "run-shell",
    "run",
    "if-shell",
    "if",
    "send-keys",
    "send",
    "pipe-pane",
    "pipep",
    "display-popup",
    "popup",
];

/// Editors whose options run their own commands (`vim -c '!…'`).
const EDITORS: &[&str] = &["vi", "vim", "nvim", "view", "ex", "emacs"];

impl Walker {
    /// Option values a program runs as a command line (`tar --to-command=…`,
    /// `rsync -e …`); an editor told to run commands is unknown.
    pub(super) fn command_options(&mut self, program: &str, rest: &[Value], depth: usize) {
        if EDITORS.contains(&program)
            && (rest.iter()).any(|w| {
                let t = w.text();
                t == "-c" || t == "--cmd" || t.starts_with('+') || t == "--eval" || t == "-e"
            })
        {
            return self.unknown(format!("{program} is told to run its own commands"));
        }
        if program == "tar" && rest.iter().any(|w| w.text().contains("exec=")) {
            self.unknown("tar --checkpoint-action=exec runs a command");
        }
        let texts = || rest.iter().map(Value::text);
        if program == "tmux" && texts().any(|t| TMUX_RUNS.contains(&t)) {
            self.unknown("tmux runs a command in a session");
        }
        if program == "screen" && texts().any(|t| t == "-X") {
            self.unknown("screen -X sends commands to a session");
        }
        let listing = || texts().any(|t| matches!(t, "-l" | "-d" | "-r" | "-c" | "-V"));
        if matches!(program, "at" | "batch") && !listing() {
            self.unknown(format!(
                "{program} schedules commands this line does not show"
            ));
        }
        let Some((_, options)) = COMMAND_OPTIONS.iter().find(|(name, _)| *name == program) else {
            return;
        };
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            i += 1;
            let text = word.text();
            let value = match text.split_once('=') {
                Some((name, value)) if options.contains(&name) => Some(part_of(Some(word), value)),
                _ if options.contains(&text) => {
                    i += 1;
                    rest.get(i - 1).cloned()
                }
                _ => (options.iter())
                    .filter(|o| o.len() == 2)
                    .find_map(|o| text.strip_prefix(o).filter(|v| !v.is_empty()))
                    .map(|v| part_of(Some(word), v)),
            };
            if let Some(value) = value {
                self.shell_string(program, Some(&value), &[], depth);
            }
        }
    }
}

/// A file that is the program's input, or another open file, in disguise.
fn is_input(path: &str) -> bool {
    path.starts_with("/dev/") || path.starts_with("/proc/") || path == "-"
}
