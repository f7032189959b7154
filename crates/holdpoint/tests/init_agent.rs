//! `holdpoint init --agent`: from a running gateway to an agent whose tool calls are held,
//! with no JSON written by hand. The test then does what the agent would: runs the hook
//! command from the settings and starts the wrapped MCP server from `.mcp.json`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{Value, json};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use support::peers::{call, connect, npm_server, text_of};
use support::{BIN, Gateway};

fn read(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_agent_claude_code_puts_the_hook_and_mcp_servers_behind_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::write(
        project.join(".claude/settings.local.json"),
        r#"{"permissions": {"allow": ["Bash(ls:*)"]}}"#,
    )
    .unwrap();
    std::fs::write(
        project.join(".mcp.json"),
        json!({"mcpServers": {
            "everything": {"command": "node", "args": [npm_server("server-everything"), "stdio"]},
            "remote": {"type": "http", "url": "https://mcp.example/mcp"}
        }})
        .to_string(),
    )
    .unwrap();

    // Without an admin token it explains where one is.
    let out = Command::new(BIN)
        .args(["init", "--agent", "claude-code"])
        .arg(&project)
        .env("HOLDPOINT_URL", &gw.base)
        .env_remove("HOLDPOINT_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(support::text(&out.stderr).contains("admin.token"));

    let out = gw.cli(
        &gw.admin_token(),
        &["init", "--agent", "claude-code", project.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    assert!(
        !support::text(&out.stderr).contains("readable by this user"),
        "{}",
        support::text(&out.stderr)
    );
    let settings_path = project.join(".claude/settings.local.json");
    let mode = std::fs::metadata(&settings_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the settings are private");
    let settings = read(&settings_path);
    assert_eq!(
        settings["permissions"]["allow"],
        json!(["Bash(ls:*)", "mcp__everything"]),
        "existing settings kept; the wrapped server's tools handed to holdpoint"
    );
    assert_eq!(
        settings["env"],
        json!({"HOLDPOINT_URL": gw.base}),
        "no token in the settings"
    );
    let token_file = project.join(".claude/holdpoint/token");
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the token file is private");
    assert_eq!(
        std::fs::read_to_string(project.join(".claude/holdpoint/.gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*"),
        "git never takes the token file"
    );
    assert!(
        std::fs::read_to_string(&token_file)
            .unwrap()
            .starts_with("hp_")
    );
    let pre = &settings["hooks"]["PreToolUse"][0]["hooks"][0];
    let hook = pre["command"].as_str().unwrap().to_string();
    assert!(hook.contains("--wait 50s"), "{hook}");
    assert_eq!(
        pre["timeout"], 60,
        "Claude Code's timeout is above the hook's budget"
    );
    assert_eq!(
        settings["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"], hook,
        "the same command stores the prompt"
    );
    let said = support::text(&out.stdout);
    assert!(
        said.contains("Restart Claude Code") && said.contains("holdpoint approve"),
        "{said}"
    );

    // A gateway started in the project with the defaults keeps its admin token where the
    // agent's user can read it: init says so.
    std::fs::create_dir_all(project.join("holdpoint-data")).unwrap();
    std::fs::write(project.join("holdpoint-data/admin.token"), "hp_x\n").unwrap();
    // Running it again changes nothing but the token: nothing is wrapped twice.
    let out = gw.cli(
        &gw.admin_token(),
        &[
            "init",
            "--agent",
            "claude-code",
            "--name",
            "claude-code-2",
            project.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let said = support::text(&out.stderr);
    assert!(
        said.contains("readable by this user") && said.contains("admin.token"),
        "{said}"
    );
    std::fs::remove_dir_all(project.join("holdpoint-data")).unwrap();
    let settings = read(&settings_path);
    assert_eq!(settings["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
    assert_eq!(
        settings["permissions"]["allow"].as_array().unwrap().len(),
        2
    );
    let mcp = read(&project.join(".mcp.json"));
    assert_eq!(
        mcp["mcpServers"]["remote"]["url"],
        "https://mcp.example/mcp"
    );
    let server = &mcp["mcpServers"]["everything"];
    assert_eq!(server["args"][0], "mcp");
    assert_eq!(
        server["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| *a == "mcp")
            .count(),
        1
    );

    // Claude Code runs the hook command with the settings' environment and
    // CLAUDE_PROJECT_DIR (here with a short wait: the command waits 50 s by default).
    let mut child = Command::new("sh")
        .args(["-c", &hook.replace("--wait 50s", "--wait 1s")])
        .env("HOLDPOINT_URL", &gw.base)
        .env_remove("HOLDPOINT_TOKEN")
        .env("CLAUDE_PROJECT_DIR", &project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = json!({"hook_event_name": "PreToolUse", "cwd": project, "tool_name": "Bash",
        "tool_input": {"command": "rm -rf build"}});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let decision: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(
        decision.to_string().contains("held for approval"),
        "{decision}"
    );

    // ... and starts the wrapped MCP server as written, in the project folder: nothing in
    // it needs filling in, and it holds no token.
    assert!(!mcp.to_string().contains("hp_"), "{mcp}");
    assert!(!mcp.to_string().contains("${"), "{mcp}");
    let mut command = tokio::process::Command::new(server["command"].as_str().unwrap());
    for arg in server["args"].as_array().unwrap() {
        command.arg(arg.as_str().unwrap());
    }
    for (key, value) in server["env"].as_object().unwrap() {
        command.env(key, value.as_str().unwrap());
    }
    command.current_dir(&project).env_remove("HOLDPOINT_TOKEN");
    let (client, _) = connect(rmcp::transport::TokioChildProcess::new(command).unwrap()).await;
    // The starter policies pass the everything server's tools: none is destructive.
    let (error, text) = text_of(&call(&client, "echo", json!({"message": "via init"})).await);
    assert!(!error && text == "Echo: via init", "{text}");
    client.cancel().await.unwrap();
}

#[test]
fn init_agent_claude_desktop_wraps_the_users_servers_with_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let config = dir.path().join("claude_desktop_config.json");
    std::fs::write(&config, r#"{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}}}"#).unwrap();
    let out = gw.cli(
        &gw.admin_token(),
        &[
            "init",
            "--agent",
            "claude-desktop",
            "--agent-config",
            config.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let written = read(&config);
    let fs = &written["mcpServers"]["fs"];
    assert_eq!(fs["command"], BIN);
    assert_eq!(
        fs["args"].as_array().unwrap()[..4],
        [json!("mcp"), json!("--name"), json!("fs"), json!("--")]
    );
    assert_eq!(fs["env"]["HOLDPOINT_URL"], gw.base);
    assert!(
        fs["env"]["HOLDPOINT_TOKEN"]
            .as_str()
            .unwrap()
            .starts_with("hp_")
    );
    let mode = std::fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
