//! `holdpoint serve` and `holdpoint admin-token`: the gateway is built and run by
//! `holdpoint_app`; this prints what the operator needs and maps signals to shutdown.

use crate::cli::Local;
use crate::exit;
use anyhow::Context;
use holdpoint_app::{App, Config};
use holdpoint_core::env::ProcessEnv;
use std::path::{Path, PathBuf};

pub async fn run(local: Local, data: PathBuf, listen: Option<String>) -> anyhow::Result<u8> {
    init_tracing("info,rmcp=warn");
    let config = Config::load(local.config.as_deref())?;
    let app = App::build(config, &data, &ProcessEnv).await?;
    if let Some(path) = app.first_admin_token() {
        println!(
            "first start: an admin token was written to {}",
            path.display()
        );
    }
    let shutdown = shutdown_signal()?;
    let listeners = match app.bind(listen.as_deref()).await {
        Ok(listeners) => listeners,
        Err(e) => {
            app.close().await;
            return Err(e.into());
        }
    };
    for (name, addr) in listeners.postgres.addrs() {
        println!("holdpoint PostgreSQL proxy `{name}` listening on {addr}");
    }
    println!("holdpoint listening on http://{}", listeners.http_addr()?);
    app.run(listeners, shutdown).await?;
    Ok(exit::OK)
}

/// `holdpoint admin-token`: an admin token written straight into the store, audited as
/// created by the local operator. Works with the gateway running or stopped.
pub async fn admin_token(local: &Local, data: &Path, name: &str) -> anyhow::Result<u8> {
    let config = Config::load(local.config.as_deref())?;
    let (secret, record) = holdpoint_app::admin_token(&config, data, name).await?;
    eprintln!(
        "created admin token `{}` in the store; it is shown only once:",
        record.name
    );
    println!("{secret}");
    Ok(exit::OK)
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives right after start-up is not lost
/// (and does not kill the process before the store is closed).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        Ok(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            tracing::info!("shutting down");
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
}

/// Logs to stderr, filtered by `HOLDPOINT_LOG`. rmcp logs whole MCP messages at `info`
/// (tool results, upstream notices): its default is `warn`, so they stay out of logs.
pub fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOLDPOINT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
