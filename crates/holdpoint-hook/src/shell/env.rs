//! Variables that make programs run code. `GIT_SSH_COMMAND='…' git fetch` runs the
//! string through a shell, `PROMPT_COMMAND`, `PAGER` and the editors too: their value is
//! read again as a command line. `BASH_ENV=x bash` and `LD_PRELOAD=x …` load a file or
//! library no one can read here, and `GIT_CONFIG_*` configures git to run anything:
//! those are unknown. Either way the assignment may stand alone (`export X=…`), before
//! a command, or be given to `env`.

use super::walk::Walker;
use super::words::Value;

/// Variables whose value some program runs as a command line.
const RUN_AS_COMMAND: &[&str] = &[
    "GIT_SSH_COMMAND",
    "GIT_SSH",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_ASKPASS",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "PAGER",
    "MANPAGER",
    "SYSTEMD_PAGER",
    "EDITOR",
    "VISUAL",
    "BROWSER",
    "PROMPT_COMMAND",
    "LESSOPEN",
    "LESSCLOSE",
    "RSYNC_RSH",
    "CVS_RSH",
];

/// Variables that make a program load code from a file, or configure it to run code.
const LOAD_CODE: &[&str] = &[
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_LIBRARY_PATH",
    "GIT_DIR",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "NODE_OPTIONS",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "PYTHONSTARTUP",
    "GLOBIGNORE",
];

/// Prefixes of variable families that configure git (`GIT_CONFIG_KEY_0`, …).
const LOAD_CODE_PREFIXES: &[&str] = &["GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"];

impl Walker {
    /// `name` set to `value` (`None`: known only when it runs) for what follows.
    pub(super) fn environment(&mut self, name: &str, value: Option<&Value>, depth: usize) {
        if RUN_AS_COMMAND.contains(&name) {
            return match value.and_then(Value::literal) {
                Some(command) => self.program(command, depth + 1),
                None => self.unknown(format!(
                    "{name} is set to a command known only when it runs"
                )),
            };
        }
        let loads =
            LOAD_CODE.contains(&name) || LOAD_CODE_PREFIXES.iter().any(|p| name.starts_with(p));
        if loads {
            self.unknown(format!(
                "{name} makes programs load or run code this line does not show"
            ));
        }
    }

    /// `NAME=value` given as a word (to `env`): noted and judged as an assignment.
    pub(super) fn environment_word(&mut self, word: &Value, depth: usize) -> bool {
        let Some((name, value)) = word.text().split_once('=') else {
            return false;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        let value = match word {
            Value::Literal(_) => Some(Value::Literal(value.to_string())),
            Value::Dynamic(_) => None,
        };
        match &value {
            Some(v) => self.vars.assign(name, v),
            None => self.vars.assign_unknown(name),
        }
        self.environment(name, value.as_ref(), depth);
        true
    }
}
