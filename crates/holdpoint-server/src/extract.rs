//! Extractors: the authenticated caller, and JSON bodies whose every rejection is an
//! [`ApiError`] in holdpoint's shape.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use holdpoint_core::{Identity, PrincipalKind};
use serde::de::DeserializeOwned;

/// The identity behind the request's bearer token.
pub struct Caller(pub Identity);

impl Caller {
    /// Only admins pass.
    pub fn admin(&self) -> Result<&Identity, ApiError> {
        match self.0.principal.kind {
            PrincipalKind::Admin => Ok(&self.0),
            _ => Err(ApiError::forbidden("only an admin token may do this")),
        }
    }

    /// Only humans (users and admins) pass.
    pub fn human(&self) -> Result<&Identity, ApiError> {
        if self.0.principal.kind.is_human() {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden("agents may not do this"))
        }
    }

    /// Agents and users submit actions; admins manage tokens and config.
    pub fn submitter(&self) -> Result<&Identity, ApiError> {
        match self.0.principal.kind {
            PrincipalKind::Agent | PrincipalKind::User => Ok(&self.0),
            PrincipalKind::Admin => Err(ApiError::forbidden(
                "admin tokens manage holdpoint; submit actions with an agent or user token",
            )),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing `Authorization: Bearer` header",
                )
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "expected `Authorization: Bearer TOKEN`",
                )
            })?;
        let identity = state.gate.authenticate(token).await?;
        state.gate.admit_request(&identity.principal).await?;
        Ok(Caller(identity))
    }
}

/// `Json<T>` whose rejections are holdpoint errors: 400 for bad JSON, 413 for too large,
/// 422 for well-formed JSON with missing, unknown or mistyped fields.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match &rejection {
        JsonRejection::JsonDataError(e) => format!("invalid request body: {}", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => format!("malformed JSON: {}", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => {
            "expected `Content-Type: application/json`".to_string()
        }
        JsonRejection::BytesRejection(_) if status == StatusCode::PAYLOAD_TOO_LARGE => format!(
            "request body is larger than the {} byte limit",
            crate::BODY_LIMIT
        ),
        other => other.body_text(),
    };
    match status {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNPROCESSABLE_ENTITY => {
            ApiError::new(status, message)
        }
        _ => ApiError::malformed(message),
    }
}
