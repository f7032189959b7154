//! The accept loop: each connection served by hyper with a header read timeout, at most
//! `connections` at once. A connection over the cap is answered `429` with `Retry-After`
//! and closed at once, so the process never runs out of descriptors for the ones it
//! serves; each burst of such refusals is audited once.

use axum::Router;
use holdpoint_gate::Gate;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

/// Limits on connections, from `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once; more are answered 429 and closed.
    pub connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            connections: 4096,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// How long open connections (long-polls, mostly) get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

const REFUSAL: &str = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n\
    Content-Type: application/json\r\nConnection: close\r\nContent-Length: 91\r\n\r\n\
    {\"error\":{\"code\":\"too_many_requests\",\"message\":\"too many connections; try again shortly\"}}\n";

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    gate: Arc<Gate>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.connections.max(1)));
    // HTTP/1 only: hyper's header timeout covers HTTP/1, and nothing here needs h2c.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: say so, and let some close.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Streamed answers (MCP's server-sent events) go out in several writes: without
        // this, Nagle's algorithm holds each later write for the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, gate.clone()));
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let first_byte = limits.header_timeout;
        tokio::spawn(async move {
            // hyper's header timeout starts with the first byte (the protocol is sniffed
            // before it): a client that sends nothing is cut off here instead.
            let mut peek = [0u8; 1];
            match tokio::time::timeout(first_byte, stream.peek(&mut peek)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("connections still open after {DRAIN:?}; closing them");
    }
    Ok(())
}

async fn refuse(mut stream: tokio::net::TcpStream, gate: Arc<Gate>) {
    // Audited first (once per burst), so the refusal is on record before it is seen.
    gate.connection_refused().await;
    // Let the client send its request first (a second at most), so that it reads the
    // 429 as the answer to it rather than as a message out of turn.
    let mut request = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut request)).await;
    let refusal = stream.write_all(REFUSAL.as_bytes());
    let _ = tokio::time::timeout(Duration::from_secs(1), refusal).await;
    let _ = stream.shutdown().await;
}
