//! Reload on change: a `notify` watcher on the policy directory, debounced.
//!
//! Editors and deploy tools touch a file several times per save (truncate, write, rename,
//! chmod), so a burst of events becomes one reload once the directory has been quiet for
//! [`QUIET`]. The watcher thread blocks on a channel: no polling.

use crate::engine::PolicyEngine;
use crate::error::PolicyError;
use crate::load::{SCHEMA_FILE, is_policy_file};
use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the directory must be quiet before a reload.
const QUIET: Duration = Duration::from_millis(250);
/// A steady stream of events still reloads this often.
const MAX_DELAY: Duration = Duration::from_secs(2);

enum Msg {
    Event(notify::Result<Event>),
    Stop,
}

/// Watches the policy directory while it lives; dropping it stops the watching.
pub struct PolicyWatcher {
    watcher: Option<notify::RecommendedWatcher>,
    stop: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PolicyWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyWatcher").finish_non_exhaustive()
    }
}

impl Drop for PolicyWatcher {
    fn drop(&mut self) {
        drop(self.watcher.take());
        // The thread may already be gone; then there is nobody to tell.
        let _ = self.stop.send(Msg::Stop);
        if let Some(thread) = self.thread.take() {
            // Dropped from inside `on_reload`: the thread ends by itself after returning.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

impl PolicyEngine {
    /// Watches the policy directory: after each burst of changes, [`reload`](Self::reload)
    /// runs and `on_reload` gets its result (log it, audit it). Fails with
    /// [`PolicyError::NoDirectory`] when the engine has no directory.
    pub fn watch(
        self: &Arc<Self>,
        on_reload: impl Fn(Result<Vec<String>, PolicyError>) + Send + Sync + 'static,
    ) -> Result<PolicyWatcher, PolicyError> {
        let dir = self.dir().ok_or(PolicyError::NoDirectory)?.to_path_buf();
        let (tx, rx) = mpsc::channel::<Msg>();
        let events = tx.clone();
        let mut watcher = notify::recommended_watcher(move |event| {
            // The receiver is gone only once the watcher is being dropped.
            let _ = events.send(Msg::Event(event));
        })
        .map_err(|e| PolicyError::io(&dir, format!("cannot watch: {e}")))?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| PolicyError::io(&dir, format!("cannot watch: {e}")))?;
        let engine = Arc::downgrade(self);
        let thread = std::thread::Builder::new()
            .name("holdpoint-policy-watch".into())
            .spawn(move || run(&engine, &dir, &rx, &on_reload))
            .map_err(|e| PolicyError::Io {
                path: String::from("policy watcher thread"),
                message: e.to_string(),
            })?;
        Ok(PolicyWatcher {
            watcher: Some(watcher),
            stop: tx,
            thread: Some(thread),
        })
    }
}

fn run(
    engine: &Weak<PolicyEngine>,
    dir: &Path,
    rx: &Receiver<Msg>,
    on_reload: &dyn Fn(Result<Vec<String>, PolicyError>),
) {
    loop {
        match rx.recv() {
            Ok(Msg::Event(event)) if relevant(dir, &event) => {}
            Ok(Msg::Event(_)) => continue,
            Ok(Msg::Stop) | Err(_) => return,
        }
        if !settle(dir, rx) {
            return;
        }
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let result = engine.reload();
        drop(engine);
        on_reload(result);
    }
}

/// Waits until no relevant event came for [`QUIET`] (or [`MAX_DELAY`] passed). Returns
/// false when the watcher is stopping.
fn settle(dir: &Path, rx: &Receiver<Msg>) -> bool {
    let started = Instant::now();
    let mut deadline = started + QUIET;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::Event(event)) => {
                if relevant(dir, &event) {
                    deadline = (Instant::now() + QUIET).min(started + MAX_DELAY);
                }
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
            Err(RecvTimeoutError::Timeout) => return true,
        }
    }
}

/// Whether an event may change what [`crate::read_dir`] reads. Reads (our own
/// included) are not; an error might mean lost events, so it is.
fn relevant(dir: &Path, event: &notify::Result<Event>) -> bool {
    let event = match event {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(error = %err, "policy directory watcher error; reloading to be safe");
            return true;
        }
    };
    if let EventKind::Access(access) = event.kind
        && access != AccessKind::Close(AccessMode::Write)
    {
        return false;
    }
    event.paths.is_empty() || event.paths.iter().any(|path| relevant_path(dir, path))
}

fn relevant_path(dir: &Path, path: &PathBuf) -> bool {
    if path == dir {
        return true;
    }
    match path.file_name().and_then(|n| n.to_str()) {
        // `..data` and friends: how Kubernetes swaps a mounted ConfigMap at once.
        Some(name) => is_policy_file(name) || name == SCHEMA_FILE || name.starts_with(".."),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind};

    fn event(kind: EventKind, path: &str) -> notify::Result<Event> {
        Ok(Event::new(kind).add_path(PathBuf::from(path)))
    }

    #[test]
    fn only_changes_to_policy_files_matter() {
        let dir = Path::new("/p");
        let modify = EventKind::Modify(ModifyKind::Any);
        assert!(relevant(dir, &event(modify, "/p/10-holds.cedar")));
        assert!(relevant(dir, &event(modify, "/p/schema.cedarschema")));
        assert!(relevant(
            dir,
            &event(EventKind::Create(CreateKind::Any), "/p/..data")
        ));
        assert!(!relevant(dir, &event(modify, "/p/.10-holds.cedar.swp")));
        assert!(!relevant(dir, &event(modify, "/p/notes.txt")));
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        assert!(!relevant(dir, &event(open, "/p/10-holds.cedar")));
        let written = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(relevant(dir, &event(written, "/p/10-holds.cedar")));
    }
}
