//! `holdpoint init --agent claude-code|cursor|claude-desktop`: creates an agent token on
//! the running gateway and writes the agent's configuration so that its tool calls pass
//! through holdpoint, with no JSON edited by hand, and says what to do next.
//!
//! - Claude Code (see `init_claude.rs`): the token in `.claude/holdpoint/token` (0600, a
//!   folder git ignores); `.claude/settings.local.json` (not committed; 0600) gets the
//!   PreToolUse and UserPromptSubmit hooks, `HOLDPOINT_URL` and the permission rules
//!   that hand the wrapped servers' tools to holdpoint; each stdio server in `.mcp.json`
//!   (committed) is wrapped in `holdpoint mcp --token-file …`, with no token and no
//!   machine-specific path in it.
//! - Cursor (`~/.cursor/mcp.json`) and Claude Desktop (`claude_desktop_config.json`):
//!   each stdio server is wrapped in `holdpoint mcp`, with the token in its `env` (these
//!   files are the user's own; written 0600).
//!
//! Existing settings are kept; running it again wraps nothing twice (a server wrapped by
//! an older `init` is wrapped anew).

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
    /// How long the Claude Code hook waits for a held call.
    pub hook_wait: std::time::Duration,
    /// Claude Code's hook defers a call still held (headless sessions).
    pub defer_holds: bool,
    /// Claude Code's HTTP hook instead of the command hook.
    pub http_hook: bool,
}

pub async fn run(remote: &Remote, init: InitAgent) -> anyhow::Result<u8> {
    let remote = &remote.resolved()?;
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
    if init.agent == Agent::ClaudeCode {
        crate::init_claude::check(init.hook_wait, init.defer_holds, init.http_hook)?;
    }
    let written = match init.agent {
        Agent::ClaudeCode => {
            let setup = crate::init_claude::Setup {
                dir: &init.dir,
                holdpoint: &holdpoint,
                url: &url,
                token: &token,
                wait: init.hook_wait,
                defer_holds: init.defer_holds,
                http: init.http_hook,
            };
            let written = crate::init_claude::write(&setup)?;
            eprintln!("created the agent token `{}`", init.name);
            for file in &written.files {
                println!("wrote {}", file.display());
            }
            println!("{}", crate::init_claude::next_steps(&setup, &written));
            let exposed = crate::init_claude::exposed_gateway_files(&init.dir);
            if let Some(warning) = crate::init_claude::exposure_warning(&exposed) {
                eprintln!("{warning}");
            }
            return Ok(exit::OK);
        }
        Agent::Cursor | Agent::ClaudeDesktop => {
            let file = match (&init.config, init.agent) {
                (Some(file), _) => file.clone(),
                (None, Agent::Cursor) => home()?.join(".cursor/mcp.json"),
                (None, _) => desktop_config()?,
            };
            let wrapper = Wrapper {
                command: &holdpoint,
                flags: Vec::new(),
                env: json!({"HOLDPOINT_URL": url, "HOLDPOINT_TOKEN": token}),
                drop_env: &[],
            };
            let wrapped = wrap_file(&file, &wrapper, 0o600)?;
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

/// How a wrapped server reaches the gateway.
pub struct Wrapper<'a> {
    /// The holdpoint command written as the server's `command`.
    pub command: &'a str,
    /// Flags of `holdpoint mcp` after `--name NAME` (e.g. `--token-file FILE`).
    pub flags: Vec<String>,
    /// Variables set in the server's `env` ...
    pub env: Value,
    /// ... and variables removed from it (an older `init`'s).
    pub drop_env: &'a [&'a str],
}

/// Wraps each stdio server of `mcpServers` in `file` in `holdpoint mcp`; the names of
/// every server behind holdpoint, wrapped now or before.
pub fn wrap_file(file: &Path, wrapper: &Wrapper, mode: u32) -> anyhow::Result<Vec<String>> {
    let mut config = read_object(file)?;
    let servers = object_at(&mut config, "mcpServers")?;
    let mut wrapped = Vec::new();
    for (name, server) in servers.iter_mut() {
        wrap_server(name, server, wrapper);
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

/// The upstream's command and arguments: after `--` in a wrapped server, else its own.
fn upstream(server: &Map<String, Value>) -> Option<Vec<Value>> {
    let command = server.get("command").and_then(Value::as_str)?;
    let args: Vec<Value> = server
        .get("args")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if is_wrapped(&Value::Object(server.clone())) {
        let dashes = args.iter().position(|a| a == "--")?;
        return Some(args.get(dashes + 1..)?.to_vec());
    }
    Some(std::iter::once(json!(command)).chain(args).collect())
}

/// `{command, args}` → `holdpoint mcp --name NAME [flags] -- command args…`; servers with
/// a `url` (remote) are left alone, servers already wrapped are wrapped anew the same
/// way. Whether anything changed.
fn wrap_server(name: &str, server: &mut Value, wrapper: &Wrapper) -> bool {
    let before = server.clone();
    let Some(fields) = server.as_object_mut() else {
        return false;
    };
    let Some(upstream) = upstream(fields) else {
        return false;
    };
    let name = holdpoint_core::action::kind_segment(name);
    let mut args = vec![json!("mcp"), json!("--name"), json!(name)];
    args.extend(wrapper.flags.iter().map(|f| json!(f)));
    args.push(json!("--"));
    args.extend(upstream);
    fields.insert("command".into(), json!(wrapper.command));
    fields.insert("args".into(), Value::Array(args));
    let server_env = fields.entry("env").or_insert_with(|| json!({}));
    if let (Some(server_env), Some(env)) = (server_env.as_object_mut(), wrapper.env.as_object()) {
        server_env.retain(|key, _| !wrapper.drop_env.contains(&key.as_str()));
        server_env.extend(env.clone());
    }
    *server != before
}

pub fn read_object(path: &Path) -> anyhow::Result<Map<String, Value>> {
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

pub fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> anyhow::Result<&'a mut Map<String, Value>> {
    map.entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| anyhow!("`{key}` is not a JSON object"))
}

/// Writes `value` to `path` with `mode` (0600 for a file that holds a token).
pub fn write_private(path: &Path, value: &Value, mode: u32) -> anyhow::Result<()> {
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

pub fn shell_quote(text: &str) -> String {
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
        let wrapper = Wrapper {
            command: "holdpoint",
            flags: vec!["--token-file".into(), ".claude/holdpoint/token".into()],
            env: json!({"HOLDPOINT_URL": "http://gw"}),
            drop_env: &["HOLDPOINT_TOKEN"],
        };
        let mut server = json!({"command": "npx", "args": ["-y", "srv"], "env": {"KEY": "v"}});
        assert!(wrap_server("git hub", &mut server, &wrapper));
        assert_eq!(server["command"], "holdpoint");
        assert_eq!(
            server["args"],
            json!([
                "mcp",
                "--name",
                "git_hub",
                "--token-file",
                ".claude/holdpoint/token",
                "--",
                "npx",
                "-y",
                "srv"
            ])
        );
        assert_eq!(
            server["env"],
            json!({"KEY": "v", "HOLDPOINT_URL": "http://gw"})
        );
        let again = server.clone();
        assert!(!wrap_server("git hub", &mut server, &wrapper));
        assert_eq!(server, again);
        // A server an older `init` wrapped (the token as `${HOLDPOINT_TOKEN}`) is wrapped anew.
        let mut old = json!({"command": "/bin/holdpoint", "args": ["mcp", "--name", "git_hub",
            "--", "npx", "-y", "srv"], "env": {"KEY": "v", "HOLDPOINT_TOKEN": "${HOLDPOINT_TOKEN}"}});
        assert!(wrap_server("git hub", &mut old, &wrapper));
        assert_eq!(old, again);
        let mut remote = json!({"type": "http", "url": "https://mcp.example/mcp"});
        assert!(!wrap_server("remote", &mut remote, &wrapper));
    }
}
