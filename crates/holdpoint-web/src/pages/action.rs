//! `GET /actions/{id}`: one action, as reviewers are asked about it (the masked
//! [`ReviewRequest`]), and `POST /actions/{id}/review`: a review through the gate's
//! rules, channel `web`. Someone who may not review sees why instead of the buttons;
//! the gate refuses a forged form all the same.

use crate::WebState;
use crate::auth::Viewer;
use crate::error::{Failure, render};
use crate::view::{Nav, Param, params, shown_request, time_left, when};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use holdpoint_core::review::apply_review;
use holdpoint_core::{ActionId, Decision, Status};
use holdpoint_notify::ReviewRequest;
use serde::Deserialize;

/// The longest comment accepted.
const MAX_COMMENT: usize = 4000;

#[derive(Template)]
#[template(path = "action.html")]
struct ActionPage<'a> {
    nav: Option<&'a Nav>,
    request: ReviewRequest,
    status: &'static str,
    pending: bool,
    params: Vec<Param>,
    policies: Vec<String>,
    time_left: Option<String>,
    created: String,
    decided: Option<String>,
    surface: String,
    /// Why the viewer cannot review, when they cannot.
    cannot_review: Option<String>,
}

pub async fn page(
    State(state): State<WebState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let nav = viewer.nav();
    let gate = state.gate();
    let id = ActionId(id);
    let record = gate
        .get(viewer.identity(), &id)
        .await
        .map_err(|e| unseen(e, &id).with_nav(&nav))?;
    let now = gate.clock().now();
    let request = shown_request(ReviewRequest::new(&record, gate.masker().as_ref(), None));
    let pending = record.status == Status::Pending;
    let cannot_review = if pending {
        apply_review(
            &record,
            viewer.identity(),
            Decision::Approve,
            "",
            "web",
            now,
        )
        .err()
        .map(|why| why.to_string())
    } else {
        None
    };
    let page = ActionPage {
        nav: Some(&nav),
        status: record.status.as_str(),
        pending,
        params: params(&request.params),
        policies: record.verdict.policies.clone(),
        time_left: record
            .hold
            .as_ref()
            .filter(|_| pending)
            .map(|h| time_left(h.expires_at, now)),
        created: when(record.created_at),
        decided: record.decided_at.map(when),
        surface: record.surface.clone(),
        cannot_review,
        request,
    };
    Ok(render(&page))
}

/// A 404 that says who may see an action, without saying whether this one exists.
fn unseen(e: holdpoint_gate::GateError, id: &ActionId) -> Failure {
    match e {
        holdpoint_gate::GateError::NotFound(_) => Failure::new(
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "There is no action `{id}` that you may see. An action is shown to its requester, to the approver groups of its hold, and to admins."
            ),
        ),
        other => Failure::from(other),
    }
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

pub async fn review(
    State(state): State<WebState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, Failure> {
    viewer.check_csrf(&form.csrf)?;
    let nav = viewer.nav();
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        _ => {
            return Err(
                Failure::bad_request("decision must be `approve` or `reject`").with_nav(&nav),
            );
        }
    };
    if form.comment.chars().count() > MAX_COMMENT {
        return Err(Failure::bad_request(format!(
            "a comment may have at most {MAX_COMMENT} characters"
        ))
        .with_nav(&nav));
    }
    let id = ActionId(id);
    state
        .gate()
        .review(viewer.identity(), &id, decision, form.comment.trim(), "web")
        .await
        .map_err(|e| unseen(e, &id).with_nav(&nav))?;
    Ok(Redirect::to(&format!("/actions/{id}")).into_response())
}
