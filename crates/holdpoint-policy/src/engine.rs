//! [`PolicyEngine`]: the current [`PolicySet`] behind an `Arc`, swapped whole on reload.
//!
//! Evaluation takes the current set and never waits on a reload: a reload compiles the
//! new set first and swaps it in only when it compiled, so a bad edit leaves the old
//! policies in force (DESIGN §3).

use crate::error::PolicyError;
use crate::{HoldDefaults, PolicyInput, PolicySet, load_dir};
use holdpoint_core::Evaluation;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// The policies in force. `Send + Sync`; share it as `Arc<PolicyEngine>`.
#[derive(Debug)]
pub struct PolicyEngine {
    current: RwLock<Arc<PolicySet>>,
    defaults: HoldDefaults,
    dir: Option<PathBuf>,
    /// Serialises reloads, so the last one to finish read the newest files.
    reloading: Mutex<()>,
}

impl PolicyEngine {
    /// An engine starting with `set`. `dir` is where [`reload`](Self::reload) reads
    /// from; `None` for embedded policies, which never reload.
    pub fn new(set: PolicySet, defaults: HoldDefaults, dir: Option<PathBuf>) -> Self {
        PolicyEngine {
            current: RwLock::new(Arc::new(set)),
            defaults,
            dir,
            reloading: Mutex::new(()),
        }
    }

    /// The policy set in force now.
    pub fn current(&self) -> Arc<PolicySet> {
        // A poisoned lock still holds a whole `Arc`: swapping it cannot half-happen.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Evaluates against the current set.
    pub fn evaluate(&self, input: &PolicyInput<'_>) -> Evaluation {
        self.current().evaluate(input)
    }

    /// The directory the policies come from, if any.
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Re-reads the directory. On success the new set is in force and its ids are
    /// returned; on error the old set stays.
    pub fn reload(&self) -> Result<Vec<String>, PolicyError> {
        let dir = self.dir.as_deref().ok_or(PolicyError::NoDirectory)?;
        let _guard = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match load_dir(dir, &self.defaults) {
            Ok(set) => {
                let ids = set.ids();
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
                tracing::info!(dir = %dir.display(), policies = ids.len(), "policies reloaded");
                Ok(ids)
            }
            Err(err) => {
                tracing::warn!(dir = %dir.display(), error = %err, "policy reload refused; the previous policies stay in force");
                Err(err)
            }
        }
    }
}
