//! [`App::run`]: serves until the shutdown future completes, then stops every task and
//! thread it started and closes the store before returning.

use crate::App;
use crate::error::AppError;
use crate::listeners::Listeners;
use crate::sections::{self, Resolved};
use std::future::Future;
use tokio::sync::watch;

/// Resolves once `stop` says so.
pub(crate) async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

impl App {
    /// Serves on `listeners` until `shutdown` completes. Returns once everything it
    /// started has ended: the HTTP server and its connections (given a few seconds to
    /// finish), the expiry task, the delivery worker, the channels' tasks, the PostgreSQL
    /// listeners and their sessions; the store is closed last.
    pub async fn run(
        mut self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), AppError> {
        let store = self.store.clone();
        // Policy reloads are audited until the server has stopped.
        let watcher = self.watcher.take();
        let result = serve(self, listeners, shutdown).await;
        drop(watcher);
        store.close().await;
        result
    }
}

async fn serve(
    app: App,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), AppError> {
    let App {
        config,
        shared,
        clock,
        gate,
        server_limits,
        sections,
        data,
        ..
    } = app;
    let Resolved {
        slack,
        webhooks,
        web,
        postgres,
        mcp,
    } = sections;
    let local_addr = listeners.http.local_addr().map_err(AppError::Serve)?;
    // The address browsers use: `[server] public_url`, or the one just bound.
    let public_url =
        (config.server.public_url.clone()).unwrap_or_else(|| format!("http://{local_addr}"));

    // Everything that can fail, before anything runs.
    let mounted = sections::mount(slack, webhooks, web, &gate, &shared, &public_url)?;
    let stop_mcp = tokio_util::sync::CancellationToken::new();
    let mcp_ends = holdpoint_mcp::SessionEnds::new(&stop_mcp);
    let (documented, hosted) = sections::surface_routes(&gate, &mcp, &mcp_ends, &data);
    let mut router = holdpoint_server::router_with(gate.clone(), documented, hosted);
    for routes in mounted.routes {
        router = router.merge(routes);
    }
    for upstream in &mcp {
        tracing::info!(name = %upstream.proxy.name, "serving an MCP upstream at /mcp/{}", upstream.proxy.name);
    }

    let postgres = holdpoint_pg::start(postgres, listeners.postgres, &gate)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let expiry = tokio::spawn(gate.clone().run_expiry(stopped(stop_rx.clone())));
    // Delivers the outbox even with no channel configured now: items queued for channels
    // that are gone stay visible in /v1/deliveries and are retried if they come back.
    let worker =
        holdpoint_notify::Worker::new(shared, clock, mounted.channels, gate.delivery_kick());
    let delivery = tokio::spawn(worker.run(stopped(stop_rx.clone())));
    let tasks: Vec<_> = (mounted.tasks.into_iter())
        .map(|task| tokio::spawn(task(stop_rx.clone())))
        .collect();

    let shutdown = async move {
        shutdown.await;
        stop_mcp.cancel();
    };
    tracing::info!(
        connections = server_limits.connections,
        "serving at most this many connections at once"
    );
    let served = holdpoint_server::serve(
        listeners.http,
        router,
        gate.clone(),
        server_limits,
        shutdown,
    )
    .await
    .map_err(AppError::Serve);
    // MCP requests held when the stop ended their sessions withdraw their holds first.
    if !mcp_ends.settled(std::time::Duration::from_secs(5)).await {
        tracing::warn!("some held MCP requests were not withdrawn before the stop");
    }

    let _ = stop_tx.send(true);
    let _ = expiry.await;
    let _ = delivery.await;
    postgres.stop().await;
    for task in tasks {
        let _ = task.await;
    }
    served
}
