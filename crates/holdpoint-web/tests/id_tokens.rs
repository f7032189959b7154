//! ID token checks with real signatures (ES256 keys made for these tests): the audience,
//! the signature, the nonce, the algorithm, expiry, and a nonce used twice. The provider
//! is a local stand-in serving a discovery document and a JWKS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::Clock as _;
use holdpoint_core::SystemClock;
use holdpoint_web::OidcConfig;
use holdpoint_web::oidc::Provider;
use holdpoint_web::oidc::verify::{Expected, VerifyError, verify};

mod common;
use common::{KEY, OTHER_KEY, jwks, sign};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use std::sync::Arc;

const ISSUER: &str = "https://idp.example.test";

fn claims(nonce: &str) -> Value {
    let now = SystemClock.now().timestamp();
    json!({"iss": ISSUER, "aud": "holdpoint", "sub": "alice", "iat": now, "exp": now + 300,
           "nonce": nonce, "preferred_username": "alice", "groups": ["dba"]})
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
    c["exp"] = json!(SystemClock.now().timestamp() - 3600);
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

#[tokio::test]
async fn a_nonce_signs_in_once() {
    let issuer = common::stand_in().await.issuer;
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
    let issuer = common::stand_in().await.issuer;
    let provider = Provider::new(
        OidcConfig::new(&format!("{issuer}/"), "holdpoint", "secret"),
        "http://127.0.0.1:8470",
        Arc::new(SystemClock),
    )
    .unwrap();
    let err = provider.metadata(false).await.unwrap_err();
    assert!(err.to_string().contains("names issuer"), "{err}");
}
