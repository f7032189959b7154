//! # Reading a shell command as bash will run it
//!
//! The Bash tool's command is read with a shell parser (`brush-parser`), as the
//! PostgreSQL proxy reads SQL with PostgreSQL's own: text patterns over the command
//! line are not what the shell runs. [`read`] finds every simple command, in lists,
//! pipelines, subshells, groups, loops, functions, command and process substitutions,
//! and the strings `bash -c`, `sh -c` and `eval` run (parsed again), and every path a
//! command names or redirects to. A tour:
//! - `depth.rs`: how deeply the line nests, counted before the parser sees it (a line
//!   nested too deeply would overflow the parser's stack).
//! - `words.rs`: one word after expansion and quote removal: braces expanded, variables
//!   the line sets replaced, globs and run-time words kept as patterns.
//! - `patterns.rs`: those patterns: escapes, brace expansion, `$'…'` decoding.
//! - `output.rs`: what a substitution prints when it prints a text written in it.
//! - `walk.rs`: the parse tree, down to each simple command, redirection and assignment;
//!   where a `cd` moves the line.
//! - `env.rs`: variables that make programs run code (`GIT_SSH_COMMAND`, `BASH_ENV`).
//! - `commands.rs`: one simple command: its program, flags and the paths it names and
//!   writes; `find -exec`; builtins that change the reading (`read`, `alias`, `shopt`).
//! - `wrappers.rs`: programs that run another (`sudo`, `env`, `xargs`, `watch`, `su -c`,
//!   `ssh`, …), with each wrapper's own options.
//! - `shells.rs`: shells, interpreters, `eval`, `source`, `trap`.
//! - `git.rs`: git running commands of its own (`-c core.pager=…`, `git config alias.*`,
//!   `submodule foreach`, `rebase --exec`).
//! - `flags.rs`: flags as the program reads them: `-rf` is `-r -f`, `-f` of `rm` is also
//!   `--force`, `--forc` of `git push` is `--force`, a `+ref` pushed is `--force`.
//!
//! What cannot be read, or whose program is known only at run time, is a
//! [`Part::Unknown`]: the surface judges it as `shell.unknown`.

mod commands;
mod depth;
mod env;
mod flags;
mod git;
mod output;
mod patterns;
mod shells;
mod walk;
mod words;
mod wrappers;

/// Commands nested deeper than this (`bash -c "bash -c …"`) are not read further.
pub const MAX_DEPTH: usize = 8;
/// A command line with more parts than this is one unknown part instead.
pub const MAX_PARTS: usize = 200;
/// A walk reads at most this many commands (each wrapper read, each reading of it);
/// past it the line is unknown.
pub const MAX_COMMANDS_READ: usize = 2_000;

/// Everything one command line runs and touches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    pub parts: Vec<Part>,
}

/// One thing the command line does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A program run with its arguments.
    Command(Command),
    /// A path a command names or redirects to.
    Path(PathUse),
    /// Something the reading cannot vouch for, and why.
    Unknown(String),
}

/// A simple command as it will run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Command {
    /// The program's name, without its directory (`/bin/rm` is `rm`).
    pub program: String,
    /// git's subcommand (after its global options); for other programs the first
    /// argument that is not a flag.
    pub subcommand: Option<String>,
    /// Flags, normalized (see `flags.rs`).
    pub flags: Vec<String>,
    /// The other arguments, after quote removal (run-time words as written).
    pub args: Vec<String>,
    /// An argument is known only at run time (a variable, a glob, input from `xargs`).
    pub dynamic: bool,
}
/// A path named by a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathUse {
    /// Absolute (made so against the working directory), or under `~`. For a glob or a
    /// word known only at run time, the directory its literal start names.
    pub path: String,
    pub access: Access,
    pub program: String,
    /// For a glob or a word known only at run time: the pattern it could match, made
    /// absolute (`~/.ss*/id_rsa`, `/app/.e*`; a piece known only at run time is `*`).
    pub pattern: Option<String>,
    /// The pattern's part after its literal directory can match a hidden file or folder
    /// (a component starting with `.`: `.e*`, `~/.ss*/id_rsa`, `$X/.ssh/id_rsa`).
    pub hidden: bool,
    /// The path (or pattern) lies inside the working directory.
    pub in_project: bool,
    /// The path as the kernel will be given it: joined to the working directory but
    /// with `..` kept (after a symlink, `link/..` is not the folder `link` is in). The
    /// command hook resolves this one.
    pub raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A redirection from it.
    Read,
    /// A redirection to it, or a file a program is told to write (`-o`, `of=`).
    Write,
    /// An argument: the program may read or write it.
    Named,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Named => "named",
        }
    }
}

/// The stack the reading wants left on its thread; with less it runs on a segment of
/// [`READ_STACK`]. The parser and the walk recurse once per level, and the count of
/// `depth.rs` keeps the levels few; this keeps a count that erred far from the end of
/// the stack.
pub const READ_RED_ZONE: usize = 4 << 20;
pub const READ_STACK: usize = 64 << 20;

/// Reads `command` as bash would, run in `cwd`.
///
/// It is walked twice: the first walk learns what the line's variables could hold
/// (`F=.env; cat $F`, wherever the assignment stands), the second reads it with that.
/// The walks run with at least [`READ_RED_ZONE`] of stack (on a fresh segment when this
/// thread has less); a panic in them is a line that cannot be read.
pub fn read(command: &str, cwd: &str) -> Reading {
    let reading = std::panic::catch_unwind(|| {
        stacker::maybe_grow(READ_RED_ZONE, READ_STACK, || read_here(command, cwd))
    });
    reading.unwrap_or_else(|_| Reading {
        parts: vec![Part::Unknown("the shell reading failed on it".into())],
    })
}

fn read_here(command: &str, cwd: &str) -> Reading {
    let mut learning = walk::Walker::new(cwd, words::Vars::new(cwd));
    learning.program(command, 0);
    let (_, vars) = learning.into_parts();
    let mut walker = walk::Walker::new(cwd, vars);
    walker.program(command, 0);
    let (mut parts, _) = walker.into_parts();
    if parts.len() > MAX_PARTS {
        parts = vec![Part::Unknown(format!(
            "a command line of more than {MAX_PARTS} commands and paths"
        ))];
    }
    Reading { parts }
}

#[cfg(test)]
mod tests;
