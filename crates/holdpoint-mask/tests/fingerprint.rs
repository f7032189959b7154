//! The mask format, keyed fingerprints, and masking twice.

#![allow(clippy::indexing_slicing)]

mod common;
use common::{KEY, mask, redactor};
use hmac::{Hmac, KeyInit, Mac};
use holdpoint_mask::{MaskConfig, Redactor};
use sha2::Sha256;

const SECRET_TEXT: &str = "aws_secret_access_key=nr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5";

#[test]
fn the_mask_is_the_kind_and_four_hex_digits_of_the_hmac() {
    let raw = "nr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5";
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(raw.as_bytes());
    let code = mac.finalize().into_bytes();
    let expected = format!(
        "aws_secret_access_key=[aws_secret_key:{}]",
        hex::encode(&code[..2])
    );
    assert_eq!(mask(SECRET_TEXT), expected);
}

#[test]
fn the_same_value_masks_alike() {
    let a = mask("mail bob@example.com");
    let b = mask("cc: bob@example.com");
    let c = mask("mail carol@example.com");
    assert_eq!(a.strip_prefix("mail "), b.strip_prefix("cc: "));
    assert_ne!(a, c);
}

#[test]
fn another_key_gives_another_fingerprint() {
    let other = Redactor::new(
        b"another-deployment-key-0123456789abcdef",
        &MaskConfig::default(),
    )
    .unwrap();
    let text = "mail bob@example.com";
    let (ours, theirs) = (mask(text), other.mask_text(text));
    assert!(ours.starts_with("mail [email:") && theirs.starts_with("mail [email:"));
    assert_ne!(ours, theirs);
}

#[test]
fn masking_twice_changes_nothing() {
    let samples = [
        SECRET_TEXT,
        "ALTER ROLE app PASSWORD 'hunter2'",
        "psql postgres://app:s3cr3t@db:5432/x --password hunter2",
        "Authorization: Bearer abc123def456ghi789",
        "Authorization: Digest username=\"bob\", response=\"6629fae49393a05397450978507c4ef1\"",
        "Cookie: theme=dark; session=0a1b2c3d4e",
        "mail bob@example.com, call +1 (415) 555-2671, card 4111 1111 1111 1111",
        "ssn 123-45-6789 iban GB82 WEST 1234 5698 7654 32",
        "export GITHUB_TOKEN=ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
        "mysql -u root -pS3cr3t! -h db; curl -u a:b https://x",
        r#"{"password": "hunter2", "token": "Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a"}"#,
        "key Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a here",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
    ];
    for text in samples {
        let once = mask(text);
        assert_ne!(once, text, "nothing masked in `{text}`");
        assert_eq!(mask(&once), once, "masking `{text}` twice");
    }
    // Masks in the input are left as they are, whatever stands near them.
    let masks = "secret_field: [secret_field:1a2b] email: [email:00ff] password=[basic:beef]";
    assert_eq!(mask(masks), masks);
}

#[test]
fn masking_json_twice_changes_nothing() {
    let v = serde_json::json!({
        "password": 5, "nested": {"dsn": "redis://:pw@cache", "cards": [4111111111111111u64]},
        "ok": "plain"
    });
    let once = redactor().mask_value(&v);
    assert_eq!(redactor().mask_value(&once), once);
}
