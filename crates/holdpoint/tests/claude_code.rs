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
        let root = dir.path().join("project");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(root.join("README.md"), README).unwrap();
        std::fs::write(root.join(".env"), SECRET).unwrap();
        let out = gw.cli(
            &gw.admin_token(),
            &["init", "--agent", "claude-code", root.to_str().unwrap()],
        );
        assert!(out.status.success(), "{}", support::text(&out.stderr));
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
