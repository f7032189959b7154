//! [`Failure`]: every error a page can end in, shown as a page with the status the API
//! would give (DESIGN §5), and never with more detail than the API gives.

use crate::view::Nav;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use holdpoint_gate::GateError;

#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
    pub nav: Option<Nav>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<&'a Nav>,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
            nav: None,
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Failure::new(StatusCode::FORBIDDEN, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Failure::new(StatusCode::BAD_REQUEST, message)
    }

    /// The same failure, shown with the viewer's navigation.
    pub fn with_nav(mut self, nav: &Nav) -> Self {
        self.nav = Some(nav.clone());
        self
    }
}

impl From<GateError> for Failure {
    fn from(e: GateError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Failure::new(status, e.public_message())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            nav: self.nav.as_ref(),
            status: self.status.as_u16(),
            title: self.status.canonical_reason().unwrap_or("Error"),
            message: &crate::view::shown(&self.message),
        };
        (self.status, render(&page)).into_response()
    }
}

/// Renders a template; a template that cannot render (a bug) is a plain 500.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "holdpoint: a page did not render",
            )
                .into_response()
        }
    }
}
