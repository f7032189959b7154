//! The policy set: a folder of `.cedar` files, or the embedded starter set; and the
//! watcher that reloads the folder on change and audits each reload.

use crate::Config;
use crate::error::AppError;
use holdpoint_gate::Gate;
use holdpoint_policy::{PolicyEngine, PolicySet, PolicyWatcher};
use std::path::Path;
use std::sync::Arc;

/// The policies in `dir`, or the starter set when there is none.
pub fn load(config: &Config, dir: Option<&Path>) -> Result<PolicySet, AppError> {
    let defaults = config.hold_defaults()?;
    match dir {
        Some(dir) => holdpoint_policy::load_dir(dir, &defaults),
        None => PolicySet::compile(&holdpoint_policy::starter_sources(), &defaults, None),
    }
    .map_err(AppError::Policy)
}

/// Reloads the engine's folder `dir` on every change, auditing each reload (or refusal)
/// through `gate`; `None` for the starter set, which never changes.
pub(crate) fn watch(
    engine: &Arc<PolicyEngine>,
    gate: &Arc<Gate>,
    dir: Option<&Path>,
) -> Result<Option<PolicyWatcher>, AppError> {
    let Some(dir) = dir.map(Path::to_path_buf) else {
        return Ok(None);
    };
    let handle = tokio::runtime::Handle::current();
    let audit_gate = gate.clone();
    let watcher = engine
        .watch(move |result| {
            let gate = audit_gate.clone();
            let result = result.map_err(|e| e.to_string());
            handle.spawn(async move {
                if let Err(e) = gate.record_policy_load(result).await {
                    tracing::error!(error = %e, "cannot audit a policy reload");
                }
            });
        })
        .map_err(|error| AppError::Watch {
            path: dir.clone(),
            error,
        })?;
    tracing::info!(dir = %dir.display(), "watching policies for changes");
    Ok(Some(watcher))
}
