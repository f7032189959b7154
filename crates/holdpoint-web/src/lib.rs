//! # holdpoint-web: review in the browser
//!
//! Server-rendered pages, served by `holdpoint serve` next to the API, with templates
//! compiled into the binary (askama): no front-end build, and every page works without
//! JavaScript. One small script (`static/live.js`) adds live updates. A tour:
//! - `config.rs`: the `[web]` section of `holdpoint.toml`, the OIDC client secret read
//!   from the variable it names; `setup.rs`: from those settings to the routes.
//! - `session.rs`: server-side sessions with idle and absolute timeouts, kept by the gate
//!   in the store (so they survive a restart and replicas share them); this crate holds
//!   the cookie's id, gives the gate only its SHA-256, and never reads the store.
//! - `auth.rs`: the cookie, the signed-in [`Viewer`](auth::Viewer), and the anti-forgery
//!   checks every POST passes (a per-session token and the request's origin).
//! - `signin.rs`: sign-in with a user token, sign-out.
//! - `oidc/`: sign-in with an OpenID Connect provider: authorization code flow with PKCE
//!   and a nonce (`flow.rs`), discovery and keys (`provider.rs`), ID token checks
//!   (`verify.rs`), and who the person is to holdpoint (`claims.rs`).
//! - `pages/`: the inbox, an action page (approve or reject through the gate's rules,
//!   channel `web`), history, the audit view, and tokens and sessions for admins.
//! - `live.rs`: `GET /events`, server-sent events for every hold the viewer may see
//!   that is created, reviewed or decided.
//! - `view.rs`: what templates show: masked params folded and formatted, times left.
//! - `headers.rs`: a strict Content-Security-Policy, `frame-ancestors 'none'`, no caching
//!   of pages, and the static files.
//!
//! Everything an agent wrote (params, justification, titles) is escaped by the templates.

mod auth;
pub mod config;
mod error;
mod headers;
mod live;
pub mod oidc;
mod pages;
mod secret;
mod session;
mod setup;
mod signin;
mod view;

pub use oidc::OidcConfig;
pub use session::{Session, Sessions, Via};

use axum::Router;
use axum::routing::{get, post};
use holdpoint_gate::Gate;
use std::sync::Arc;
use std::time::Duration;

/// `[web]`: how the web inbox runs.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The gateway's address as browsers reach it (`https://holdpoint.example.com`):
    /// it decides whether cookies are Secure, which origin forms must come from, and the
    /// OIDC redirect address.
    pub public_url: String,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    pub oidc: Option<OidcConfig>,
}

impl WebConfig {
    /// The defaults for a gateway reached at `public_url`: 30 minutes idle, 12 hours in
    /// all, no identity provider.
    pub fn new(public_url: impl Into<String>) -> Self {
        WebConfig {
            public_url: public_url.into(),
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            oidc: None,
        }
    }
}

/// Shared by every page.
#[derive(Clone)]
pub struct WebState {
    inner: Arc<Inner>,
}

struct Inner {
    gate: Arc<Gate>,
    sessions: Sessions,
    origin: String,
    /// Cookies carry `Secure` (and the `__Host-` prefix) unless the gateway is served over
    /// plain HTTP on a loopback address.
    secure: bool,
    oidc: Option<oidc::Provider>,
}

impl WebState {
    pub fn new(gate: Arc<Gate>, config: WebConfig) -> Result<Self, String> {
        let url = url::Url::parse(&config.public_url)
            .map_err(|e| format!("public_url `{}`: {e}", config.public_url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "public_url `{}` must be an http or https address",
                config.public_url
            ));
        }
        let origin = url.origin().ascii_serialization();
        let secure = url.scheme() == "https" || !is_loopback(&url);
        if url.scheme() == "http" && secure {
            tracing::warn!(
                public_url = %config.public_url,
                "the web inbox is served over plain HTTP off loopback: its Secure cookies will not be sent, so nobody can sign in; serve it over HTTPS"
            );
        }
        let oidc = match config.oidc {
            Some(oidc) => Some(oidc::Provider::new(
                oidc,
                &config.public_url,
                gate.clock().clone(),
            )?),
            None => None,
        };
        Ok(WebState {
            inner: Arc::new(Inner {
                sessions: Sessions::new(gate.clone(), config.idle_timeout, config.absolute_timeout),
                gate,
                origin,
                secure,
                oidc,
            }),
        })
    }

    pub fn gate(&self) -> &Arc<Gate> {
        &self.inner.gate
    }

    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    fn origin(&self) -> &str {
        &self.inner.origin
    }

    fn secure(&self) -> bool {
        self.inner.secure
    }

    fn oidc(&self) -> Option<&oidc::Provider> {
        self.inner.oidc.as_ref()
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The largest form accepted (a comment, a token request).
const FORM_LIMIT: usize = 64 * 1024;

/// The pages, to merge into the gateway's router.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/inbox", get(pages::inbox::page))
        .route("/inbox/list", get(pages::inbox::list))
        .route("/actions/{id}", get(pages::action::page))
        .route("/actions/{id}/review", post(pages::action::review))
        .route("/history", get(pages::history::page))
        .route("/audit", get(pages::audit::page))
        .route(
            "/tokens",
            get(pages::tokens::page).post(pages::tokens::create),
        )
        .route("/tokens/{name}/revoke", post(pages::tokens::revoke))
        .route("/sessions/{key}/end", post(pages::tokens::end_session))
        .route("/events", get(live::events))
        .route("/signin", get(signin::page).post(signin::with_token))
        .route("/signin/oidc", get(oidc::flow::start))
        .route("/signin/oidc/callback", get(oidc::flow::callback))
        .route("/signout", post(signin::sign_out))
        .route("/static/holdpoint.css", get(headers::css))
        .route("/static/live.js", get(headers::script))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::protect,
        ))
        .with_state(state)
}
