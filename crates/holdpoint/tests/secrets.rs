//! Secrets by environment variable name, seen from the outside: a token pasted into
//! `holdpoint.toml` stops `serve` without reaching its output, and an old key name
//! works with one deprecation warning in the log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use support::{Gateway, holdpoint, text};

#[test]
fn a_pasted_slack_token_stops_serve_without_reaching_the_output() {
    let token = "xoxb-2718281828-3141592653-Zq8hunter2TokenValue";
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        format!("[slack]\nchannel = \"C1\"\nbot_token = \"{token}\"\n"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = holdpoint(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stderr.contains("[slack] bot_token:"), "{stderr}");
    for piece in token.split('-').chain([token]) {
        assert!(
            !stdout.contains(piece) && !stderr.contains(piece),
            "`{piece}` was shown: {stdout}{stderr}"
        );
    }
}

#[test]
fn an_old_key_name_works_with_one_warning_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("holdpoint.toml");
    std::fs::write(
        &config,
        "[[webhooks]]\nname = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret = \"SIEM_SECRET\"\n",
    )
    .unwrap();
    let log = dir.path().join("serve.log");
    let gw = Gateway::start_logged(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
        &[("SIEM_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
        &log,
    );
    gw.stop();
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        log.matches("`secret` is deprecated: call it `secret_env`")
            .count(),
        1,
        "{log}"
    );
    assert!(!log.contains("MfKQ9r8"), "{log}");
}
