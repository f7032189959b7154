//! `GET /audit` (admins): the audit log in order, a page at a time, with the chain's
//! verification and head.

use crate::WebState;
use crate::auth::Viewer;
use crate::error::{Failure, render};
use crate::view::{Nav, when};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use holdpoint_core::audit::ChainReport;
use serde::Deserialize;

const PAGE: u32 = 100;

#[derive(Deserialize)]
pub struct AuditQuery {
    after: Option<i64>,
}

pub struct EventRow {
    pub seq: i64,
    pub time: String,
    pub event_type: String,
    pub actor: String,
    pub action_id: Option<String>,
    pub data: String,
    pub hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    nav: Option<&'a Nav>,
    report: ChainReport,
    events: Vec<EventRow>,
    next: Option<i64>,
}

pub async fn page(
    State(state): State<WebState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Failure> {
    let nav = viewer.nav();
    let gate = state.gate();
    let fail = |e: holdpoint_gate::GateError| Failure::from(e).with_nav(&nav);
    // Admins only: the gate refuses anyone else.
    let report = gate.verify_chain(viewer.identity()).await.map_err(fail)?;
    let events = gate
        .audit_events(viewer.identity(), q.after.unwrap_or(0), PAGE)
        .await
        .map_err(fail)?;
    let next = (events.len() as u32 == PAGE)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    let events = events
        .into_iter()
        .map(|e| EventRow {
            seq: e.seq,
            time: when(e.time),
            event_type: e.event_type.as_str().to_string(),
            actor: crate::view::shown(&format!(
                "{}:{} via {}",
                e.actor.kind, e.actor.name, e.actor.channel
            )),
            action_id: e.action_id.map(|id| id.to_string()),
            data: holdpoint_core::text::escape_json_text(
                &serde_json::to_string(&e.data).unwrap_or_default(),
            ),
            hash: e.hash,
        })
        .collect();
    Ok(render(&AuditPage {
        nav: Some(&nav),
        report,
        events,
        next,
    }))
}
