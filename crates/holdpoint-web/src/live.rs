//! `GET /events`: server-sent events for the holds the viewer may see, as they are
//! created, reviewed or decided through this gateway. Each event names the action and
//! its status and nothing else; the page fetches what it shows through the usual,
//! checked routes. The stream ends when the session does: at once on sign-out or when
//! an admin ends it through this gateway, within 15 s when it times out, its token is
//! revoked, or it is ended on another gateway (each check asks the gate, which asks the
//! store).

use crate::WebState;
use crate::auth::{self, Watcher};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use holdpoint_gate::{HoldChange, may_see};
use serde_json::json;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often an idle stream checks that its session is still live.
const SESSION_CHECK: Duration = Duration::from_secs(15);

struct Feed {
    state: WebState,
    headers: HeaderMap,
    identity: holdpoint_core::Identity,
    changes: tokio::sync::broadcast::Receiver<HoldChange>,
    /// Sessions ended by sign-out or an admin; this stream's is `key`.
    ended: tokio::sync::broadcast::Receiver<String>,
    key: String,
    check: tokio::time::Interval,
}

pub async fn events(
    State(state): State<WebState>,
    headers: HeaderMap,
    Watcher(viewer): Watcher,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.reset();
    let feed = Feed {
        changes: state.gate().watch_holds(),
        ended: state.sessions().watch_ended(),
        key: crate::Sessions::key_of(&viewer.id),
        identity: viewer.session.identity.clone(),
        state,
        headers,
        check,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        loop {
            tokio::select! {
                change = feed.changes.recv() => match change {
                    Ok(change) if may_see(&feed.identity, &change.record) => {
                        let data = json!({
                            "id": change.record.id.to_string(),
                            "status": change.record.status.as_str(),
                            "event": change.event.as_str(),
                        });
                        let event = Event::default().event("hold").data(data.to_string());
                        return Some((Ok(event), feed));
                    }
                    Ok(_) => continue,
                    // Fell behind: the page reloads its list.
                    Err(RecvError::Lagged(_)) => {
                        return Some((Ok(Event::default().event("resync").data("{}")), feed));
                    }
                    Err(RecvError::Closed) => return None,
                },
                ended = feed.ended.recv() => match ended {
                    Ok(key) if key == feed.key => return None,
                    Ok(_) | Err(RecvError::Lagged(_)) => {
                        auth::session_of(&feed.state, &feed.headers, false).await.ok()??;
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = feed.check.tick() => {
                    // Signed out, or a store that cannot say: the stream ends.
                    auth::session_of(&feed.state, &feed.headers, false).await.ok()??;
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
