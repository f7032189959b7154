//! `GET /inbox`: the holds the viewer is asked to review, newest first, with time
//! left. `GET /inbox/list` is the same list alone, which the page's script fetches
//! again when a hold changes.

use crate::WebState;
use crate::auth::{Viewer, Watcher};
use crate::error::{Failure, render};
use crate::view::{HoldRow, Nav, shown, time_left, when};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use holdpoint_core::ActionId;
use serde::Deserialize;

/// Holds per page.
pub const PAGE: u32 = 200;

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage<'a> {
    nav: Option<&'a Nav>,
    list: HoldList,
}

#[derive(Template)]
#[template(path = "inbox_list.html")]
struct HoldList {
    holds: Vec<HoldRow>,
    more: Option<String>,
}

#[derive(Deserialize)]
pub struct Cursor {
    before: Option<String>,
}

async fn holds(
    state: &WebState,
    viewer: &Viewer,
    before: Option<String>,
) -> Result<HoldList, Failure> {
    let gate = state.gate();
    let (records, more) = gate
        .inbox(viewer.identity(), before.map(ActionId), PAGE)
        .await
        .map_err(|e| Failure::from(e).with_nav(&viewer.nav()))?;
    let now = gate.clock().now();
    let masker = gate.masker();
    let more = more.map(|id| id.to_string());
    let holds = records
        .iter()
        .filter_map(|r| {
            let hold = r.hold.as_ref()?;
            Some(HoldRow {
                id: r.id.to_string(),
                title: shown(&masker.mask_text(&hold.title)),
                requester: r.principal.to_string(),
                kind: shown(&r.kind),
                resource: shown(&r.shown_resource(masker.as_ref())),
                environment: shown(&r.environment),
                created: when(r.created_at),
                time_left: time_left(hold.expires_at, now),
                expires_at: hold.expires_at.to_rfc3339(),
            })
        })
        .collect();
    Ok(HoldList { holds, more })
}

pub async fn page(
    State(state): State<WebState>,
    viewer: Viewer,
    Query(cursor): Query<Cursor>,
) -> Result<Response, Failure> {
    let list = holds(&state, &viewer, cursor.before).await?;
    let nav = viewer.nav();
    Ok(render(&InboxPage {
        nav: Some(&nav),
        list,
    }))
}

pub async fn list(
    State(state): State<WebState>,
    Watcher(viewer): Watcher,
    Query(cursor): Query<Cursor>,
) -> Result<Response, Failure> {
    Ok(render(&holds(&state, &viewer, cursor.before).await?))
}
