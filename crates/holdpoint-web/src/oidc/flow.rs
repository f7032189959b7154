//! `GET /signin/oidc` sends the browser to the provider with a fresh `state`, `nonce`
//! and PKCE challenge, and keeps the sign-in in a signed cookie on that browser;
//! `GET /signin/oidc/callback` opens the cookie, checks it is this `state`'s and fresh,
//! redeems the code with the verifier and verifies the ID token before a session starts.

use super::pending::Pending;
use super::provider::SIGNIN_TTL;
use crate::WebState;
use crate::auth;
use crate::error::Failure;
use crate::secret;
use crate::session::Via;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The cookie tying a sign-in to the browser that started it (`__Host-` when Secure, so
/// no sibling domain can plant one).
fn browser_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-holdpoint_oidc"
    } else {
        "holdpoint_oidc"
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

pub async fn start(State(state): State<WebState>, Query(q): Query<StartQuery>) -> Response {
    let Some(provider) = state.oidc() else {
        return Failure::new(StatusCode::NOT_FOUND, "no identity provider is configured")
            .into_response();
    };
    let meta = match provider.metadata(false).await {
        Ok((meta, _)) => meta,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC sign-in cannot start");
            return Failure::new(
                StatusCode::BAD_GATEWAY,
                "the identity provider cannot be reached; the gateway's log says why",
            )
            .into_response();
        }
    };
    let oidc_state = secret::random_b64(32);
    let verifier = secret::random_b64(32);
    let nonce = secret::random_b64(32);
    let mut scopes = vec!["openid".to_string()];
    scopes.extend(provider.config.scopes.iter().cloned());
    let Ok(mut target) = url::Url::parse(&meta.authorization_endpoint) else {
        return Failure::new(
            StatusCode::BAD_GATEWAY,
            "the provider's authorization endpoint is not a URL",
        )
        .into_response();
    };
    target
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.config.client_id)
        .append_pair("redirect_uri", &provider.redirect_uri)
        .append_pair("scope", &scopes.join(" "))
        .append_pair("state", &oidc_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &secret::pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let pending = Pending {
        state: oidc_state,
        verifier,
        nonce,
        next: auth::local_path(q.next.as_deref()),
        started: state.gate().clock().now().timestamp(),
    };
    let Some(sealed) = provider.sealer.seal(&pending) else {
        return Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot start a sign-in")
            .into_response();
    };
    // Lax, not Strict: the provider's redirect back is a cross-site navigation.
    let cookie = auth::set_cookie(
        browser_cookie(state.secure()),
        &sealed,
        "Lax",
        state.secure(),
        Some(SIGNIN_TTL.as_secs()),
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(target.as_str()),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<WebState>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let Some(provider) = state.oidc() else {
        return Failure::new(StatusCode::NOT_FOUND, "no identity provider is configured")
            .into_response();
    };
    let again = |code: &str| Redirect::to(&format!("/signin?error={code}")).into_response();
    // The sign-in this browser started: signed by this process, for this `state`, and
    // fresh. A callback in another browser, or after a restart, has none.
    let cookie = auth::cookie(&headers, browser_cookie(state.secure())).unwrap_or_default();
    let now = state.gate().clock().now().timestamp();
    let Some(pending) = provider.sealer.open(&cookie).filter(|p| {
        q.state
            .as_deref()
            .is_some_and(|s| secret::same(s, &p.state))
            && (0..=SIGNIN_TTL.as_secs() as i64).contains(&(now - p.started))
    }) else {
        tracing::warn!(
            "an OIDC callback without its sign-in (another browser, too late, or replayed)"
        );
        return again("expired");
    };
    if let Some(error) = &q.error {
        tracing::warn!(error = %holdpoint_core::text::inert(error), "the identity provider refused the sign-in");
        return again("oidc");
    }
    let Some(code) = q.code.as_deref() else {
        return again("oidc");
    };
    let claims = match provider.redeem(code, &pending).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(error = %e, "OIDC sign-in refused");
            return again("oidc");
        }
    };
    let identity =
        match super::claims::identity(&claims, &provider.config, state.gate().directory()) {
            Ok(identity) => identity,
            Err(e) => {
                tracing::warn!(error = %e, "OIDC sign-in refused");
                return again("oidc");
            }
        };
    // The gate refuses a provider's name that is a live token's (an agent's, or a person
    // who signs in with that token): the audit log, visibility and the self-review rule
    // tell principals apart by name, and provider names can be chosen. It also records
    // the provider's word for the session's lifetime: reviews given count with these
    // groups when their hold is released, on any gateway and after a restart.
    let user = identity.principal.clone();
    let groups = identity.groups.clone();
    let started =
        crate::signin::start_session(&state, &headers, identity, Via::Oidc, &pending.next).await;
    let mut response = match started {
        Ok(response) => response,
        // A live token with this name, or a store that cannot write: the message says.
        Err(e) => {
            tracing::warn!(user = %user, error = %e, "OIDC sign-in refused");
            return again("oidc");
        }
    };
    tracing::info!(user = %user, groups = ?groups, "signed in to the web inbox with OIDC");
    let clear = auth::set_cookie(
        browser_cookie(state.secure()),
        "",
        "Lax",
        state.secure(),
        Some(0),
    );
    if let Ok(v) = clear.parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}
