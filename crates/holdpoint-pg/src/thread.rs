//! A listener on a thread of its own, with a single-threaded runtime: its sessions relay
//! small messages at a high rate, and keeping them off the work-stealing pool spares a
//! cross-thread wake-up per message.

use crate::Listener;
use std::future::Future;
use std::sync::Arc;

impl Listener {
    /// Serves `socket` on a new thread until `shutdown` completes; join the thread to
    /// know its sessions have ended.
    pub fn serve_on_thread(
        self: Arc<Self>,
        socket: std::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        socket.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name(format!("pg-{}", self.name))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(socket) {
                        Ok(socket) => self.serve(socket, shutdown).await,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot serve a PostgreSQL listener")
                        }
                    }
                })
            })
    }
}
