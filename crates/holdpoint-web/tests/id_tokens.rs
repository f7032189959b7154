//! ID token checks with real signatures (ES256 keys made for these tests): the audience,
//! the signature, the nonce, the algorithm, expiry, and a nonce used twice. The provider
//! is a local stand-in serving a discovery document and a JWKS.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use holdpoint_core::SystemClock;
use holdpoint_web::OidcConfig;
use holdpoint_web::oidc::Provider;
use holdpoint_web::oidc::verify::{Expected, VerifyError, verify};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use std::sync::Arc;

const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFaEQE+OXsSvPetk3
lEjvmRq1uPmClma2ZehP4GzZuC2hRANCAAQ6Is9T7sEFPpWeLyQtPn7OngmHOckE
qGjL2PzgvXgpwWQ4r7xngiH86cXzyNhsapHdQGeC23cLCkW/eH9tszfM
-----END PRIVATE KEY-----";
/// Another key, which the provider does not publish.
const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiCkZIk9bTYz98skG
O4x0ffyGCGomqf5IW0J0kvRp5NyhRANCAASw3uC0f3u9t2QwC6/b2TXIwN+hip5H
9MB3kM51lWaEjr8+5pKqOp+EuTt3Z+DVV4qPw7ScpFIrIpJoGmUBb4RN
-----END PRIVATE KEY-----";

fn jwks() -> JwkSet {
    serde_json::from_value(json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": "OiLPU-7BBT6Vni8kLT5-zp4JhznJBKhoy9j84L14KcE",
        "y": "ZDivvGeCIfzpxfPI2Gxqkd1AZ4LbdwsKRb94f22zN8w"
    }]}))
    .unwrap()
}

const ISSUER: &str = "https://idp.example.test";

fn claims(nonce: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISSUER, "aud": "holdpoint", "sub": "alice", "iat": now, "exp": now + 300,
           "nonce": nonce, "preferred_username": "alice", "groups": ["dba"]})
}

fn sign(claims: &Value, key: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    encode(&header, claims, &EncodingKey::from_ec_der(&der(key))).unwrap()
}

/// The DER bytes of a PEM block.
fn der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn expected(nonce: &str) -> Expected<'_> {
    Expected {
        issuer: ISSUER,
        client_id: "holdpoint",
        nonce,
    }
}

#[test]
fn a_good_token_passes_and_every_forgery_is_refused() {
    let keys = jwks();
    let good = sign(&claims("n1"), KEY, "k1");
    assert_eq!(
        verify(&good, &keys, &expected("n1")).unwrap()["sub"],
        "alice"
    );

    let refused = |token: &str, nonce: &str| verify(token, &keys, &expected(nonce)).unwrap_err();

    // Another audience.
    let mut c = claims("n1");
    c["aud"] = json!("someone-else");
    assert!(matches!(
        refused(&sign(&c, KEY, "k1"), "n1"),
        VerifyError::Invalid(_)
    ));
    // Several audiences, issued to another client.
    c["aud"] = json!(["holdpoint", "other"]);
    c["azp"] = json!("other");
    assert!(matches!(
        refused(&sign(&c, KEY, "k1"), "n1"),
        VerifyError::Invalid(_)
    ));
    // Another issuer.
    let mut c = claims("n1");
    c["iss"] = json!("https://evil.example.test");
    assert!(matches!(
        refused(&sign(&c, KEY, "k1"), "n1"),
        VerifyError::Invalid(_)
    ));
    // Signed by a key the provider does not publish, under its key id.
    assert!(matches!(
        refused(&sign(&claims("n1"), OTHER_KEY, "k1"), "n1"),
        VerifyError::Invalid(_)
    ));
    // A signature taken from another token.
    let other = sign(&claims("n2"), KEY, "k1");
    let mut parts: Vec<&str> = good.split('.').collect();
    let other_sig = other.rsplit('.').next().unwrap();
    parts[2] = other_sig;
    assert!(matches!(
        refused(&parts.join("."), "n1"),
        VerifyError::Invalid(_)
    ));
    // A key id nobody published: the keys are fetched again.
    assert_eq!(
        refused(&sign(&claims("n1"), OTHER_KEY, "k9"), "n1"),
        VerifyError::UnknownKey("k9".into())
    );
    // Another sign-in's nonce, and no nonce.
    assert!(matches!(refused(&good, "n2"), VerifyError::Invalid(_)));
    let mut c = claims("n1");
    c.as_object_mut().unwrap().remove("nonce");
    assert!(matches!(
        refused(&sign(&c, KEY, "k1"), "n1"),
        VerifyError::Invalid(_)
    ));
    // Expired.
    let mut c = claims("n1");
    c["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert!(matches!(
        refused(&sign(&c, KEY, "k1"), "n1"),
        VerifyError::Invalid(_)
    ));
    // A shared-secret algorithm, and `none`.
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims("n1"),
        &EncodingKey::from_secret(b"s"),
    )
    .unwrap();
    assert!(matches!(refused(&hs, "n1"), VerifyError::Invalid(_)));
    let body = good.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}.");
    assert!(matches!(refused(&none, "n1"), VerifyError::Invalid(_)));
    // Garbage.
    assert!(matches!(
        refused("not.a.token", "n1"),
        VerifyError::Invalid(_)
    ));
}

/// A stand-in issuer on loopback: its discovery document and keys.
async fn stand_in() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = base.clone();
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
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn a_nonce_signs_in_once() {
    let issuer = stand_in().await;
    let provider = Provider::new(
        OidcConfig::new(&issuer, "holdpoint", "secret"),
        "http://127.0.0.1:8470",
        Arc::new(SystemClock),
    )
    .unwrap();
    let mut c = claims("nonce-1");
    c["iss"] = json!(issuer);
    let token = sign(&c, KEY, "k1");
    let first = provider.check(&token, "nonce-1").await.unwrap();
    assert_eq!(first["preferred_username"], "alice");
    let replay = provider.check(&token, "nonce-1").await.unwrap_err();
    assert!(replay.to_string().contains("already used"), "{replay}");
    // Signed with a key the issuer never published: refused after fetching keys again.
    let mut c = claims("nonce-2");
    c["iss"] = json!(issuer);
    let unknown = provider
        .check(&sign(&c, OTHER_KEY, "k9"), "nonce-2")
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("unknown key"), "{unknown}");
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let issuer = stand_in().await;
    let provider = Provider::new(
        OidcConfig::new(&format!("{issuer}/"), "holdpoint", "secret"),
        "http://127.0.0.1:8470",
        Arc::new(SystemClock),
    )
    .unwrap();
    let err = provider.metadata(false).await.unwrap_err();
    assert!(err.to_string().contains("names issuer"), "{err}");
}
