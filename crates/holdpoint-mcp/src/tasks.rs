//! Held calls as tasks (MCP 2025-11-25, SEP-1686). The proxy tells the agent it takes
//! `tools/call` as a task, and lists every tool as one that may be called as a task. A
//! call the agent sends as a task (`params.task`) is answered at once with a task of the
//! proxy's own, as the specification asks of a server that supports it, instead of a
//! request held open for minutes: a call policy decides runs (or is refused) at once, a
//! held one waits behind the task. The agent polls it (`tasks/get`), waits on it
//! (`tasks/result`), lists it (`tasks/list`) or withdraws it (`tasks/cancel`, which
//! withdraws the hold).
//!
//! Behind the task the call follows its hold until a reviewer decides or the hold
//! expires, with no `hold_wait` limit; an approved call then goes on as a call made on
//! an approval does (the tool listed again, the same fingerprint required), and its
//! result, or the refusal the model reads, is the task's result (`completed`; `failed`
//! only for an error the upstream answered). A session's tasks end with it: its held
//! calls are withdrawn and its tasks `cancelled`.
//!
//! Task ids are random and a session sees only its own; ids the proxy did not make are
//! the upstream's (a call policy let go on to a tool the upstream runs as a task) and
//! pass to it. A session keeps at most [`MAX_TASKS`] tasks; a finished one is dropped
//! after its `ttl` (at most [`MAX_TTL`]), or sooner to make room for a new one.

use chrono::SecondsFormat;
use holdpoint_core::{Clock, SystemClock};
use rand::RngCore;
use rmcp::ErrorData as McpError;
use rmcp::model::{CreateTaskResult, JsonObject, Meta, ServerResult, Task, TaskStatus};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The most tasks one session keeps, running and finished.
pub const MAX_TASKS: usize = 64;
/// How long a finished task is kept when the agent asks for no `ttl`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// The longest a finished task is kept, whatever `ttl` the agent asks for.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often the agent is told to poll a held call.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The `_meta` key that ties a result to its task.
pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// A task's state as the agent sees it, and its result once it has one.
#[derive(Clone)]
struct State {
    status: TaskStatus,
    message: Option<String>,
    updated_at: String,
    outcome: Option<Result<ServerResult, McpError>>,
    /// When it finished, for its `ttl`.
    finished: Option<Instant>,
}

struct Entry {
    created_at: String,
    ttl: Duration,
    state: watch::Sender<State>,
    /// Fires on `tasks/cancel`: the hold is withdrawn.
    cancel: CancellationToken,
}

impl Entry {
    fn task(&self, id: &str) -> Task {
        let state = self.state.borrow();
        let mut task = Task::new(
            id.to_string(),
            state.status.clone(),
            self.created_at.clone(),
            state.updated_at.clone(),
        )
        .with_ttl(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX));
        if state.status == TaskStatus::Working {
            task = task.with_poll_interval(POLL_INTERVAL.as_millis() as u64);
        }
        if let Some(message) = &state.message {
            task = task.with_status_message(message.clone());
        }
        task
    }

    fn finished(&self) -> Option<Instant> {
        self.state.borrow().finished
    }

    fn expired(&self, now: Instant) -> bool {
        self.finished()
            .is_some_and(|at| now.duration_since(at) >= self.ttl)
    }
}

/// One task's handle for the work behind it.
pub struct TaskWork {
    entry: Arc<Entry>,
    pub id: String,
    /// Fires when the agent withdraws the task.
    pub cancel: CancellationToken,
}

impl TaskWork {
    /// A new status message while the task works.
    pub fn note(&self, message: &str) {
        self.entry.state.send_modify(|state| {
            state.message = Some(message.to_string());
            state.updated_at = now();
        });
    }

    /// The task's end: `outcome` is what `tasks/result` answers; `withdrawn` when the
    /// agent cancelled it or its session ended.
    pub fn finish(&self, outcome: Result<ServerResult, McpError>, withdrawn: bool) {
        let status = if withdrawn {
            TaskStatus::Cancelled
        } else if outcome.is_err() {
            TaskStatus::Failed
        } else {
            TaskStatus::Completed
        };
        let message = match &outcome {
            Err(e) => Some(e.message.to_string()),
            Ok(_) => None,
        };
        self.entry.state.send_modify(|state| {
            state.status = status;
            state.message = message.or(state.message.take());
            state.updated_at = now();
            state.outcome = Some(outcome.map(|result| related(result, &self.id)));
            state.finished = Some(Instant::now());
        });
    }
}

/// A session's tasks.
#[derive(Default)]
pub struct Tasks {
    open: Mutex<HashMap<String, Arc<Entry>>>,
}

impl Tasks {
    /// A new working task for a call, opened before the call is submitted, with the
    /// `ttl` the agent asked for (capped), and what the agent is answered with. When the
    /// session keeps [`MAX_TASKS`], the task that finished first is dropped; when all of
    /// them still run, refused.
    pub fn open(&self, asked: &JsonObject) -> Result<(TaskWork, CreateTaskResult), McpError> {
        let ttl = asked
            .get("ttl")
            .and_then(|ttl| ttl.as_u64())
            .map_or(DEFAULT_TTL, Duration::from_millis)
            .min(MAX_TTL);
        let mut open = self.lock();
        let now_at = Instant::now();
        open.retain(|_, entry| !entry.expired(now_at));
        if open.len() >= MAX_TASKS {
            // Room is made by dropping the task that finished first.
            let first_finished = (open.iter())
                .filter_map(|(id, entry)| Some((entry.finished()?, id.clone())))
                .min();
            if let Some((_, id)) = first_finished {
                open.remove(&id);
            }
        }
        if open.len() >= MAX_TASKS {
            return Err(McpError::invalid_request(
                format!(
                    "holdpoint: this session already has {MAX_TASKS} tasks running; wait \
                     for one to finish, or cancel one"
                ),
                None,
            ));
        }
        let created_at = now();
        let (state, _) = watch::channel(State {
            status: TaskStatus::Working,
            message: None,
            updated_at: created_at.clone(),
            outcome: None,
            finished: None,
        });
        let entry = Arc::new(Entry {
            created_at,
            ttl,
            state,
            cancel: CancellationToken::new(),
        });
        let id = new_id();
        open.insert(id.clone(), entry.clone());
        let created = CreateTaskResult::new(entry.task(&id));
        let cancel = entry.cancel.clone();
        Ok((TaskWork { entry, id, cancel }, created))
    }

    /// True when `id` is one of this session's tasks (else it is the upstream's).
    pub fn owns(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    fn entry(&self, id: &str) -> Result<Arc<Entry>, McpError> {
        let entry = self.lock().get(id).cloned();
        entry
            .filter(|entry| !entry.expired(Instant::now()))
            .ok_or_else(|| McpError::invalid_params("no such task in this session", None))
    }

    /// `tasks/get`.
    pub fn get(&self, id: &str) -> Result<Task, McpError> {
        Ok(self.entry(id)?.task(id))
    }

    /// `tasks/list`: this session's tasks, oldest first.
    pub fn list(&self) -> Vec<Task> {
        let now_at = Instant::now();
        let mut tasks: Vec<Task> = (self.lock().iter())
            .filter(|(_, entry)| !entry.expired(now_at))
            .map(|(id, entry)| entry.task(id))
            .collect();
        tasks.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        tasks
    }

    /// `tasks/cancel`: withdraws a working task; a finished one is refused.
    pub async fn cancel(&self, id: &str) -> Result<Task, McpError> {
        let entry = self.entry(id)?;
        if entry.state.borrow().status != TaskStatus::Working {
            return Err(McpError::invalid_params(
                "the task has already finished",
                None,
            ));
        }
        entry.cancel.cancel();
        let mut state = entry.state.subscribe();
        // The work behind it withdraws the hold, then finishes the task.
        let _ = state.wait_for(|s| s.status != TaskStatus::Working).await;
        Ok(entry.task(id))
    }

    /// `tasks/result`: the task's result, once it has one.
    pub async fn result(&self, id: &str) -> Result<ServerResult, McpError> {
        let entry = self.entry(id)?;
        let mut state = entry.state.subscribe();
        let outcome = match state.wait_for(|s| s.outcome.is_some()).await {
            Ok(state) => state.outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| Err(McpError::internal_error("the task was lost", None)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The refusal the model reads, as the call's result.
pub fn refusal(text: String) -> ServerResult {
    ServerResult::CallToolResult(crate::calls::tool_refusal(text))
}

/// A result tied to its task in `_meta`, as `tasks/result` answers it.
fn related(result: ServerResult, id: &str) -> ServerResult {
    match result {
        ServerResult::CallToolResult(mut call) => {
            let meta = call.meta.get_or_insert_with(Meta::default);
            meta.0.insert(RELATED_TASK.into(), json!({ "taskId": id }));
            ServerResult::CallToolResult(call)
        }
        other => other,
    }
}

/// A task's timestamps are for the agent to read: its lifetime runs on tokio's clock.
fn now() -> String {
    SystemClock
        .now()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn new_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("hp-task-{}", hex::encode(bytes))
}
