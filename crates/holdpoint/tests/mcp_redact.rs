//! Credentials in every form (issue 19, break 5): the real `server-everything` prints its
//! environment with `JSON.stringify` (`get-env`), so a credential with a quote or a
//! backslash reaches the agent JSON-escaped; it is redacted in that form too. A
//! credential too short to be told from ordinary text stops the gateway at start.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use serde_json::json;
use std::path::Path;
use support::peers::{call, connect, everything_config, npm_server, text_of};
use support::{BIN, Gateway};

/// A credential with quotes and backslashes, as `JSON.stringify` must escape it.
const QUOTED: &str = r#"sk_"quoted"\back\slash_4f9a"#;
/// The same, as it appears inside the JSON text `get-env` prints.
const QUOTED_ESCAPED: &str = r#"sk_\"quoted\"\\back\\slash_4f9a"#;
/// A second one with a control character (a newline) and a slash.
const CONTROL: &str = "line1\nline2/tok_77aa";

fn config(dir: &Path, vars: &[&str]) -> std::path::PathBuf {
    let env: Vec<String> = vars.iter().map(|v| format!("\"{v}\"")).collect();
    let extra = format!(
        "[[mcp]]\nname = \"everything\"\ncommand = [\"node\", \"{}\", \"stdio\"]\nenv = [{}]\n",
        npm_server("server-everything"),
        env.join(", ")
    );
    everything_config(dir, &extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_env_shows_no_credential_json_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gateway.log");
    let config = config(dir.path(), &["QUOTED_TOKEN", "CONTROL_TOKEN"]);
    let gw = Gateway::start_logged(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
        &[("QUOTED_TOKEN", QUOTED), ("CONTROL_TOKEN", CONTROL)],
        &log,
    );
    let agent = gw.create_token("claude", "agent", &[]);
    let url = format!("{}/mcp/everything", gw.base);
    let transport = StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(agent),
    );
    let (client, _progress) = connect(transport).await;
    let (error, text) = text_of(&call(&client, "get-env", json!({})).await);
    assert!(!error, "{text}");
    // The upstream did get them: their names are printed, with the values replaced.
    assert!(
        text.contains("[credential:QUOTED_TOKEN]") && text.contains("[credential:CONTROL_TOKEN]"),
        "{text}"
    );
    for leaked in [
        QUOTED,
        QUOTED_ESCAPED,
        "back",
        "slash_4f9a",
        "tok_77aa",
        "line2",
    ] {
        assert!(
            !text.contains(leaked),
            "`{leaked}` reached the agent: {text}"
        );
    }
    client.cancel().await.unwrap();
    gw.stop();
}

/// A credential of 7 characters is refused when the gateway starts, by name and
/// without its value.
#[test]
fn a_credential_too_short_to_find_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &["SHORT_PIN"]);
    let out = std::process::Command::new(BIN)
        .args(["serve", "--config", config.to_str().unwrap(), "--data"])
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .env("SHORT_PIN", r#"a"b\c12"#)
        .output()
        .unwrap();
    let stderr = support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`SHORT_PIN` is shorter than 8 characters"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(r#"a"b"#) && !stderr.contains("c12"),
        "{stderr}"
    );
}
