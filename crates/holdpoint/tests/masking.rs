//! Masking through the binary: `[masking]` config, `audit export`, and `holdpoint mask`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use support::{BIN, Gateway, holdpoint, stdout_json, text};

const GITHUB: &str = "ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d";

fn mask_stdin(data: &std::path::Path, config: &std::path::Path, input: &str) -> String {
    let mut child = Command::new(BIN)
        .args([
            "mask",
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    text(&out.stdout)
}

#[tokio::test]
async fn config_fields_export_and_the_mask_command_agree() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(&config, "[masking]\nfields = [\"internal_ref\"]\n").unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &["--config", config.to_str().unwrap()]);
    let agent = gw.create_token("ci-bot", "agent", &[]);
    let params =
        format!(r#"{{"note": "{GITHUB}", "internal_ref": "ACME-7781", "table": "customers"}}"#);
    let out = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "db.read",
            "--resource",
            "postgres/prod",
            "--params-json",
            &params,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let action = stdout_json(&out);
    let masked_token = action["params"]["note"].as_str().unwrap().to_string();
    assert!(masked_token.starts_with("[github_token:"), "{masked_token}");
    assert!(
        action["params"]["internal_ref"]
            .as_str()
            .unwrap()
            .starts_with("[secret_field:")
    );
    assert_eq!(action["params"]["table"], "customers");
    gw.stop();

    let export = holdpoint(&[
        "audit",
        "export",
        "--data",
        data.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    let exported = text(&export.stdout);
    assert!(export.status.success());
    assert!(
        !exported.contains(GITHUB) && !exported.contains("ACME-7781"),
        "{exported}"
    );
    assert!(exported.contains(&masked_token));

    // The operator's tool masks exactly as the gateway did, with the deployment's key.
    let json = mask_stdin(&data, &config, &format!(r#"{{"t": "{GITHUB}"}}"#));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["t"], masked_token.as_str());
    let line = mask_stdin(
        &data,
        &config,
        &format!("psql postgres://app:hunter2@db/prod -c 'select 1' # {GITHUB}\n"),
    );
    assert!(
        line.contains("psql postgres://app:") && line.contains("@db/prod"),
        "{line}"
    );
    assert!(
        !line.contains("hunter2") && !line.contains(GITHUB),
        "{line}"
    );
    assert!(line.contains(&masked_token));
}

#[tokio::test]
async fn another_deployment_fingerprints_differently() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let config = a.path().join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let one = mask_stdin(a.path(), &config, GITHUB);
    let two = mask_stdin(b.path(), &config, GITHUB);
    assert!(one.starts_with("[github_token:") && two.starts_with("[github_token:"));
    assert_ne!(one, two);
    assert_eq!(
        one,
        mask_stdin(a.path(), &config, GITHUB),
        "stable within a deployment"
    );
}

#[tokio::test]
async fn a_bad_masking_pattern_stops_the_start() {
    support::serve_refuses(
        "[[masking.patterns]]\nname = \"broken\"\nregex = \"([a-z\"\n",
        "broken",
    );
}
