//! `holdpoint`: the gateway and its command line. This file only parses arguments and
//! maps results to exit codes; each command lives in its own module, and the gateway
//! itself in `holdpoint_app`.
//!
//! - `cli.rs`: the commands and flags (clap).
//! - `serve.rs`: `serve` (builds and runs `holdpoint_app::App`) and `admin-token`.
//! - `client.rs`: commands that talk to a running gateway through `holdpoint_client`
//!   (`token`, `submit`, `pending`, `approve`, `reject`).
//! - `local.rs`: commands that read files and the store directly (`init`, `policy`,
//!   `audit`, `mask`).
//! - `hook.rs`: `hook claude-code`, which hands Claude Code's hook input to the gateway;
//!   `prompts.rs`: the user's prompt per session, stored by that hook for reviewers.
//! - `token_file.rs`: the URL and token from flags, the environment or a token file.
//! - `init_agent.rs`: `init --agent`, an agent token and the agent's hook and MCP config;
//!   `init_claude.rs`: what it writes for Claude Code.
//! - `mcp.rs`: `mcp`, the stdio MCP proxy that asks the gateway about each tool call.

mod cli;
mod client;
mod hook;
mod init_agent;
mod init_claude;
mod local;
mod mcp;
mod prompts;
mod serve;
mod token_file;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes of DESIGN §4.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const DENIED: u8 = 3;
    pub const PENDING: u8 = 4;
}

/// The stack of each runtime thread.
const THREAD_STACK: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // Stacks large enough that a policy evaluation (see holdpoint-policy's
    // `EVALUATION_RED_ZONE`) never needs a segment of its own.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}
