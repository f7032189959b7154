//! The `[[postgres]]` listeners of a running gateway. Their sockets are bound first
//! ([`Sockets`]), so the gateway can say where it listens; then each listener runs on a
//! thread of its own, with a single-threaded runtime: its sessions relay small messages
//! at a high rate, and keeping them off the work-stealing pool spares a cross-thread
//! wake-up per message.

use crate::{Listener, ListenerConfig, ListenerError};
use holdpoint_gate::Gate;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::watch;

/// Why the listeners could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("[[postgres]] `{name}`: cannot listen on `{addr}`")]
    Listen {
        name: String,
        addr: String,
        #[source]
        error: std::io::Error,
    },
    #[error(transparent)]
    Setup(#[from] ListenerError),
    #[error("cannot start a PostgreSQL listener")]
    Thread(#[source] std::io::Error),
}

/// The listeners' sockets by name, bound.
#[derive(Debug, Default)]
pub struct Sockets(Vec<(String, std::net::TcpListener)>);

/// Binds `config`'s listener at its `listen` address.
fn bind(config: &ListenerConfig) -> Result<std::net::TcpListener, StartError> {
    std::net::TcpListener::bind(&config.listen).map_err(|error| StartError::Listen {
        name: config.name.clone(),
        addr: config.listen.clone(),
        error,
    })
}

impl Sockets {
    /// Binds each listener at its `listen` address.
    pub fn bind(configs: &[ListenerConfig]) -> Result<Sockets, StartError> {
        (configs.iter())
            .map(|c| Ok((c.name.clone(), bind(c)?)))
            .collect::<Result<_, _>>()
            .map(Sockets)
    }

    /// Each listener's name and address, in config order.
    pub fn addrs(&self) -> Vec<(String, SocketAddr)> {
        (self.0.iter())
            .filter_map(|(name, socket)| Some((name.clone(), socket.local_addr().ok()?)))
            .collect()
    }

    /// The socket of `config`'s listener: bound already, or bound now.
    fn take(&mut self, config: &ListenerConfig) -> Result<std::net::TcpListener, StartError> {
        match self.0.iter().position(|(name, _)| *name == config.name) {
            Some(i) => Ok(self.0.swap_remove(i).1),
            None => bind(config),
        }
    }
}

/// The listeners, serving until [`Running::stop`].
pub struct Running {
    stop: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

/// Starts every listener of `configs` on its socket from `sockets` (or one bound now),
/// each on its thread. When one cannot start, those started are stopped again.
pub fn start(
    configs: Vec<ListenerConfig>,
    mut sockets: Sockets,
    gate: &Arc<Gate>,
) -> Result<Running, StartError> {
    let mut ready = Vec::new();
    for config in configs {
        let socket = sockets.take(&config)?;
        ready.push((Listener::new(config, gate.clone())?, socket));
    }
    let mut running = Running {
        stop: watch::channel(false).0,
        threads: Vec::new(),
    };
    for (listener, socket) in ready {
        match on_thread(listener, socket, running.stop.subscribe()) {
            Ok(thread) => running.threads.push(thread),
            Err(e) => {
                let _ = running.stop.send(true);
                // Nothing has connected yet: the started threads end at once.
                for thread in running.threads {
                    let _ = thread.join();
                }
                return Err(StartError::Thread(e));
            }
        }
    }
    Ok(running)
}

impl Running {
    /// Stops every listener (each ends its sessions, which withdraw their holds and
    /// write their last audit events) and waits for their threads.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for thread in self.threads {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Serves `socket` on a new thread until `stop` says so.
fn on_thread(
    listener: Arc<Listener>,
    socket: std::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    socket.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("pg-{}", listener.name))
        // Room for policy evaluations (holdpoint-policy's `EVALUATION_RED_ZONE`).
        .stack_size(8 * 1024 * 1024)
        .spawn(move || {
            runtime.block_on(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                match tokio::net::TcpListener::from_std(socket) {
                    Ok(socket) => listener.serve(socket, stopped).await,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot serve a PostgreSQL listener")
                    }
                }
            })
        })
}
