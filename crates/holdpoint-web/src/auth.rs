//! Who is asking: the session cookie, the signed-in [`Viewer`], and the anti-forgery
//! token that every form carries.

use crate::WebState;
use crate::error::Failure;
use crate::secret;
use crate::session::Session;
use crate::view::Nav;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use holdpoint_core::{Identity, PrincipalKind};
use holdpoint_gate::GateError;

/// The session cookie's name: with `Secure`, the `__Host-` prefix also pins it to this
/// host and path, so no sibling domain can set it.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-holdpoint"
    } else {
        "holdpoint"
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite, Path=/, Secure when served so.
pub fn set_cookie(
    name: &str,
    value: &str,
    same_site: &str,
    secure: bool,
    max_age: Option<u64>,
) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A signed-in person, from a live session. Extracting one counts as activity.
pub struct Viewer {
    pub id: String,
    pub session: Session,
}

impl Viewer {
    pub fn identity(&self) -> &Identity {
        &self.session.identity
    }

    pub fn is_admin(&self) -> bool {
        self.session.identity.principal.kind == PrincipalKind::Admin
    }

    pub fn nav(&self) -> Nav {
        Nav {
            user: self.session.identity.principal.name.clone(),
            admin: self.is_admin(),
            csrf: self.session.csrf.clone(),
        }
    }

    /// Refuses a form without this session's anti-forgery token (403).
    pub fn check_csrf(&self, sent: &str) -> Result<(), Failure> {
        if !sent.is_empty() && secret::same(sent, &self.session.csrf) {
            Ok(())
        } else {
            Err(Failure::forbidden(
                "this form is missing its anti-forgery token or is from another session; reload the page and try again",
            )
            .with_nav(&self.nav()))
        }
    }

    /// Admins only (403 otherwise).
    pub fn admin(&self) -> Result<(), Failure> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Failure::forbidden("only admins may see this page").with_nav(&self.nav()))
        }
    }
}

/// Finds the live session of a request. The gate re-checks a token sign-in against the
/// token (revoked means signed out) and refuses a session ended on any gateway.
pub async fn session_of(
    state: &WebState,
    headers: &HeaderMap,
    touch: bool,
) -> Result<Option<(String, Session)>, GateError> {
    let Some(id) = cookie(headers, cookie_name(state.secure())) else {
        return Ok(None);
    };
    Ok(state.sessions().get(&id, touch).await?.map(|s| (id, s)))
}

impl FromRequestParts<WebState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        match session_of(state, &parts.headers, true).await {
            // The gate counted this request against the person's rate as it found the
            // session.
            Ok(Some((id, session))) => Ok(Viewer { id, session }),
            Ok(None) => Err(to_signin(parts)),
            Err(e) => Err(Failure::from(e).into_response()),
        }
    }
}

/// A signed-in person, for a request a page makes by itself (a live update): it does
/// not count as activity, so an open tab still idles out.
pub struct Watcher(pub Viewer);

impl FromRequestParts<WebState> for Watcher {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        match session_of(state, &parts.headers, false).await {
            Ok(Some((id, session))) => Ok(Watcher(Viewer { id, session })),
            Ok(None) => Err(
                Failure::new(axum::http::StatusCode::UNAUTHORIZED, "signed out").into_response(),
            ),
            Err(e) => Err(Failure::from(e).into_response()),
        }
    }
}

/// A redirect to the sign-in page that comes back here afterwards (for a GET).
fn to_signin(parts: &Parts) -> Response {
    let back = if parts.method == Method::GET {
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/inbox")
    } else {
        "/inbox"
    };
    let target = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", back)
        .finish();
    Redirect::to(&format!("/signin?{target}")).into_response()
}

/// A path on this gateway to go to after sign-in; anything else (another host, `//x`,
/// `/\x`) becomes the inbox.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(|c| c.is_control()) =>
        {
            p.to_string()
        }
        _ => "/inbox".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/actions/act_1")), "/actions/act_1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/a\nb",
            "",
        ] {
            assert_eq!(local_path(Some(bad)), "/inbox", "{bad:?}");
        }
        assert_eq!(local_path(None), "/inbox");
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            axum::http::HeaderValue::from_static("xholdpoint=1; holdpoint=abc; other=2"),
        );
        assert_eq!(cookie(&headers, "holdpoint").as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }
}
