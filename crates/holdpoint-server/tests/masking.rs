//! No raw secret leaves the gate: not in API responses, not in the audit log, not in what
//! is built for a reviewer's channel (DESIGN §2.7). The digest still proves the exact action.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_core::ActionId;
use holdpoint_notify::ReviewRequest;
use reqwest::StatusCode;
use serde_json::json;
use support::{Harness, POLICIES};

const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.HUQPFeNBjRaGhvMeRkU0iTVDHOnYSkZOrn5ZPyh9Ttg";
const AWS_ID: &str = "AKIAFKKIBJ3J4WJ99IBA";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const GITHUB: &str = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d";
const GITLAB: &str = "glpat-Y40uvSwMFLZDe1f8rESQ";
const SLACK: &str = "xoxb-10497465075-2917034236671-kCzJr4i0B3JrTAwR4y9ojflj";
const STRIPE: &str = "sk_live_oQoaF1LlqsajAIxNKu8iS2G8";
const ANTHROPIC: &str = "sk-ant-api03-Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a";
const DB_PASSWORD: &str = "Tr0ub4dor-and-3";
const EMAIL: &str = "alice.smith@example.com";
const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "078-05-1120";
const IBAN: &str = "DE89370400440532013000";
const PHONE: &str = "+1 (415) 555-2671";

/// Distinctive slices of every raw value above.
const RAW: &[&str] = &[
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t",
    "HUQPFeNBjRaGhvMeRkU0iTVDHOnYSkZOrn5ZPyh9Ttg",
    AWS_ID,
    "K7MDENG/bPxRfiCYEXAMPLEKEY",
    "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
    "Y40uvSwMFLZDe1f8rESQ",
    "kCzJr4i0B3JrTAwR4y9ojflj",
    "oQoaF1LlqsajAIxNKu8iS2G8",
    "Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a",
    DB_PASSWORD,
    EMAIL,
    CARD,
    SSN,
    IBAN,
    "555-2671",
    "hunter2",
    "s3cr3t-comment",
];

fn leaks(text: &str) -> Vec<&'static str> {
    RAW.iter()
        .copied()
        .filter(|raw| text.contains(raw))
        .collect()
}

#[tokio::test]
async fn no_raw_secret_reaches_the_api_the_audit_log_or_a_channel() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let alice = h.token("alice", "user", &["dba"], None).await;
    let params = json!({
        "sql": format!("ALTER ROLE app PASSWORD '{DB_PASSWORD}'"),
        "key_pem": PEM,
        "jwt": JWT,
        "aws": {"access_key_id": AWS_ID, "note": format!("aws_secret_access_key {AWS_SECRET}")},
        "tokens": [GITHUB, GITLAB, SLACK, STRIPE, ANTHROPIC],
        "dsn": format!("postgres://app:{DB_PASSWORD}@db.internal:5432/prod"),
        "command": "mysql -u root -phunter2 prod",
        "customer": {"email": EMAIL, "card": CARD, "ssn": SSN, "iban": IBAN, "phone": PHONE},
        "password": 12345,
    });
    let (status, submitted) = h
        .post(
            &agent,
            "/v1/actions",
            json!({"kind": "db.ddl", "resource": "postgres/prod", "environment": "prod", "params": params,
                   "justification": format!("rotate the key for {EMAIL}, old one is {GITHUB}")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(submitted["status"], "pending");
    let body = submitted.to_string();
    assert_eq!(leaks(&body), Vec::<&str>::new(), "submit response: {body}");
    assert!(
        body.contains("[github_token:"),
        "the mask names the kind: {body}"
    );
    assert!(
        body.contains("ALTER ROLE app PASSWORD"),
        "what is not secret stays readable: {body}"
    );

    let id = submitted["id"].as_str().unwrap();
    let (_, reviewed) = h
        .post(
            &alice,
            &format!("/v1/actions/{id}/reviews"),
            json!({"decision": "approve", "comment": "ok; new password: s3cr3t-comment"}),
        )
        .await;
    assert_eq!(reviewed["status"], "approved");
    assert!(
        !reviewed.to_string().contains("s3cr3t-comment"),
        "{reviewed}"
    );
    let (_, fetched) = h.get(&agent, &format!("/v1/actions/{id}")).await;
    assert_eq!(leaks(&fetched.to_string()), Vec::<&str>::new());
    let (_, listed) = h.get(&alice, "/v1/actions").await;
    assert_eq!(leaks(&listed.to_string()), Vec::<&str>::new());

    let audit = serde_json::to_string(
        &h.gate
            .store_for_tests()
            .audit_events(0, 10_000)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(leaks(&audit), Vec::<&str>::new(), "audit log");
    assert!(
        audit.contains(submitted["digest"].as_str().unwrap()),
        "the digest of the unmasked action is kept"
    );

    let record = h
        .gate
        .store_for_tests()
        .action(&ActionId(id.to_string()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.params, params,
        "the store keeps the exact action, to prove and execute it"
    );
    let request = ReviewRequest::new(
        &record,
        h.gate.masker().as_ref(),
        Some("https://holdpoint.example"),
    );
    for text in [request.to_text(), serde_json::to_string(&request).unwrap()] {
        assert_eq!(leaks(&text), Vec::<&str>::new(), "channel message: {text}");
    }
}

#[tokio::test]
async fn the_same_value_masks_the_same_way_so_reviewers_can_compare() {
    let h = Harness::start(POLICIES).await;
    let agent = h.token("ci-bot", "agent", &[], None).await;
    let a = h
        .submit(
            &agent,
            "db.read",
            "postgres/prod",
            json!({"first": GITHUB, "again": GITHUB, "other": STRIPE}),
        )
        .await;
    let params = &a["params"];
    assert_eq!(params["first"], params["again"]);
    assert!(
        params["first"]
            .as_str()
            .unwrap()
            .starts_with("[github_token:")
    );
    assert_ne!(params["first"], params["other"]);
}
