//! One `[[postgres]]` listener: its settings, what its sessions share, and the accept
//! loop. Each connection is its own task; a failed one is logged and closed, and the
//! listener goes on.

use crate::cancel::Cancels;
use crate::catalog::Catalog;
use crate::results::MaskRules;
use crate::startup::{self, Hello};
use crate::upstream::{self, UpstreamTarget};
use holdpoint_gate::Gate;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A listener's settings, as the binary reads them from `[[postgres]]`.
#[derive(Clone)]
pub struct ListenerConfig {
    pub name: String,
    /// Where agents connect, e.g. `127.0.0.1:6432`.
    pub listen: String,
    pub environment: String,
    /// The upstream URL (with its credentials), from the variable the config names.
    pub upstream_url: String,
    pub tls: Option<TlsAcceptor>,
    pub mask_columns: Vec<String>,
    pub mask_results: bool,
}

/// What every session of one listener shares.
pub struct Listener {
    pub name: String,
    pub environment: String,
    pub target: UpstreamTarget,
    pub gate: Arc<Gate>,
    pub catalog: Catalog,
    pub rules: MaskRules,
    pub tls: Option<TlsAcceptor>,
    pub cancels: Cancels,
    /// Statement shapes, classified once.
    pub shapes: crate::shapes::Shapes,
}

impl Listener {
    pub fn new(config: ListenerConfig, gate: Arc<Gate>) -> Result<Arc<Listener>, String> {
        let ctx = |e: String| format!("[[postgres]] `{}`: {e}", config.name);
        let target = UpstreamTarget::from_url(&config.upstream_url).map_err(ctx)?;
        let catalog = Catalog::new(&config.upstream_url).map_err(ctx)?;
        let rules = MaskRules::new(&config.mask_columns, config.mask_results).map_err(ctx)?;
        Ok(Arc::new(Listener {
            name: config.name,
            environment: config.environment,
            target,
            gate,
            catalog,
            rules,
            tls: config.tls,
            cancels: Cancels::default(),
            shapes: crate::shapes::Shapes::default(),
        }))
    }

    /// Accepts connections until `shutdown` completes.
    pub async fn serve(
        self: Arc<Self>,
        socket: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = socket.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, listener = %self.name, "accept failed");
                        continue;
                    }
                },
                () = &mut shutdown => return,
            };
            let _ = stream.set_nodelay(true);
            let listener = self.clone();
            tokio::spawn(async move {
                listener.connection(Box::pin(stream), peer).await;
            });
        }
    }

    async fn connection(self: Arc<Self>, stream: startup::Stream, peer: SocketAddr) {
        let hello = match startup::hello(stream, self.tls.as_ref()).await {
            Ok(hello) => hello,
            Err(e) => {
                tracing::debug!(error = %e, %peer, "a PostgreSQL client left during startup");
                return;
            }
        };
        match hello {
            Hello::Cancel { pid, secret } => {
                if let Some((addr, key)) = self.cancels.cancel((pid, secret))
                    && let Err(e) = upstream::cancel(addr, key).await
                {
                    tracing::warn!(error = %e, "could not pass a cancel request on");
                }
            }
            Hello::Startup {
                stream,
                params,
                tls,
            } => crate::connect::session(self, stream, params, tls, peer).await,
        }
    }
}
