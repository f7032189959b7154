//! Authorization values, URL credentials and connection-string passwords.

#![allow(clippy::indexing_slicing)]

mod common;
use common::{assert_masks, assert_untouched, mask};

#[test]
fn bearer_tokens_are_masked_and_the_scheme_stays() {
    let out = mask("Authorization: Bearer abc123def456ghi789");
    assert!(out.starts_with("Authorization: Bearer [bearer:"), "{out}");
    assert!(!out.contains("abc123"));
    assert_masks(
        "curl -H 'Authorization: Bearer abc.def-ghi_jkl' https://api",
        "abc.def-ghi_jkl",
        "bearer",
    );
    assert_masks(
        r#"{"headers": {"auth": "Bearer Zx8Qm2LpR7vN"}}"#,
        "Zx8Qm2LpR7vN",
        "bearer",
    );
}

#[test]
fn bearer_as_a_word_stays() {
    assert_untouched("the bearer of bad news");
    assert_untouched("Bearer authentication is described in RFC 6750");
}

#[test]
fn basic_credentials_are_masked() {
    let out = mask("Authorization: Basic dXNlcjpwYXNzd29yZA==");
    assert!(out.starts_with("Authorization: Basic [basic:"), "{out}");
    assert_masks(
        "-H \"Proxy-Authorization: Basic dXNlcjpwYXNz\"",
        "dXNlcjpwYXNz",
        "basic",
    );
}

#[test]
fn basic_as_a_word_stays() {
    assert_untouched("basic authentication is disabled");
    assert_untouched("a BASIC program");
}

#[test]
fn other_authorization_schemes_are_masked_as_secret_fields() {
    let out = mask(
        "Authorization: Digest username=\"bob\", response=\"6629fae49393a05397450978507c4ef1\"",
    );
    assert!(
        out.starts_with("Authorization: Digest [secret_field:"),
        "{out}"
    );
    assert!(!out.contains("6629fae4"));
    assert_masks("authorization: sometoken", "sometoken", "secret_field");
}

#[test]
fn url_passwords_are_masked_and_the_rest_stays() {
    let out = mask("postgres://app:s3cr3t-P4ss@db.internal:5432/orders?sslmode=require");
    assert!(out.starts_with("postgres://app:[url_credentials:"), "{out}");
    assert!(
        out.ends_with("]@db.internal:5432/orders?sslmode=require"),
        "{out}"
    );
    assert!(!out.contains("s3cr3t"));
    assert_masks(
        "redis://:hunter2@cache:6379/0",
        "hunter2",
        "url_credentials",
    );
    assert_masks(
        "https://bob:pa%40ss@example.com/x",
        "pa%40ss",
        "url_credentials",
    );
}

#[test]
fn urls_without_credentials_stay() {
    assert_untouched("https://example.com:8443/path/to/thing?x=1");
    assert_untouched("postgres://app@db.internal/orders");
    assert_untouched("see http://localhost:3000/#/users");
}

#[test]
fn dsn_passwords_are_masked() {
    let out =
        mask("host=db.internal port=5432 dbname=orders user=app password=s3cr3t sslmode=require");
    assert!(out.contains("user=app password=[url_credentials:"), "{out}");
    assert!(out.ends_with("] sslmode=require"), "{out}");
    assert_masks(
        "Server=tcp:db,1433;Database=orders;User Id=app;Password=Pa55;w0rd",
        "Pa55",
        "url_credentials",
    );
    assert_masks(
        "host=db password='it is secret'",
        "it is secret",
        "url_credentials",
    );
}
