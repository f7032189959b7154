//! Every answer other than success, each matching one HTTP status of DESIGN §5.

use holdpoint_core::StoreError;
use holdpoint_core::review::ReviewRefusal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// Well-formed but invalid input (422).
    #[error("{0}")]
    Invalid(String),
    /// No or bad credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Not allowed to do this (403): self-review, agent review, not an approver.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Already decided, expired, or a name already taken (409).
    #[error("{0}")]
    Conflict(String),
    /// The store cannot read or write (503). Nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// A limit was reached (429); try again after `retry_after`.
    #[error("{message}")]
    TooMany {
        message: String,
        retry_after: std::time::Duration,
    },
}

impl From<StoreError> for GateError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => GateError::Conflict(m),
            StoreError::NotFound(m) => GateError::NotFound(m),
            StoreError::Unavailable(m) | StoreError::Corrupt(m) => {
                tracing::error!(error = %m, "store failure");
                GateError::Unavailable(format!("the store cannot be reached: {m}"))
            }
        }
    }
}

impl GateError {
    /// The HTTP status each answer is given (DESIGN §5), for the API and the pages.
    pub fn http_status(&self) -> u16 {
        match self {
            GateError::Invalid(_) => 422,
            GateError::Unauthorized(_) => 401,
            GateError::Forbidden(_) => 403,
            GateError::NotFound(_) => 404,
            GateError::Conflict(_) => 409,
            GateError::Unavailable(_) => 503,
            GateError::TooMany { .. } => 429,
        }
    }

    /// What a client is told: the message, except for a store failure, whose own
    /// message may name paths and hosts.
    pub fn public_message(&self) -> String {
        match self {
            GateError::Unavailable(_) => "the store is unavailable; nothing was changed".into(),
            other => other.to_string(),
        }
    }
}

impl From<ReviewRefusal> for GateError {
    fn from(r: ReviewRefusal) -> Self {
        if r.is_conflict() {
            GateError::Conflict(r.to_string())
        } else {
            GateError::Forbidden(r.to_string())
        }
    }
}
