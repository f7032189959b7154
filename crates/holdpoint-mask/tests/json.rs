//! JSON params walked as a tree.

#![allow(clippy::indexing_slicing)]

mod common;
use common::redactor;
use serde_json::{Value, json};

fn mask(v: &Value) -> Value {
    redactor().mask_value(v)
}

fn is_mask_of(v: &Value, kind: &str) -> bool {
    v.as_str()
        .is_some_and(|s| s.starts_with(&format!("[{kind}:")) && s.ends_with(']'))
}

#[test]
fn values_under_secret_keys_are_masked_whole_whatever_their_type() {
    let out = mask(&json!({
        "password": "correct horse battery staple",
        "api_key": 123456,
        "session": true,
        "DB_PASSWORD": null,
        "token": "",
        "x-api-key": "k",
    }));
    assert!(is_mask_of(&out["password"], "secret_field"), "{out}");
    assert!(is_mask_of(&out["api_key"], "secret_field"), "{out}");
    assert!(is_mask_of(&out["session"], "secret_field"), "{out}");
    assert!(is_mask_of(&out["x-api-key"], "secret_field"), "{out}");
    assert_eq!(out["DB_PASSWORD"], Value::Null);
    assert_eq!(out["token"], "");
}

#[test]
fn everything_under_a_secret_key_is_masked_leaf_by_leaf() {
    let out = mask(&json!({"credentials": {"user": "bob", "list": ["a", 1, {"x": false}]}}));
    let c = &out["credentials"];
    assert!(is_mask_of(&c["user"], "secret_field"), "{out}");
    assert!(is_mask_of(&c["list"][0], "secret_field"), "{out}");
    assert!(is_mask_of(&c["list"][1], "secret_field"), "{out}");
    assert!(is_mask_of(&c["list"][2]["x"], "secret_field"), "{out}");
}

#[test]
fn nested_strings_are_masked_as_text_and_the_rest_stays() {
    let params = json!({
        "sql": "ALTER ROLE app PASSWORD 'hunter2'",
        "targets": [
            {"host": "db-1", "dsn": "postgres://app:s3cr3t@db-1:5432/orders"},
            {"host": "db-2", "notify": ["ops@example.com", "oncall@example.com"]}
        ],
        "config": {"retries": 3, "ratio": 0.5, "enabled": true, "owner": {"email": "alice@example.com"}},
        "id": "550e8400-e29b-41d4-a716-446655440000",
    });
    let out = mask(&params);
    let text = out.to_string();
    for raw in [
        "hunter2",
        "s3cr3t",
        "ops@example.com",
        "oncall@example.com",
        "alice@example.com",
    ] {
        assert!(!text.contains(raw), "`{raw}` still in {text}");
    }
    assert!(
        out["sql"]
            .as_str()
            .unwrap()
            .starts_with("ALTER ROLE app PASSWORD [secret_field:")
    );
    assert_eq!(out["targets"][0]["host"], "db-1");
    assert!(
        out["targets"][0]["dsn"]
            .as_str()
            .unwrap()
            .starts_with("postgres://app:[url_credentials:")
    );
    assert!(is_mask_of(&out["targets"][1]["notify"][1], "email"));
    assert_eq!(out["config"]["retries"], 3);
    assert_eq!(out["config"]["ratio"], 0.5);
    assert_eq!(out["config"]["enabled"], true);
    assert_eq!(out["id"], params["id"]);
}

#[test]
fn keys_are_masked_too() {
    let out = mask(&json!({"alice@example.com": {"role": "admin"}}));
    let obj = out.as_object().unwrap();
    assert_eq!(obj.len(), 1);
    let (key, value) = obj.iter().next().unwrap();
    assert!(key.starts_with("[email:"), "{out}");
    assert_eq!(value["role"], "admin");
}

#[test]
fn keys_that_mask_alike_keep_both_values() {
    let fp = redactor().mask_text("alice@example.com");
    let out = mask(&json!({"alice@example.com": 1, fp.clone(): 2}));
    assert_eq!(out.as_object().unwrap().len(), 2, "{out}");
}

#[test]
fn card_numbers_written_as_numbers_are_masked() {
    let out = mask(&json!({"pan": 4111111111111111u64, "count": 4111111111111112u64, "small": 42}));
    assert!(is_mask_of(&out["pan"], "card_number"), "{out}");
    assert_eq!(out["count"], 4111111111111112u64);
    assert_eq!(out["small"], 42);
}

#[test]
fn secret_field_masks_already_in_place_are_kept() {
    let once = mask(&json!({"password": "hunter2", "pin_hash": 5}));
    assert_eq!(mask(&once), once);
}

#[test]
fn scalars_at_the_top_are_masked() {
    assert!(
        mask(&json!("mail bob@example.com"))
            .as_str()
            .unwrap()
            .starts_with("mail [email:")
    );
    assert_eq!(mask(&json!(7)), json!(7));
    assert_eq!(mask(&Value::Null), Value::Null);
}

#[test]
fn one_of_each_kind_leaves_nothing_raw() {
    let raw = [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t\n-----END RSA PRIVATE KEY-----",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.HUQPFeNBjRaGhvMeRkU0iTVDHOnYSkZOrn5ZPyh9Ttg",
        "AKIAFKKIBJ3J4WJ99IBA",
        "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
        "glpat-Y40uvSwMFLZDe1f8rESQ",
        "xoxb-10497465075-2917034236671-kCzJr4i0B3JrTAwR4y9ojflj",
        "sk_live_oQoaF1LlqsajAIxNKu8iS2G8",
        "sk-ant-api03-Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a",
        "sk-proj-NPRVdD53X83RZJzzzzgEOzdmenCkhvMdgaKjIg8xNbe3nNyj",
        "hp_3e0ad84173581569969e58b081006f7e3dfc967a64cb14028d512c9791e558e0",
        "alice.smith@example.com",
        "4111 1111 1111 1111",
        "078-05-1120",
        "DE89370400440532013000",
        "+1 (415) 555-2671",
        "q8Ja2LmZ93nXbV7kP1rTx4Wc",
    ];
    let params = json!({
        "values": raw,
        "sql": "ALTER ROLE app PASSWORD 'Tr0ub4dor-and-3'",
        "dsn": "postgres://app:Tr0ub4dor-and-3@db.internal:5432/prod",
        "command": "mysql -u root -phunter2 prod && curl -u ci:hunter3 -H 'Authorization: Bearer abc123def456ghi789' https://x",
        "aws": "aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "azure": "AccountName=a;AccountKey=di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY/uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt+PlJhx2jIclHkCiH==",
        "password": 12345,
    });
    let text = mask(&params).to_string();
    let more = [
        "Tr0ub4dor-and-3",
        "hunter2",
        "hunter3",
        "abc123def456ghi789",
        "K7MDENG/bPxRfiCY",
        "di4PzJ59FHz5r1pY4",
        "12345",
    ];
    for secret in raw.iter().chain(&more) {
        let probe: String = secret
            .chars()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert!(
            !text.contains(&probe),
            "`{probe}` (from `{secret}`) still in {text}"
        );
    }
}
