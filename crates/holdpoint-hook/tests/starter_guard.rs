//! The starter policies against the ways an agent could take a file tool out of its
//! project or switch its own gate off: symlinks (resolved on a real filesystem as the
//! command hook does), Claude Code's settings, `.mcp.json`, git hooks, shell start-up
//! files and holdpoint's own data, by any tool and any shell redirection; and the tools
//! that run code or that the hook does not know.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;
use holdpoint_core::Outcome;
use holdpoint_gate::SurfaceContext;
use holdpoint_hook::real_paths::add_real_paths;
use serde_json::{Value, json};
use std::os::unix::fs::symlink;
use support::{judge, starter_gate, tool};

#[tokio::test]
async fn a_symlink_out_of_the_project_is_judged_where_it_leads() {
    let (t, agent) = starter_gate().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let home = root.join("home");
    let project = home.join("app");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(root.join("etc/cron.d")).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    symlink(home.join(".ssh"), project.join("link")).unwrap();
    symlink(&root, project.join("rootlink")).unwrap();
    symlink(home.join(".ssh/id_rsa"), project.join("notes.txt")).unwrap();
    let cwd = project.to_str().unwrap();
    let home = home.to_str();
    let judged = |input: Value| {
        let mut input = input;
        add_real_paths(&mut input, home);
        judge(&t.gate, &agent, &input)
    };
    // As text these are project files; where they lead, a key and a system folder.
    assert_eq!(
        judged(tool(cwd, "Read", json!({"file_path": "link/id_rsa"}))),
        Outcome::Deny
    );
    assert_eq!(
        judged(tool(cwd, "Read", json!({"file_path": "notes.txt"}))),
        Outcome::Deny
    );
    assert_eq!(
        judged(tool(
            cwd,
            "Write",
            json!({"file_path": "rootlink/etc/cron.d/x"})
        )),
        Outcome::Hold
    );
    assert_eq!(
        judged(tool(cwd, "Bash", json!({"command": "cat link/id_rsa"}))),
        Outcome::Hold
    );
    // Without the real paths (the HTTP hook sees no filesystem) the text alone is judged.
    assert_eq!(
        judge(
            &t.gate,
            &agent,
            &tool(cwd, "Read", json!({"file_path": "link/id_rsa"}))
        ),
        Outcome::Allow
    );
    // Ordinary project files still pass, and a project reached through a symlinked
    // folder is still the project.
    std::fs::write(project.join("README.md"), "hi").unwrap();
    assert_eq!(
        judged(tool(cwd, "Read", json!({"file_path": "README.md"}))),
        Outcome::Allow
    );
    let alias = root.join("alias");
    symlink(&project, &alias).unwrap();
    assert_eq!(
        judged(tool(
            alias.to_str().unwrap(),
            "Edit",
            json!({"file_path": "README.md"})
        )),
        Outcome::Allow
    );
}

#[tokio::test]
async fn the_agent_cannot_switch_its_own_gate_off() {
    let (t, agent) = starter_gate().await;
    let cwd = "/home/dev/app";
    let denied = |name: &str, input: Value| {
        assert_eq!(
            judge(&t.gate, &agent, &tool(cwd, name, input.clone())),
            Outcome::Deny,
            "{name} {input}"
        );
    };
    for file in [
        ".claude/settings.local.json",
        ".claude/settings.json",
        ".mcp.json",
        "/home/dev/.claude/settings.json",
        "/home/dev/.claude.json",
        ".git/hooks/pre-commit",
        ".git/config",
        "/home/dev/.bashrc",
        "/home/dev/.zshrc",
        "/home/dev/.profile",
        ".envrc",
        "./sub/../.claude/settings.json",
    ] {
        denied("Write", json!({"file_path": file, "content": "{}"}));
        denied("Edit", json!({"file_path": file}));
    }
    for command in [
        "echo '{}' > .claude/settings.json",
        "echo x >> ~/.bashrc",
        "printf '#!/bin/sh' > .git/hooks/pre-push",
        "cat /dev/null > .mcp.json",
    ] {
        denied("Bash", json!({"command": command}));
    }
    for command in [
        "cp /tmp/x .claude/settings.local.json",
        "sed -i s/holdpoint// .claude/settings.local.json",
        "rm -rf .claude",
        "ln -sf /dev/null .mcp.json",
        "tee .git/hooks/pre-commit < x",
    ] {
        // Held where the line only names them, refused where the reading sees a write.
        assert_ne!(
            judge(
                &t.gate,
                &agent,
                &tool(cwd, "Bash", json!({"command": command}))
            ),
            Outcome::Allow,
            "{command}"
        );
    }
    for command in [
        "cp /tmp/x .claude/settings.local.json",
        "sed -i s/holdpoint// .claude/settings.local.json",
        "tee .git/hooks/pre-commit < x",
    ] {
        denied("Bash", json!({"command": command}));
    }
    // Reading the project's own settings is fine; editing other project files too.
    for (name, input) in [
        ("Read", json!({"file_path": ".claude/settings.json"})),
        ("Edit", json!({"file_path": "src/claude.rs"})),
        ("Write", json!({"file_path": "docs/settings.json"})),
    ] {
        assert_eq!(
            judge(&t.gate, &agent, &tool(cwd, name, input.clone())),
            Outcome::Allow,
            "{name} {input}"
        );
    }
}

#[tokio::test]
async fn holdpoint_s_own_data_is_out_of_reach() {
    let (t, agent) = starter_gate().await;
    let cwd = "/home/dev/app";
    for (name, input) in [
        ("Read", json!({"file_path": "holdpoint-data/admin.token"})),
        (
            "Read",
            json!({"file_path": "/srv/holdpoint-data/holdpoint.db"}),
        ),
        ("Grep", json!({"pattern": "hp_", "path": "holdpoint-data"})),
        ("Write", json!({"file_path": "holdpoint.toml"})),
        (
            "Bash",
            json!({"command": "cat ./holdpoint-data/admin.token"}),
        ),
        (
            "Bash",
            json!({"command": "sqlite3 ./holdpoint-data/holdpoint.db .dump"}),
        ),
        ("Bash", json!({"command": "echo > ./holdpoint.toml"})),
    ] {
        assert_eq!(
            judge(&t.gate, &agent, &tool(cwd, name, input.clone())),
            Outcome::Deny,
            "{name} {input}"
        );
    }
    // The gateway's own folder, wherever it is, once the surface has marked it.
    let mut input = tool(cwd, "Read", json!({"file_path": "/var/lib/gate/key"}));
    input["tool_input"]["file_path"] = json!("/var/lib/gate/key");
    let mut action = holdpoint_hook::action_of(&input).unwrap();
    action.context.insert("holdpoint_file".into(), json!(true));
    let ctx = SurfaceContext {
        surface: holdpoint_hook::SURFACE.into(),
        extra: Some(action.context),
        executes: false,
    };
    let outcome = t
        .gate
        .check(&agent, &action.request, &ctx)
        .unwrap()
        .outcome();
    assert_eq!(outcome, Outcome::Deny);
}

#[tokio::test]
async fn tools_that_run_code_or_are_unknown_do_not_pass_as_planning() {
    let (t, agent) = starter_gate().await;
    let cwd = "/home/dev/app";
    for (name, input) in [
        (
            "PowerShell",
            json!({"command": "Remove-Item -Recurse C:\\x"}),
        ),
        (
            "REPL",
            json!({"code": "require('fs').rmSync('x', {recursive: true})"}),
        ),
        ("SlashCommand", json!({"command": "/deploy"})),
        ("Skill", json!({"command": "release"})),
        (
            "ReadMcpResourceTool",
            json!({"server": "db", "uri": "file:///etc/shadow"}),
        ),
        ("SomeToolFromTheFuture", json!({})),
    ] {
        assert_eq!(
            judge(&t.gate, &agent, &tool(cwd, name, input.clone())),
            Outcome::Hold,
            "{name}"
        );
    }
    for (name, input) in [
        ("LS", json!({"path": "/home/dev/.ssh"})),
        (
            "NotebookRead",
            json!({"notebook_path": "/home/dev/.ssh/id_rsa"}),
        ),
        ("Glob", json!({"pattern": "/home/dev/.ssh/*"})),
        ("Glob", json!({"pattern": "**/.env"})),
        ("Grep", json!({"pattern": "KEY", "glob": ".env"})),
    ] {
        assert_ne!(
            judge(&t.gate, &agent, &tool(cwd, name, input.clone())),
            Outcome::Allow,
            "{name} {input}"
        );
    }
    for name in ["Task", "TodoWrite", "ExitPlanMode", "BashOutput"] {
        assert_eq!(
            judge(&t.gate, &agent, &tool(cwd, name, json!({}))),
            Outcome::Allow,
            "{name}"
        );
    }
    assert_eq!(
        judge(&t.gate, &agent, &tool(cwd, "LS", json!({"path": "src"}))),
        Outcome::Allow
    );
}
