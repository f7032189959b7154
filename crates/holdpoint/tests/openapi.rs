//! `/openapi.json` is a valid OpenAPI 3.1 document: `openapi-spec-validator` accepts it,
//! `openapi-python-client` generates a client from it, and the example agent
//! (examples/python-agent) waits through a hold with that client.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::Gateway;
use support::peers::venv_tool;

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        support::text(&out.stdout),
        support::text(&out.stderr)
    );
    assert!(out.status.success(), "{command:?} failed: {text}");
    text
}

fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-agent")
}

fn generate_client(spec: &Path, out: &Path) {
    run(Command::new(venv_tool("openapi-python-client"))
        .args(["generate", "--path"])
        .arg(spec)
        .arg("--output-path")
        .arg(out)
        .arg("--config")
        .arg(example_dir().join("generate.yaml")));
}

#[test]
fn the_openapi_document_validates_and_generates_a_working_client() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let spec = dir.path().join("openapi.json");
    let out = Command::new("curl")
        .args(["-sf"])
        .arg(format!("{}/openapi.json", gw.base))
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&spec, &out.stdout).unwrap();
    let said = run(Command::new(venv_tool("openapi-spec-validator")).arg(&spec));
    assert!(said.contains("OK"), "{said}");
    let client = dir.path().join("client");
    generate_client(&spec, &client);

    // The example agent asks for a production schema change; the starter policies hold it.
    let agent = gw.create_token("py-agent", "agent", &[]);
    let mut child = Command::new(venv_tool("python"))
        .arg(example_dir().join("agent.py"))
        .args([
            "--kind",
            "db.ddl",
            "--resource",
            "postgres/prod/customers",
            "--env",
            "prod",
        ])
        .args([
            "--params",
            r#"{"sql": "CREATE INDEX ON customers (email)"}"#,
        ])
        .args(["--why", "the report is slow"])
        .env("PYTHONPATH", &client)
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", &agent)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("held for approval as ") {
            let id = rest.split(':').next().unwrap().to_string();
            let approved = gw.cli(&gw.admin_token(), &["approve", &id]);
            assert!(
                approved.status.success(),
                "{}",
                support::text(&approved.stderr)
            );
            break;
        }
        said.push(line);
    }
    let out = child.wait_with_output().unwrap();
    let printed = support::text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said:?} {printed}");
    assert!(
        printed.contains("proceeding with db.ddl on postgres/prod/customers"),
        "{printed}"
    );

    // A forbidden action: the same client reports the refusal, exit 3.
    let out = Command::new(venv_tool("python"))
        .arg(example_dir().join("agent.py"))
        .args([
            "--kind",
            "db.privilege",
            "--resource",
            "postgres/prod/customers",
        ])
        .env("PYTHONPATH", &client)
        .env("HOLDPOINT_URL", &gw.base)
        .env("HOLDPOINT_TOKEN", &agent)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", support::text(&out.stderr));
    gw.stop();
}
