//! The web inbox in process: a real gate on SQLite with a manual clock, the pages'
//! router driven request by request. Covers sign-in, reviews through the gate's rules,
//! the refusals (forged forms, other sites, agents, wrong groups, self-review), the
//! session timeouts on the injected clock, revocation, escaping, live updates, and
//! sessions and vouches that outlive a restart and are shared by a second gateway on the
//! same database.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use holdpoint_core::{
    ActionId, ActionRecord, ActionRequest, Actor, Identity, ManualClock, PrincipalKind, Status,
};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{Gate, GateSettings, Limits, NewToken, SurfaceContext};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

mod common;

const POLICIES: &str = r#"
@id("reads") permit (principal, action in Action::"db.read", resource);
@id("ddl") @hold("Schema change") @approvers("dba") @expires("1h")
permit (principal, action in Action::"db.ddl", resource);
@id("export") @hold("Data export") @approvers("dba") @quorum("2")
permit (principal, action in Action::"db.export", resource);
"#;

struct Web {
    gate: Arc<Gate>,
    clock: Arc<ManualClock>,
    router: axum::Router,
    /// The gate's folder and what a restart or a replica is built from.
    t: TestGate,
}

fn token(name: &str, kind: PrincipalKind, groups: &[&str]) -> NewToken {
    NewToken {
        name: name.into(),
        kind,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        owner: None,
        ttl: None,
    }
}

impl Web {
    async fn start() -> Web {
        Web::start_with(None).await
    }

    async fn start_with(oidc: Option<holdpoint_web::OidcConfig>) -> Web {
        let t = TestGate::with_policies(POLICIES)
            .masker(Arc::new(
                holdpoint_mask::Redactor::new(&[7u8; 32], &holdpoint_mask::MaskConfig::default())
                    .unwrap(),
            ))
            .settings(GateSettings {
                limits: Limits {
                    requests_per_second: 0,
                    request_burst: 0,
                    pending_holds: 1000,
                    long_polls: 1000,
                },
                ..GateSettings::default()
            })
            .build()
            .await;
        Web::over(t, oidc)
    }

    /// Another gateway on the same database, policies and clock: after `drop`ping the
    /// first, a restart; alongside it, a replica.
    async fn replica(&self, oidc: Option<holdpoint_web::OidcConfig>) -> Web {
        Web::over(self.t.restart().build().await, oidc)
    }

    fn over(t: TestGate, oidc: Option<holdpoint_web::OidcConfig>) -> Web {
        let mut config = holdpoint_web::WebConfig::new("http://127.0.0.1:8470");
        config.idle_timeout = Duration::from_secs(600);
        config.absolute_timeout = Duration::from_secs(3600);
        config.oidc = oidc;
        let state = holdpoint_web::WebState::new(t.gate.clone(), config).unwrap();
        Web {
            router: holdpoint_web::router(state),
            gate: t.gate.clone(),
            clock: t.clock.clone(),
            t,
        }
    }

    async fn token(&self, name: &str, kind: PrincipalKind, groups: &[&str]) -> String {
        self.gate
            .create_token(&Actor::system(), token(name, kind, groups))
            .await
            .unwrap()
            .0
    }

    async fn submit(&self, token: &str, kind: &str, why: &str) -> ActionRecord {
        let caller = self.gate.authenticate(token).await.unwrap();
        self.gate
            .submit(
                &caller,
                ActionRequest {
                    kind: kind.into(),
                    resource: "postgres/prod/customers".into(),
                    environment: "prod".into(),
                    params: serde_json::json!({"sql": "ALTER TABLE customers ADD COLUMN note text", "ticket": why}),
                    justification: why.into(),
                },
                SurfaceContext::named("api"),
            )
            .await
            .unwrap()
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn get(&self, path: &str, cookie: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        self.send(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(
            Request::post(path)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Signs in with `token`; returns the session cookie (`holdpoint=…`) and the page's
    /// anti-forgery token.
    async fn sign_in(&self, token: &str) -> (String, String) {
        let (status, headers, _) = self.sign_in_raw(token).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "sign-in should redirect");
        let cookie = set_cookie(&headers, "holdpoint").expect("a session cookie");
        let (_, _, inbox) = self.get("/inbox", &cookie).await;
        (cookie, csrf_of(&inbox))
    }

    async fn sign_in_raw(&self, token: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let (_, headers, page) = self.get("/signin", "").await;
        let form_cookie = set_cookie(&headers, "holdpoint_signin").unwrap();
        let form_token = value_of(&page, "form_token");
        self.post(
            "/signin",
            &form_cookie,
            &[
                ("token", token),
                ("form_token", &form_token),
                ("next", "/inbox"),
            ],
        )
        .await
    }

    async fn record(&self, id: &ActionId) -> ActionRecord {
        self.gate
            .store_for_tests()
            .action(id)
            .await
            .unwrap()
            .unwrap()
    }
}

/// `name=value` of the `Set-Cookie` named `name`.
fn set_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")) && pair.len() > name.len() + 1)
        .map(str::to_string)
}

/// The value of the hidden input `name` in a page.
fn value_of(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn csrf_of(page: &str) -> String {
    value_of(page, "csrf")
}

#[tokio::test]
async fn a_reviewer_signs_in_sees_the_hold_and_approves_it_through_the_gate() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let held = web.submit(&agent, "db.ddl", "add a note column").await;
    assert_eq!(held.status, Status::Pending);

    let (cookie, csrf) = web.sign_in(&alice).await;
    assert!(
        cookie.starts_with("holdpoint="),
        "not Secure on loopback: {cookie}"
    );
    let (status, headers, inbox) = web.get("/inbox", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.contains(held.id.as_str()) && inbox.contains("Schema change"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");

    let (_, _, page) = web.get(&format!("/actions/{}", held.id), &cookie).await;
    assert!(page.contains("id=\"approve\"") && page.contains("add a note column"));
    assert!(page.contains("ALTER TABLE customers ADD COLUMN note text"));
    assert!(page.contains(&held.digest));

    let (status, headers, _) = web
        .post(
            &format!("/actions/{}/review", held.id),
            &cookie,
            &[
                ("csrf", &csrf),
                ("decision", "approve"),
                ("comment", "looks fine"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], format!("/actions/{}", held.id));
    let record = web.record(&held.id).await;
    assert_eq!(record.status, Status::Approved);
    let review = &record.hold.as_ref().unwrap().reviews[0];
    assert_eq!(
        (review.channel.as_str(), review.comment.as_str()),
        ("web", "looks fine")
    );
    assert_eq!(review.reviewer.name, "alice");

    let (_, _, page) = web.get(&format!("/actions/{}", held.id), &cookie).await;
    assert!(page.contains("approved") && !page.contains("id=\"approve\""));
    let (_, _, inbox) = web.get("/inbox", &cookie).await;
    assert!(
        !inbox.contains(held.id.as_str()),
        "decided holds leave the inbox"
    );
}

#[tokio::test]
async fn forged_and_cross_site_forms_are_refused_and_change_nothing() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let bob = web.token("bob", PrincipalKind::User, &["dba"]).await;
    let held = web.submit(&agent, "db.ddl", "x").await;
    let (cookie, csrf) = web.sign_in(&alice).await;
    let (_, bob_csrf) = web.sign_in(&bob).await;
    let path = format!("/actions/{}/review", held.id);

    for form in [
        vec![("decision", "approve")],
        vec![("csrf", ""), ("decision", "approve")],
        vec![("csrf", bob_csrf.as_str()), ("decision", "approve")],
        vec![("csrf", "0000"), ("decision", "approve")],
    ] {
        let (status, _, body) = web.post(&path, &cookie, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form:?}");
        assert!(body.contains("anti-forgery"), "{body}");
    }
    // The right token, but sent from another site.
    let body = format!("csrf={csrf}&decision=approve");
    let (status, _, _) = web
        .send(
            Request::post(&path)
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, "https://evil.example")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = web
        .send(
            Request::post(&path)
                .header(header::COOKIE, &cookie)
                .header("sec-fetch-site", "cross-site")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // No session at all: off to sign in.
    let (status, headers, _) = web
        .post(&path, "", &[("csrf", &csrf), ("decision", "approve")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/signin")
    );
    // A decision that is neither.
    let (status, _, _) = web
        .post(&path, &cookie, &[("csrf", &csrf), ("decision", "maybe")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A comment too long.
    let long = "x".repeat(5000);
    let (status, _, _) = web
        .post(
            &path,
            &cookie,
            &[("csrf", &csrf), ("decision", "approve"), ("comment", &long)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A body past the form limit.
    let huge = "x".repeat(100 * 1024);
    let (status, _, _) = web
        .post(
            &path,
            &cookie,
            &[("csrf", &csrf), ("decision", "approve"), ("comment", &huge)],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(web.record(&held.id).await.status, Status::Pending);
    assert!(web.record(&held.id).await.hold.unwrap().reviews.is_empty());

    // The sign-in form needs its own token too.
    let (status, _, _) = web
        .post(
            "/signin",
            "",
            &[("token", &alice), ("form_token", "x"), ("next", "/inbox")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn who_may_not_review_sees_why_instead_of_the_buttons() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let carol = web.token("carol", PrincipalKind::User, &["dba"]).await;
    let mallory = web.token("mallory", PrincipalKind::User, &["web"]).await;
    let export = web.submit(&agent, "db.export", "quarterly numbers").await;

    // Another group: the hold is not shown at all, and a forged review is refused.
    let (cookie, csrf) = web.sign_in(&mallory).await;
    let (_, _, inbox) = web.get("/inbox", &cookie).await;
    assert!(!inbox.contains(export.id.as_str()));
    let (status, _, page) = web.get(&format!("/actions/{}", export.id), &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("id=\"approve\""));
    let (status, _, _) = web
        .post(
            &format!("/actions/{}/review", export.id),
            &cookie,
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Alice approves (quorum 2); then she sees why she cannot again.
    let (cookie, csrf) = web.sign_in(&alice).await;
    web.post(
        &format!("/actions/{}/review", export.id),
        &cookie,
        &[("csrf", &csrf), ("decision", "approve")],
    )
    .await;
    let (_, _, page) = web.get(&format!("/actions/{}", export.id), &cookie).await;
    assert!(
        !page.contains("id=\"approve\""),
        "no buttons for a second review"
    );
    assert!(
        page.contains("id=\"cannot-review\"") && page.contains("already"),
        "{page}"
    );
    let (status, _, _) = web
        .post(
            &format!("/actions/{}/review", export.id),
            &cookie,
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the gate refuses a second review"
    );

    // A user's own request: self-review is refused, with the reason shown.
    let own = web.submit(&carol, "db.ddl", "mine").await;
    let (cookie, csrf) = web.sign_in(&carol).await;
    let (_, _, page) = web.get(&format!("/actions/{}", own.id), &cookie).await;
    assert!(page.contains("id=\"cannot-review\"") && !page.contains("id=\"approve\""));
    let (status, _, _) = web
        .post(
            &format!("/actions/{}/review", own.id),
            &cookie,
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(web.record(&own.id).await.status, Status::Pending);
}

#[tokio::test]
async fn agents_cannot_sign_in_and_bad_tokens_are_told_so() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let (status, headers, page) = web.sign_in_raw(&agent).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("agents never review"));
    assert!(set_cookie(&headers, "holdpoint").is_none());
    let (status, _, _) = web.sign_in_raw("hp_0000").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sessions_end_when_idle_too_old_revoked_or_signed_out() {
    let web = Web::start().await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let signed_out = |status: StatusCode, headers: &axum::http::HeaderMap| {
        status == StatusCode::SEE_OTHER
            && headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/signin?next=%2Finbox")
    };

    // Idle: 10 minutes without a request.
    let (cookie, _) = web.sign_in(&alice).await;
    web.clock.advance(Duration::from_secs(599));
    let (status, _, _) = web.get("/inbox", &cookie).await;
    assert_eq!(status, StatusCode::OK, "still within the idle timeout");
    web.clock.advance(Duration::from_secs(599));
    let (status, _, _) = web.get("/inbox/list", &cookie).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a live refresh looks without counting as activity"
    );
    web.clock.advance(Duration::from_secs(2));
    let (status, headers, _) = web.get("/inbox", &cookie).await;
    assert!(
        signed_out(status, &headers),
        "idle past the timeout: {status}"
    );

    // Absolute: an hour, however active.
    let (cookie, _) = web.sign_in(&alice).await;
    for _ in 0..7 {
        web.clock.advance(Duration::from_secs(540));
        web.get("/inbox", &cookie).await;
    }
    let (status, headers, _) = web.get("/inbox", &cookie).await;
    assert!(signed_out(status, &headers), "past the absolute timeout");

    // Sign-out ends the session on the server: the old cookie is dead.
    let (cookie, csrf) = web.sign_in(&alice).await;
    let (status, _, _) = web.post("/signout", &cookie, &[("csrf", "wrong")]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "sign-out needs the token too"
    );
    let (status, _, _) = web.post("/signout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, headers, _) = web.get("/inbox", &cookie).await;
    assert!(signed_out(status, &headers));

    // Revoking the token ends the session at its next request.
    let (cookie, _) = web.sign_in(&alice).await;
    let admin = Identity {
        principal: holdpoint_core::Principal::new(PrincipalKind::Admin, "root"),
        groups: Vec::new(),
        owner: None,
    };
    web.gate
        .revoke_token(&admin, "alice", "test")
        .await
        .unwrap();
    let (status, headers, _) = web.get("/inbox", &cookie).await;
    assert!(signed_out(status, &headers), "revoked");
}

/// A surface's note for reviewers (an MCP tool that changed since it was listed) is on
/// the action page, escaped.
#[tokio::test]
async fn a_surface_note_is_shown_on_the_action_page() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let caller = web.gate.authenticate(&agent).await.unwrap();
    let mut context = serde_json::Map::new();
    context.insert(
        holdpoint_core::review_request::NOTES_KEY.into(),
        serde_json::json!(["The tool changed since the last tools/list; it now says: <b>all</b>"]),
    );
    let held = web
        .gate
        .submit(
            &caller,
            ActionRequest {
                kind: "db.ddl".into(),
                resource: "postgres/prod/customers".into(),
                environment: "prod".into(),
                params: serde_json::json!({"sql": "ALTER TABLE customers ADD COLUMN n text"}),
                justification: String::new(),
            },
            SurfaceContext {
                surface: "mcp".into(),
                extra: Some(context),
                executes: true,
            },
        )
        .await
        .unwrap();
    let (cookie, _) = web.sign_in(&alice).await;
    let (_, _, page) = web.get(&format!("/actions/{}", held.id), &cookie).await;
    assert!(
        page.contains("The tool changed since the last tools/list"),
        "{page}"
    );
    assert!(!page.contains("<b>all</b>"), "{page}");
}

#[tokio::test]
async fn agent_text_is_escaped_and_admin_pages_are_for_admins() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let root = web.token("root", PrincipalKind::Admin, &[]).await;
    let held = web
        .submit(
            &agent,
            "db.ddl",
            "<script>alert(1)</script><img src=x onerror=alert(2)>",
        )
        .await;
    let (cookie, _) = web.sign_in(&alice).await;
    let (_, _, page) = web.get(&format!("/actions/{}", held.id), &cookie).await;
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"));
    assert!(
        page.contains("script&#62;alert(1)&#60;/script&#62;"),
        "escaped, not dropped"
    );
    // A right-to-left override would reorder what the reviewer reads: it is shown, not
    // applied.
    let bidi = web
        .submit(&agent, "db.ddl", "rename invoice\u{202e}fdp.exe")
        .await;
    let (_, _, page) = web.get(&format!("/actions/{}", bidi.id), &cookie).await;
    assert!(!page.contains('\u{202e}') && page.contains("invoice\\u{202e}fdp.exe"));

    for path in ["/audit", "/tokens"] {
        let (status, _, _) = web.get(path, &cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (cookie, csrf) = web.sign_in(&root).await;
    let (status, _, audit) = web.get("/audit", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(audit.contains("The chain verifies") && audit.contains("hold.created"));
    // A token created on the page is shown once, and listed without its secret after.
    let (status, _, page) = web
        .post(
            "/tokens",
            &cookie,
            &[
                ("csrf", &csrf),
                ("name", "deploy-bot"),
                ("kind", "agent"),
                ("groups", ""),
                ("owner", "alice"),
                ("ttl", "30d"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let secret = page
        .split("id=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("hp_"));
    let (_, _, listing) = web.get("/tokens", &cookie).await;
    assert!(listing.contains("deploy-bot") && !listing.contains(&secret));
    assert_eq!(
        web.gate.authenticate(&secret).await.unwrap().principal.name,
        "deploy-bot"
    );
    // An admin ends alice's session from the sessions list.
    let (alice_cookie, _) = web.sign_in(&alice).await;
    let (_, _, listing) = web.get("/tokens", &cookie).await;
    let keys: Vec<String> = listing
        .split("action=\"/sessions/")
        .skip(1)
        .filter(|chunk| chunk.contains("End the session of alice"))
        .map(|chunk| chunk.split('/').next().unwrap().to_string())
        .collect();
    assert!(!keys.is_empty());
    for key in keys {
        let (status, _, _) = web
            .post(&format!("/sessions/{key}/end"), &cookie, &[("csrf", &csrf)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let (status, _, _) = web.get("/inbox", &alice_cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "her session ended");
    // Bad input to the form is a clear 422.
    let (status, _, page) = web
        .post(
            "/tokens",
            &cookie,
            &[("csrf", &csrf), ("name", "x y"), ("kind", "agent")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("bad token name"), "{page}");
}

#[tokio::test]
async fn history_filters_and_pages_by_cursor() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let other = web.token("etl-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let mut ids = Vec::new();
    for i in 0..55 {
        ids.push(
            web.submit(&agent, "db.ddl", &format!("change {i}"))
                .await
                .id,
        );
    }
    let export = web.submit(&other, "db.export", "y").await;
    let (cookie, _) = web.sign_in(&alice).await;

    let (_, _, page) = web.get("/history?principal=etl-bot", &cookie).await;
    assert!(page.contains(export.id.as_str()) && !page.contains(ids[0].as_str()));
    let (_, _, page) = web
        .get("/history?kind=db.ddl&status=pending", &cookie)
        .await;
    assert!(!page.contains(export.id.as_str()) && page.contains(ids[54].as_str()));
    let next = page
        .split("href=\"/history?")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (_, _, older) = web.get(&format!("/history?{next}"), &cookie).await;
    assert!(older.contains(ids[0].as_str()) && !older.contains(ids[54].as_str()));
    let (_, _, page) = web.get("/history?environment=staging", &cookie).await;
    assert!(page.contains("No actions match"));
    let (_, _, page) = web.get("/history?to=2000-01-01", &cookie).await;
    assert!(page.contains("No actions match"));
    let (status, _, page) = web.get("/history?status=done", &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("unknown status"));
}

#[tokio::test]
async fn live_updates_reach_those_who_may_see_the_hold() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = web.token("alice", PrincipalKind::User, &["dba"]).await;
    let mallory = web.token("mallory", PrincipalKind::User, &["web"]).await;
    let (alice_cookie, alice_csrf) = web.sign_in(&alice).await;
    let (mallory_cookie, _) = web.sign_in(&mallory).await;
    let open = |cookie: String| {
        let router = web.router.clone();
        async move {
            let response = router
                .oneshot(
                    Request::get("/events")
                        .header(header::COOKIE, cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.into_body()
        }
    };
    let mut alice_events = open(alice_cookie.clone()).await;
    let mut mallory_events = open(mallory_cookie).await;
    let held = web.submit(&agent, "db.ddl", "x").await;
    let frame = tokio::time::timeout(Duration::from_secs(10), alice_events.frame())
        .await
        .expect("an event")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(frame.data_ref().unwrap()).into_owned();
    assert!(
        text.contains("event: hold") && text.contains(held.id.as_str()) && text.contains("pending"),
        "{text}"
    );
    // Mallory may not see it: nothing reaches her stream (checked with a short bound,
    // after a change she may see would have arrived).
    let quiet = tokio::time::timeout(Duration::from_millis(300), mallory_events.frame()).await;
    assert!(
        quiet.is_err(),
        "a hold for another group leaked to the stream"
    );
    // Signing out ends the stream at once.
    web.post("/signout", &alice_cookie, &[("csrf", &alice_csrf)])
        .await;
    let end = tokio::time::timeout(Duration::from_secs(10), alice_events.frame())
        .await
        .expect("the stream ends");
    assert!(end.is_none(), "no more events after sign-out");
    // Without a session, no stream.
    let response = web
        .router
        .clone()
        .oneshot(Request::get("/events").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// The query parameters of a URL.
fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn oidc_sign_in_checks_the_browser_pkce_and_the_id_token_and_is_used_once() {
    let idp = common::stand_in().await;
    let web = Web::start_with(Some(holdpoint_web::OidcConfig::new(
        &idp.issuer,
        "holdpoint",
        "secret",
    )))
    .await;
    // Starts a sign-in; the stand-in will answer `claims` signed with `key`. Returns the
    // callback path (with code and state) and the browser's binding cookie.
    let begin = |claims: fn(&str, &str) -> serde_json::Value, key: &'static str| {
        let web = &web;
        let idp = &idp;
        async move {
            let (status, headers, _) = web.get("/signin/oidc?next=/history", "").await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let location = headers[header::LOCATION].to_str().unwrap().to_string();
            assert!(location.starts_with(&format!("{}/auth?", idp.issuer)));
            let q = query_of(&location);
            assert_eq!(q["code_challenge_method"], "S256");
            assert_eq!(
                q["redirect_uri"],
                "http://127.0.0.1:8470/signin/oidc/callback"
            );
            assert!(q["scope"].split(' ').any(|s| s == "openid"));
            {
                let mut answer = idp.answer.lock().unwrap();
                answer.challenge = q["code_challenge"].clone();
                answer.id_token = common::sign(&claims(&idp.issuer, &q["nonce"]), key, "k1");
            }
            let cookie = set_cookie(&headers, "holdpoint_oidc").unwrap();
            let code = format!("code-{}", q["state"].len() + rand_suffix());
            (
                format!("/signin/oidc/callback?code={code}&state={}", q["state"]),
                cookie,
            )
        }
    };
    let refused = |status: StatusCode, headers: &axum::http::HeaderMap, why: &str| {
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], format!("/signin?error={why}"));
        assert!(set_cookie(headers, "holdpoint").is_none(), "no session");
    };

    // The callback in another browser than the one that started the sign-in.
    let (callback, _) = begin(common::claims_from, common::KEY).await;
    let (status, headers, _) = web.get(&callback, "").await;
    refused(status, &headers, "expired");

    // An ID token for another audience, signed by a key the provider never published,
    // or carrying another sign-in's nonce.
    fn other_audience(issuer: &str, nonce: &str) -> serde_json::Value {
        let mut c = common::claims_from(issuer, nonce);
        c["aud"] = serde_json::json!("another-client");
        c
    }
    fn other_nonce(issuer: &str, _: &str) -> serde_json::Value {
        common::claims_from(issuer, "a-nonce-from-another-sign-in")
    }
    for (claims, key) in [
        (
            other_audience as fn(&str, &str) -> serde_json::Value,
            common::KEY,
        ),
        (common::claims_from, common::OTHER_KEY),
        (other_nonce, common::KEY),
    ] {
        let (callback, cookie) = begin(claims, key).await;
        let (status, headers, _) = web.get(&callback, &cookie).await;
        refused(status, &headers, "oidc");
    }

    // The real thing: a session, back where the sign-in started.
    let (callback, cookie) = begin(common::claims_from, common::KEY).await;
    let (status, headers, _) = web.get(&callback, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/history");
    let session = set_cookie(&headers, "holdpoint").unwrap();
    let (status, _, page) = web.get("/inbox", &session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("alice"));
    // The same callback again, with the cookie saved from before (a replayed state,
    // code and nonce): the provider refuses the used code.
    let (status, headers, _) = web.get(&callback, &cookie).await;
    refused(status, &headers, "oidc");
    // A sign-in cookie for another sign-in's state, and one past ten minutes.
    let (first, _) = begin(common::claims_from, common::KEY).await;
    let (_, second_cookie) = begin(common::claims_from, common::KEY).await;
    let (status, headers, _) = web.get(&first, &second_cookie).await;
    refused(status, &headers, "expired");
    let (callback, cookie) = begin(common::claims_from, common::KEY).await;
    web.clock.advance(Duration::from_secs(601));
    let (status, headers, _) = web.get(&callback, &cookie).await;
    refused(status, &headers, "expired");
    // A sign-in cookie edited by hand.
    let (callback, cookie) = begin(common::claims_from, common::KEY).await;
    let tampered = cookie.replacen('.', "x.", 1);
    let (status, headers, _) = web.get(&callback, &tampered).await;
    refused(status, &headers, "expired");
    // The provider's answer replayed into a new sign-in: its nonce is not the new one.
    let old_token = idp.answer.lock().unwrap().id_token.clone();
    let (callback, cookie) = begin(common::claims_from, common::KEY).await;
    idp.answer.lock().unwrap().id_token = old_token;
    let (status, headers, _) = web.get(&callback, &cookie).await;
    refused(status, &headers, "oidc");
    // A name a live token already has.
    web.token("carol", PrincipalKind::Agent, &[]).await;
    fn as_carol(issuer: &str, nonce: &str) -> serde_json::Value {
        let mut c = common::claims_from(issuer, nonce);
        c["preferred_username"] = serde_json::json!("carol");
        c
    }
    let (callback, cookie) = begin(as_carol, common::KEY).await;
    let (status, headers, _) = web.get(&callback, &cookie).await;
    refused(status, &headers, "oidc");
    // And the other way round: no token may take the name of the person signed in.
    let taken = web
        .gate
        .create_token(&Actor::system(), token("alice", PrincipalKind::Agent, &[]))
        .await
        .unwrap_err();
    assert!(taken.to_string().contains("identity provider"), "{taken}");
    // A provider error and a callback with no state.
    let (status, headers, _) = web
        .get("/signin/oidc/callback?error=access_denied", "")
        .await;
    refused(status, &headers, "expired");
}

fn rand_suffix() -> usize {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn a_page_of_ones_own_requests_does_not_end_the_inbox() {
    let web = Web::start().await;
    let agent = web.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let carol = web.token("carol", PrincipalKind::User, &["dba"]).await;
    let theirs = web.submit(&agent, "db.ddl", "the agent's").await;
    web.submit(&carol, "db.ddl", "carol's first").await;
    web.submit(&carol, "db.ddl", "carol's second").await;
    let me = web.gate.authenticate(&carol).await.unwrap();
    let (first, next) = web.gate.inbox(&me, None, 2).await.unwrap();
    assert!(first.is_empty(), "her own requests are not hers to review");
    let next = next.expect("a cursor past her own requests");
    let (second, _) = web.gate.inbox(&me, Some(next), 2).await.unwrap();
    assert_eq!(
        second.iter().map(|r| &r.id).collect::<Vec<_>>(),
        vec![&theirs.id]
    );
}

/// Signs in through the stand-in provider as `claims` say (signed with its published
/// key); returns the session cookie.
async fn sign_in_with_provider(
    web: &Web,
    idp: &common::StandIn,
    claims: fn(&str, &str) -> serde_json::Value,
) -> String {
    let (status, headers, _) = web.get("/signin/oidc?next=/inbox", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let q = query_of(headers[header::LOCATION].to_str().unwrap());
    {
        let mut answer = idp.answer.lock().unwrap();
        answer.challenge = q["code_challenge"].clone();
        answer.id_token = common::sign(&claims(&idp.issuer, &q["nonce"]), common::KEY, "k1");
    }
    let browser = set_cookie(&headers, "holdpoint_oidc").unwrap();
    let callback = format!(
        "/signin/oidc/callback?code=code-{}&state={}",
        rand_suffix(),
        q["state"]
    );
    let (status, headers, _) = web.get(&callback, &browser).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/inbox");
    set_cookie(&headers, "holdpoint").expect("a session cookie")
}

fn oidc_config(idp: &common::StandIn) -> holdpoint_web::OidcConfig {
    holdpoint_web::OidcConfig::new(&idp.issuer, "holdpoint", "secret")
}

/// True when the response sends the browser to sign in.
fn to_signin(status: StatusCode, headers: &axum::http::HeaderMap) -> bool {
    status == StatusCode::SEE_OTHER
        && headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/signin")
}

#[tokio::test]
async fn a_web_session_survives_a_restart() {
    let first = Web::start().await;
    let agent = first.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let alice = first.token("alice", PrincipalKind::User, &["dba"]).await;
    let held = first.submit(&agent, "db.ddl", "after the restart").await;
    let (cookie, csrf) = first.sign_in(&alice).await;

    let second = first.replica(None).await;
    drop(first);
    second.clock.advance(Duration::from_secs(120));
    let (status, _, inbox) = second.get("/inbox", &cookie).await;
    assert_eq!(status, StatusCode::OK, "the same cookie still signs in");
    assert!(inbox.contains("alice") && inbox.contains(held.id.as_str()));
    assert_eq!(csrf_of(&inbox), csrf, "with the same anti-forgery token");
    let (status, _, _) = second
        .post(
            &format!("/actions/{}/review", held.id),
            &cookie,
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(second.record(&held.id).await.status, Status::Approved);

    // Its timeouts run on across the restart: ten idle minutes after the last request.
    second.clock.advance(Duration::from_secs(601));
    let (status, headers, _) = second.get("/inbox", &cookie).await;
    assert!(to_signin(status, &headers), "idle past the timeout");
}

#[tokio::test]
async fn an_oidc_reviewers_vouch_survives_a_restart_and_their_approval_releases_the_hold() {
    let idp = common::stand_in().await;
    let first = Web::start_with(Some(oidc_config(&idp))).await;
    let agent = first.token("ci-bot", PrincipalKind::Agent, &[]).await;
    let bob = first.token("bob", PrincipalKind::User, &["dba"]).await;
    // Two approvals needed; alice (no token: only the provider says she is in `dba`)
    // gives the first before the restart.
    let export = first.submit(&agent, "db.export", "quarterly numbers").await;
    let ddl = first.submit(&agent, "db.ddl", "an index").await;
    let alice = sign_in_with_provider(&first, &idp, common::claims_from).await;
    let (_, _, page) = first.get("/inbox", &alice).await;
    let alice_csrf = csrf_of(&page);
    let (status, _, _) = first
        .post(
            &format!("/actions/{}/review", export.id),
            &alice,
            &[("csrf", &alice_csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(first.record(&export.id).await.status, Status::Pending);

    let second = first.replica(Some(oidc_config(&idp))).await;
    drop(first);
    // Bob's approval meets the quorum; the release re-check counts alice's only if what
    // the provider said of her is still known.
    let (bob_cookie, bob_csrf) = second.sign_in(&bob).await;
    second
        .post(
            &format!("/actions/{}/review", export.id),
            &bob_cookie,
            &[("csrf", &bob_csrf), ("decision", "approve")],
        )
        .await;
    let released = second.record(&export.id).await;
    assert_eq!(
        released.status,
        Status::Approved,
        "alice's approval still counts after the restart: {:?}",
        released.verdict
    );
    // Her session survived too: she approves the other hold alone (quorum 1).
    let (status, _, _) = second
        .post(
            &format!("/actions/{}/review", ddl.id),
            &alice,
            &[("csrf", &alice_csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(second.record(&ddl.id).await.status, Status::Approved);
}

#[tokio::test]
async fn a_session_ended_on_one_gateway_is_refused_by_another_on_the_same_store() {
    let a = Web::start().await;
    let b = a.replica(None).await;
    let alice = a.token("alice", PrincipalKind::User, &["dba"]).await;
    let root = a.token("root", PrincipalKind::Admin, &[]).await;

    // Signed in on one, known on the other; signed out on the first, refused on both.
    let (cookie, csrf) = a.sign_in(&alice).await;
    let (status, _, _) = b.get("/inbox", &cookie).await;
    assert_eq!(status, StatusCode::OK, "shared");
    a.post("/signout", &cookie, &[("csrf", &csrf)]).await;
    let (status, headers, _) = b.get("/inbox", &cookie).await;
    assert!(
        to_signin(status, &headers),
        "signed out on the other gateway"
    );

    // An admin on one gateway ends a session used on the other.
    let (cookie, _) = a.sign_in(&alice).await;
    let (root_cookie, root_csrf) = b.sign_in(&root).await;
    let (_, _, listing) = b.get("/tokens", &root_cookie).await;
    let key = listing
        .split("action=\"/sessions/")
        .skip(1)
        .find(|chunk| chunk.contains("End the session of alice"))
        .map(|chunk| chunk.split('/').next().unwrap().to_string())
        .expect("alice's session is listed on the other gateway");
    // Not by alice: ending sessions is for admins (the page and the gate refuse her).
    let (_, _, page) = a.get("/inbox", &cookie).await;
    let (status, _, _) = a
        .post(
            &format!("/sessions/{key}/end"),
            &cookie,
            &[("csrf", &csrf_of(&page))],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let alice_id = a.gate.authenticate(&alice).await.unwrap();
    let refused = a.gate.end_session_as_admin(&alice_id, &key).await;
    assert!(
        matches!(refused, Err(holdpoint_gate::GateError::Forbidden(_))),
        "{refused:?}"
    );
    let refused = a.gate.list_sessions(&alice_id).await;
    assert!(
        matches!(refused, Err(holdpoint_gate::GateError::Forbidden(_))),
        "{refused:?}"
    );
    let (status, _, _) = a.get("/inbox", &cookie).await;
    assert_eq!(status, StatusCode::OK, "still signed in");

    let (status, _, _) = b
        .post(
            &format!("/sessions/{key}/end"),
            &root_cookie,
            &[("csrf", &root_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, headers, _) = a.get("/inbox", &cookie).await;
    assert!(to_signin(status, &headers), "ended by an admin elsewhere");
    let types: Vec<String> = a
        .gate
        .store_for_tests()
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type.as_str().to_string())
        .filter(|t| t.starts_with("session."))
        .collect();
    assert_eq!(
        types,
        [
            "session.started",
            "session.ended",
            "session.started",
            "session.started",
            "session.ended"
        ]
    );
}
