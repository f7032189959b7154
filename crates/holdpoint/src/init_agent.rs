//! `holdpoint init --agent claude-code|cursor|claude-desktop`: creates an agent token on
//! the running gateway and writes the agent's configuration so that its tool calls pass
//! through holdpoint, with no JSON edited by hand.
//!
//! - Claude Code: `.claude/settings.local.json` (not committed; mode 0600) gets the
//!   PreToolUse hook and `HOLDPOINT_URL`/`HOLDPOINT_TOKEN`; each stdio server in
//!   `.mcp.json` is wrapped in `holdpoint mcp`, reading the token from the environment.
//! - Cursor (`~/.cursor/mcp.json`) and Claude Desktop (`claude_desktop_config.json`):
//!   each stdio server is wrapped in `holdpoint mcp`, with the token in its `env` (these
//!   files are the user's own; written 0600).
//!
//! Existing settings are kept; running it again wraps nothing twice.

use crate::cli::Remote;
use crate::exit;
use anyhow::{Context, anyhow, bail};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    ClaudeCode,
    Cursor,
    ClaudeDesktop,
}

pub struct InitAgent {
    pub agent: Agent,
    /// The project folder (Claude Code).
    pub dir: PathBuf,
    /// The token's name.
    pub name: String,
    /// The agent's config file, instead of its usual place (Cursor, Claude Desktop).
    pub config: Option<PathBuf>,
}

pub async fn run(remote: &Remote, init: InitAgent) -> anyhow::Result<u8> {
    if remote.token.is_none() {
        bail!(
            "set HOLDPOINT_TOKEN to an admin token (the gateway wrote one to \
             holdpoint-data/admin.token on its first start): it creates the agent's token"
        );
    }
    let holdpoint = std::env::current_exe().context("cannot find the holdpoint binary")?;
    let holdpoint = holdpoint.to_string_lossy().into_owned();
    let token = crate::client::create_agent_token(remote, &init.name)
        .await
        .with_context(|| {
            format!(
                "cannot create the agent token `{0}` (if it exists, pass --name to make another \
                 or revoke it with `holdpoint token revoke {0}`)",
                init.name
            )
        })?;
    let url = remote.url.trim_end_matches('/').to_string();
    let written = match init.agent {
        Agent::ClaudeCode => claude_code(&init.dir, &holdpoint, &url, &token)?,
        Agent::Cursor | Agent::ClaudeDesktop => {
            let file = match (&init.config, init.agent) {
                (Some(file), _) => file.clone(),
                (None, Agent::Cursor) => home()?.join(".cursor/mcp.json"),
                (None, _) => desktop_config()?,
            };
            let env = json!({"HOLDPOINT_URL": url, "HOLDPOINT_TOKEN": token});
            let wrapped = wrap_file(&file, &holdpoint, &env, 0o600)?;
            if wrapped.is_empty() {
                eprintln!(
                    "{} has no stdio MCP server to put behind holdpoint yet; add yours and run \
                     this again",
                    file.display()
                );
            }
            vec![file]
        }
    };
    eprintln!("created the agent token `{}`", init.name);
    for file in written {
        println!("wrote {}", file.display());
    }
    Ok(exit::OK)
}

fn home() -> anyhow::Result<PathBuf> {
    use holdpoint_core::env::Env;
    holdpoint_core::env::ProcessEnv
        .var("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("HOME is not set; name the file with --agent-config"))
}

fn desktop_config() -> anyhow::Result<PathBuf> {
    let home = home()?;
    Ok(if cfg!(target_os = "macos") {
        home.join("Library/Application Support/Claude/claude_desktop_config.json")
    } else {
        home.join(".config/Claude/claude_desktop_config.json")
    })
}

/// Claude Code: the hook and environment in `.claude/settings.local.json`, and the
/// servers of `.mcp.json` wrapped (the token comes from that environment).
fn claude_code(
    dir: &Path,
    holdpoint: &str,
    url: &str,
    token: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    let settings_path = dir.join(".claude/settings.local.json");
    let mut settings = read_object(&settings_path)?;
    let env = object_at(&mut settings, "env")?;
    env.insert("HOLDPOINT_URL".into(), json!(url));
    env.insert("HOLDPOINT_TOKEN".into(), json!(token));
    let command = format!("{} hook claude-code", shell_quote(holdpoint));
    // MCP servers wrapped in `holdpoint mcp` are judged there, with their annotations;
    // the hook takes every other tool, unwrapped MCP servers included.
    let mcp = dir.join(".mcp.json");
    let wrapped = if mcp.exists() {
        let env =
            json!({"HOLDPOINT_URL": "${HOLDPOINT_URL}", "HOLDPOINT_TOKEN": "${HOLDPOINT_TOKEN}"});
        wrap_file(&mcp, holdpoint, &env, 0o644)?
    } else {
        Vec::new()
    };
    let hooks = object_at(&mut settings, "hooks")?;
    let pre = hooks.entry("PreToolUse").or_insert_with(|| json!([]));
    let entries = pre.as_array_mut().ok_or_else(|| {
        anyhow!(
            "`hooks.PreToolUse` in {} is not a list",
            settings_path.display()
        )
    })?;
    let ours = |e: &Value| e.to_string().contains("hook claude-code");
    entries.retain(|e| !ours(e));
    entries.push(json!({"matcher": matcher(&wrapped), "hooks": [
        {"type": "command", "command": command, "timeout": 60, "onFailure": "block"}
    ]}));
    write_private(&settings_path, &Value::Object(settings), 0o600)?;
    let mut written = vec![settings_path];
    if mcp.exists() {
        written.push(mcp);
    }
    Ok(written)
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

/// Wraps each stdio server of `mcpServers` in `file` in `holdpoint mcp`; the names of
/// every server behind holdpoint, wrapped now or before.
fn wrap_file(file: &Path, holdpoint: &str, env: &Value, mode: u32) -> anyhow::Result<Vec<String>> {
    let mut config = read_object(file)?;
    let servers = object_at(&mut config, "mcpServers")?;
    let mut wrapped = Vec::new();
    for (name, server) in servers.iter_mut() {
        wrap_server(name, server, holdpoint, env);
        if is_wrapped(server) {
            wrapped.push(name.clone());
        }
    }
    write_private(file, &Value::Object(config), mode)?;
    Ok(wrapped)
}

fn is_wrapped(server: &Value) -> bool {
    server["command"]
        .as_str()
        .is_some_and(|c| c.ends_with("holdpoint"))
        && server.pointer("/args/0").and_then(Value::as_str) == Some("mcp")
}

/// `{command, args}` → `holdpoint mcp --name NAME -- command args…`; servers with a
/// `url` (remote) and servers already wrapped are left alone.
fn wrap_server(name: &str, server: &mut Value, holdpoint: &str, env: &Value) -> bool {
    if is_wrapped(server) {
        return false;
    }
    let Some(fields) = server.as_object_mut() else {
        return false;
    };
    let Some(command) = fields
        .get("command")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return false;
    };
    let args: Vec<Value> = fields
        .get("args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if command == holdpoint || args.first() == Some(&json!("mcp")) && command.ends_with("holdpoint")
    {
        return false;
    }
    let name = holdpoint_core::action::kind_segment(name);
    let mut new_args = vec![
        json!("mcp"),
        json!("--name"),
        json!(name),
        json!("--"),
        json!(command),
    ];
    new_args.extend(args);
    fields.insert("command".into(), json!(holdpoint));
    fields.insert("args".into(), Value::Array(new_args));
    let server_env = fields.entry("env").or_insert_with(|| json!({}));
    if let (Some(server_env), Some(env)) = (server_env.as_object_mut(), env.as_object()) {
        server_env.extend(env.clone());
    }
    true
}

fn read_object(path: &Path) -> anyhow::Result<Map<String, Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(Map::new()),
        Ok(text) => match serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON; fix or remove it", path.display()))?
        {
            Value::Object(map) => Ok(map),
            _ => bail!("{} is not a JSON object", path.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> anyhow::Result<&'a mut Map<String, Value>> {
    map.entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| anyhow!("`{key}` is not a JSON object"))
}

/// Writes `value` to `path` with `mode` (0600 for a file that holds a token).
fn write_private(path: &Path, value: &Value, mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    let text = serde_json::to_string_pretty(value)?;
    file.write_all(format!("{text}\n").as_bytes())?;
    Ok(())
}

fn shell_quote(text: &str) -> String {
    shlex::try_quote(text)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn servers_are_wrapped_once_and_remote_ones_left_alone() {
        let env = json!({"HOLDPOINT_TOKEN": "${HOLDPOINT_TOKEN}"});
        let mut server = json!({"command": "npx", "args": ["-y", "srv"], "env": {"KEY": "v"}});
        assert!(wrap_server("git hub", &mut server, "/bin/holdpoint", &env));
        assert_eq!(server["command"], "/bin/holdpoint");
        assert_eq!(
            server["args"],
            json!(["mcp", "--name", "git_hub", "--", "npx", "-y", "srv"])
        );
        assert_eq!(server["env"]["KEY"], "v");
        assert_eq!(server["env"]["HOLDPOINT_TOKEN"], "${HOLDPOINT_TOKEN}");
        let again = server.clone();
        assert!(!wrap_server("git hub", &mut server, "/bin/holdpoint", &env));
        assert_eq!(server, again);
        let mut remote = json!({"type": "http", "url": "https://mcp.example/mcp"});
        assert!(!wrap_server("remote", &mut remote, "/bin/holdpoint", &env));
        assert_eq!(matcher(&[]), "*");
        assert_eq!(
            matcher(&["git.hub".into(), "fs".into()]),
            "^(?!mcp__(git\\.hub|fs)__)"
        );
    }
}
