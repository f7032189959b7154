//! [`Listeners`]: the sockets a gateway serves, bound before it runs so the caller
//! knows (and can print) the addresses, and a test can bind port 0.

use crate::App;
use crate::error::AppError;
use std::net::SocketAddr;

pub struct Listeners {
    /// The HTTP API, the web inbox and the hosted MCP upstreams.
    pub http: tokio::net::TcpListener,
    /// `[[postgres]]` listeners by name. One the config names but this lacks is bound
    /// by [`App::run`] at its configured address.
    pub postgres: Vec<(String, std::net::TcpListener)>,
}

impl Listeners {
    /// Just the HTTP listener.
    pub fn http(http: tokio::net::TcpListener) -> Listeners {
        Listeners {
            http,
            postgres: Vec::new(),
        }
    }

    pub fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    /// Each PostgreSQL listener's name and address, in config order.
    pub fn postgres_addrs(&self) -> Vec<(String, SocketAddr)> {
        (self.postgres.iter())
            .filter_map(|(name, socket)| Some((name.clone(), socket.local_addr().ok()?)))
            .collect()
    }
}

/// Binds `[[postgres]]` listener `name` at `addr`.
pub(crate) fn bind_postgres(name: &str, addr: &str) -> Result<std::net::TcpListener, AppError> {
    std::net::TcpListener::bind(addr).map_err(|error| AppError::PostgresListen {
        name: name.to_string(),
        addr: addr.to_string(),
        error,
    })
}

impl App {
    /// Binds every `[[postgres]]` listener, then the HTTP API at `listen` (or the
    /// config's `[server] listen`).
    pub async fn bind(&self, listen: Option<&str>) -> Result<Listeners, AppError> {
        let mut postgres = Vec::new();
        for pg in &self.sections.postgres {
            postgres.push((pg.name.clone(), bind_postgres(&pg.name, &pg.listen)?));
        }
        let addr = listen.map_or_else(|| self.config.listen(), str::to_string);
        let http = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|error| AppError::Listen { addr, error })?;
        Ok(Listeners { http, postgres })
    }
}
