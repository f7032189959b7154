//! Programs that run another program: `sudo`, `env`, `xargs`, `timeout`, `watch`, …
//! Each wrapper's options are read as it reads them: which take a value (`sudo -u x`,
//! `sudo -Eu root`, `stdbuf -o0`, `--user=x`), which make it run a shell string (`su -c`,
//! `script -c`, `flock -c`, `env -S`), which make it start a shell (`sudo -s`). An option
//! not in its table may or may not take a value: both readings are judged, so an
//! unknown option cannot hide the command after it.

use super::walk::Walker;
use super::words::{Value, part_of};

/// How a wrapper runs the words after its options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// As a command and its arguments.
    Argv,
    /// Joined into a string a shell runs (`watch 'rm -rf x'`).
    ShellString,
    /// On another machine (`ssh host 'cmd'`): unknown.
    Remote,
    /// Only through a string option (`su -c '…'`); without one, it starts a shell.
    Login,
}

struct Wrapper {
    name: &'static str,
    /// Short options that take a value: the rest of the word, or the next word.
    short_values: &'static str,
    /// Short options that take none.
    short_flags: &'static str,
    /// Long options that take a value (`--user x` or `--user=x`).
    long_values: &'static [&'static str],
    /// Words before the command that are not options (timeout's duration, chroot's root).
    positionals: usize,
    /// Options whose value is a command line a shell runs.
    string_options: &'static [&'static str],
    /// Options that make it run the rest as a shell command line (`sudo -s`).
    shell_options: &'static [&'static str],
    /// With no command it starts an interactive shell.
    empty_is_shell: bool,
    runs: Runs,
}

const fn wrapper(
    name: &'static str,
    short_values: &'static str,
    short_flags: &'static str,
) -> Wrapper {
    Wrapper {
        name,
        short_values,
        short_flags,
        long_values: &[],
        positionals: 0,
        string_options: &[],
        shell_options: &[],
        empty_is_shell: false,
        runs: Runs::Argv,
    }
}

const SU_STRING: &[&str] = &["-c", "--command", "--session-command"];

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        long_values: &[
            "--user",
            "--group",
            "--close-from",
            "--chdir",
            "--host",
            "--prompt",
            "--role",
            "--type",
            "--other-user",
            "--command-timeout",
            "--chroot",
        ],
        shell_options: &["-s", "-i", "--shell", "--login"],
        ..wrapper("sudo", "ugCDhpRrtTU", "AbBEeHiKklnPSsVv")
    },
    Wrapper {
        shell_options: &["-s"],
        empty_is_shell: true,
        ..wrapper("doas", "uC", "nLs")
    },
    Wrapper {
        long_values: &["--user"],
        empty_is_shell: true,
        ..wrapper("pkexec", "", "")
    },
    Wrapper {
        long_values: &["--unset", "--chdir"],
        ..wrapper("env", "uC", "i0v")
    },
    wrapper("nohup", "", ""),
    Wrapper {
        long_values: &["--adjustment"],
        ..wrapper("nice", "n", "0123456789")
    },
    Wrapper {
        long_values: &["--class", "--classdata", "--pid", "--pgid", "--uid"],
        ..wrapper("ionice", "cnpPu", "t")
    },
    Wrapper {
        long_values: &["--signal", "--kill-after"],
        positionals: 1,
        ..wrapper("timeout", "sk", "v")
    },
    Wrapper {
        long_values: &["--format", "--output"],
        ..wrapper("time", "fo", "pvaq")
    },
    wrapper("command", "", "pvV"),
    wrapper("builtin", "", ""),
    wrapper("exec", "a", "cl"),
    Wrapper {
        long_values: &["--input", "--output", "--error"],
        ..wrapper("stdbuf", "ioe", "")
    },
    wrapper("setsid", "", "cfw"),
    Wrapper {
        positionals: 1,
        ..wrapper("chrt", "TPD", "abdefiomprRv")
    },
    Wrapper {
        positionals: 1,
        ..wrapper("taskset", "", "acpf")
    },
    Wrapper {
        long_values: &[
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
            "--max-lines",
            "--max-chars",
            "--process-slot-var",
        ],
        ..wrapper("xargs", "InPsLdEa", "0prtxoile")
    },
    Wrapper {
        long_values: &[
            "--jobs",
            "--max-args",
            "--max-replace-args",
            "--replace",
            "--arg-file",
            "--delimiter",
            "--sshlogin",
            "--joblog",
            "--results",
            "--timeout",
        ],
        ..wrapper("parallel", "jnNIaSdE", "0kquv")
    },
    Wrapper {
        long_values: &["--interval"],
        runs: Runs::ShellString,
        ..wrapper("watch", "nq", "bcdegptxhv")
    },
    Wrapper {
        string_options: SU_STRING,
        long_values: &[
            "--group",
            "--supp-group",
            "--shell",
            "--whitelist-environment",
        ],
        runs: Runs::Login,
        ..wrapper("su", "gGsw", "flmp")
    },
    Wrapper {
        string_options: SU_STRING,
        long_values: &[
            "--user",
            "--group",
            "--supp-group",
            "--shell",
            "--whitelist-environment",
        ],
        empty_is_shell: true,
        ..wrapper("runuser", "ugGsw", "flmp")
    },
    Wrapper {
        string_options: &["-c", "--command"],
        long_values: &[
            "--log-io",
            "--log-in",
            "--log-out",
            "--log-timing",
            "--logging-format",
            "--echo",
            "--output-limit",
            "--timing",
        ],
        runs: Runs::Login,
        ..wrapper("script", "IOBTEmo", "aefqh")
    },
    Wrapper {
        string_options: &["-c", "--command"],
        long_values: &["--timeout", "--wait", "--conflict-exit-code"],
        positionals: 1,
        ..wrapper("flock", "wEn", "sxuonFv")
    },
    wrapper("busybox", "", ""),
    Wrapper {
        long_values: &[
            "--propagation",
            "--setgroups",
            "--map-user",
            "--map-group",
            "--map-users",
            "--map-groups",
            "--setuid",
            "--setgid",
            "--root",
            "--wd",
            "--load-interp",
        ],
        empty_is_shell: true,
        ..wrapper("unshare", "SGRwl", "muinpUCTfrck")
    },
    Wrapper {
        long_values: &["--userspec", "--groups"],
        positionals: 1,
        empty_is_shell: true,
        ..wrapper("chroot", "", "")
    },
    Wrapper {
        long_values: &["--lib", "--faked"],
        empty_is_shell: true,
        ..wrapper("fakeroot", "lsib", "uh")
    },
    wrapper("strace", "eopsuEaIOSPXb", "cCdDfFhikqrtTvVwxyzZn"),
    wrapper("ltrace", "eopsuaADlnxFwL", "bcCfhiSrtTV"),
    wrapper("chronic", "", "ev"),
    Wrapper {
        empty_is_shell: true,
        ..wrapper("firejail", "", "")
    },
    Wrapper {
        runs: Runs::Remote,
        positionals: 1,
        ..wrapper("ssh", "BbcDEeFIiJLlmOoPpQRSWw", "46AaCfGgKkMNnqsTtVvXxYy")
    },
    wrapper("caffeinate", "tw", "dimsu"),
    Wrapper {
        long_values: &[
            "--unit",
            "--property",
            "--uid",
            "--gid",
            "--nice",
            "--setenv",
            "--working-directory",
            "--machine",
            "--description",
            "--slice",
            "--on-active",
            "--on-calendar",
            "--host",
        ],
        ..wrapper("systemd-run", "pEMH", "rtPGqSd")
    },
    Wrapper {
        long_values: &[
            "--target", "--mount", "--uts", "--ipc", "--net", "--pid", "--user", "--root", "--wd",
            "--setuid", "--setgid",
        ],
        ..wrapper("nsenter", "tSGrw", "amuinpUCTFZ")
    },
    wrapper("numactl", "CNmpPi", "lsHa"),
    wrapper("valgrind", "", "qv"),
    wrapper("cgexec", "g", ""),
    wrapper("catchsegv", "", ""),
    Wrapper {
        string_options: &["-c"],
        positionals: 1,
        runs: Runs::ShellString,
        ..wrapper("sg", "", "")
    },
    wrapper("screen", "SceEhpTtLR", "dmDraAiOqUwxl"),
    wrapper("ifne", "", "n"),
];

/// What a wrapper's words came to.
#[derive(Default)]
struct Split {
    /// Where the command it runs starts.
    start: usize,
    /// Where it would start if an unknown option took a value.
    alternatives: Vec<usize>,
    /// Command lines given to string options.
    strings: Vec<Value>,
    /// `env`'s `NAME=value` words.
    assignments: Vec<Value>,
    /// `env -S`'s string.
    split_string: Option<Value>,
    /// A shell option (`sudo -s`) was given.
    shell: bool,
}

impl Walker {
    /// Judges `program` if it is a wrapper; false if it is none.
    pub(super) fn wrapper(
        &mut self,
        program: &str,
        rest: &[Value],
        fed: bool,
        more_args: bool,
        depth: usize,
    ) -> bool {
        let Some(spec) = WRAPPERS.iter().find(|w| w.name == program) else {
            return false;
        };
        let mut split = split(spec, rest);
        if !spec.string_options.is_empty() && split.strings.is_empty() {
            // `su root -c '…'`: the option may follow the user.
            split.strings = late_strings(spec, rest.get(split.start..).unwrap_or_default());
        }
        self.record(program, rest, more_args);
        self.command_options(program, rest, depth);
        for word in &split.assignments {
            self.environment_word(word, depth);
        }
        for string in &split.strings {
            self.shell_string(program, Some(string), &[], depth);
        }
        let inner = rest.get(split.start..).unwrap_or_default();
        if let Some(string) = &split.split_string {
            self.shell_string(program, Some(string), inner, depth);
        } else if split.shell || spec.runs == Runs::ShellString {
            self.shell_string(program, None, inner, depth);
        } else if spec.runs == Runs::Remote && (!inner.is_empty() || fed) {
            self.unknown(format!("{program} runs a command on another machine"));
        } else if spec.runs == Runs::Login && split.strings.is_empty() {
            self.unknown(format!("{program} starts a shell"));
        } else if spec.runs == Runs::Argv {
            self.wrapped_command(program, inner, fed, more_args, depth);
        }
        if inner.is_empty() && (spec.empty_is_shell || split.shell) && split.strings.is_empty() {
            self.unknown(format!("{program} with no command starts a shell"));
        }
        if program == "ssh" && rest.iter().any(|w| runs_locally(w.text())) {
            self.unknown("ssh runs a local command from its options");
        }
        for alternative in split.alternatives.iter().take(3) {
            let inner = rest.get(*alternative..).unwrap_or_default();
            if spec.runs == Runs::Argv {
                // One level deeper: alternatives of alternatives stay few.
                self.wrapped_command(program, inner, fed, more_args, depth + 1);
            }
        }
        true
    }

    /// The command a wrapper runs as argv: `xargs` and `parallel` add arguments to it.
    fn wrapped_command(
        &mut self,
        program: &str,
        inner: &[Value],
        fed: bool,
        more_args: bool,
        depth: usize,
    ) {
        match program {
            "xargs" => self.run_words(inner, false, true, depth),
            "parallel" => {
                let end = (inner.iter())
                    .position(|w| w.text().starts_with(":::"))
                    .unwrap_or(inner.len());
                let command = inner.get(..end).unwrap_or_default();
                match command {
                    [one] if one.text().contains(' ') => {
                        self.shell_string(program, Some(one), &[], depth)
                    }
                    _ => self.run_words(command, false, true, depth),
                }
            }
            _ => self.run_words(inner, fed, more_args, depth),
        }
    }

    /// A command line a wrapper has a shell run: `string` (if any) followed by `words`.
    pub(super) fn shell_string(
        &mut self,
        program: &str,
        string: Option<&Value>,
        words: &[Value],
        depth: usize,
    ) {
        let mut text: Vec<String> = Vec::new();
        if let Some(string) = string {
            match string.literal() {
                Some(s) => text.push(s.to_string()),
                None => {
                    return self
                        .unknown(format!("{program} runs a string known only when it runs"));
                }
            }
        }
        for word in words {
            match word.literal() {
                // `watch rm -rf x` joins its words; `env -S 'a b' c` quotes the last ones.
                Some(w) if string.is_none() => text.push(w.to_string()),
                Some(w) => text
                    .push(shlex::try_quote(w).map_or_else(|_| w.to_string(), |q| q.into_owned())),
                None => {
                    return self
                        .unknown(format!("{program} runs a string known only when it runs"));
                }
            }
        }
        if !text.is_empty() {
            self.program(&text.join(" "), depth + 1);
        }
    }
}

/// Reads a wrapper's options (see the module's comment).
fn split(spec: &Wrapper, rest: &[Value]) -> Split {
    let mut split = Split::default();
    let mut positionals = 0;
    let mut i = 0;
    while let Some(word) = rest.get(i) {
        let text = word.text();
        if text == "--" {
            i += 1;
            break;
        }
        if text.starts_with("--") {
            i = long_option(spec, rest, i, &mut split);
            continue;
        }
        if text.starts_with('-') && text.len() > 1 {
            i = short_options(spec, rest, i, &mut split);
            continue;
        }
        if spec.name == "env" && is_assignment(text) {
            split.assignments.push(word.clone());
            i += 1;
            continue;
        }
        if positionals < spec.positionals {
            positionals += 1;
            i += 1;
            continue;
        }
        break;
    }
    split.start = i;
    split
}

/// One `--name[=value]` word (and its value word); the index after them.
fn long_option(spec: &Wrapper, rest: &[Value], i: usize, split: &mut Split) -> usize {
    let text = rest.get(i).map(Value::text).unwrap_or_default();
    let (name, glued) = match text.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (text, None),
    };
    let takes_value = spec.string_options.contains(&name)
        || spec.long_values.contains(&name)
        || (spec.name == "env" && name == "--split-string");
    if spec.shell_options.contains(&name) {
        split.shell = true;
    }
    if !takes_value {
        if glued.is_none() && !spec.shell_options.contains(&name) && !known_flag(name) {
            split.alternatives.push(i + 2);
        }
        return i + 1;
    }
    let (value, next) = match glued {
        Some(value) => (Some(part_of(rest.get(i), value)), i + 1),
        None => (rest.get(i + 1).cloned(), i + 2),
    };
    if spec.string_options.contains(&name) {
        split.strings.extend(value);
    } else if name == "--split-string" {
        split.split_string = value;
    }
    next
}

/// Long options of wrappers that take no value and are no reason to doubt the reading.
fn known_flag(name: &str) -> bool {
    const COMMON: &[&str] = &[
        "--preserve-env",
        "--login",
        "--shell",
        "--non-interactive",
        "--ignore-environment",
        "--null",
        "--verbose",
        "--foreground",
        "--preserve-status",
        "--keep-cwd",
        "--no-run-if-empty",
        "--interactive",
        "--exit",
        "--pty",
        "--fork",
        "--wait",
        "--quiet",
        "--exclusive",
        "--shared",
        "--nonblock",
        "--close",
        "--debug",
        "--help",
        "--version",
        "--portability",
        "--append",
        "--mount",
        "--uts",
        "--ipc",
        "--net",
        "--pid",
        "--user",
        "--cgroup",
        "--time",
        "--map-root-user",
        "--map-current-user",
        "--kill-child",
        "--mount-proc",
        "--skip-chdir",
        "--exec",
        "--differences",
        "--chgexit",
        "--beep",
        "--errexit",
        "--no-title",
        "--precise",
        "--color",
        "--disable-internal-agent",
        "--return",
        "--flush",
        "--unlimited",
    ];
    COMMON.contains(&name)
}

/// One `-abc` word (and a value word after it); the index after them.
fn short_options(spec: &Wrapper, rest: &[Value], i: usize, split: &mut Split) -> usize {
    let text = rest.get(i).map(Value::text).unwrap_or_default();
    let letters: Vec<char> = text.chars().skip(1).collect();
    for (k, letter) in letters.iter().enumerate() {
        let option = format!("-{letter}");
        let glued: String = letters.get(k + 1..).unwrap_or_default().iter().collect();
        let is_string = spec.string_options.contains(&option.as_str());
        let is_split = spec.name == "env" && *letter == 'S';
        if is_string || is_split || spec.short_values.contains(*letter) {
            let (value, next) = if glued.is_empty() {
                (rest.get(i + 1).cloned(), i + 2)
            } else {
                (Some(part_of(rest.get(i), &glued)), i + 1)
            };
            if is_string {
                split.strings.extend(value);
            } else if is_split {
                split.split_string = value;
            }
            return next;
        }
        if spec.shell_options.contains(&option.as_str()) {
            split.shell = true;
        } else if !spec.short_flags.contains(*letter) {
            // Perhaps it takes the next word as its value.
            split.alternatives.push(i + 2);
            return i + 1;
        }
    }
    i + 1
}

/// String options among the words after a wrapper's first positional word.
fn late_strings(spec: &Wrapper, words: &[Value]) -> Vec<Value> {
    let mut strings = Vec::new();
    let mut i = 0;
    while let Some(word) = words.get(i) {
        let text = word.text();
        i += 1;
        if let Some((name, value)) = text.split_once('=') {
            if spec.string_options.contains(&name) {
                strings.push(part_of(Some(word), value));
            }
        } else if spec.string_options.contains(&text) {
            strings.extend(words.get(i).cloned());
            i += 1;
        }
    }
    strings
}

fn is_assignment(text: &str) -> bool {
    text.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// ssh options that run a command on this machine.
fn runs_locally(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "proxycommand",
        "localcommand",
        "knownhostscommand",
        "permitlocalcommand",
    ]
    .iter()
    .any(|o| lower.contains(o))
}
