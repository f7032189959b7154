//! What a careless operator and a hostile agent meet at the binary (issue 6): file modes
//! of the data folder, an agent writing escape sequences for a reviewer's terminal, and a
//! disk that fills up and frees again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use holdpoint_core::env::{Env, ProcessEnv};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::{Gateway, holdpoint, text};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_private(data: &Path) {
    assert_eq!(mode(data), 0o700, "{}", data.display());
    for file in [
        "holdpoint.db",
        "holdpoint.db-wal",
        "holdpoint.db-shm",
        "mask.key",
        "admin.token",
    ] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    assert!(data.join("holdpoint.db").exists() && data.join("mask.key").exists());
}

#[tokio::test]
async fn the_data_folder_and_its_files_are_the_owners_alone_even_after_an_older_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &[]);
    let agent = gw.create_token("ci-bot", "agent", &[]);
    let out = gw.cli(
        &agent,
        &["submit", "--kind", "db.read", "--resource", "pg/x"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_private(&data);
    gw.stop();

    // As an older version (or a careless copy) left them: world-readable.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let gw = Gateway::start(&data, &[]);
    assert_private(&data);
    gw.stop();
}

async fn post(base: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/actions"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn has_raw_controls(s: &str) -> bool {
    s.chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[tokio::test]
async fn an_agent_cannot_rewrite_what_a_reviewer_reads_in_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(&dir.path().join("data"), &[]);
    let admin = gw.admin_token();
    let agent = gw.create_token("ci-bot", "agent", &[]);
    let hostile = "harmless\r\u{1b}[2K\u{1b}[1A approved by security\u{9b}0m \u{202e}gpj.exe";
    let (status, body) = post(
        &gw.base,
        &agent,
        json!({"kind": "db.ddl", "resource": "postgres/prod/t", "justification": hostile,
               "params": {"sql": format!("DROP TABLE t -- {hostile}"), hostile: 1}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pending = gw.cli(&admin, &["pending"]);
    assert!(pending.status.success(), "{}", text(&pending.stderr));
    let shown = text(&pending.stdout);
    assert!(shown.contains("harmless"), "{shown}");
    assert!(
        !has_raw_controls(&shown),
        "raw control characters reach the terminal: {shown:?}"
    );
    assert!(
        shown.contains("\\u{1b}"),
        "the escape is shown, not obeyed: {shown}"
    );

    let out = gw.cli(
        &agent,
        &[
            "submit",
            "--kind",
            "db.ddl",
            "--resource",
            "postgres/prod/t",
            "--why",
            hostile,
            "--param",
            &format!("note={hostile}"),
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(!has_raw_controls(&printed), "{printed:?}");
    let parsed: Value = serde_json::from_str(&printed).unwrap();
    assert!(
        parsed["justification"]
            .as_str()
            .unwrap()
            .contains("harmless")
    );
}

/// Mounts a 3 MiB tmpfs at `dir`. Root only; outside CI, a machine that cannot mount
/// skips the test, and under CI it fails.
fn mount_small_disk(dir: &Path) -> bool {
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(dir)
        .status();
    let mounted = status.is_ok_and(|s| s.success());
    if !mounted && ProcessEnv.var("CI").is_some_and(|v| v == "true") {
        panic!("cannot mount a tmpfs for the full-disk test (run as root)");
    }
    mounted
}

struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.0)
            .status();
    }
}

/// Fills the disk with a ballast file, leaving about `room` bytes free.
fn fill(dir: &Path, room: u64) -> std::path::PathBuf {
    use std::io::Write;
    let ballast = dir.join("ballast");
    let mut file = std::fs::File::create(&ballast).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    let mut written: u64 = 0;
    while file.write_all(&chunk).and_then(|_| file.sync_all()).is_ok() {
        written += chunk.len() as u64;
    }
    drop(file);
    let keep = written.saturating_sub(room);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&ballast)
        .unwrap()
        .set_len(keep)
        .unwrap();
    ballast
}

#[tokio::test]
async fn after_a_full_disk_the_gate_refuses_then_recovers_by_itself_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    if !mount_small_disk(&disk) {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let _unmount = Unmount(&disk);
    let data = disk.join("data");
    let gw = Gateway::start(&data, &[]);
    let agent = gw.create_token("ci-bot", "agent", &[]);
    let ballast = fill(&disk, 256 * 1024);
    let http = reqwest::Client::new();
    let ready = |http: reqwest::Client, base: String| async move {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };

    let padding = "x".repeat(8 * 1024);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for i in 0..200 {
        let (status, body) = post(
            &gw.base,
            &agent,
            json!({"kind": "db.read", "resource": "pg/x", "params": {"i": i, "pad": padding}}),
        )
        .await;
        match status {
            200 => acknowledged.push(body["id"].as_str().unwrap().to_string()),
            503 => {
                refused += 1;
                if refused >= 5 {
                    break;
                }
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        refused >= 5,
        "the disk never filled ({} acknowledged)",
        acknowledged.len()
    );
    assert_eq!(
        ready(http.clone(), gw.base.clone()).await,
        503,
        "not ready while writes fail"
    );

    std::fs::remove_file(&ballast).unwrap();
    assert_eq!(
        ready(http.clone(), gw.base.clone()).await,
        200,
        "ready once the disk has room"
    );
    for i in 0..20 {
        let (status, body) = post(
            &gw.base,
            &agent,
            json!({"kind": "db.read", "resource": "pg/x", "params": {"after": i}}),
        )
        .await;
        assert_eq!(status, 200, "write {i} after recovery: {body}");
        acknowledged.push(body["id"].as_str().unwrap().to_string());
    }
    gw.stop();

    let data_arg = data.to_str().unwrap();
    let verify = holdpoint(&["audit", "verify", "--data", data_arg]);
    assert!(
        verify.status.success(),
        "{}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    let export = text(&holdpoint(&["audit", "export", "--data", data_arg]).stdout);
    for id in &acknowledged {
        assert!(
            export.contains(&format!("\"action_id\":\"{id}\"")),
            "acknowledged action {id} is missing from the audit log"
        );
    }
}

#[tokio::test]
async fn an_operator_with_the_data_folder_bootstraps_a_second_admin_locally() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gw = Gateway::start(&data, &[]);
    let admin = gw.admin_token();
    // Through the gateway, a second admin waits for another admin: there is none.
    let out = gw.cli(
        &admin,
        &["token", "create", "--name", "root2", "--kind", "admin"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("held as act_"),
        "{}",
        text(&out.stderr)
    );

    let local = holdpoint(&[
        "admin-token",
        "--name",
        "ops2",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(local.status.success(), "{}", text(&local.stderr));
    let second = text(&local.stdout).trim().to_string();
    assert!(second.starts_with("hp_"));
    let pending = gw.cli(&second, &["pending"]);
    assert!(
        text(&pending.stdout).contains("token.create.admin"),
        "{}",
        text(&pending.stdout)
    );
    let listing = text(&pending.stdout);
    let held_id = listing.split_whitespace().next().unwrap().to_string();
    let approve = gw.cli(&second, &["approve", &held_id]);
    assert!(approve.status.success(), "{}", text(&approve.stderr));
    let out = gw.cli(
        &admin,
        &["token", "create", "--name", "root2", "--kind", "admin"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).trim().starts_with("hp_"));
    gw.stop();
    let export = text(&holdpoint(&["audit", "export", "--data", data.to_str().unwrap()]).stdout);
    assert!(
        export.contains("\"channel\":\"local\""),
        "the local bootstrap is audited"
    );
}

#[tokio::test]
async fn many_long_polls_against_a_small_descriptor_limit_leave_the_gate_answering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The gateway with 128 descriptors, as a careless operator might leave it.
    let gw = Gateway::start_with_fd_limit(&data, 128);
    let http = reqwest::Client::new();
    let mut held = Vec::new();
    for a in 0..5 {
        let agent = gw.create_token(&format!("bot-{a}"), "agent", &[]);
        let (_, action) = post(
            &gw.base,
            &agent,
            json!({"kind": "db.ddl", "resource": "postgres/prod/t", "params": {"a": a}}),
        )
        .await;
        held.push((agent, action["id"].as_str().unwrap().to_string()));
    }
    let mut polls = Vec::new();
    for (agent, id) in &held {
        for _ in 0..30 {
            let (http, base, agent, id) =
                (http.clone(), gw.base.clone(), agent.clone(), id.clone());
            polls.push(tokio::spawn(async move {
                http.get(format!("{base}/v1/actions/{id}?wait=60s"))
                    .bearer_auth(agent)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }));
        }
    }
    // Let every poll reach the gate (or be refused).
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    // 150 long-polls against 128 descriptors: the gate still answers at once, either
    // served or refused with 429, and never runs out of descriptors.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        fresh.get(format!("{}/healthz", gw.base)).send(),
    )
    .await
    .expect("/healthz answered")
    .expect("a response");
    assert!(
        matches!(answer.status().as_u16(), 200 | 429),
        "{}",
        answer.status()
    );
    for poll in &polls {
        poll.abort();
    }
    let mut healthy = false;
    for _ in 0..500 {
        let r = fresh.get(format!("{}/healthz", gw.base)).send().await;
        if r.is_ok_and(|r| r.status() == 200) {
            healthy = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(healthy, "once the polls end, the gate serves again");
    gw.stop();
}

#[test]
fn a_directory_user_cannot_be_put_in_an_implicit_group() {
    support::serve_refuses(
        "[[users]]\nname = \"carol\"\ngroups = [\"admins\", \"dba\"]\n",
        "`admins`",
    );
}
