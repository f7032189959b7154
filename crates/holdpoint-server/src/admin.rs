//! Admin routes: tokens and the audit log.

use crate::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use holdpoint_api::{ActionView, CreatedToken, TokenList};
use holdpoint_api::{ApiError, ErrorBody};
use holdpoint_api::{ApiJson, Caller};
use holdpoint_core::audit::ChainReport;
use holdpoint_core::{AuditEvent, PrincipalKind};
use holdpoint_gate::{NewToken, TokenOutcome};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    pub name: String,
    pub kind: PrincipalKind,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub owner: Option<String>,
    /// e.g. `30d`; none means the token lives until revoked.
    #[serde(default)]
    pub ttl: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Events with a greater seq.
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The `after` of the next page, when there may be one.
    pub next: Option<i64>,
}

/// What `POST /v1/tokens` answers: 201 with the token, or 202 with the held action.
pub enum TokenAnswer {
    Created(CreatedToken),
    Held(Box<ActionView>),
}

impl IntoResponse for TokenAnswer {
    fn into_response(self) -> Response {
        match self {
            TokenAnswer::Created(t) => (StatusCode::CREATED, Json(t)).into_response(),
            TokenAnswer::Held(a) => (StatusCode::ACCEPTED, Json(*a)).into_response(),
        }
    }
}

/// Creates a token through policy (`token.create.{kind}`): 201 with the secret when
/// allowed, 202 with the pending action when held (once another human approved it, the
/// same request again gets 201 and the secret), 403 with the reason when denied.
#[utoipa::path(post, path = "/v1/tokens", request_body = CreateTokenBody,
    responses((status = 201, description = "Created; the token is shown only in this answer", body = CreatedToken), (status = 202, description = "Held for approval: the action that will create the token once approved", body = ActionView),
              (status = 403, description = "Not allowed for this caller", body = ErrorBody), (status = 409, description = "Already decided, expired or used", body = ErrorBody),
              (status = 422, description = "Well-formed but invalid", body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTokenBody>,
) -> Result<TokenAnswer, ApiError> {
    let ttl = body
        .ttl
        .as_deref()
        .map(holdpoint_core::duration::parse_duration)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("ttl: {e}")))?;
    let request = NewToken {
        name: body.name,
        kind: body.kind,
        groups: body.groups,
        owner: body.owner,
        ttl,
    };
    match state.gate.request_token(&caller.0, request).await? {
        TokenOutcome::Created {
            secret,
            token,
            action,
        } => Ok(TokenAnswer::Created(CreatedToken {
            token: secret,
            action: action.id.to_string(),
            record: token,
        })),
        TokenOutcome::Held(action) => Ok(TokenAnswer::Held(Box::new(ActionView::new(
            &action,
            state.gate.masker().as_ref(),
        )))),
    }
}

#[utoipa::path(get, path = "/v1/tokens", responses((status = 200, description = "Success", body = TokenList)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(TokenList {
        tokens: state.gate.list_tokens(&caller.0).await?,
    }))
}

#[utoipa::path(delete, path = "/v1/tokens/{name}", params(("name" = String, Path)),
    responses((status = 204, description = "Done"), (status = 404, description = "Not found, or not visible to this caller", body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.gate.revoke_token(&caller.0, &name, "api").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/audit", params(AuditQuery), responses((status = 200, description = "Success", body = AuditPage)))]
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .gate
        .audit_events(&caller.0, query.after.unwrap_or(0), limit)
        .await?;
    let next = (events.len() as u32 == limit)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage { events, next }))
}

#[utoipa::path(get, path = "/v1/audit/verify", responses((status = 200, description = "Success", body = ChainReport)))]
pub async fn audit_verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ChainReport>, ApiError> {
    let report = state.gate.verify_chain(&caller.0).await?;
    Ok(Json(report))
}
