//! MCP parts no one here wrote, for end-to-end tests: the npm servers that `.ci/run`
//! installs into `tests/peers`, and an rmcp client that records progress notifications.

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use rmcp::{ClientHandler, ServiceExt};
use serde_json::Value;
use std::path::PathBuf;
use tokio::sync::mpsc;

/// The folder `.ci/run` installs the npm peers into.
pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers")
}

/// Installs the npm and PyPI peers into tests/peers the first time a test needs them,
/// as .ci/run does, so `cargo test --workspace` works on a fresh machine. One process
/// installs at a time (a lock file); the others wait for it.
fn ensure_installed() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = peers_dir();
        // The last package of the lock and the one whose install script fetches a binary.
        let npm_done_now = || {
            dir.join("node_modules/oidc-provider/package.json").exists()
                && claude_path(&dir).exists()
        };
        // The venv is done when it holds exactly what requirements.txt asks for.
        let wanted = std::fs::read_to_string(dir.join("requirements.txt")).unwrap_or_default();
        let installed = dir.join("venv/.installed");
        let venv_done_now = || std::fs::read_to_string(&installed).is_ok_and(|done| done == wanted);
        let venv_done = dir.join("venv/bin/openapi-python-client");
        if npm_done_now() && venv_done.exists() && venv_done_now() {
            return;
        }
        let lock = dir.join(".install.lock");
        let mut waited = 0;
        while std::fs::File::create_new(&lock).is_err() {
            std::thread::sleep(std::time::Duration::from_millis(200));
            waited += 1;
            assert!(waited < 3000, "{} is stale: remove it", lock.display());
        }
        let run = |program: &str, args: &[&str]| {
            let status = std::process::Command::new(program)
                .args(args)
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
            assert!(status.success(), "{program} {args:?} failed");
        };
        if !npm_done_now() {
            run(
                "npm",
                &[
                    "install",
                    "--cache",
                    ".npm-cache",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                ],
            );
        }
        if !venv_done.exists() || !venv_done_now() {
            run("python3", &["-m", "venv", "venv"]);
            run(
                "venv/bin/pip",
                &[
                    "install",
                    "--quiet",
                    "--no-cache-dir",
                    "-r",
                    "requirements.txt",
                ],
            );
            let _ = std::fs::write(&installed, &wanted);
        }
        let _ = std::fs::remove_file(&lock);
    });
}

/// The entry point of an npm MCP server, e.g. `server-everything`.
pub fn npm_server(package: &str) -> String {
    ensure_installed();
    let path = peers_dir()
        .join("node_modules/@modelcontextprotocol")
        .join(package)
        .join("dist/index.js");
    assert!(
        path.exists(),
        "{} is missing from tests/peers",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn claude_path(peers: &std::path::Path) -> PathBuf {
    peers.join("node_modules/@anthropic-ai/claude-code/bin/claude.exe")
}

/// The real Claude Code CLI from npm (its native binary).
pub fn claude_code() -> PathBuf {
    ensure_installed();
    let path = claude_path(&peers_dir());
    assert!(
        path.exists(),
        "{} is missing from tests/peers",
        path.display()
    );
    path
}

/// `tests/peers/oidc_provider.mjs`, an OpenID Connect provider from npm's `oidc-provider`.
pub fn oidc_provider_script() -> PathBuf {
    ensure_installed();
    peers_dir().join("oidc_provider.mjs")
}

/// The official inspector's CLI.
pub fn inspector() -> String {
    ensure_installed();
    peers_dir()
        .join("node_modules/.bin/mcp-inspector")
        .to_string_lossy()
        .into_owned()
}

/// A tool of the Python virtualenv in tests/peers (openapi-spec-validator, …).
pub fn venv_tool(name: &str) -> PathBuf {
    ensure_installed();
    peers_dir().join("venv/bin").join(name)
}

/// An MCP client that passes each progress notification to a channel.
pub struct Watcher(pub mpsc::UnboundedSender<ProgressNotificationParam>);

impl ClientHandler for Watcher {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params);
    }
}

pub type Client = RunningService<RoleClient, Watcher>;

/// A client on `transport`, and the progress it will receive.
pub async fn connect<T, E, A>(
    transport: T,
) -> (Client, mpsc::UnboundedReceiver<ProgressNotificationParam>)
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let client = Watcher(tx).serve(transport).await.expect("MCP handshake");
    (client, rx)
}

/// Calls `tool` with `arguments`.
pub async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool.to_string())
        .with_arguments(arguments.as_object().cloned().unwrap_or_default());
    client.call_tool(params).await.expect("tools/call answered")
}

/// The text of a tool result, and whether it is an error.
pub fn text_of(result: &CallToolResult) -> (bool, String) {
    let text = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    (result.is_error == Some(true), text)
}

/// The `act_…` id named in `text`.
pub fn action_id(text: &str) -> String {
    super::act_id(text)
}

/// Waits for the progress notification that says the call is held; returns its id.
pub async fn held_id(progress: &mut mpsc::UnboundedReceiver<ProgressNotificationParam>) -> String {
    loop {
        let note = progress.recv().await.expect("a progress notification");
        if let Some(message) = note.message.filter(|m| m.contains("held for approval as")) {
            return action_id(&message);
        }
    }
}

/// A policy set for the `everything` server: `echo` passes, `get-tiny-image` is
/// forbidden, `get-sum` is held for admins, `get-annotated-message` is held for a
/// second only.
pub const EVERYTHING_POLICIES: &str = r#"
@id("echo") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/echo");
@id("env") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/get-env");
@id("slow") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/trigger-long-running-operation");
@id("no-images") @reason("no images for agents")
forbid(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/get-tiny-image");
@id("images") permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/get-tiny-image");
@id("sums") @hold("Adding numbers") @approvers("admins")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/get-sum");
@id("brief") @hold("Brief hold") @approvers("admins") @expires("1s")
permit(principal, action == Action::"mcp.call", resource == Resource::"mcp/everything/get-annotated-message");
@id("crash") permit(principal, action == Action::"mcp.call", resource in Resource::"mcp/crash");
"#;

/// Writes [`EVERYTHING_POLICIES`] and a config with `extra` into `dir`; returns the
/// config's path.
pub fn everything_config(dir: &std::path::Path, extra: &str) -> PathBuf {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("policies dir");
    std::fs::write(policies.join("mcp.cedar"), EVERYTHING_POLICIES).expect("policy");
    let config = dir.join("holdpoint.toml");
    std::fs::write(&config, format!("[policy]\ndir = \"policies\"\n\n{extra}")).expect("config");
    config
}
