//! Sign-in with a user or admin token (for set-ups without an identity provider), and
//! sign-out. The sign-in form carries a token of its own, matched against a cookie set
//! with the page (SameSite=Strict), so no other site can sign a browser in as someone
//! else.

use crate::WebState;
use crate::auth::{self, Viewer};
use crate::error::{Failure, render};
use crate::secret;
use crate::session::Via;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use holdpoint_gate::GateError;
use serde::Deserialize;

/// The sign-in form's cookie (`__Host-` when Secure, so no sibling domain can plant one).
fn signin_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-holdpoint_signin"
    } else {
        "holdpoint_signin"
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage<'a> {
    nav: Option<&'a crate::view::Nav>,
    form_token: &'a str,
    next: &'a str,
    oidc: Option<&'a str>,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

/// `GET /signin`.
pub async fn page(State(state): State<WebState>, Query(q): Query<NextQuery>) -> Response {
    let next = auth::local_path(q.next.as_deref());
    let error = q.error.as_deref().map(oidc_error);
    show(&state, &next, error, StatusCode::OK)
}

/// Only messages holdpoint wrote itself are shown from the query string.
fn oidc_error(code: &str) -> &'static str {
    match code {
        "oidc" => {
            "Sign-in with your identity provider failed. Try again, or ask an admin to check the gateway's log."
        }
        "expired" => "That sign-in took too long or was already used. Try again.",
        _ => "Sign-in failed.",
    }
}

fn show(state: &WebState, next: &str, error: Option<&str>, status: StatusCode) -> Response {
    let form_token = secret::random_hex(16);
    let page = SigninPage {
        nav: None,
        form_token: &form_token,
        next,
        oidc: state.oidc().map(|o| o.label()),
        error,
    };
    let cookie = auth::set_cookie(
        signin_cookie(state.secure()),
        &form_token,
        "Strict",
        state.secure(),
        None,
    );
    (status, [(header::SET_COOKIE, cookie)], render(&page)).into_response()
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin`: a human's token starts a session; the session keeps only its hash.
pub async fn with_token(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let next = auth::local_path(Some(&form.next));
    let cookie = auth::cookie(&headers, signin_cookie(state.secure())).unwrap_or_default();
    if cookie.is_empty() || !secret::same(&cookie, &form.form_token) {
        return Failure::forbidden(
            "this sign-in form is missing its anti-forgery token; reload the sign-in page",
        )
        .into_response();
    }
    let token = form.token.trim();
    let identity = match state.gate().authenticate(token).await {
        Ok(identity) => identity,
        Err(e) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return show(&state, &next, Some(&e.public_message()), status);
        }
    };
    if !identity.principal.kind.is_human() {
        return show(
            &state,
            &next,
            Some("agent tokens cannot sign in: agents never review"),
            StatusCode::FORBIDDEN,
        );
    }
    tracing::info!(user = %identity.principal, "signed in to the web inbox with a token");
    let hash = holdpoint_core::token::hash_token(token);
    match start_session(&state, &headers, identity, Via::Token { hash }, &next).await {
        Ok(response) => response,
        Err(e) => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            show(&state, &next, Some(&e.public_message()), status)
        }
    }
}

/// Ends any session the browser had, starts a new one (a new id: no fixation), and
/// goes to `next`.
pub async fn start_session(
    state: &WebState,
    headers: &HeaderMap,
    identity: holdpoint_core::Identity,
    via: Via,
    next: &str,
) -> Result<Response, GateError> {
    let name = auth::cookie_name(state.secure());
    let old = auth::cookie(headers, name);
    let id = state
        .sessions()
        .start(identity, via, old.as_deref())
        .await?;
    let cookie = auth::set_cookie(name, &id, "Lax", state.secure(), None);
    let clear = auth::set_cookie(
        signin_cookie(state.secure()),
        "",
        "Strict",
        state.secure(),
        Some(0),
    );
    let mut response = Redirect::to(next).into_response();
    let h = response.headers_mut();
    for value in [cookie, clear] {
        if let Ok(v) = value.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: the session ends on the server at once.
pub async fn sign_out(
    State(state): State<WebState>,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Failure> {
    viewer.check_csrf(&form.csrf)?;
    state
        .sessions()
        .end(&viewer.id)
        .await
        .map_err(|e| Failure::from(e).with_nav(&viewer.nav()))?;
    let name = auth::cookie_name(state.secure());
    let clear = auth::set_cookie(name, "", "Lax", state.secure(), Some(0));
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/signin")).into_response())
}
