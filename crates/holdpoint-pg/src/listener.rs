//! One `[[postgres]]` listener: its settings, what its sessions share, and the accept
//! loop. Each connection is its own task; a failed one is logged and closed, and the
//! listener goes on.

use crate::cancel::Cancels;
use crate::catalog::{Catalog, CatalogError};
use crate::results::{MaskRules, MaskRulesError};
use crate::startup::{self, Hello};
use crate::upstream::{self, UpstreamTarget, UpstreamUrlError};
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

/// Why a listener cannot be set up from its settings.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("[[postgres]] `{name}`: {error}")]
    Upstream {
        name: String,
        error: UpstreamUrlError,
    },
    #[error("[[postgres]] `{name}`: {error}")]
    Catalog { name: String, error: CatalogError },
    #[error("[[postgres]] `{name}`: {error}")]
    Mask { name: String, error: MaskRulesError },
}

/// What every session of one listener shares.
pub struct Listener {
    pub name: String,
    pub environment: String,
    pub target: UpstreamTarget,
    pub gate: Arc<Gate>,
    pub catalog: Catalog,
    /// Masked tables' inheritance families.
    pub lineage: crate::lineage::Lineage,
    pub rules: MaskRules,
    pub tls: Option<TlsAcceptor>,
    pub cancels: Cancels,
    /// Statement shapes, classified once.
    pub shapes: crate::shapes::Shapes,
    /// Cancelled when the gateway stops: sessions end with 57P01, their holds withdrawn.
    pub stopping: tokio_util::sync::CancellationToken,
}

/// How long a stopping listener waits for its sessions to write their last audit.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

impl Listener {
    pub fn new(config: ListenerConfig, gate: Arc<Gate>) -> Result<Arc<Listener>, ListenerError> {
        let name = || config.name.clone();
        let target = UpstreamTarget::from_url(&config.upstream_url).map_err(|error| {
            ListenerError::Upstream {
                name: name(),
                error,
            }
        })?;
        let catalog =
            Catalog::new(&config.upstream_url).map_err(|error| ListenerError::Catalog {
                name: name(),
                error,
            })?;
        let lineage = crate::lineage::Lineage::new(&config.upstream_url).map_err(|error| {
            ListenerError::Catalog {
                name: name(),
                error: CatalogError::Url(error),
            }
        })?;
        let rules = MaskRules::new(&config.mask_columns, config.mask_results).map_err(|error| {
            ListenerError::Mask {
                name: name(),
                error,
            }
        })?;
        Ok(Arc::new(Listener {
            name: config.name,
            environment: config.environment,
            target,
            gate,
            catalog,
            lineage,
            rules,
            tls: config.tls,
            cancels: Cancels::default(),
            shapes: crate::shapes::Shapes::default(),
            stopping: tokio_util::sync::CancellationToken::new(),
        }))
    }

    /// Accepts connections until `shutdown` completes, then ends every session (each
    /// tells its client, withdraws a waiting hold and writes its last audit events),
    /// waiting for them a few seconds at most.
    pub async fn serve(
        self: Arc<Self>,
        socket: TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut sessions = tokio::task::JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = socket.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, listener = %self.name, "accept failed");
                        continue;
                    }
                },
                Some(_) = sessions.join_next(), if !sessions.is_empty() => continue,
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let listener = self.clone();
            sessions.spawn(async move {
                listener.connection(Box::pin(stream), peer).await;
            });
        }
        self.stopping.cancel();
        let drained = tokio::time::timeout(DRAIN, async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(listener = %self.name, "PostgreSQL sessions still open at shutdown were cut");
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
                    && let Err(e) = upstream::cancel(&addr, key).await
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
