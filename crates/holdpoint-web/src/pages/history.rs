//! `GET /history`: every action the viewer requested or may review (an admin: every
//! action), filtered by status, principal, kind, environment and a date range, newest
//! first, a page at a time by cursor.

use crate::WebState;
use crate::auth::Viewer;
use crate::error::{Failure, render};
use crate::view::{HistoryRow, Nav};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use holdpoint_core::store::ActionFilter;
use holdpoint_core::{ActionId, Status, Timestamp};
use serde::Deserialize;

const PAGE: u32 = 50;

/// The filters as typed, so the form shows them again.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub principal: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub environment: String,
    /// `YYYY-MM-DD` (from the start of that day, UTC) or RFC 3339.
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD` (to the end of that day, UTC) or RFC 3339.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub before: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage<'a> {
    nav: Option<&'a Nav>,
    q: HistoryQuery,
    statuses: &'static [&'static str],
    rows: Vec<HistoryRow>,
    next: Option<String>,
}

const STATUSES: &[&str] = &[
    "pending",
    "approved",
    "rejected",
    "expired",
    "cancelled",
    "allowed",
    "denied",
    "executed",
    "failed",
];

fn date(text: &str, end_of_day: bool) -> Result<Option<Timestamp>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&chrono::Utc)));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

fn filter(q: &HistoryQuery) -> Result<ActionFilter, String> {
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let status = match text(&q.status) {
        Some(s) => Some(Status::parse(&s).ok_or_else(|| format!("unknown status `{s}`"))?),
        None => None,
    };
    Ok(ActionFilter {
        status,
        before: text(&q.before).map(ActionId),
        limit: PAGE,
        principal_name: text(&q.principal).map(|p| p.to_ascii_lowercase()),
        kind: text(&q.kind),
        environment: text(&q.environment),
        since: date(&q.from, false)?,
        until: date(&q.to, true)?,
        ..ActionFilter::default()
    })
}

pub async fn page(
    State(state): State<WebState>,
    viewer: Viewer,
    Query(q): Query<HistoryQuery>,
) -> Result<Response, Failure> {
    let nav = viewer.nav();
    let filter = filter(&q).map_err(|e| Failure::bad_request(e).with_nav(&nav))?;
    let gate = state.gate();
    let records = gate
        .history(viewer.identity(), filter)
        .await
        .map_err(|e| Failure::from(e).with_nav(&nav))?;
    let masker = gate.masker();
    let next = (records.len() as u32 == PAGE)
        .then(|| {
            records.last().map(|r| {
                let mut q = q.clone();
                q.before = r.id.to_string();
                serde_urlencoded(&q)
            })
        })
        .flatten();
    let rows = records
        .iter()
        .map(|r| HistoryRow::new(r, masker.as_ref()))
        .collect();
    Ok(render(&HistoryPage {
        nav: Some(&nav),
        q,
        statuses: STATUSES,
        rows,
        next,
    }))
}

/// The query string of the next page.
fn serde_urlencoded(q: &HistoryQuery) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("status", &q.status)
        .append_pair("principal", &q.principal)
        .append_pair("kind", &q.kind)
        .append_pair("environment", &q.environment)
        .append_pair("from", &q.from)
        .append_pair("to", &q.to)
        .append_pair("before", &q.before)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_or_refused_clearly() {
        let q = HistoryQuery {
            status: "approved".into(),
            principal: "CI-Bot".into(),
            from: "2026-11-01".into(),
            to: "2026-11-30".into(),
            ..HistoryQuery::default()
        };
        let f = filter(&q).unwrap_or_default();
        assert_eq!(f.status, Some(Status::Approved));
        assert_eq!(f.principal_name.as_deref(), Some("ci-bot"));
        assert_eq!(
            f.until.map(|t| t.to_rfc3339()),
            Some("2026-12-01T00:00:00+00:00".to_string()),
            "the end date is included"
        );
        for bad in [
            HistoryQuery {
                status: "done".into(),
                ..HistoryQuery::default()
            },
            HistoryQuery {
                from: "yesterday".into(),
                ..HistoryQuery::default()
            },
        ] {
            assert!(filter(&bad).is_err());
        }
    }
}
