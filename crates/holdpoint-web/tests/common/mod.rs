//! Shared by the web tests: ES256 keys made for them, token signing, and a stand-in
//! OpenID Connect provider on loopback (discovery, keys, and a token endpoint that checks
//! the client's secret and the PKCE verifier, and answers the ID token a test sets).

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{Clock as _, SystemClock};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFaEQE+OXsSvPetk3
lEjvmRq1uPmClma2ZehP4GzZuC2hRANCAAQ6Is9T7sEFPpWeLyQtPn7OngmHOckE
qGjL2PzgvXgpwWQ4r7xngiH86cXzyNhsapHdQGeC23cLCkW/eH9tszfM
-----END PRIVATE KEY-----";
/// Another key, which the provider does not publish.
pub const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiCkZIk9bTYz98skG
O4x0ffyGCGomqf5IW0J0kvRp5NyhRANCAASw3uC0f3u9t2QwC6/b2TXIwN+hip5H
9MB3kM51lWaEjr8+5pKqOp+EuTt3Z+DVV4qPw7ScpFIrIpJoGmUBb4RN
-----END PRIVATE KEY-----";

pub fn jwks() -> JwkSet {
    serde_json::from_value(json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": "OiLPU-7BBT6Vni8kLT5-zp4JhznJBKhoy9j84L14KcE",
        "y": "ZDivvGeCIfzpxfPI2Gxqkd1AZ4LbdwsKRb94f22zN8w"
    }]}))
    .unwrap()
}

pub fn sign(claims: &Value, key: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    encode(&header, claims, &EncodingKey::from_ec_der(&der(key))).unwrap()
}

/// The DER bytes of a PEM block.
pub fn der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// What the stand-in's token endpoint answers, and what it checks.
#[derive(Default)]
pub struct TokenAnswer {
    /// The PKCE challenge of the sign-in under way (from the authorization URL).
    pub challenge: String,
    /// The ID token to answer with.
    pub id_token: String,
    /// Codes already redeemed: a second use is refused, as a real provider does.
    pub used: Vec<String>,
}

pub struct StandIn {
    pub issuer: String,
    pub answer: Arc<Mutex<TokenAnswer>>,
}

/// A stand-in issuer on loopback: discovery, keys and a token endpoint for client
/// `holdpoint` with secret `secret`.
pub async fn stand_in() -> StandIn {
    use base64::Engine;
    use sha2::Digest;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = base.clone();
    let answer = Arc::new(Mutex::new(TokenAnswer::default()));
    let tokens = answer.clone();
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let issuer = issuer.clone();
                async move {
                    axum::Json(json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{issuer}/auth"),
                        "token_endpoint": format!("{issuer}/token"),
                        "jwks_uri": format!("{issuer}/jwks"),
                    }))
                }
            }),
        )
        .route(
            "/jwks",
            axum::routing::get(|| async { axum::Json(serde_json::to_value(jwks()).unwrap()) }),
        )
        .route(
            "/token",
            axum::routing::post(
                move |headers: axum::http::HeaderMap,
                      axum::extract::Form(form): axum::extract::Form<
                    std::collections::HashMap<String, String>,
                >| {
                    let tokens = tokens.clone();
                    async move {
                        let basic = format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode("holdpoint:secret")
                        );
                        if headers.get("authorization").and_then(|v| v.to_str().ok())
                            != Some(basic.as_str())
                        {
                            return (
                                axum::http::StatusCode::UNAUTHORIZED,
                                axum::Json(json!({"error": "invalid_client"})),
                            );
                        }
                        let mut t = tokens.lock().unwrap();
                        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(sha2::Sha256::digest(verifier.as_bytes()));
                        let code = form.get("code").cloned().unwrap_or_default();
                        if challenge != t.challenge || t.used.contains(&code) {
                            return (
                                axum::http::StatusCode::BAD_REQUEST,
                                axum::Json(json!({"error": "invalid_grant"})),
                            );
                        }
                        t.used.push(code);
                        (
                            axum::http::StatusCode::OK,
                            axum::Json(json!({"id_token": t.id_token, "token_type": "Bearer"})),
                        )
                    }
                },
            ),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    StandIn {
        issuer: base,
        answer,
    }
}

/// Claims for `nonce` from `issuer`.
pub fn claims_from(issuer: &str, nonce: &str) -> Value {
    let now = SystemClock.now().timestamp();
    json!({"iss": issuer, "aud": "holdpoint", "sub": "alice", "iat": now, "exp": now + 300,
           "nonce": nonce, "preferred_username": "alice", "groups": ["dba"]})
}
