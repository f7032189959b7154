//! No input makes masking panic, and masking stays idempotent on random input.

#![allow(clippy::indexing_slicing)]

mod common;
use common::redactor;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Map, Value};

/// Pieces that wake detectors, glued together at random.
const PIECES: [&str; 34] = [
    "password=",
    "\"token\": \"",
    "Authorization: Bearer ",
    "Basic ",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "eyJhbGciOi",
    ".eyJzdWIi",
    "AKIA",
    "ghp_",
    "sk-ant-",
    "sk-",
    "xoxb-",
    "://",
    "user:",
    "@",
    "example.com",
    "+1 ",
    "(415) ",
    "555-2671",
    "4111 ",
    "1111",
    "123-45-",
    "GB82 WEST ",
    "[email:1a2b]",
    "[",
    "]",
    "'",
    "\"",
    "\\",
    "\n",
    "é",
    "漢字",
    "🦀",
];

fn random_text(rng: &mut StdRng) -> String {
    let mut s = String::new();
    for _ in 0..rng.random_range(0..40) {
        match rng.random_range(0..4) {
            0 => s.push_str(PIECES[rng.random_range(0..PIECES.len())]),
            1 => s.push(char::from(rng.random_range(0x20u8..0x7f))),
            2 => {
                for _ in 0..rng.random_range(1..30) {
                    s.push(char::from(b"Aa0Zz9+/-_="[rng.random_range(0..11)]));
                }
            }
            _ => s.push(rng.random::<char>()),
        }
    }
    s
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 4 } else { 6 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => Value::from(rng.random::<u64>()),
        3 => Value::String(random_text(rng)),
        4 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..4) {
                let key = if rng.random() {
                    "password".to_string()
                } else {
                    random_text(rng)
                };
                map.insert(key, random_json(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..2000 {
        let mut bytes = vec![0u8; rng.random_range(0..300)];
        rng.fill_bytes(&mut bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = redactor().mask_text(&text);
    }
}

#[test]
fn random_text_masks_idempotently() {
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..3000 {
        let text = random_text(&mut rng);
        let once = redactor().mask_text(&text);
        assert_eq!(redactor().mask_text(&once), once, "from {text:?}");
    }
}

#[test]
fn random_json_masks_idempotently() {
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..1000 {
        let value = random_json(&mut rng, 0);
        let once = redactor().mask_value(&value);
        assert_eq!(redactor().mask_value(&once), once, "from {value}");
    }
}

#[test]
fn very_long_input_is_fine() {
    let text = "a".repeat(1 << 20) + &"9".repeat(1 << 16) + &"-".repeat(1 << 16);
    assert_eq!(redactor().mask_text(&text), text);
    let nested = (0..64).fold(Value::from("bob@example.com"), |v, _| Value::Array(vec![v]));
    assert!(
        redactor()
            .mask_value(&nested)
            .to_string()
            .contains("[email:")
    );
}

#[test]
fn dense_overlapping_secrets_are_all_masked() {
    let text = "token=Zx8Qm2LpR7vN4tK9sW3yB6cH bob@example.com ".repeat(20_000);
    let out = redactor().mask_text(&text);
    assert!(!out.contains("Zx8Qm2Lp") && !out.contains("bob@"));
    assert_eq!(out.matches("[secret_field:").count(), 20_000);
    assert_eq!(redactor().mask_text(&out), out);
}

/// The shortest thing each built-in detector finds, with a reason it is not "plain"
/// (see `scan::is_plain`): a plain text can never hold a finding.
#[test]
fn the_shortest_findings_are_not_plain_texts() {
    for text in [
        "passwd=x",
        "a@b.co",
        "xoxb-abcdefghij",
        "-pSECRET mysql",
        "4222222222222",
        "sk_live_abcdefghij",
    ] {
        let out = redactor().mask_text(text);
        assert_ne!(out, text, "`{text}` should be masked");
    }
}
