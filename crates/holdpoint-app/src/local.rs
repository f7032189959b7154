//! What the local commands need from the gateway's parts, with no gateway running:
//! `admin-token` (an admin token written straight into the store) and `audit`
//! (verifying and exporting the chain of a database, perhaps a copy).

use crate::error::AppError;
use crate::{Config, data};
use holdpoint_core::audit::ChainReport;
use holdpoint_core::{Actor, AuditEvent, PrincipalKind, Store, SystemClock, TokenRecord};
use holdpoint_gate::{Directory, Gate, GateParts, NewToken};
use holdpoint_policy::{PolicyEngine, PolicySet};
use holdpoint_store::{OpenMode, SqlStore};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// An admin token named `name`, created in the store of `data` and audited as created
/// by the local operator; works with the gateway running or stopped. The secret (shown
/// once) and the record.
pub async fn admin_token(
    config: &Config,
    data: &Path,
    name: &str,
) -> Result<(String, TokenRecord), AppError> {
    data::private_data_dir(data)?;
    let defaults = config.hold_defaults()?;
    let set = PolicySet::compile(&[], &defaults, None).map_err(AppError::Policy)?;
    let masker = crate::masker(config, data)?;
    let settings = config.gate_settings()?;
    let store = SqlStore::open(&config.store_url(data), OpenMode::Serve)
        .await
        .map_err(AppError::Store)?;
    let gate = Gate::new(GateParts {
        store: Arc::new(store.clone()),
        policy: Arc::new(PolicyEngine::new(set, defaults, None)),
        clock: Arc::new(SystemClock),
        masker,
        directory: Directory::new(config.users.clone()),
        settings,
    });
    let request = NewToken {
        name: name.to_string(),
        kind: PrincipalKind::Admin,
        groups: Vec::new(),
        owner: None,
        ttl: None,
    };
    let created = gate
        .create_token(&Actor::new("system", "operator", "local"), request)
        .await;
    store.close().await;
    Ok(created?)
}

/// The store of `data`, opened to be read (nothing is migrated or written).
pub struct Inspection {
    store: SqlStore,
}

/// How `audit export` writes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    JsonLines,
    Csv,
}

impl Inspection {
    pub async fn open(config: &Config, data: &Path) -> Result<Inspection, AppError> {
        let store = SqlStore::open(&config.store_url(data), OpenMode::Inspect)
            .await
            .map_err(AppError::Store)?;
        Ok(Inspection { store })
    }

    /// Checks the hash chain; names the first bad event.
    pub async fn verify(&self) -> Result<ChainReport, AppError> {
        self.store.verify_chain().await.map_err(AppError::Store)
    }

    /// Writes every event at or after `since` to `out`, in chain order. Agent-written
    /// text is escaped so that it cannot move a terminal's cursor.
    pub async fn export(
        &self,
        format: ExportFormat,
        since: Option<chrono::DateTime<chrono::Utc>>,
        out: impl Write,
    ) -> Result<(), ExportError> {
        match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER)?;
                self.for_each_event(since, |ev| Ok(w.write_record(csv_record(ev))?))
                    .await?;
                w.flush()?;
            }
            ExportFormat::JsonLines => {
                let mut out = std::io::BufWriter::new(out);
                self.for_each_event(since, |ev| {
                    let line = serde_json::to_string(ev)?;
                    let line = holdpoint_core::text::escape_json_text(&line);
                    Ok(writeln!(out, "{line}")?)
                })
                .await?;
                out.flush()?;
            }
        }
        Ok(())
    }

    /// Calls `f` on every event at or after `since`, in chain order.
    async fn for_each_event(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
        mut f: impl FnMut(&AuditEvent) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let mut after = 0;
        loop {
            let page = self
                .store
                .audit_events(after, 1000)
                .await
                .map_err(|e| ExportError::App(AppError::Store(e)))?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.seq;
            for ev in page.iter().filter(|e| since.is_none_or(|s| e.time >= s)) {
                f(ev)?;
            }
        }
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("cannot write the export")]
    Io(#[from] std::io::Error),
    #[error("cannot write the export")]
    Csv(#[from] csv::Error),
    #[error("cannot write the export")]
    Json(#[from] serde_json::Error),
}

const CSV_HEADER: [&str; 10] = [
    "seq",
    "time",
    "type",
    "actor_kind",
    "actor_name",
    "actor_channel",
    "action_id",
    "data",
    "prev_hash",
    "hash",
];

fn csv_record(ev: &AuditEvent) -> [String; 10] {
    [
        ev.seq.to_string(),
        ev.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ev.event_type.to_string(),
        ev.actor.kind.clone(),
        ev.actor.name.clone(),
        ev.actor.channel.clone(),
        ev.action_id
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        holdpoint_core::text::escape_json_text(&ev.data.to_string()),
        ev.prev_hash.clone(),
        ev.hash.clone(),
    ]
}
