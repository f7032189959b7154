//! A gated request at the gate (`tools/call`, and the methods of `methods.rs`): allowed
//! ones go on; denied ones come back with the reason, so the model reads it (a tool
//! result with `isError`, an error for the other methods); held ones wait for the
//! decision, with progress notifications, up to the upstream's `hold_wait` (a task's,
//! with no limit: see `tasks.rs`). A request the client cancels, or one whose session
//! ends (closed, idled out, the gateway stopping), withdraws its hold, unless another
//! request of the gateway still follows the same hold (a joined one), and is never
//! forwarded after.

use crate::action::ToolCall;
use crate::gatekeeper::{Gatekeeper, Ruling};
use holdpoint_core::Status;
use rmcp::Peer;
use rmcp::model::{CallToolResult, Content, ProgressNotificationParam, ProgressToken};
use rmcp::service::RoleServer;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often a waiting call tells the client it is still held.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What becomes of a call.
#[derive(Debug)]
pub enum Gated {
    /// Forward it upstream; `reviewed` when it goes on a reviewer's approval, so the
    /// tool must still be the one reviewed.
    Forward { reviewed: bool },
    /// Answer the client with this reason instead (`holdpoint: …`).
    Refuse(String),
}

/// Where news of a held call goes: progress notifications to the client, under its
/// token, and for a call made as a task, the task's status message.
pub struct Progress<'a> {
    pub peer: &'a Peer<RoleServer>,
    pub token: Option<ProgressToken>,
    pub noted: Option<&'a (dyn Fn(&str) + Sync)>,
}

impl Progress<'_> {
    async fn tell(&self, step: u32, message: String) {
        if let Some(noted) = self.noted {
            noted(&message);
        }
        if let Some(token) = &self.token {
            let mut param = ProgressNotificationParam::new(token.clone(), f64::from(step));
            param.message = Some(message);
            // A client that went away is noticed by the cancellation, not here.
            let _ = self.peer.notify_progress(param).await;
        }
    }
}

/// A call submitted to the gate: decided at once, or held with this ruling.
pub enum Submitted {
    Decided(Gated),
    Held(Ruling),
}

/// Decides `call`: submit it, and for a hold, wait up to `hold_wait` for the decision.
pub async fn gate(
    keeper: &dyn Gatekeeper,
    call: &ToolCall,
    hold_wait: Duration,
    progress: Progress<'_>,
    ct: &CancellationToken,
    ended: &CancellationToken,
) -> Gated {
    match submit(keeper, call, ended).await {
        Submitted::Decided(gated) => gated,
        Submitted::Held(ruling) => {
            follow(keeper, call, ruling, Some(hold_wait), progress, ct, ended).await
        }
    }
}

/// Submits `call` as an action.
pub async fn submit(
    keeper: &dyn Gatekeeper,
    call: &ToolCall,
    ended: &CancellationToken,
) -> Submitted {
    if ended.is_cancelled() {
        return Submitted::Decided(refuse("the MCP session ended".into()));
    }
    let ruling = match keeper.submit(call).await {
        Ok(ruling) => ruling,
        Err(e) => {
            return Submitted::Decided(refuse(format!(
                "holdpoint could not check this call, so it was not made: {e}"
            )));
        }
    };
    if ruling.proceed {
        return Submitted::Decided(Gated::Forward {
            reviewed: ruling.reviewed,
        });
    }
    if ruling.status != Status::Pending {
        return Submitted::Decided(refuse(describe(&ruling)));
    }
    Submitted::Held(ruling)
}

/// Follows a held call until it is decided, withdrawn (`ct` or `ended` fire), or, with a
/// `wait`, that long has passed; with none, until the hold itself expires.
pub async fn follow(
    keeper: &dyn Gatekeeper,
    call: &ToolCall,
    ruling: Ruling,
    wait: Option<Duration>,
    progress: Progress<'_>,
    ct: &CancellationToken,
    ended: &CancellationToken,
) -> Gated {
    let mut id = ruling.id.clone();
    let mut following = Following::new(&id);
    let deadline = wait.map(|wait| Instant::now() + wait);
    let mut step = 0;
    progress
        .tell(
            step,
            format!("held for approval as {id}: {}", ruling.reason),
        )
        .await;
    loop {
        let left = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => PROGRESS_EVERY,
        };
        if left.is_zero() {
            return refuse(format!(
                "this call is pending approval as {id} ({}). Once a reviewer approves it, make \
                 the same call again and it will pass",
                ruling.reason
            ));
        }
        // Biased: a cancellation or a session's end wins over an approval at the same time.
        let waited = tokio::select! {
            biased;
            () = ct.cancelled() => {
                withdraw(keeper, following).await;
                return refuse(format!("cancelled by the client; {id} was withdrawn"));
            }
            () = ended.cancelled() => {
                withdraw(keeper, following).await;
                return refuse(format!("the MCP session ended; {id} was withdrawn"));
            }
            waited = keeper.wait(call, &id, left.min(PROGRESS_EVERY)) => waited,
        };
        let now = match waited {
            Ok(now) => now,
            Err(e) => {
                return refuse(format!(
                    "holdpoint could not follow {id}, so the call was not made: {e}"
                ));
            }
        };
        match now.status {
            Status::Pending => {
                // Another session took the approval, so the resubmission is a hold of
                // its own: follow that one from now on.
                if now.id != id {
                    id = now.id.clone();
                    following = Following::new(&id);
                    progress
                        .tell(step, format!("held again for approval as {id}"))
                        .await;
                    continue;
                }
                step += 1;
                progress
                    .tell(step, format!("still held for approval as {id}"))
                    .await;
            }
            // The gatekeeper's wait took the approval (the proxy's own resubmission, or
            // this read for a hold first opened by a surface whose client executes it).
            // The session ended as the approval was taken: nothing runs for it now.
            _ if now.proceed && ended.is_cancelled() => {
                return refuse(format!("the MCP session ended; {id} was not run"));
            }
            _ if now.proceed => return Gated::Forward { reviewed: true },
            _ => return refuse(describe(&now)),
        }
    }
}

/// Why a call did not go ahead, for the model to read.
fn describe(ruling: &Ruling) -> String {
    let id = &ruling.id;
    match ruling.status {
        Status::Denied => format!("denied by policy ({id}): {}", ruling.reason),
        Status::Rejected if ruling.comments.is_empty() => format!("rejected by a reviewer ({id})"),
        Status::Rejected => format!(
            "rejected by a reviewer ({id}): {}",
            ruling.comments.join("; ")
        ),
        Status::Expired => format!("the hold {id} expired before anyone approved it"),
        Status::Cancelled => format!("{id} was withdrawn"),
        status => format!("{id} is {status}: {}", ruling.reason),
    }
}

/// How many requests of this process follow each held action. A submission with the
/// digest of a pending hold joins it (another session's call, a task, a retry), so one
/// hold may have several waiters; one that leaves (cancelled, its session ended)
/// withdraws the hold only when no other still follows it.
static FOLLOWERS: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Default::default);

fn followers() -> std::sync::MutexGuard<'static, HashMap<String, usize>> {
    FOLLOWERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request following a held action; dropped, it follows it no more.
struct Following {
    id: String,
    left: bool,
}

impl Following {
    fn new(id: &str) -> Following {
        *followers().entry(id.to_string()).or_default() += 1;
        Following {
            id: id.to_string(),
            left: false,
        }
    }

    /// Stops following; true when it was the last request of this process to follow
    /// the hold (counted down and checked under one lock).
    fn leave(mut self) -> bool {
        self.left = true;
        release(&self.id)
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        if !self.left {
            release(&self.id);
        }
    }
}

/// One follower of `id` fewer; true when none is left.
fn release(id: &str) -> bool {
    let mut followers = followers();
    let Some(count) = followers.get_mut(id) else {
        return true;
    };
    *count = count.saturating_sub(1);
    let last = *count == 0;
    if last {
        followers.remove(id);
    }
    last
}

/// Withdraws the hold `following` follows, unless another request still follows it.
async fn withdraw(keeper: &dyn Gatekeeper, following: Following) {
    let id = following.id.clone();
    if !following.leave() {
        tracing::debug!(action = %id, "a held MCP request left a hold another still follows");
        return;
    }
    if let Err(e) = keeper.cancel(&id).await {
        tracing::warn!(action = %id, error = %e, "could not withdraw a held MCP request");
    }
}

fn refuse(text: String) -> Gated {
    Gated::Refuse(format!("holdpoint: {text}"))
}

/// A refusal as the tool result the model reads.
pub fn tool_refusal(text: String) -> CallToolResult {
    CallToolResult::error(vec![Content::text(text)])
}

/// The answer to a reviewed call whose tool changed since it was listed for the review.
pub fn changed_since_review(tool: &str) -> CallToolResult {
    CallToolResult::error(vec![Content::text(format!(
        "holdpoint: the tool `{tool}` changed (description, input schema or annotations) \
         since the call was reviewed, so the approval does not pass it and it was not made. \
         Make the call again to ask for a review of the tool as it is now"
    ))])
}
