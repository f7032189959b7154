//! The `[[postgres]]` listeners of a running gateway, each on a thread of its own.

use crate::error::AppError;
use crate::listeners::bind_postgres;
use holdpoint_gate::Gate;
use holdpoint_pg::{Listener, ListenerConfig};
use std::future::Future;
use std::sync::Arc;

/// The listeners' threads.
pub(crate) type Threads = Vec<std::thread::JoinHandle<()>>;

/// A listener ready to serve, with its socket.
pub(crate) struct Ready {
    listener: Arc<Listener>,
    socket: std::net::TcpListener,
}

/// Sets up every listener on its socket from `bound` (or one bound now): everything
/// that can fail before anything runs.
pub(crate) fn prepare(
    configs: Vec<ListenerConfig>,
    mut bound: Vec<(String, std::net::TcpListener)>,
    gate: &Arc<Gate>,
) -> Result<Vec<Ready>, AppError> {
    let mut ready = Vec::new();
    for config in configs {
        let socket = match bound.iter().position(|(name, _)| *name == config.name) {
            Some(i) => bound.swap_remove(i).1,
            None => bind_postgres(&config.name, &config.listen)?,
        };
        let listener = Listener::new(config, gate.clone()).map_err(AppError::Setup)?;
        ready.push(Ready { listener, socket });
    }
    Ok(ready)
}

/// Starts each listener on its thread, serving until `stop` resolves; the threads, or
/// the first that could not start (after the others have been told to stop).
pub(crate) fn start<F>(
    ready: Vec<Ready>,
    stop: impl Fn() -> F,
) -> Result<Threads, (std::io::Error, Threads)>
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut threads = Vec::new();
    for Ready { listener, socket } in ready {
        match listener.serve_on_thread(socket, stop()) {
            Ok(thread) => threads.push(thread),
            Err(e) => return Err((e, threads)),
        }
    }
    Ok(threads)
}

/// Waits for the threads to end, off the async workers.
pub(crate) async fn join(threads: Threads) {
    for thread in threads {
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}
