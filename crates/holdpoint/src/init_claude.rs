//! `holdpoint init --agent claude-code DIR`: what Claude Code needs to hand every tool
//! call to holdpoint, written as Claude Code (checked against 2.1.332) reads it.
//!
//! - `.claude/holdpoint/token`: the agent's token (0600; the folder is 0700 and holds a
//!   `.gitignore` of `*`, so git never takes it).
//! - `.claude/settings.local.json` (Claude Code keeps it out of git; 0600): `env`
//!   `HOLDPOINT_URL`; the `PreToolUse` hook (`holdpoint hook claude-code --wait W
//!   --token-file …`, `timeout` W + 10 s, `onFailure: block`) for every tool but the
//!   wrapped servers'; the `UserPromptSubmit` hook (the same command, which stores the
//!   prompt for reviewers); `permissions.allow` `mcp__NAME` for each wrapped server, so
//!   Claude Code hands those tools to `holdpoint mcp` instead of refusing them itself;
//!   `enabledMcpjsonServers` naming them, so an interactive session does not ask to
//!   approve them (`claude -p` starts them either way). With `--http-hook`, Claude
//!   Code's HTTP hook instead of the command (the token then in `env`, no prompt hook).
//! - `.mcp.json` (committed): each stdio server wrapped in `holdpoint mcp --name NAME
//!   --token-file .claude/holdpoint/token -- …` (Claude Code starts servers in the
//!   project folder), `HOLDPOINT_URL` in its `env`, no token and no absolute path of
//!   holdpoint when `holdpoint` is on `PATH`.

use crate::init_agent::{Wrapper, object_at, read_object, shell_quote, wrap_file, write_private};
use anyhow::{anyhow, bail};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The token file, relative to the project.
pub const TOKEN_FILE: &str = ".claude/holdpoint/token";
/// Claude Code's longest hook `timeout`.
const CLAUDE_MAX_TIMEOUT: u64 = 600;
/// Claude Code's `timeout` above the hook's wait: the hook decides within its wait plus
/// `HOOK_MARGIN` (5 s).
const TIMEOUT_ABOVE_WAIT: u64 = 10;
/// The `UserPromptSubmit` hook only writes a file.
const PROMPT_TIMEOUT: u64 = 10;

pub struct Setup<'a> {
    pub dir: &'a Path,
    /// The running holdpoint's absolute path.
    pub holdpoint: &'a str,
    pub url: &'a str,
    pub token: &'a str,
    /// How long the hook waits for a held call.
    pub wait: Duration,
    /// A call still held when the wait ends is deferred (`claude -p`), not denied.
    pub defer_holds: bool,
    /// Claude Code's HTTP hook (`POST /hooks/claude-code`) instead of the command.
    pub http: bool,
}

pub struct Written {
    pub files: Vec<PathBuf>,
    /// The servers of `.mcp.json` behind holdpoint.
    pub wrapped: Vec<String>,
    /// Whether `.mcp.json` names holdpoint by its absolute path (not on `PATH`).
    pub absolute: bool,
}

/// The hook's wait must leave Claude Code's timeout (at most 10 minutes) above it; only
/// the command hook can defer.
pub fn check(wait: Duration, defer_holds: bool, http: bool) -> anyhow::Result<()> {
    if defer_holds && http {
        bail!("--defer-holds needs the command hook: leave out --http-hook");
    }
    check_wait(wait)
}

fn check_wait(wait: Duration) -> anyhow::Result<()> {
    let most = CLAUDE_MAX_TIMEOUT - TIMEOUT_ABOVE_WAIT;
    if wait.as_secs() < 1 || wait.as_secs() > most {
        bail!(
            "--hook-wait must be between 1s and {most}s: Claude Code ends a hook after at \
             most {CLAUDE_MAX_TIMEOUT}s"
        );
    }
    Ok(())
}

/// Writes the token file, `.mcp.json` (when there is one) and the settings.
pub fn write(setup: &Setup) -> anyhow::Result<Written> {
    let token_file = setup.dir.join(TOKEN_FILE);
    crate::token_file::write(&token_file, setup.token)?;
    let mcp = setup.dir.join(".mcp.json");
    let (command, absolute) = mcp_command(setup.holdpoint);
    let wrapped = if mcp.exists() {
        let wrapper = Wrapper {
            command: &command,
            flags: vec!["--token-file".into(), TOKEN_FILE.into()],
            env: json!({"HOLDPOINT_URL": setup.url}),
            drop_env: &["HOLDPOINT_TOKEN"],
        };
        wrap_file(&mcp, &wrapper, 0o644)?
    } else {
        Vec::new()
    };
    let settings_path = setup.dir.join(".claude/settings.local.json");
    let mut settings = read_object(&settings_path)?;
    settings_into(&mut settings, setup, &wrapped)
        .map_err(|e| anyhow!("{e} in {}", settings_path.display()))?;
    write_private(&settings_path, &Value::Object(settings), 0o600)?;
    let mut files = vec![settings_path, token_file];
    let absolute = absolute && mcp.exists();
    if mcp.exists() {
        files.push(mcp);
    }
    Ok(Written {
        files,
        wrapped,
        absolute,
    })
}

/// The hooks, `env`, permission rules and enabled servers, kept beside the user's own.
fn settings_into(
    settings: &mut Map<String, Value>,
    setup: &Setup,
    wrapped: &[String],
) -> anyhow::Result<()> {
    let env = object_at(settings, "env")?;
    env.insert("HOLDPOINT_URL".into(), json!(setup.url));
    // An older `init` put the token here; it lives in the token file now.
    env.remove("HOLDPOINT_TOKEN");
    let command = format!(
        "{} hook claude-code --wait {}s{} --token-file \"$CLAUDE_PROJECT_DIR/{TOKEN_FILE}\"",
        shell_quote(setup.holdpoint),
        setup.wait.as_secs(),
        if setup.defer_holds {
            " --on-hold defer"
        } else {
            ""
        }
    );
    let timeout = setup.wait.as_secs() + TIMEOUT_ABOVE_WAIT;
    if setup.http {
        return http_hook(settings, setup, wrapped, timeout);
    }
    let hooks = object_at(settings, "hooks")?;
    replace_ours(
        hooks,
        "PreToolUse",
        json!({"matcher": matcher(wrapped), "hooks": [
            {"type": "command", "command": command, "timeout": timeout, "onFailure": "block"}
        ]}),
    )?;
    // A failure here must not block the user's prompt: no `onFailure`.
    replace_ours(
        hooks,
        "UserPromptSubmit",
        json!({"hooks": [
            {"type": "command", "command": command, "timeout": PROMPT_TIMEOUT}
        ]}),
    )?;
    let rules: Vec<String> = wrapped.iter().map(|name| format!("mcp__{name}")).collect();
    add_names(object_at(settings, "permissions")?, "allow", &rules)?;
    add_names(settings, "enabledMcpjsonServers", wrapped)?;
    Ok(())
}

/// The HTTP hook: Claude Code posts each tool call to the gateway itself (no process per
/// call). Claude Code sends `$HOLDPOINT_TOKEN` only from `allowedEnvVars`, so the token
/// is in the settings' `env` (the file is 0600 and not committed). The gateway opens no
/// local file, so there is no `UserPromptSubmit` hook and no prompt in the justification.
fn http_hook(
    settings: &mut Map<String, Value>,
    setup: &Setup,
    wrapped: &[String],
    timeout: u64,
) -> anyhow::Result<()> {
    object_at(settings, "env")?.insert("HOLDPOINT_TOKEN".into(), json!(setup.token));
    let hooks = object_at(settings, "hooks")?;
    let url = format!(
        "{}/hooks/claude-code?wait={}s",
        setup.url,
        setup.wait.as_secs()
    );
    replace_ours(
        hooks,
        "PreToolUse",
        json!({"matcher": matcher(wrapped), "hooks": [{"type": "http", "url": url,
            "headers": {"Authorization": "Bearer $HOLDPOINT_TOKEN"},
            "allowedEnvVars": ["HOLDPOINT_TOKEN"],
            "timeout": timeout, "onFailure": "block"}]}),
    )?;
    if let Some(Value::Array(entries)) = hooks.get_mut("UserPromptSubmit") {
        entries.retain(|e| !is_ours(e));
    }
    Ok(())
}

/// An entry `init` wrote: the command or the HTTP hook.
fn is_ours(entry: &Value) -> bool {
    let text = entry.to_string();
    text.contains("hook claude-code") || text.contains("/hooks/claude-code")
}

/// Puts `entry` in the list of `event`, in place of an earlier entry of ours.
fn replace_ours(hooks: &mut Map<String, Value>, event: &str, entry: Value) -> anyhow::Result<()> {
    let list = hooks.entry(event).or_insert_with(|| json!([]));
    let entries = list
        .as_array_mut()
        .ok_or_else(|| anyhow!("`hooks.{event}` is not a list"))?;
    entries.retain(|e| !is_ours(e));
    entries.push(entry);
    Ok(())
}

/// Adds each of `names` missing from the list at `key`.
fn add_names(map: &mut Map<String, Value>, key: &str, names: &[String]) -> anyhow::Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let list = map.entry(key).or_insert_with(|| json!([]));
    let list = list
        .as_array_mut()
        .ok_or_else(|| anyhow!("`{key}` is not a list"))?;
    for name in names {
        if !list.iter().any(|v| v == name) {
            list.push(json!(name));
        }
    }
    Ok(())
}

/// `holdpoint` when that name on `PATH` is the running binary (nothing machine-specific
/// in a committed file), else the absolute path; and whether it is the absolute path.
fn mcp_command(holdpoint: &str) -> (String, bool) {
    use holdpoint_core::env::Env;
    let running = std::fs::canonicalize(holdpoint).ok();
    let path = holdpoint_core::env::ProcessEnv
        .var("PATH")
        .unwrap_or_default();
    let on_path = std::env::split_paths(&path)
        .map(|dir| dir.join("holdpoint"))
        .find(|candidate| candidate.is_file())
        .and_then(|found| std::fs::canonicalize(found).ok());
    if on_path.is_some() && on_path == running {
        ("holdpoint".into(), false)
    } else {
        (holdpoint.into(), true)
    }
}

/// The hook's matcher: every tool but those of the servers `holdpoint mcp` wraps.
fn matcher(wrapped: &[String]) -> String {
    if wrapped.is_empty() {
        return "*".into();
    }
    let names: Vec<String> = wrapped.iter().map(|n| regex_escape(n)).collect();
    format!("^(?!mcp__({})__)", names.join("|"))
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// What to do next, printed last.
/// The gateway files this user can read where a gateway started with the defaults keeps
/// them (`holdpoint-data/` in the project or in the current folder): an agent running as
/// this user could read them too, whatever the hook refuses, through a program it got
/// approved.
pub fn exposed_gateway_files(project: &Path) -> Vec<PathBuf> {
    let mut folders = vec![project.join("holdpoint-data")];
    if let Ok(here) = std::env::current_dir() {
        folders.push(here.join("holdpoint-data"));
    }
    let mut exposed: Vec<PathBuf> = Vec::new();
    for folder in folders {
        for name in ["admin.token", "holdpoint.db", "masking.key"] {
            let file = folder.join(name);
            let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
            if std::fs::File::open(&file).is_ok() && !exposed.contains(&canonical) {
                exposed.push(canonical);
            }
        }
    }
    exposed
}

/// The warning for [`exposed_gateway_files`], when there are any.
pub fn exposure_warning(exposed: &[PathBuf]) -> Option<String> {
    if exposed.is_empty() {
        return None;
    }
    let files: Vec<String> = exposed.iter().map(|f| f.display().to_string()).collect();
    Some(format!(
        "warning: the gateway's own files are readable by this user, and so by an agent \
         running as it: {}. The hook refuses the agent's tools these files, but a program \
         it runs could still read the admin token. Run the gateway as its own system user \
         with a data folder only it can read (docs/agents.md, \"Run the gateway as its own \
         system user\").",
        files.join(", ")
    ))
}

pub fn next_steps(setup: &Setup, written: &Written) -> String {
    let mut lines = vec![String::new(), "Next:".to_string()];
    lines.push(format!(
        "  1. Restart Claude Code in {} (it reads hooks and MCP servers when it starts).",
        setup.dir.display()
    ));
    lines.push(format!(
        "  2. A held tool call waits up to {}s in Claude Code. Reviewers see it in the web \
         inbox ({}/inbox) or with `holdpoint pending`, and approve or reject it with \
         `holdpoint approve ID` / `holdpoint reject ID --comment WHY`: under the starter \
         policies an admin, never the agent's own token.",
        setup.wait.as_secs(),
        setup.url
    ));
    lines.push(if setup.defer_holds {
        "  3. A call still held when the wait ends pauses the headless session (Claude \
         Code's `defer`); once it is approved, `claude -p --resume SESSION` runs it."
            .into()
    } else {
        "  3. A call still held when the wait ends is denied with its hold id; once it is \
         approved, the agent repeats the same call and it passes (headless sessions: \
         `init --defer-holds` pauses them instead)."
            .into()
    });
    lines.push(format!(
        "  4. Keep {TOKEN_FILE} and .claude/settings.local.json out of git (init wrote a \
         .gitignore for the first); .mcp.json holds no token and can be committed."
    ));
    if !written.wrapped.is_empty() {
        lines.push(format!(
            "  Behind holdpoint: {} (their tools are allowed in Claude Code and judged by \
             holdpoint).",
            written.wrapped.join(", ")
        ));
    }
    if setup.http {
        lines.push(
            "  The HTTP hook is on: Claude Code asks the gateway itself; the token is in \
             .claude/settings.local.json's env, and reviewers see no prompt."
                .into(),
        );
    }
    if written.absolute {
        lines.push(
            "  Note: `holdpoint` is not on PATH, so .mcp.json names its absolute path; put \
             it on PATH and run this again before committing .mcp.json."
                .into(),
        );
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_leaves_wrapped_servers_to_the_proxy_and_waits_fit_claude_code() {
        assert_eq!(matcher(&[]), "*");
        assert_eq!(
            matcher(&["git.hub".into(), "fs".into()]),
            "^(?!mcp__(git\\.hub|fs)__)"
        );
        assert!(check_wait(Duration::from_secs(50)).is_ok());
        assert!(check_wait(Duration::from_secs(590)).is_ok());
        assert!(check_wait(Duration::from_secs(591)).is_err());
        assert!(check_wait(Duration::ZERO).is_err());
        assert!(check(Duration::from_secs(50), true, true).is_err());
    }
}
