//! Forwarding one request to the other side, keeping what the two sessions do not share:
//! request ids (rmcp numbers its own), progress tokens (mapped back and forth through a
//! [`ProgressMap`]) and cancellation (a cancelled request cancels its forwarded copy).

use rmcp::model::{
    CancelledNotification, CancelledNotificationParam, Meta, ProgressNotificationParam,
    ProgressToken,
};
use rmcp::service::{PeerRequestOptions, ServiceError, ServiceRole};
use rmcp::{ErrorData as McpError, Peer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// The progress token of each forwarded request in flight → the token its sender gave.
#[derive(Debug, Clone, Default)]
pub struct ProgressMap(Arc<Mutex<HashMap<ProgressToken, ProgressToken>>>);

impl ProgressMap {
    fn insert(&self, forwarded: ProgressToken, original: ProgressToken) {
        self.lock().insert(forwarded, original);
    }

    fn remove(&self, forwarded: &ProgressToken) {
        self.lock().remove(forwarded);
    }

    /// A progress notification for a forwarded request, readdressed to its sender's token;
    /// `None` for a token no request in flight carries.
    pub fn readdress(
        &self,
        mut param: ProgressNotificationParam,
    ) -> Option<ProgressNotificationParam> {
        let original = self.lock().get(&param.progress_token).cloned()?;
        param.progress_token = original;
        Some(param)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ProgressToken, ProgressToken>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sends `request` to `peer` and waits for its answer. `meta` is the original request's
/// `_meta`: passed on, with the progress token replaced by the forwarded request's own and
/// mapped back in `progress`. When `ct` fires, the forwarded request is cancelled too.
pub async fn forward<R: ServiceRole>(
    peer: &Peer<R>,
    request: R::Req,
    meta: Meta,
    ct: &CancellationToken,
    progress: &ProgressMap,
    who: &str,
) -> Result<R::PeerResp, McpError> {
    let original_token = meta.get_progress_token();
    let mut meta = meta;
    meta.0.remove("progressToken");
    let mut options = PeerRequestOptions::no_options();
    options.meta = (!meta.0.is_empty()).then_some(meta);
    let handle = peer
        .send_request_with_option(request, options)
        .await
        .map_err(|e| failure(e, who))?;
    let forwarded_token = handle.progress_token.clone();
    if let Some(original) = original_token {
        progress.insert(forwarded_token.clone(), original);
    }
    let id = handle.id.clone();
    let answer = tokio::select! {
        answer = handle.await_response() => answer.map_err(|e| failure(e, who)),
        () = ct.cancelled() => {
            let _ = peer.send_notification(cancelled(id)).await;
            Err(McpError::internal_error("cancelled by the client", None))
        }
    };
    progress.remove(&forwarded_token);
    answer
}

fn cancelled<N: From<CancelledNotification>>(id: rmcp::model::RequestId) -> N {
    CancelledNotification::new(CancelledNotificationParam {
        request_id: id,
        reason: Some("cancelled by the client".into()),
    })
    .into()
}

/// A failure to forward as the error the other side sees. An error the peer answered
/// passes unchanged; anything else names `who` could not be reached.
pub fn failure(error: ServiceError, who: &str) -> McpError {
    match error {
        ServiceError::McpError(e) => e,
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
            McpError::internal_error(format!("{who} is gone: its connection closed"), None)
        }
        other => McpError::internal_error(format!("{who}: {other}"), None),
    }
}
