//! `holdpoint serve`: the only place concrete implementations are chosen and wired.

use crate::cli::Local;
use crate::config::Config;
use crate::exit;
use anyhow::Context;
use holdpoint_core::{Actor, PrincipalKind, SystemClock};
use holdpoint_gate::{Directory, Gate, GateParts, NewToken};
use holdpoint_policy::{PolicyEngine, PolicySet};
use holdpoint_store::{OpenMode, SqlStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file, in the data folder, that receives the first admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

pub async fn run(local: Local, data: PathBuf, listen: Option<String>) -> anyhow::Result<u8> {
    init_tracing("info,rmcp=warn");
    let config = Config::load(local.config.as_deref())?;
    private_data_dir(&data)?;
    let defaults = config.hold_defaults()?;
    let settings = config.gate_settings()?;
    let server_limits = config.server_limits(descriptor_limit())?;
    let masker = config.redactor(&data)?;
    let upstreams = crate::config_mcp::upstreams(&config.mcp, |name| std::env::var(name).ok())
        .map_err(|e| anyhow::anyhow!(e))?;
    let channels =
        crate::config_webhooks::channels(&config.webhooks, |name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!(e))?;
    let postgres = config
        .postgres
        .iter()
        .map(|section| section.resolve(|name| std::env::var(name).ok()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!(e))?;
    let slack = match &config.slack {
        Some(section) => Some(
            section
                .resolve(|name| std::env::var(name).ok())
                .map_err(|e| anyhow::anyhow!(e))?,
        ),
        None => None,
    };
    let mut settings = settings;
    settings.channels = channels.iter().map(|c| c.name().to_string()).collect();
    if slack.is_some() {
        settings.channels.push(holdpoint_slack::CHANNEL.to_string());
    }
    for section in config.inactive_sections() {
        tracing::warn!("`[{section}]` is not supported by this build yet and is ignored");
    }

    // Policies first: a broken policy set stops the start, naming file and line.
    let dir = config.policy_dir();
    let set = match &dir {
        Some(dir) => holdpoint_policy::load_dir(dir, &defaults),
        None => PolicySet::compile(&holdpoint_policy::starter_sources(), &defaults, None),
    };
    let set = match set {
        Ok(set) => set,
        Err(e) => {
            eprintln!("error: policy: {e}");
            return Ok(exit::ERROR);
        }
    };
    let ids = set.ids();
    let engine = Arc::new(PolicyEngine::new(set, defaults, dir.clone()));

    let url = config.store_url(&data);
    let store = SqlStore::open(&url, OpenMode::Serve)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store: {e}"))?;
    tracing::info!(backend = store.backend(), "store open");
    let gate = Gate::new(GateParts {
        store: Arc::new(store.clone()),
        policy: engine.clone(),
        clock: Arc::new(SystemClock),
        masker: Arc::new(masker),
        directory: Directory::new(config.users.clone()),
        settings,
    });
    gate.record_policy_load(Ok(ids)).await?;
    gate.init_metrics().await?;
    bootstrap_admin(&gate, &data).await?;

    let _watcher = match &dir {
        Some(dir) => {
            let handle = tokio::runtime::Handle::current();
            let audit_gate = gate.clone();
            let watcher = engine
                .watch(move |result| {
                    let gate = audit_gate.clone();
                    let result = result.map_err(|e| e.to_string());
                    handle.spawn(async move {
                        if let Err(e) = gate.record_policy_load(result).await {
                            tracing::error!(error = %e, "cannot audit a policy reload");
                        }
                    });
                })
                .map_err(|e| anyhow::anyhow!("cannot watch `{}`: {e}", dir.display()))?;
            tracing::info!(dir = %dir.display(), "watching policies for changes");
            Some(watcher)
        }
        None => None,
    };

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let expiry = tokio::spawn(gate.clone().run_expiry(wait_for(stop_rx.clone())));
    // Delivers the outbox even with no channel configured now: items queued for channels
    // that are gone stay visible in /v1/deliveries and are retried if they come back.
    let mut channels = channels;
    let mut slack_routes = None;
    let mut socket = None;
    if let Some(slack) = &slack {
        let api = holdpoint_slack::SlackApi::new(&slack.api_url, &slack.bot_token)
            .map_err(|e| anyhow::anyhow!("[slack]: {e}"))?;
        channels.push(Arc::new(holdpoint_slack::SlackChannel {
            api: api.clone(),
            channel: slack.channel.clone(),
            store: Arc::new(store.clone()),
            directory: Directory::new(config.users.clone()),
        }));
        let state = holdpoint_slack::SlackState {
            gate: gate.clone(),
            api,
            signing_secret: slack.signing_secret.clone().unwrap_or_default(),
        };
        match &slack.app_token {
            Some(app_token) => {
                socket = Some(tokio::spawn(holdpoint_slack::socket::run(
                    state,
                    app_token.clone(),
                    wait_for(stop_rx.clone()),
                )));
                tracing::info!(channel = %slack.channel, "reviews in Slack over Socket Mode");
            }
            None => {
                slack_routes = Some(holdpoint_slack::router(state));
                tracing::info!(channel = %slack.channel, "reviews in Slack at /integrations/slack/interactions");
            }
        }
    }
    let worker = holdpoint_notify::Worker::new(
        Arc::new(store.clone()),
        Arc::new(SystemClock),
        channels,
        gate.delivery_kick(),
    );
    let delivery = tokio::spawn(worker.run(wait_for(stop_rx.clone())));

    // Each PostgreSQL listener runs on a thread of its own, with a single-threaded
    // runtime: its sessions relay small messages at a high rate, and keeping them off
    // the work-stealing pool spares a cross-thread wake-up per message.
    let mut pg_threads = Vec::new();
    for pg in postgres {
        let socket = std::net::TcpListener::bind(&pg.listen).with_context(|| {
            format!(
                "[[postgres]] `{}`: cannot listen on `{}`",
                pg.name, pg.listen
            )
        })?;
        socket.set_nonblocking(true)?;
        let listener =
            holdpoint_pg::Listener::new(pg, gate.clone()).map_err(|e| anyhow::anyhow!(e))?;
        println!(
            "holdpoint PostgreSQL proxy `{}` listening on {}",
            listener.name,
            socket.local_addr()?
        );
        let stop = stop_rx.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        pg_threads.push(
            std::thread::Builder::new()
                .name(format!("pg-{}", listener.name))
                .spawn(move || {
                    runtime.block_on(async move {
                        match tokio::net::TcpListener::from_std(socket) {
                            Ok(socket) => listener.serve(socket, wait_for(stop)).await,
                            Err(e) => {
                                tracing::error!(error = %e, "cannot serve a PostgreSQL listener")
                            }
                        }
                    })
                })?,
        );
    }

    let shutdown = shutdown_signal()?;
    let addr = listen.unwrap_or_else(|| config.listen());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on `{addr}`"))?;
    let local_addr = listener.local_addr()?;
    println!("holdpoint listening on http://{local_addr}");
    for upstream in &upstreams {
        tracing::info!(name = %upstream.proxy.name, "serving an MCP upstream at /mcp/{}", upstream.proxy.name);
    }
    let stop_mcp = tokio_util::sync::CancellationToken::new();
    let mut router = holdpoint_server::router_with_mcp(gate.clone(), &upstreams, stop_mcp.clone());
    if let Some(slack_routes) = slack_routes {
        router = router.merge(slack_routes);
    }
    if config.web.enabled {
        // The address browsers use: `[server] public_url`, or the one just bound.
        let public_url = config
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"));
        let web = config
            .web
            .resolve(&public_url, |name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!(e))?;
        let oidc = web.oidc.as_ref().map(|o| o.issuer.clone());
        let state =
            holdpoint_web::WebState::new(gate.clone(), web).map_err(|e| anyhow::anyhow!(e))?;
        router = router.merge(holdpoint_web::router(state));
        match oidc {
            Some(issuer) => {
                tracing::info!(%issuer, "web inbox at {public_url}/inbox, sign-in with OIDC or a user token")
            }
            None => tracing::info!("web inbox at {public_url}/inbox, sign-in with a user token"),
        }
    }
    let shutdown = async move {
        shutdown.await;
        stop_mcp.cancel();
    };
    tracing::info!(
        connections = server_limits.connections,
        "serving at most this many connections at once"
    );
    holdpoint_server::serve(listener, router, gate.clone(), server_limits, shutdown).await?;
    let _ = stop_tx.send(true);
    let _ = expiry.await;
    let _ = delivery.await;
    for thread in pg_threads {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
    if let Some(socket) = socket {
        let _ = socket.await;
    }
    store.close().await;
    Ok(exit::OK)
}

/// `holdpoint admin-token`: an admin token written straight into the store, audited as
/// created by the local operator. Works with the gateway running or stopped.
pub async fn admin_token(local: &Local, data: &Path, name: &str) -> anyhow::Result<u8> {
    let config = Config::load(local.config.as_deref())?;
    private_data_dir(data)?;
    let defaults = config.hold_defaults()?;
    let set = PolicySet::compile(&[], &defaults, None)?;
    let store = SqlStore::open(&config.store_url(data), OpenMode::Serve)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the store: {e}"))?;
    let gate = Gate::new(GateParts {
        store: Arc::new(store.clone()),
        policy: Arc::new(PolicyEngine::new(set, defaults, None)),
        clock: Arc::new(SystemClock),
        masker: Arc::new(config.redactor(data)?),
        directory: Directory::new(config.users.clone()),
        settings: config.gate_settings()?,
    });
    let request = NewToken {
        name: name.to_string(),
        kind: PrincipalKind::Admin,
        groups: Vec::new(),
        owner: None,
        ttl: None,
    };
    let created = gate
        .create_token(&Actor::new("system", "operator", "local"), request)
        .await;
    store.close().await;
    let (secret, record) = created?;
    eprintln!(
        "created admin token `{}` in the store; it is shown only once:",
        record.name
    );
    println!("{secret}");
    Ok(exit::OK)
}

/// The data folder holds the database, the masking key and the admin token: it is the
/// owner's alone (0700), and so are its secret files (0600), also when an older version
/// or a careless copy left them wider.
fn private_data_dir(data: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("cannot create the data folder `{}`", data.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let narrow = |path: &Path, mode: u32| -> anyhow::Result<()> {
            if path.exists() {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .with_context(|| format!("cannot restrict `{}`", path.display()))?;
            }
            Ok(())
        };
        narrow(data, 0o700)?;
        for file in [ADMIN_TOKEN_FILE, "mask.key"] {
            narrow(&data.join(file), 0o600)?;
        }
    }
    Ok(())
}

/// The soft limit on open descriptors, if it can be read.
fn descriptor_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// On first start, writes an admin token to `DATA/admin.token` (mode 0600).
async fn bootstrap_admin(gate: &Gate, data: &Path) -> anyhow::Result<()> {
    let path = data.join(ADMIN_TOKEN_FILE);
    if path.exists() || gate.has_live_admin().await? {
        return Ok(());
    }
    let (secret, _) = gate
        .create_token(
            &Actor::system(),
            NewToken {
                name: "admin".into(),
                kind: PrincipalKind::Admin,
                groups: Vec::new(),
                owner: None,
                ttl: None,
            },
        )
        .await?;
    write_secret(&path, &secret)?;
    println!(
        "first start: an admin token was written to {}",
        path.display()
    );
    Ok(())
}

fn write_secret(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(())
}

async fn wait_for(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
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
