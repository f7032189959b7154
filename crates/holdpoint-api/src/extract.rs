//! Extractors: the authenticated caller, and JSON bodies whose every rejection is an
//! [`ApiError`] in holdpoint's shape.

use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use holdpoint_core::Identity;
use holdpoint_gate::Gate;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The identity behind the request's bearer token. What it may do is the gate's to
/// say: every gate method checks the caller itself.
pub struct Caller(pub Identity);

impl<S> FromRequestParts<S> for Caller
where
    Arc<Gate>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
        // Counts this request against the principal's rate (429 over it).
        let gate = Arc::<Gate>::from_ref(state);
        let identity = gate.authenticate(token).await?;
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
