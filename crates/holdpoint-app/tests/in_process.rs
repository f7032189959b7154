//! The whole gateway in this process: built from a config (a temp data folder, SQLite,
//! the starter policies), served on port 0, driven over HTTP, and stopped through its
//! shutdown future. The spine: an agent's read is allowed, a privilege change denied,
//! and a production schema change held until the admin approves it, when the waiting
//! submit proceeds. Then `run` returns and the port is free again.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_app::{App, Config};
use holdpoint_core::env::MapEnv;
use serde_json::{Value, json};
use std::time::Duration;

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spine_runs_in_process_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = Config::parse(&format!(
        "[store]\nurl = \"sqlite://{}\"\n",
        dir.path().join("holdpoint.db").display()
    ))
    .unwrap();
    let app = App::build(config, &data, &MapEnv::new()).await.unwrap();
    let token_file = app
        .first_admin_token()
        .expect("a first start")
        .to_path_buf();
    assert_eq!(token_file, data.join("admin.token"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&token_file), 0o600);
    }
    let admin = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();

    let listeners = app.bind(Some("127.0.0.1:0")).await.unwrap();
    let addr = listeners.http_addr().unwrap();
    let base = format!("http://{addr}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run(listeners, async move {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let (status, created) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/tokens"),
        &admin,
        Some(json!({"name": "ci-bot", "kind": "agent"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let agent = created["token"].as_str().unwrap().to_string();
    let submit = |body: Value| {
        let (http, base, agent) = (http.clone(), base.clone(), agent.clone());
        async move {
            call(
                &http,
                reqwest::Method::POST,
                format!("{base}/v1/actions"),
                &agent,
                Some(body),
            )
            .await
        }
    };

    // An agent's read passes at once.
    let (_, read) = submit(json!({"kind": "db.read", "resource": "postgres/prod/customers"})).await;
    assert_eq!(read["status"], "allowed", "{read}");
    assert_eq!(read["proceed"], true);

    // A privilege change is refused, with the policy's reason.
    let (_, grant) = submit(json!({
        "kind": "db.privilege", "resource": "postgres/prod",
        "params": {"sql": "GRANT ALL ON customers TO intern"},
    }))
    .await;
    assert_eq!(grant["status"], "denied", "{grant}");
    assert_eq!(grant["proceed"], false);

    // The gateway's own data folder is out of the hook's reach, whatever it is called.
    for file in [data.join("masking.key"), data.join("x/../any")] {
        let (status, out) = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/hooks/claude-code?wait=0s"),
            &agent,
            Some(json!({"cwd": "/", "tool_name": "Read",
                "tool_input": {"file_path": file.to_string_lossy()}})),
        )
        .await;
        assert_eq!(status, 200);
        let decision = &out["hookSpecificOutput"];
        assert_eq!(decision["permissionDecision"], "deny", "{out}");
        let reason = decision["permissionDecisionReason"].as_str().unwrap();
        assert!(reason.contains("holdpoint's own data"), "{reason}");
    }

    // A schema change in production waits for an admin ...
    let waiting = tokio::spawn(submit(json!({
        "kind": "db.ddl", "resource": "postgres/prod/customers", "environment": "prod",
        "params": {"sql": "CREATE INDEX ON customers(email)"},
        "justification": "the weekly report is slow", "wait": "60s",
    })));
    let id = loop {
        let (_, pending) = call(
            &http,
            reqwest::Method::GET,
            format!("{base}/v1/actions?status=pending"),
            &admin,
            None,
        )
        .await;
        if let Some(id) = pending["actions"][0]["id"].as_str() {
            assert_eq!(pending["actions"][0]["kind"], "db.ddl");
            break id.to_string();
        }
        assert!(
            !waiting.is_finished(),
            "the held submit returned before a review"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // ... who approves it, and the waiting submit proceeds.
    let (status, reviewed) = call(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/actions/{id}/reviews"),
        &admin,
        Some(json!({"decision": "approve", "comment": "index is safe"})),
    )
    .await;
    assert_eq!(status, 200, "{reviewed}");
    let (status, held) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the waiting submit woke")
        .unwrap();
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["id"], id.as_str());
    assert_eq!(held["status"], "approved", "{held}");
    assert_eq!(held["proceed"], true);

    // Stopped through the shutdown future: `run` returns, and nothing holds the port.
    drop(http);
    stop.send(()).unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(15), running)
        .await
        .expect("run returned after shutdown")
        .unwrap();
    assert!(ran.is_ok(), "{ran:?}");
    std::net::TcpListener::bind(addr).expect("the port is free again");

    // Everything was committed and the store closed: a second start reads it, with no
    // new admin token.
    let again = App::build(
        Config::parse(&format!(
            "[store]\nurl = \"sqlite://{}\"\n",
            dir.path().join("holdpoint.db").display()
        ))
        .unwrap(),
        &data,
        &MapEnv::new(),
    )
    .await
    .unwrap();
    assert!(again.first_admin_token().is_none());
    again.close().await;
}
