//! [`ConfigError`]: what is wrong with `holdpoint.toml` or the environment it names;
//! [`AppError`]: why the gateway could not be built or run.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("config `{}`: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error(
        "config `{}`: [[users]] `{user}` lists the group `{group}`, which only a token's kind \
         gives (an admin token is in `admins`); remove it",
        path.display()
    )]
    ImplicitGroup {
        path: PathBuf,
        user: String,
        group: String,
    },
    /// `[approvals]` or `[limits]`: the message names the key.
    #[error("{0}")]
    Invalid(String),
    #[error("[masking]: {0}")]
    Masking(holdpoint_mask::MaskError),
    /// The masking key in the data folder.
    #[error("{0}")]
    MaskKey(holdpoint_mask::MaskError),
    #[error(transparent)]
    Slack(#[from] holdpoint_slack::config::ConfigError),
    #[error(transparent)]
    Webhooks(#[from] holdpoint_webhooks::config::ConfigError),
    #[error(transparent)]
    Web(#[from] holdpoint_web::config::ConfigError),
    #[error(transparent)]
    Postgres(#[from] holdpoint_pg::config::ConfigError),
    #[error(transparent)]
    Mcp(#[from] holdpoint_mcp::config::ConfigError),
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot create the data folder `{}`", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot restrict `{}`", path.display())]
    Restrict {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// A policy set that does not load stops the start, naming file and line.
    #[error("policy: {0}")]
    Policy(holdpoint_policy::PolicyError),
    #[error("cannot watch `{}`: {error}", path.display())]
    Watch {
        path: PathBuf,
        error: holdpoint_policy::PolicyError,
    },
    #[error("cannot open the store: {0}")]
    Store(holdpoint_core::StoreError),
    #[error(transparent)]
    Gate(#[from] holdpoint_gate::GateError),
    #[error("cannot listen on `{addr}`")]
    Listen {
        addr: String,
        #[source]
        error: std::io::Error,
    },
    #[error(transparent)]
    Postgres(#[from] holdpoint_pg::StartError),
    /// The web inbox that could not be set up.
    #[error("{0}")]
    Setup(String),
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
}
