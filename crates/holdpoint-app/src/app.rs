//! [`App::build`]: every component of the gateway, built from a [`Config`] and ready to
//! [`run`](App::run). This is where the concrete implementations are chosen: the SQL
//! store, the redactor, the system clock and the channels.

use crate::error::{AppError, ConfigError};
use crate::sections::{self, Resolved};
use crate::{Config, data, policies};
use holdpoint_core::env::Env;
use holdpoint_core::mask::Masker;
use holdpoint_core::{Clock, Store, SystemClock};
use holdpoint_gate::{Directory, Gate, GateParts};
use holdpoint_policy::{PolicyEngine, PolicyWatcher};
use holdpoint_server::ServerLimits;
use holdpoint_store::{OpenMode, SqlStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The gateway, built and not yet serving.
pub struct App {
    pub(crate) config: Config,
    pub(crate) store: SqlStore,
    /// The same store, for the gate, the delivery worker and the Slack channel.
    pub(crate) shared: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) gate: Arc<Gate>,
    pub(crate) server_limits: ServerLimits,
    pub(crate) sections: Resolved,
    pub(crate) first_admin_token: Option<PathBuf>,
    pub(crate) watcher: Option<PolicyWatcher>,
    /// The data folder as an absolute path: the hook refuses agents any access to it.
    pub(crate) data: PathBuf,
}

impl App {
    /// Builds the gateway from `config`, keeping its database, masking key and first
    /// admin token in `data` and reading the secrets the config names from `env`. The
    /// config's warnings are logged here, once.
    pub async fn build(config: Config, data: &Path, env: &dyn Env) -> Result<App, AppError> {
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        data::private_data_dir(data)?;
        let defaults = config.hold_defaults()?;
        let mut settings = config.gate_settings()?;
        let server_limits = config.server_limits(descriptor_limit())?;
        let masker = masker(&config, data)?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let sections = sections::resolve(&config, env, clock.clone())?;
        settings.channels = sections.channel_names();

        // Policies first: a broken policy set stops the start, naming file and line.
        let dir = config.policy_dir();
        let set = policies::load(&config, dir.as_deref())?;
        let ids = set.ids();
        let engine = Arc::new(PolicyEngine::new(set, defaults, dir.clone()));

        let store = SqlStore::open(&config.store_url(data), OpenMode::Serve)
            .await
            .map_err(AppError::Store)?;
        tracing::info!(backend = store.backend(), "store open");
        let shared: Arc<dyn Store> = Arc::new(store.clone());
        let gate = Gate::new(GateParts {
            store: shared.clone(),
            policy: engine.clone(),
            clock: clock.clone(),
            masker,
            directory: Directory::new(config.users.clone()),
            settings,
        });
        let started = async {
            gate.record_policy_load(Ok(ids)).await?;
            gate.init_metrics().await?;
            let first_admin_token = data::bootstrap_admin(&gate, data).await?;
            let watcher = policies::watch(&engine, &gate, dir.as_deref())?;
            Ok::<_, AppError>((first_admin_token, watcher))
        };
        let (first_admin_token, watcher) = match started.await {
            Ok(started) => started,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        Ok(App {
            config,
            store,
            shared,
            clock,
            gate,
            server_limits,
            sections,
            first_admin_token,
            watcher,
            data: std::path::absolute(data).unwrap_or_else(|_| data.to_path_buf()),
        })
    }

    /// Where the first admin token was written, when this start wrote one.
    pub fn first_admin_token(&self) -> Option<&Path> {
        self.first_admin_token.as_deref()
    }

    /// The gate every surface and channel of this gateway goes through.
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// The config it was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Closes the store without serving, for a built gateway that will not run.
    pub async fn close(self) {
        drop(self.watcher);
        self.store.close().await;
    }
}

/// The deployment's masker: its key (created in the data folder on first use) and
/// `[masking]`.
pub fn masker(config: &Config, data: &Path) -> Result<Arc<dyn Masker>, ConfigError> {
    let key = holdpoint_mask::load_or_create_key(data).map_err(ConfigError::MaskKey)?;
    let redactor =
        holdpoint_mask::Redactor::new(&key, &config.masking).map_err(ConfigError::Masking)?;
    Ok(Arc::new(redactor))
}

/// The soft limit on open descriptors, if it can be read.
fn descriptor_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}
