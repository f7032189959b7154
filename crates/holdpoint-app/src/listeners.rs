//! [`Listeners`]: the sockets a gateway serves, bound before it runs so the caller
//! knows (and can print) the addresses, and a test can bind port 0.

use crate::App;
use crate::error::AppError;
use std::net::SocketAddr;

pub struct Listeners {
    /// The HTTP API, the web inbox and the hosted MCP upstreams.
    pub http: tokio::net::TcpListener,
    /// `[[postgres]]` listeners; one the config names but this lacks is bound by
    /// [`App::run`] at its configured address.
    pub postgres: holdpoint_pg::Sockets,
}

impl Listeners {
    /// Just the HTTP listener.
    pub fn http(http: tokio::net::TcpListener) -> Listeners {
        Listeners {
            http,
            postgres: holdpoint_pg::Sockets::default(),
        }
    }

    pub fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }
}

impl App {
    /// Binds every `[[postgres]]` listener, then the HTTP API at `listen` (or the
    /// config's `[server] listen`).
    pub async fn bind(&self, listen: Option<&str>) -> Result<Listeners, AppError> {
        let postgres = holdpoint_pg::Sockets::bind(&self.sections.postgres)?;
        let addr = listen.map_or_else(|| self.config.listen(), str::to_string);
        let http = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|error| AppError::Listen { addr, error })?;
        Ok(Listeners { http, postgres })
    }
}
