//! Secrets with a shape of their own, each with positives and negatives.

#![allow(clippy::indexing_slicing)]

mod common;
use common::{assert_masks, assert_untouched, mask, redactor};
use serde_json::json;

const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAvx3Pq0wqLkR7yV2m9sHn\nQ5tQz8Lk2aP0W1sE4rTt9uYbN3c=\n-----END RSA PRIVATE KEY-----";
const JWT: &str = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogIkFsaWNlIn0.HUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP_tKsf2rcD";

#[test]
fn private_key_blocks_are_masked_whole() {
    let text = format!("key:\n{PEM}\nend");
    let out = mask(&text);
    assert!(out.starts_with("key:\n[private_key:"), "{out}");
    assert!(out.ends_with("]\nend"), "{out}");
    assert!(!out.contains("MIIE"));
    // Cut short, and JSON-escaped with literal \n.
    assert_masks(
        "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\\n",
        "b3BlbnNzaC1r",
        "private_key",
    );
}

#[test]
fn public_keys_and_certificates_are_not_private_keys() {
    // Their base64 body may still look random (high_entropy); their frame stays.
    let out = mask("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----");
    assert!(
        out.starts_with("-----BEGIN PUBLIC KEY-----\n") && !out.contains("[private_key:"),
        "{out}"
    );
    assert_untouched("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
}

#[test]
fn jwts_are_masked() {
    assert_masks(&format!("token {JWT} used"), "HUQPFeNB", "jwt");
    assert_masks(&format!("Cookie: id={JWT}"), "eyJzdWIi", "jwt");
}

#[test]
fn things_like_jwts_are_not() {
    assert_untouched("eyJ is how base64 JSON starts");
    assert_untouched("eyJhbGc.short");
}

#[test]
fn aws_access_key_ids_are_masked() {
    assert_masks(
        "aws_access_key_id = AKIAFKKIBJ3J4WJ99IBA",
        "AKIAFKKIBJ3J4WJ99IBA",
        "aws_access_key_id",
    );
    assert_masks(
        "role ASIAY34FZKBOKMUTVV7A",
        "ASIAY34FZKBOKMUTVV7A",
        "aws_access_key_id",
    );
}

#[test]
fn aws_like_words_are_not() {
    assert_untouched("AKIA is the prefix of long-term keys");
    assert_untouched("ASIAN markets opened"); // too short, lower case after
    assert_untouched("XAKIAFKKIBJ3J4WJ99IBAX");
}

#[test]
fn aws_secret_keys_are_masked_by_their_name() {
    let secret = "nr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5";
    assert_masks(
        &format!("aws configure set aws_secret_access_key {secret}"),
        secret,
        "aws_secret_key",
    );
    assert_masks(
        &format!("AWS_SECRET_ACCESS_KEY={secret}"),
        secret,
        "aws_secret_key",
    );
    assert_masks(
        &format!(r#"{{"SecretAccessKey": "{secret}"}}"#),
        secret,
        "aws_secret_key",
    );
}

#[test]
fn forty_characters_after_a_secret_key_name_must_be_exactly_forty() {
    // 41 characters: not an AWS secret key (it still goes as a secret field).
    let out = mask("aws_secret_access_key=nr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5X");
    assert!(!out.contains("[aws_secret_key:"), "{out}");
    assert!(out.contains("[secret_field:"), "{out}");
}

#[test]
fn gcp_service_account_keys_are_masked() {
    let sa = json!({
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "3e0ad84173581569969e58b081006f7e3dfc967a",
        "private_key": format!("{PEM}\n"),
        "client_email": "deployer@acme-prod.iam.gserviceaccount.com",
    });
    let out = redactor().mask_value(&sa);
    assert!(
        out["private_key"]
            .as_str()
            .unwrap()
            .starts_with("[gcp_service_account:")
    );
    assert!(
        out["private_key_id"]
            .as_str()
            .unwrap()
            .starts_with("[gcp_service_account:")
    );
    assert_eq!(out["project_id"], "acme-prod");
    // The same file read as text.
    let text = serde_json::to_string_pretty(&sa).unwrap();
    let out = mask(&text);
    assert!(
        out.contains(r#""private_key": "[gcp_service_account:"#),
        "{out}"
    );
    assert!(
        out.contains(r#""private_key_id": "[gcp_service_account:"#),
        "{out}"
    );
    assert!(
        !out.contains("MIIE") && !out.contains("3e0ad841735"),
        "{out}"
    );
}

#[test]
fn azure_storage_keys_are_masked() {
    let key =
        "di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY/uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt+PlJhx2jIclHkCiH==";
    let conn = format!(
        "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={key};EndpointSuffix=core.windows.net"
    );
    assert_masks(&conn, key, "azure_storage_key");
    assert!(mask(&conn).contains("AccountName=acmeprod;"));
    assert_untouched("AccountKey=short");
}

#[test]
fn github_tokens_are_masked() {
    assert_masks(
        "GITHUB_TOKEN is ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
        "ghp_u8jz",
        "github_token",
    );
    assert_masks(
        "gho_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d",
        "u8jzPde0",
        "github_token",
    );
    assert_masks(
        "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",
        "KLzdocJ2",
        "github_token",
    );
}

#[test]
fn github_like_names_are_not() {
    assert_untouched("ghp_short");
    assert_untouched("see ghp_ tokens in the docs");
}

#[test]
fn gitlab_tokens_are_masked() {
    assert_masks(
        "git clone https://oauth2:glpat-Y40uvSwMFLZDe1f8rESQ@gitlab.com/x.git",
        "Y40uvSw",
        "gitlab_token",
    );
    assert_masks(
        "PRIVATE-TOKEN: glpat-Y40uvSwMFLZDe1f8rESQ",
        "glpat-Y40u",
        "gitlab_token",
    );
    assert_untouched("glpat-short");
}

#[test]
fn slack_tokens_and_webhooks_are_masked() {
    assert_masks(
        "xoxb-10497465075-2917034236671-kCzJr4i0B3JrTAwR4y9ojflj",
        "kCzJr4i0",
        "slack_token",
    );
    assert_masks(
        "xapp-1-A0123456789-1234567890123-abcdef0123456789",
        "A0123456789",
        "slack_token",
    );
    let hook = "https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX";
    let out = mask(hook);
    assert!(
        out.starts_with("https://hooks.slack.com/services/[slack_token:"),
        "{out}"
    );
    assert_untouched("xoxb- is a bot token prefix");
}

#[test]
fn stripe_keys_are_masked() {
    assert_masks("sk_live_oQoaF1LlqsajAIxNKu8iS2G8", "oQoaF1Ll", "stripe_key");
    assert_masks("rk_test_oQoaF1LlqsajAIxNKu8iS2G8", "oQoaF1Ll", "stripe_key");
    assert_untouched("pk_live_oQoaF1Llqs is publishable"); // publishable keys are public
    assert_untouched("sk_live_ is the prefix");
}

#[test]
fn openai_keys_are_masked() {
    assert_masks(
        "sk-proj-NPRVdD53X83RZJzzzzgEOzdmenCkhvMdgaKjIg8xNbe3nNyj",
        "NPRVdD53",
        "openai_key",
    );
    assert_masks(
        "OPENAI=sk-Oq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qH",
        "Oq9wMxEh",
        "openai_key",
    );
}

#[test]
fn names_starting_with_sk_are_not_keys() {
    assert_untouched("pip install sk-learn-pipeline-config-tools");
    assert_untouched("task-runner-for-production-cluster");
}

#[test]
fn anthropic_keys_are_masked_as_anthropic() {
    let key = "sk-ant-api03-x6kwXoIIXGvOoNZYW2mZp0zVZomHFwUbbYrEqmSM9wCZ7Uw9xfogoEmvnEN5N1aE6PwZPf1Qh6yYTWmE4lBYOvfZ8UzDzAA";
    assert_masks(key, "x6kwXoII", "anthropic_key");
    assert!(!mask(key).contains("openai_key"));
}

#[test]
fn holdpoint_tokens_are_masked() {
    assert_masks(
        "HOLDPOINT_TOKEN=hp_3e0ad84173581569969e58b081006f7e3dfc967a64cb14028d512c9791e558e0",
        "3e0ad841",
        "holdpoint_token",
    );
    assert_masks(
        "curl with hp_3e0ad84173581569969e58b081006f7e3dfc967a64cb14028d512c9791e558e0",
        "3e0ad841",
        "holdpoint_token",
    );
    assert_untouched("hp_3e0ad841 is too short");
}
