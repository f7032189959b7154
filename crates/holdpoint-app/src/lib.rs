//! # holdpoint-app: the gateway, as a library
//!
//! Reads `holdpoint.toml` and the embedded defaults, builds every component and runs
//! them until a shutdown future completes, so `holdpoint serve` is a few lines and a
//! test starts the whole gateway in process on port 0:
//!
//! ```no_run
//! # async fn example() -> Result<(), holdpoint_app::AppError> {
//! use holdpoint_app::{App, Config, Listeners};
//! use holdpoint_core::env::MapEnv;
//! let config = Config::parse("[store]\nurl = \"sqlite://test.db\"\n")?;
//! let app = App::build(config, std::path::Path::new("data"), &MapEnv::new()).await?;
//! let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|error| {
//!     holdpoint_app::AppError::Listen { addr: "127.0.0.1:0".into(), error }
//! })?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let running = tokio::spawn(app.run(Listeners::http(http), async move {
//!     let _ = stopped.await;
//! }));
//! // … talk to it over HTTP …
//! let _ = stop.send(());
//! # let _ = running.await;
//! # Ok(())
//! # }
//! ```
//!
//! This is the one crate that names concrete implementations: the SQL store, the
//! redactor, the system clock and the channels. A tour:
//! - `config.rs`: [`Config`], the file's sections and where paths are read from;
//!   `settings.rs`: `[approvals]` and `[limits]` as the gate's and server's settings;
//!   `starter.rs`: the config `holdpoint init` writes.
//! - `sections.rs`: the one place each surface's and channel's own section (owned by
//!   its crate) is registered: checked at load, resolved with the [`Env`], mounted.
//! - `app.rs`: [`App::build`]: store, policy engine and watcher, masker, gate, the first
//!   admin token; `data.rs`: the data folder (0700) and `admin.token` (0600);
//!   `policies.rs`: the policy set and its watcher.
//! - `listeners.rs`: [`Listeners`], bound before running; `run.rs`: [`App::run`],
//!   expiry, delivery, channels, the HTTP server, PostgreSQL listeners, and a clean
//!   stop.
//! - `local.rs`: what the local commands use with no gateway running: an admin token
//!   written into the store, and the audit chain verified or exported.
//! - `error.rs`: [`ConfigError`] and [`AppError`].
//!
//! [`Env`]: holdpoint_core::env::Env

mod app;
mod config;
mod data;
mod error;
mod listeners;
mod local;
pub mod policies;
mod run;
mod sections;
mod settings;
mod starter;

pub use app::{App, masker};
pub use config::{Config, DEFAULT_LISTEN, Policy, Server, Store};
pub use data::{ADMIN_TOKEN_FILE, private_data_dir};
pub use error::{AppError, ConfigError};
pub use listeners::Listeners;
pub use local::{ExportError, ExportFormat, Inspection, admin_token};
pub use settings::{Approvals, Limits};
pub use starter::STARTER_CONFIG;
