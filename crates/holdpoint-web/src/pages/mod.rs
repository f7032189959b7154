//! The pages. Each takes a [`Viewer`](crate::auth::Viewer): without a live session the
//! browser is sent to sign in and brought back afterwards.

pub mod action;
pub mod audit;
pub mod history;
pub mod inbox;
pub mod tokens;

use axum::response::Redirect;

/// `/` is the inbox.
pub async fn home() -> Redirect {
    Redirect::to("/inbox")
}
