//! `POST /v1/policy/explain`: the verdict for an action, holding nothing and writing nothing.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use holdpoint_api::{ApiError, ErrorBody};
use holdpoint_api::{ApiJson, Caller};
use holdpoint_core::{ActionRequest, Principal, Requirement, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainBody {
    pub kind: String,
    pub resource: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Option<serde_json::Value>,
    #[serde(default)]
    pub justification: String,
    /// `agent:NAME`, `user:NAME` or `admin:NAME`; the caller when absent. A named principal
    /// gets the groups of its live token and the directory, plus `groups`. Only admins
    /// may name a principal other than themselves.
    #[serde(default)]
    pub principal: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub surface: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    pub principal: Principal,
    pub groups: Vec<String>,
    pub verdict: Verdict,
    pub requirements: Vec<Requirement>,
    pub expires_secs: Option<u64>,
    pub separate: bool,
    pub grant_secs: Option<u64>,
}

/// Parses `kind:name`.
pub fn parse_principal(text: &str) -> Result<Principal, String> {
    let (kind, name) = text.split_once(':').ok_or_else(|| {
        format!("bad principal `{text}`: expected `agent:NAME`, `user:NAME` or `admin:NAME`")
    })?;
    Ok(Principal::new(kind.parse()?, name))
}

#[utoipa::path(post, path = "/v1/policy/explain", request_body = ExplainBody,
    responses((status = 200, description = "Success", body = Explanation), (status = 403, description = "Not allowed for this caller", body = ErrorBody),
              (status = 422, description = "Well-formed but invalid", body = ErrorBody)))]
pub async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ExplainBody>,
) -> Result<Json<Explanation>, ApiError> {
    let principal = body
        .principal
        .as_deref()
        .map(parse_principal)
        .transpose()
        .map_err(ApiError::invalid)?;
    let request = ActionRequest {
        kind: body.kind,
        resource: body.resource,
        environment: body.environment,
        params: body.params.unwrap_or_else(|| serde_json::json!({})),
        justification: body.justification,
    };
    let surface = body.surface.unwrap_or_else(|| "api".into());
    let (identity, evaluation) = state
        .gate
        .explain(&caller.0, principal, body.groups, &request, &surface)
        .await?;
    let (verdict, terms) = evaluation.into_parts();
    Ok(Json(Explanation {
        groups: identity.all_groups(),
        principal: identity.principal,
        verdict,
        requirements: terms
            .as_ref()
            .map(|t| t.requirements.clone())
            .unwrap_or_default(),
        expires_secs: terms.as_ref().map(|t| t.expires.as_secs()),
        separate: terms.as_ref().is_some_and(|t| t.separate),
        grant_secs: terms.as_ref().and_then(|t| t.grant.map(|g| g.as_secs())),
    }))
}
