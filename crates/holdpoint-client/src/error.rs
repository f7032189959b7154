//! [`ClientError`]: why a request to the gateway failed.

use holdpoint_core::text::inert;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The HTTP client could not be set up (TLS roots and the like).
    #[error("cannot set up an HTTP client")]
    Setup(#[source] reqwest::Error),
    /// No answer: the gateway is down, the address is wrong, or the request timed out.
    #[error("cannot reach holdpoint at {base}")]
    Unreachable {
        base: String,
        #[source]
        error: reqwest::Error,
    },
    /// The gateway answered with an error (`{"error": {"code", "message"}}`). The
    /// message is the gateway's, shown inert: it may quote what an agent wrote.
    #[error("{} ({code}, HTTP {status})", inert(message))]
    Api {
        status: u16,
        code: String,
        message: String,
        /// From a 429's or 503's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// An answer that is not what this endpoint gives.
    #[error("unexpected answer from holdpoint (HTTP {status}): {detail}")]
    Unexpected { status: u16, detail: String },
}

impl ClientError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// This error and its causes, `: `-separated, for callers that keep errors as text.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}
