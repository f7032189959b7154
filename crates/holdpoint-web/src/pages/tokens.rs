//! `GET /tokens` (admins): tokens and web sessions. Creating a token goes through policy
//! like the API (`token.create.{kind}`, possibly held); its secret is shown once, in the
//! answer to the form, and never again. Revoking a token ends the web sessions that
//! signed in with it at their next request; an admin can also end any session here.

use crate::WebState;
use crate::auth::Viewer;
use crate::error::{Failure, render};
use crate::view::{Nav, when};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use holdpoint_core::PrincipalKind;
use holdpoint_gate::{NewToken, TokenOutcome};
use serde::Deserialize;

pub struct TokenRow {
    pub name: String,
    pub kind: &'static str,
    pub groups: String,
    pub owner: String,
    pub created: String,
    pub expires: String,
    pub live: bool,
}

pub struct SessionRow {
    pub key: String,
    pub name: String,
    pub via: &'static str,
    pub created: String,
    pub last_seen: String,
}

/// What the create form led to.
pub enum Created {
    Token { name: String, secret: String },
    Held { action: String },
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage<'a> {
    nav: Option<&'a Nav>,
    tokens: Vec<TokenRow>,
    sessions: Vec<SessionRow>,
    created: Option<Created>,
}

async fn show(
    state: &WebState,
    viewer: &Viewer,
    created: Option<Created>,
) -> Result<Response, Failure> {
    let nav = viewer.nav();
    let gate = state.gate();
    let now = gate.clock().now();
    let tokens = gate
        .list_tokens(viewer.identity())
        .await
        .map_err(|e| Failure::from(e).with_nav(&nav))?
        .into_iter()
        .map(|t| TokenRow {
            live: t.is_live(now),
            kind: t.kind.as_str(),
            groups: t.groups.join(", "),
            owner: t.owner.clone().unwrap_or_default(),
            created: when(t.created_at),
            expires: match (t.revoked_at, t.expires_at) {
                (Some(at), _) => format!("revoked {}", when(at)),
                (None, Some(at)) => when(at),
                (None, None) => "never".into(),
            },
            name: t.name,
        })
        .collect();
    let sessions = state
        .sessions()
        .list(viewer.identity())
        .await
        .map_err(|e| Failure::from(e).with_nav(&nav))?
        .into_iter()
        .map(|s| SessionRow {
            key: s.key,
            name: s.principal.name,
            via: s.via,
            created: when(s.created_at),
            last_seen: when(s.last_seen),
        })
        .collect();
    Ok(render(&TokensPage {
        nav: Some(&nav),
        tokens,
        sessions,
        created,
    }))
}

pub async fn page(State(state): State<WebState>, viewer: Viewer) -> Result<Response, Failure> {
    viewer.admin()?;
    show(&state, &viewer, None).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    groups: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    ttl: String,
}

pub async fn create(
    State(state): State<WebState>,
    viewer: Viewer,
    Form(form): Form<CreateForm>,
) -> Result<Response, Failure> {
    viewer.check_csrf(&form.csrf)?;
    viewer.admin()?;
    let nav = viewer.nav();
    let bad =
        |m: String| Failure::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, m).with_nav(&nav);
    let kind = match form.kind.as_str() {
        "agent" => PrincipalKind::Agent,
        "user" => PrincipalKind::User,
        "admin" => PrincipalKind::Admin,
        other => return Err(bad(format!("unknown kind `{other}`"))),
    };
    let ttl = match form.ttl.trim() {
        "" => None,
        t => Some(
            holdpoint_core::duration::parse_duration(t).map_err(|e| bad(format!("ttl: {e}")))?,
        ),
    };
    let request = NewToken {
        name: form.name.trim().to_string(),
        kind,
        groups: form
            .groups
            .split([',', ' '])
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
        owner: Some(form.owner.trim().to_string()).filter(|o| !o.is_empty()),
        ttl,
    };
    let outcome = state
        .gate()
        .request_token(viewer.identity(), request)
        .await
        .map_err(|e| Failure::from(e).with_nav(&nav))?;
    let created = match outcome {
        TokenOutcome::Created { secret, token, .. } => Created::Token {
            name: token.name,
            secret,
        },
        TokenOutcome::Held(action) => Created::Held {
            action: action.id.to_string(),
        },
    };
    show(&state, &viewer, Some(created)).await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    State(state): State<WebState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Failure> {
    viewer.check_csrf(&form.csrf)?;
    viewer.admin()?;
    state
        .gate()
        .revoke_token(viewer.identity(), &name, "web")
        .await
        .map_err(|e| Failure::from(e).with_nav(&viewer.nav()))?;
    Ok(Redirect::to("/tokens").into_response())
}

pub async fn end_session(
    State(state): State<WebState>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, Failure> {
    viewer.check_csrf(&form.csrf)?;
    viewer.admin()?;
    // The gate also withdraws what a provider said of them: it no longer counts for
    // their reviews either.
    let ended = state
        .sessions()
        .end_as_admin(viewer.identity(), &key)
        .await
        .map_err(|e| Failure::from(e).with_nav(&viewer.nav()))?;
    if let Some(ended) = ended {
        tracing::info!(admin = %viewer.identity().principal, user = %ended.principal, "ended a web session");
    }
    Ok(Redirect::to("/tokens").into_response())
}
