//! The command line of DESIGN §4.

use crate::{client, local, serve};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "holdpoint",
    version,
    about = "Hold an AI agent's privileged actions until the right humans approve"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Remote {
    /// The gateway's base URL.
    #[arg(
        long,
        env = "HOLDPOINT_URL",
        default_value = "http://127.0.0.1:8470",
        global = true
    )]
    pub url: String,
    /// A bearer token.
    #[arg(long, env = "HOLDPOINT_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// A file holding the bearer token, read when no token is given (`init --agent
    /// claude-code` writes one at 0600).
    #[arg(long, env = "HOLDPOINT_TOKEN_FILE", global = true)]
    pub token_file: Option<PathBuf>,
}

impl Remote {
    /// A client of the gateway, with the token.
    pub fn client(&self) -> anyhow::Result<holdpoint_client::Client> {
        let remote = self.resolved()?;
        let token = (remote.token.as_deref()).ok_or_else(|| {
            anyhow::anyhow!("no token: set HOLDPOINT_TOKEN or pass --token or --token-file")
        })?;
        Ok(holdpoint_client::Client::new(&remote.url, token)?)
    }

    /// The URL and token as given, the token read from `--token-file` when only that is
    /// given; an error names a value an agent left as the literal text `${…}`.
    pub fn resolved(&self) -> anyhow::Result<Remote> {
        crate::token_file::resolve(self)
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct Local {
    /// holdpoint.toml; without it the embedded defaults apply.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway. With no config: 127.0.0.1:8470, SQLite in ./holdpoint-data, starter policies.
    Serve {
        #[command(flatten)]
        local: Local,
        /// Where the SQLite database and the first admin token live.
        #[arg(long, default_value = "holdpoint-data")]
        data: PathBuf,
        /// Address to listen on, overriding the config.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Write a starter holdpoint.toml and policies/ into DIR.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Instead: create an agent token on the running gateway (HOLDPOINT_TOKEN is an
        /// admin token) and write this agent's hook and MCP configuration to use it.
        #[arg(long, value_enum)]
        agent: Option<crate::init_agent::Agent>,
        /// The agent token's name (default: the agent's).
        #[arg(long, requires = "agent")]
        name: Option<String>,
        /// The agent's config file, instead of its usual place (Cursor, Claude Desktop).
        #[arg(long, requires = "agent")]
        agent_config: Option<PathBuf>,
        /// How long Claude Code's hook waits for a held call (Claude Code's hook timeout,
        /// written 10 s above it, is at most 10 minutes).
        #[arg(long, default_value = "50s", value_parser = holdpoint_core::duration::parse_duration)]
        hook_wait: std::time::Duration,
        /// Claude Code runs headless (`claude -p`): a call still held when the hook's
        /// wait ends pauses the session (`defer`) instead of being denied; resume it with
        /// `claude -p --resume SESSION` once approved.
        #[arg(long, requires = "agent")]
        defer_holds: bool,
        /// Claude Code's HTTP hook (`POST /hooks/claude-code`) instead of the command: no
        /// process per tool call, but the token is in the settings' `env`, reviewers see
        /// no prompt and no path is resolved on the agent's machine.
        #[arg(long, requires = "agent")]
        http_hook: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Create, list and revoke tokens (admin).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Submit an action and, with --wait, wait for its decision.
    /// Exits 0 to proceed, 3 when denied, rejected or expired, 4 when still pending.
    Submit {
        #[command(flatten)]
        action: client::SubmitArgs,
        #[command(flatten)]
        remote: Remote,
    },
    /// Agent hooks: `claude-code` reads Claude Code's PreToolUse input on stdin and prints
    /// the decision; it always exits 0, denying on any error.
    Hook {
        #[command(subcommand)]
        command: HookCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// An MCP server on stdio that gates each tool call of the upstream it starts.
    Mcp {
        /// The upstream's name: actions are `mcp.call` on `mcp/{name}/{tool}`.
        #[arg(long)]
        name: String,
        /// The environment of every action.
        #[arg(long = "env", default_value = "")]
        environment: String,
        /// How long a held call waits for its decision before it returns as pending.
        #[arg(long, default_value = "5m", value_parser = holdpoint_core::duration::parse_duration)]
        hold_wait: std::time::Duration,
        /// The upstream MCP server's command and arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Holds this caller may review.
    Pending {
        #[command(flatten)]
        remote: Remote,
    },
    /// Approve a held action.
    Approve {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Reject a held action.
    Reject {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Verify or export the audit log, reading the store directly.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
        #[command(flatten)]
        local: Local,
        #[arg(long, default_value = "holdpoint-data", global = true)]
        data: PathBuf,
    },
    /// Create an admin token directly in the store, without asking the gateway: the
    /// operator's bootstrap for a second admin (the API holds a new admin token for
    /// another admin). Needs the data folder; prints the token once.
    AdminToken {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        local: Local,
        #[arg(long, default_value = "holdpoint-data")]
        data: PathBuf,
    },
    /// Mask text or JSON read from stdin, as reviewers and the audit log would see it.
    Mask {
        #[command(flatten)]
        local: Local,
        /// Where the deployment's masking key lives.
        #[arg(long, default_value = "holdpoint-data")]
        data: PathBuf,
    },
    /// Check policies, or explain the verdict for one action.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
        #[command(flatten)]
        local: Local,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints it once on stdout.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["agent", "user", "admin"])]
        kind: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long)]
        owner: Option<String>,
        /// e.g. 30d; none means until revoked.
        #[arg(long)]
        ttl: Option<String>,
        /// When policy holds the token (a new admin token waits for another admin),
        /// wait this long for the decision and collect the token once approved.
        #[arg(long, value_parser = holdpoint_core::duration::parse_duration)]
        wait: Option<std::time::Duration>,
    },
    List,
    Revoke {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Claude Code's PreToolUse hook.
    ClaudeCode {
        /// How long to wait for a held call (under Claude Code's hook timeout).
        #[arg(long, default_value = "50s", value_parser = holdpoint_core::duration::parse_duration)]
        wait: std::time::Duration,
        /// What a call still held when the wait ends gets: `deny` (naming the hold, so the
        /// same call passes once approved), or `defer` for headless sessions (`claude
        /// -p`): the session stops at the call, and `claude -p --resume SESSION` after
        /// the approval runs it.
        #[arg(long, value_enum, default_value = "deny")]
        on_hold: crate::hook::OnHold,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names the first bad seq.
    Verify,
    /// Write the events as JSON lines or CSV.
    Export {
        #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv"])]
        format: String,
        /// Only events at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate every .cedar file (against schema.cedarschema where present).
    Check { dir: Option<PathBuf> },
    /// The verdict for one action and the policies behind it.
    Explain(local::ExplainArgs),
}

/// Runs a command and returns its exit code.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Serve {
            local,
            data,
            listen,
        } => serve::run(local, data, listen).await,
        Command::Init {
            dir, agent: None, ..
        } => local::init(&dir),
        Command::Init {
            dir,
            agent: Some(agent),
            name,
            agent_config,
            hook_wait,
            defer_holds,
            http_hook,
            remote,
        } => {
            let default_name = match agent {
                crate::init_agent::Agent::ClaudeCode => "claude-code",
                crate::init_agent::Agent::Cursor => "cursor",
                crate::init_agent::Agent::ClaudeDesktop => "claude-desktop",
            };
            let init = crate::init_agent::InitAgent {
                agent,
                dir,
                name: name.unwrap_or_else(|| default_name.to_string()),
                config: agent_config,
                hook_wait,
                defer_holds,
                http_hook,
            };
            crate::init_agent::run(&remote, init).await
        }
        Command::Token { command, remote } => client::token(&remote, command).await,
        Command::Submit { action, remote } => client::submit(&remote, action).await,
        Command::Pending { remote } => client::pending(&remote).await,
        Command::Hook {
            command: HookCommand::ClaudeCode { wait, on_hold },
            remote,
        } => Ok(
            crate::hook::claude_code(&remote, wait.min(holdpoint_server::MAX_WAIT), on_hold).await,
        ),
        Command::Mcp {
            name,
            environment,
            hold_wait,
            command,
            remote,
        } => {
            let args = crate::mcp::McpArgs {
                name,
                environment,
                hold_wait,
                command,
            };
            crate::mcp::run(&remote, args).await
        }
        Command::Approve {
            id,
            comment,
            remote,
        } => client::review(&remote, &id, "approve", &comment).await,
        Command::Reject {
            id,
            comment,
            remote,
        } => client::review(&remote, &id, "reject", &comment).await,
        Command::Audit {
            command,
            local,
            data,
        } => local::audit(&local, &data, command).await,
        Command::Policy { command, local } => local::policy(&local, command),
        Command::Mask { local, data } => local::mask(&local, &data),
        Command::AdminToken { name, local, data } => {
            crate::serve::admin_token(&local, &data, &name).await
        }
    }
}
