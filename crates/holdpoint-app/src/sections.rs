//! The one place each surface's and channel's section is registered. Each crate owns
//! its section's type and rules (`holdpoint_slack::config`, …); here they are checked
//! at load, resolved with the environment before the gate is built, and mounted on the
//! running gateway. A new surface or channel adds a field to [`Config`] and a line or
//! two to each function below.

use crate::Config;
use crate::error::{AppError, ConfigError};
use crate::run::stopped;
use holdpoint_core::env::Env;
use holdpoint_core::{Clock, Store};
use holdpoint_gate::Gate;
use holdpoint_mcp::config::HostedUpstream;
use holdpoint_notify::Channel;
use holdpoint_server::AppState;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;

/// Checks every section as far as it can be without the environment; the warnings to
/// log once.
pub(crate) fn check(config: &Config) -> Result<Vec<String>, ConfigError> {
    let mut warnings = Vec::new();
    if let Some(slack) = &config.slack {
        warnings.extend(slack.check()?);
    }
    warnings.extend(holdpoint_webhooks::config::check(&config.webhooks)?);
    config.web.check()?;
    for section in &config.postgres {
        section.check()?;
    }
    holdpoint_mcp::config::check(&config.mcp)?;
    if config.teams.is_some() {
        warnings.push("`[teams]` is not supported by this build yet and is ignored".into());
    }
    Ok(warnings)
}

/// The sections with the secrets they name read from the environment.
pub(crate) struct Resolved {
    pub slack: Option<holdpoint_slack::config::SlackSettings>,
    pub webhooks: Vec<Arc<dyn Channel>>,
    pub web: Option<holdpoint_web::config::WebSettings>,
    pub postgres: Vec<holdpoint_pg::ListenerConfig>,
    pub mcp: Vec<HostedUpstream>,
}

pub(crate) fn resolve(
    config: &Config,
    env: &dyn Env,
    clock: Arc<dyn Clock>,
) -> Result<Resolved, ConfigError> {
    Ok(Resolved {
        mcp: holdpoint_mcp::config::upstreams(&config.mcp, env)?,
        webhooks: holdpoint_webhooks::config::channels(&config.webhooks, env, clock)?,
        postgres: (config.postgres.iter())
            .map(|section| section.resolve(env))
            .collect::<Result<_, _>>()?,
        slack: config.slack.as_ref().map(|s| s.resolve(env)).transpose()?,
        web: config.web.resolve(env)?,
    })
}

impl Resolved {
    /// The channels the gate queues each hold's changes for.
    pub fn channel_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.webhooks.iter().map(|c| c.name().into()).collect();
        if self.slack.is_some() {
            names.push(holdpoint_slack::CHANNEL.into());
        }
        names
    }
}

/// Something to run until the gateway stops, told by the receiver.
pub(crate) type Task =
    Box<dyn FnOnce(watch::Receiver<bool>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// What the channels and surfaces add to the running gateway, beside the PostgreSQL
/// listeners (`holdpoint_pg::start`) and the MCP upstreams (the server hosts them).
pub(crate) struct Mounted {
    /// Every outbox channel, for the delivery worker.
    pub channels: Vec<Arc<dyn Channel>>,
    /// Merged into the HTTP router.
    pub routes: Vec<axum::Router>,
    /// Run until the gateway stops, and waited for.
    pub tasks: Vec<Task>,
}

/// The surfaces that speak HTTP on the gateway's server: the routes that join the API's
/// OpenAPI document, and the MCP upstreams it hosts (ended when the stop token of `ends`
/// is cancelled). The hook keeps agents out of `data`, the gateway's own folder.
pub(crate) fn surface_routes(
    gate: &Arc<Gate>,
    mcp: &[HostedUpstream],
    ends: &Arc<holdpoint_mcp::SessionEnds>,
    data: &std::path::Path,
) -> (OpenApiRouter<AppState>, axum::Router<AppState>) {
    let own = holdpoint_hook::http::OwnFiles(own_folders(data));
    let views = holdpoint_mcp::ToolViews::new(mcp);
    let documented =
        holdpoint_mcp::http::api_routes(views).merge(holdpoint_hook::http::routes(own));
    let hosted = holdpoint_mcp::http::hosted_routes(gate, mcp, ends);
    (documented, hosted)
}

/// `data` as written and, where it differs, as its real path (a symlink followed).
fn own_folders(data: &std::path::Path) -> Vec<String> {
    let mut folders = vec![data.to_string_lossy().into_owned()];
    if let Ok(real) = data.canonicalize() {
        let real = real.to_string_lossy().into_owned();
        if !folders.contains(&real) {
            folders.push(real);
        }
    }
    folders
}

/// Builds the channels and routes; `public_url` is where browsers reach the gateway.
pub(crate) fn mount(
    slack: Option<holdpoint_slack::config::SlackSettings>,
    webhooks: Vec<Arc<dyn Channel>>,
    web: Option<holdpoint_web::config::WebSettings>,
    gate: &Arc<Gate>,
    store: &Arc<dyn Store>,
    public_url: &str,
) -> Result<Mounted, AppError> {
    let mut mounted = Mounted {
        channels: webhooks,
        routes: Vec::new(),
        tasks: Vec::new(),
    };
    if let Some(slack) = slack {
        let slack = slack
            .build(gate.clone(), store.clone())
            .map_err(ConfigError::from)?;
        mounted.channels.push(Arc::new(slack.channel));
        match slack.interactions {
            holdpoint_slack::Interactions::Http(routes) => mounted.routes.push(routes),
            holdpoint_slack::Interactions::Socket(socket) => mounted
                .tasks
                .push(Box::new(|stop| Box::pin(socket.run(stopped(stop))))),
        }
    }
    if let Some(web) = web {
        let routes = web
            .router(gate.clone(), public_url)
            .map_err(AppError::Setup)?;
        mounted.routes.push(routes);
    }
    Ok(mounted)
}
