//! `holdpoint serve` as a child process, and the `holdpoint` CLI, for end-to-end tests.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub mod claude;
pub mod model;
pub mod peers;
pub mod pg;
pub mod recording;

pub const BIN: &str = env!("CARGO_BIN_EXE_holdpoint");

pub struct Gateway {
    pub child: Child,
    pub base: String,
    pub data: PathBuf,
    /// Each `[[postgres]]` listener: its name and address.
    pub postgres: Vec<(String, String)>,
}

impl Gateway {
    /// Starts `holdpoint serve --data DATA --listen 127.0.0.1:0 [extra]` and waits for its
    /// listening line.
    pub fn start(data: &Path, extra: &[&str]) -> Gateway {
        Gateway::spawn(Gateway::serve(data, extra), data)
    }

    /// [`Gateway::start`] with another build of `holdpoint` (a benchmark's release build).
    pub fn start_bin(bin: &str, data: &Path, extra: &[&str]) -> Gateway {
        let mut command = Gateway::serve(data, extra);
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let mut other = Command::new(bin);
        other.args(args);
        command = other;
        Gateway::spawn(command, data)
    }

    /// [`Gateway::start`], with `env` added to its environment and its log (stderr)
    /// written to `log`.
    pub fn start_logged(data: &Path, extra: &[&str], env: &[(&str, &str)], log: &Path) -> Gateway {
        let mut command = Gateway::serve(data, extra);
        command
            .envs(env.iter().copied())
            .stderr(std::fs::File::create(log).expect("log file"));
        Gateway::spawn(command, data)
    }

    fn serve(data: &Path, extra: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.arg("serve").arg("--data").arg(data);
        // A free port unless the test picked its own (an OIDC redirect must be known
        // before the gateway starts).
        if !extra.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command.args(extra);
        command
    }

    /// Submits, with `token`, a production schema change on `resource` (held by the test
    /// policies) with `params` (`key=value`) and the justification `why`; its `act_…` id.
    pub fn submit_ddl(&self, token: &str, resource: &str, params: &[&str], why: &str) -> String {
        let mut args = vec![
            "submit",
            "--kind",
            "db.ddl",
            "--resource",
            resource,
            "--env",
            "prod",
        ];
        for param in params {
            args.extend(["--param", param]);
        }
        if !why.is_empty() {
            args.extend(["--why", why]);
        }
        let out = self.cli(token, &args);
        act_id(&text(&out.stdout))
    }

    /// `GET path` with the admin token; the body as text.
    pub fn admin_get(&self, path: &str) -> String {
        let out = Command::new("curl")
            .args([
                "-s",
                "-H",
                &format!("Authorization: Bearer {}", self.admin_token()),
            ])
            .arg(format!("{}{path}", self.base))
            .output()
            .expect("curl");
        text(&out.stdout)
    }

    /// The same, with the process limited to `descriptors` open files (`ulimit -n`).
    pub fn start_with_fd_limit(data: &Path, descriptors: u32) -> Gateway {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "ulimit -n {descriptors} && exec \"$0\" serve --data \"$1\" --listen 127.0.0.1:0"
            ))
            .arg(BIN)
            .arg(data);
        Gateway::spawn(command, data)
    }

    /// Spawns `command` (a `holdpoint serve`) and waits for its listening line.
    fn spawn(mut command: Command, data: &Path) -> Gateway {
        let mut child = command
            .env("HOLDPOINT_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn holdpoint serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut postgres = Vec::new();
        let base = loop {
            let line = lines
                .next()
                .expect("holdpoint serve exited before it listened")
                .expect("read stdout");
            if let Some(url) = line.strip_prefix("holdpoint listening on ") {
                break url.trim().to_string();
            }
            if let Some(rest) = line.strip_prefix("holdpoint PostgreSQL proxy `")
                && let Some((name, addr)) = rest.split_once("` listening on ")
            {
                postgres.push((name.to_string(), addr.trim().to_string()));
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Gateway {
            child,
            base,
            data: data.to_path_buf(),
            postgres,
        }
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data.join("admin.token"))
            .expect("admin.token")
            .trim()
            .to_string()
    }

    /// kill -9.
    pub fn crash(mut self) {
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "holdpoint serve exited with {status}");
    }

    /// Runs the CLI against this gateway with `token`.
    pub fn cli(&self, token: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("HOLDPOINT_URL", &self.base)
            .env("HOLDPOINT_TOKEN", token)
            .output()
            .expect("run holdpoint")
    }

    pub fn create_token(&self, name: &str, kind: &str, groups: &[&str]) -> String {
        let mut args = vec!["token", "create", "--name", name, "--kind", kind];
        for g in groups {
            args.extend(["--group", g]);
        }
        let out = self.cli(&self.admin_token(), &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the CLI with no gateway.
pub fn holdpoint(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run holdpoint")
}

/// `holdpoint serve` with a config file holding `config`: it must refuse to start (exit 1)
/// and say something containing `expected` on stderr.
pub fn serve_refuses(config: &str, expected: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("holdpoint.toml");
    std::fs::write(&path, config).expect("write config");
    let out = holdpoint(&[
        "serve",
        "--config",
        path.to_str().expect("utf8 path"),
        "--data",
        dir.path().join("data").to_str().expect("utf8 path"),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(expected),
        "{}",
        text(&out.stderr)
    );
}

pub fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The first `act_…` id in `text`.
pub fn act_id(text: &str) -> String {
    let start = text
        .find("act_")
        .unwrap_or_else(|| panic!("no action id in {text}"));
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
