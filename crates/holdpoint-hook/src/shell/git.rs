//! git running commands of its own. A setting that runs a program (`core.sshCommand`,
//! `core.pager`, `alias.x=!sh`, `core.hooksPath`, `core.fsmonitor`, filters, helpers),
//! set for one call (`git -c`, `--config-env`) or written (`git config …`), runs code
//! no one can read here: unknown. Subcommands that run a command line given to them
//! (`submodule foreach`, `rebase --exec`, `bisect run`, `filter-branch --tree-filter`,
//! `--upload-pack`) have it read in turn.

use super::commands::GIT_VALUE_OPTIONS;
use super::walk::Walker;
use super::words::{Value, part_of};

/// Options of subcommands whose value is a command line git runs.
const COMMAND_OPTIONS: &[&str] = &[
    "--exec",
    "-x",
    "--upload-pack",
    "--receive-pack",
    "--extcmd",
    "--tree-filter",
    "--index-filter",
    "--msg-filter",
    "--env-filter",
    "--commit-filter",
    "--parent-filter",
    "--tag-name-filter",
    "--setup",
    "--sendmail-cmd",
    "--to-cmd",
    "--cc-cmd",
    "--open-files-in-pager",
    "-O",
];

/// `git config` options that only read.
const CONFIG_READS: &[&str] = &[
    "--get",
    "--get-all",
    "--get-regexp",
    "--get-urlmatch",
    "--list",
    "-l",
    "--get-color",
    "--get-colorbool",
    "--show-origin",
    "--show-scope",
    "get",
    "list",
];

impl Walker {
    /// Judges `git …`; always true (the command is recorded here).
    pub(super) fn git(&mut self, rest: &[Value], more_args: bool, depth: usize) -> bool {
        self.record("git", rest, more_args);
        let start = self.git_global_options(rest);
        let after = rest.get(start..).unwrap_or_default();
        let Some((sub, args)) = after.split_first() else {
            return true;
        };
        match sub.text() {
            "config" => self.git_config(args),
            "submodule" => {
                if let Some(at) = args.iter().position(|w| w.text() == "foreach") {
                    let command = args.get(at + 1..).unwrap_or_default();
                    let command: Vec<Value> = (command.iter())
                        .skip_while(|w| w.text().starts_with('-'))
                        .cloned()
                        .collect();
                    self.shell_string("git submodule foreach", None, &command, depth);
                }
            }
            "bisect" if args.first().is_some_and(|w| w.text() == "run") => {
                self.run_words(args.get(1..).unwrap_or_default(), false, false, depth);
            }
            _ => {}
        }
        self.git_command_options(args, depth);
        true
    }

    /// Reads git's global options; the index of its subcommand.
    fn git_global_options(&mut self, rest: &[Value]) -> usize {
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            let text = word.text();
            if !text.starts_with('-') {
                break;
            }
            let setting = match text {
                "-c" | "--config-env" => rest.get(i + 1).map(Value::text),
                _ => text
                    .strip_prefix("--config-env=")
                    .or_else(|| text.strip_prefix("-c").filter(|s| !s.is_empty())),
            };
            let key = setting.map(|s| s.split('=').next().unwrap_or(s));
            if let Some(key) = key.filter(|k| runs_code(k)) {
                self.unknown(format!(
                    "git -c {key} runs a program this line does not show"
                ));
            }
            if text.starts_with("--exec-path") {
                self.unknown("git --exec-path runs git commands from another directory");
            }
            i += if GIT_VALUE_OPTIONS.contains(&text) {
                2
            } else {
                1
            };
        }
        i
    }

    /// `git config [--global] KEY VALUE`, `git config set KEY VALUE`: writing a setting
    /// that runs a program is unknown.
    fn git_config(&mut self, args: &[Value]) {
        if args.iter().any(|w| CONFIG_READS.contains(&w.text())) {
            return;
        }
        let mut i = 0;
        let mut key = None;
        while let Some(word) = args.get(i) {
            let text = word.text();
            i += 1;
            if matches!(
                text,
                "-f" | "--file" | "--blob" | "--type" | "--default" | "--comment"
            ) {
                i += 1;
            } else if !text.starts_with('-')
                && !matches!(text, "set" | "unset" | "rename-section" | "remove-section")
            {
                key = Some(text);
                break;
            }
        }
        if let Some(key) = key.filter(|k| runs_code(k)) {
            self.unknown(format!("git config {key} sets a program git will run"));
        }
    }

    /// Subcommand options whose value is a command line git runs.
    fn git_command_options(&mut self, args: &[Value], depth: usize) {
        let mut i = 0;
        while let Some(word) = args.get(i) {
            i += 1;
            let text = word.text();
            if text == "--" {
                break;
            }
            let (name, glued) = match text.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value)),
                _ => (text, None),
            };
            let short_glued = ["-x", "-O"].iter().find_map(|o| {
                text.strip_prefix(o)
                    .filter(|v| !v.is_empty() && !text.starts_with("--"))
            });
            let value = if COMMAND_OPTIONS.contains(&name) {
                match glued {
                    Some(v) => Some(part_of(Some(word), v)),
                    None => {
                        i += 1;
                        args.get(i - 1).cloned()
                    }
                }
            } else {
                short_glued.map(|v| part_of(Some(word), v))
            };
            if let Some(value) = value {
                self.shell_string("git", Some(&value), &[], depth);
            }
        }
    }
}

/// Whether a git setting names a program git runs (or code it loads).
pub fn runs_code(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let section = key.split('.').next().unwrap_or_default();
    let name = key.rsplit('.').next().unwrap_or_default();
    match section {
        "alias" | "filter" | "include" | "includeif" | "difftool" | "mergetool" | "sendemail"
        | "browser" | "man" | "instaweb" | "gpg" | "credential" | "pager" | "hook" | "url" => true,
        "core" => matches!(
            name,
            "sshcommand"
                | "pager"
                | "editor"
                | "hookspath"
                | "fsmonitor"
                | "askpass"
                | "gitproxy"
                | "alternaterefscommand"
                | "worktree"
        ),
        "diff" => matches!(name, "external" | "textconv" | "command"),
        "merge" => name == "driver",
        "sequence" => name == "editor",
        "uploadpack" => name == "packobjectshook",
        "remote" => matches!(name, "receivepack" | "uploadpack" | "vcs" | "proxy"),
        "submodule" => name == "update",
        "protocol" => name == "allow",
        "init" => name == "templatedir",
        "interactive" => name == "difffilter",
        "web" => name == "browser",
        "ssh" => name == "variant",
        _ => false,
    }
}
