//! The seam to reviewer channels (Slack, Teams, webhooks). Channels receive only the
//! masked view of an action.

use crate::action::ActionRecord;
use async_trait::async_trait;

#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// A hold was created and reviewers should be asked.
    async fn hold_created(&self, action: &ActionRecord);
    /// A hold was decided (approved, rejected, expired, cancelled).
    async fn hold_decided(&self, action: &ActionRecord);
}

/// Tells nobody: the web inbox, CLI and API need no push.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNotifier;

#[async_trait]
impl Notifier for NoNotifier {
    async fn hold_created(&self, _action: &ActionRecord) {}
    async fn hold_decided(&self, _action: &ActionRecord) {}
}
