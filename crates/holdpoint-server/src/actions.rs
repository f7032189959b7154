//! `/v1/actions`: submit, read (with long-poll), list, review, cancel.

use crate::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use holdpoint_api::{ActionList, ActionView, parse_wait};
use holdpoint_api::{ApiError, ErrorBody};
use holdpoint_api::{ApiJson, Caller};
use holdpoint_core::store::ActionFilter;
use holdpoint_core::{ActionId, ActionRequest, Decision, Status};
use holdpoint_gate::SurfaceContext;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    pub kind: String,
    pub resource: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Option<serde_json::Value>,
    #[serde(default)]
    pub justification: String,
    /// How long to wait for a held action to be decided before answering, e.g. `30s`.
    #[serde(default)]
    pub wait: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub decision: Decision,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Long-poll until the action is decided or this much time passes, e.g. `30s`.
    pub wait: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub status: Option<String>,
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// The channel recorded for reviews and cancellations through this API. It is not taken
/// from the client: a header would let any caller label its review as another channel.
const CHANNEL: &str = "api";

#[utoipa::path(post, path = "/v1/actions", request_body = SubmitBody,
    responses((status = 200, description = "Success", body = ActionView), (status = 400, description = "Malformed request", body = ErrorBody),
              (status = 401, description = "No or bad token", body = ErrorBody), (status = 413, description = "Body too large", body = ErrorBody),
              (status = 422, description = "Well-formed but invalid", body = ErrorBody), (status = 429, description = "Over a limit; retry after the Retry-After header", body = ErrorBody),
              (status = 503, description = "The store is unavailable; nothing was changed", body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Json<ActionView>, ApiError> {
    let wait = parse_wait(body.wait.as_deref())?;
    let request = ActionRequest {
        kind: body.kind,
        resource: body.resource,
        environment: body.environment,
        params: body.params.unwrap_or_else(|| serde_json::json!({})),
        justification: body.justification,
    };
    // The one ask-and-wait path; the client executes the action itself, so an approval
    // is handed over by the answer that shows it with `proceed: true`.
    let ruling = state
        .gate
        .decide(
            &caller.0,
            request,
            SurfaceContext::named("api"),
            wait,
            std::future::pending(),
        )
        .await?;
    let answer = holdpoint_gate::Answer {
        proceed: matches!(ruling, holdpoint_gate::Ruling::Proceed(_)),
        record: ruling.record().clone(),
    };
    Ok(Json(ActionView::answer(
        &answer,
        state.gate.masker().as_ref(),
    )))
}

#[utoipa::path(get, path = "/v1/actions/{id}", params(("id" = String, Path), WaitQuery),
    responses((status = 200, description = "Success", body = ActionView), (status = 404, description = "Not found, or not visible to this caller", body = ErrorBody)))]
pub async fn get_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<WaitQuery>,
) -> Result<Json<ActionView>, ApiError> {
    let wait = parse_wait(query.wait.as_deref())?;
    let answer = state.gate.wait(&caller.0, &ActionId(id), wait).await?;
    Ok(Json(ActionView::answer(
        &answer,
        state.gate.masker().as_ref(),
    )))
}

#[utoipa::path(get, path = "/v1/actions", params(ListQuery),
    responses((status = 200, description = "Success", body = ActionList), (status = 422, description = "Well-formed but invalid", body = ErrorBody)))]
pub async fn list_actions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<ActionList>, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            Status::parse(s).ok_or_else(|| ApiError::invalid(format!("unknown status `{s}`")))?,
        ),
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let filter = ActionFilter {
        status,
        before: query.after.map(ActionId),
        limit,
        ..ActionFilter::default()
    };
    let records = state.gate.list(&caller.0, filter).await?;
    let next = (records.len() as u32 == limit)
        .then(|| records.last().map(|r| r.id.to_string()))
        .flatten();
    let masker = state.gate.masker();
    Ok(Json(ActionList {
        actions: records
            .iter()
            .map(|r| ActionView::new(r, masker.as_ref()))
            .collect(),
        next,
    }))
}

#[utoipa::path(post, path = "/v1/actions/{id}/reviews", request_body = ReviewBody,
    params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = ActionView), (status = 403, description = "Not allowed for this caller", body = ErrorBody),
              (status = 404, description = "Not found, or not visible to this caller", body = ErrorBody), (status = 409, description = "Already decided, expired or used", body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<ActionView>, ApiError> {
    let record = state
        .gate
        .review(
            &caller.0,
            &ActionId(id),
            body.decision,
            &body.comment,
            CHANNEL,
        )
        .await?;
    Ok(Json(ActionView::new(&record, state.gate.masker().as_ref())))
}

#[utoipa::path(post, path = "/v1/actions/{id}/cancel", params(("id" = String, Path)),
    responses((status = 200, description = "Success", body = ActionView), (status = 403, description = "Not allowed for this caller", body = ErrorBody),
              (status = 409, description = "Already decided, expired or used", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ActionView>, ApiError> {
    let record = state.gate.cancel(&caller.0, &ActionId(id), CHANNEL).await?;
    Ok(Json(ActionView::new(&record, state.gate.masker().as_ref())))
}
