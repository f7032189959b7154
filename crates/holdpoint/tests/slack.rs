//! Review in Slack, end to end: a real gateway, and a local stand-in for Slack's Web API
//! that checks the bot token and records every call. Clicks are signed as Slack signs
//! them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use holdpoint_core::{Clock as _, SystemClock};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Gateway;

const TOKEN: &str = "xoxb-test-token";
const SIGNING_SECRET: &str = "signing-secret-of-the-test-app";

#[derive(Default)]
struct Slack {
    /// (method, body) of every Web API call with the right token.
    calls: Mutex<Vec<(String, Value)>>,
    /// Ephemeral answers posted to response URLs.
    ephemeral: Arc<Mutex<Vec<String>>>,
    /// When set, chat.postMessage answers this.
    failing: Mutex<Option<StatusCode>>,
}

impl Slack {
    fn calls(&self, method: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

async fn web_api(
    State(slack): State<Arc<Slack>>,
    Path(method): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Option<Json<Value>>,
) -> (StatusCode, HeaderMap, Json<Value>) {
    let mut out = HeaderMap::new();
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return (
            StatusCode::OK,
            out,
            Json(json!({"ok": false, "error": "invalid_auth"})),
        );
    }
    let failing = *slack.failing.lock().unwrap();
    if let (true, Some(status)) = (method == "chat.postMessage", failing) {
        out.insert("retry-after", "1".parse().unwrap());
        return (
            status,
            out,
            Json(json!({"ok": false, "error": "ratelimited"})),
        );
    }
    let body = body.map(|Json(b)| b).unwrap_or_else(|| json!(query));
    slack
        .calls
        .lock()
        .unwrap()
        .push((method.clone(), body.clone()));
    let answer = match method.as_str() {
        "chat.postMessage" => {
            json!({"ok": true, "channel": body["channel"], "ts": "1700000000.000100"})
        }
        "users.info" => match query.get("user").map(String::as_str) {
            Some("U_ERIN") => {
                json!({"ok": true, "user": {"id": "U_ERIN", "profile": {"email": "Erin@Example.com"}}})
            }
            _ => {
                json!({"ok": true, "user": {"id": "U_X", "profile": {"email": "stranger@example.com"}}})
            }
        },
        _ => json!({"ok": true}),
    };
    (StatusCode::OK, out, Json(answer))
}

async fn respond(State(slack): State<Arc<Slack>>, Json(body): Json<Value>) -> StatusCode {
    slack
        .ephemeral
        .lock()
        .unwrap()
        .push(body["text"].as_str().unwrap_or_default().to_string());
    StatusCode::OK
}

/// Starts the stand-in on 127.0.0.1; its base URL.
async fn start_slack(slack: Arc<Slack>) -> String {
    let app = axum::Router::new()
        .route("/api/{method}", axum::routing::post(web_api).get(web_api))
        .route("/respond", axum::routing::post(respond))
        .with_state(slack);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn gateway(dir: &std::path::Path, slack: &str) -> Gateway {
    let config = dir.join("holdpoint.toml");
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("policies/ddl.cedar"),
        r#"@id("prod-ddl") @hold("Schema change in production") @approvers("dba")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/prod");
@id("two-dbas") @hold("Two DBAs") @approvers("dba") @quorum("2") @slack_channel("CVAULT01")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/vault");
@id("not-the-owner") @hold("Owner excluded") @approvers("dba") @separate
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/payroll");
@id("brief") @hold("Brief") @approvers("dba") @expires("1s")
permit(principal, action == Action::"db.ddl", resource in Resource::"postgres/scratch");
@id("users-too") permit(principal in Group::"users", action == Action::"db.ddl", resource in Resource::"postgres/prod");"#,
    )
    .unwrap();
    std::fs::write(
        &config,
        format!(
            r#"[policy]
dir = "policies"

[slack]
channel = "C_HOLDS"
api_url = "{slack}/api"

[[users]]
name = "dana"
groups = ["dba"]
slack_id = "U_DANA"

[[users]]
name = "olga"
groups = ["dba"]
slack_id = "U_OLGA"

[[users]]
name = "erin"
email = "erin@example.com"
groups = ["dba"]
"#
        ),
    )
    .unwrap();
    Gateway::start_logged(
        &dir.join("data"),
        &["--config", config.to_str().unwrap()],
        &[
            ("SLACK_BOT_TOKEN", TOKEN),
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ],
        &dir.join("log"),
    )
}

/// A signed `block_actions` click, as Slack sends it.
fn click(user: &str, action: &str, id: &str, slack: &str) -> String {
    let payload = json!({"type": "block_actions", "user": {"id": user},
        "response_url": format!("{slack}/respond"),
        "actions": [{"action_id": action, "value": id}]});
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

async fn post_click(gw: &Gateway, body: &str, timestamp: i64, secret: &str) -> StatusCode {
    let ts = timestamp.to_string();
    reqwest::Client::new()
        .post(format!("{}/integrations/slack/interactions", gw.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            holdpoint_slack::sign(secret, &ts, body.as_bytes()),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

/// An agent token owned by `olga`.
fn owned_agent(gw: &Gateway) -> String {
    let out = gw.cli(
        &gw.admin_token(),
        &[
            "token", "create", "--name", "bot", "--kind", "agent", "--owner", "olga",
        ],
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    support::text(&out.stdout).trim().to_string()
}

fn now() -> i64 {
    SystemClock.now().timestamp()
}

async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never saw {what}");
}

fn status_of(gw: &Gateway, id: &str) -> String {
    let action: Value = serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{id}"))).unwrap();
    action["status"].as_str().unwrap().to_string()
}

/// Submits a held production schema change with a secret in it; its id.
fn hold(gw: &Gateway, agent: &str, table: &str) -> String {
    hold_on(gw, agent, &format!("postgres/prod/{table}"))
}

fn hold_on(gw: &Gateway, agent: &str, resource: &str) -> String {
    gw.submit_ddl(
        agent,
        resource,
        &["password=hunter2-Sup3r-Secret!"],
        "<!channel> urgent",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_is_reviewed_in_slack_and_its_message_follows() {
    let slack = Arc::new(Slack::default());
    let base = start_slack(slack.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &base);
    let agent = owned_agent(&gw);
    // The agent waits for the decision.
    let waiting = {
        let (base, agent) = (gw.base.clone(), agent.clone());
        std::thread::spawn(move || {
            std::process::Command::new(support::BIN)
                .args([
                    "submit",
                    "--kind",
                    "db.ddl",
                    "--resource",
                    "postgres/prod/customers",
                ])
                .args(["--env", "prod", "--param", "password=hunter2-Sup3r-Secret!"])
                .args(["--why", "<!channel> urgent", "--wait", "60s"])
                .env("HOLDPOINT_URL", base)
                .env("HOLDPOINT_TOKEN", agent)
                .output()
                .unwrap()
        })
    };

    // The message: the hold, masked, with buttons for this action.
    let posted = until("chat.postMessage", || {
        slack.calls("chat.postMessage").into_iter().next()
    })
    .await;
    let id = support::act_id(&posted.to_string());
    assert_eq!(posted["channel"], "C_HOLDS");
    let text = posted.to_string();
    assert!(
        !text.contains("hunter2"),
        "a raw secret reached Slack: {text}"
    );
    assert!(
        !text.contains("<!channel>"),
        "an agent's text pinged the channel: {text}"
    );
    assert!(text.contains(&id) && text.contains(holdpoint_slack::APPROVE));

    // Refused, and nothing changes: a forged signature, a stale timestamp, a replayed body
    // under a new timestamp, a stranger.
    let approve = click("U_DANA", holdpoint_slack::APPROVE, &id, &base);
    assert_eq!(
        post_click(&gw, &approve, now(), "not-the-secret").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_click(&gw, &approve, now() - 301, SIGNING_SECRET).await,
        StatusCode::UNAUTHORIZED
    );
    let ts = (now() - 10).to_string();
    let signature = holdpoint_slack::sign(SIGNING_SECRET, &ts, approve.as_bytes());
    let replayed = reqwest::Client::new()
        .post(format!("{}/integrations/slack/interactions", gw.base))
        .header("x-slack-request-timestamp", now().to_string())
        .header("x-slack-signature", signature)
        .body(approve.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    let stranger = click("U_NOBODY", holdpoint_slack::APPROVE, &id, &base);
    assert_eq!(
        post_click(&gw, &stranger, now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let told = until("the stranger's ephemeral answer", || {
        slack.ephemeral.lock().unwrap().first().cloned()
    })
    .await;
    assert!(told.contains("not mapped"), "{told}");
    assert_eq!(status_of(&gw, &id), "pending");

    // Dana (by slack_id) approves: the hold is approved, and the message loses its buttons.
    assert_eq!(
        post_click(&gw, &approve, now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let said = slack.ephemeral.clone();
    until("approved", || {
        let told = said.lock().unwrap();
        assert!(told.len() <= 1, "refused: {told:?}");
        (status_of(&gw, &id) == "approved").then_some(())
    })
    .await;
    let updated = until("chat.update", || {
        slack.calls("chat.update").into_iter().last()
    })
    .await;
    assert_eq!(updated["ts"], "1700000000.000100");
    let text = updated.to_string();
    assert!(
        text.contains("Approved")
            && text.contains("dana")
            && !text.contains(holdpoint_slack::APPROVE),
        "{text}"
    );

    // The waiting agent proceeds.
    let out = waiting.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", support::text(&out.stderr));

    // A second click on the decided hold changes nothing and says why.
    assert_eq!(
        post_click(&gw, &approve, now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    until("the second click's answer", || {
        (slack.ephemeral.lock().unwrap().len() == 2).then_some(())
    })
    .await;

    // Erin is found through users.info and her email. Reject asks her for the reason in a
    // modal; its submission is the review, with that reason.
    let other = hold(&gw, &agent, "orders");
    until("the second message", || {
        let posts = slack.calls("chat.postMessage");
        (posts.iter().filter(|p| p["thread_ts"].is_null()).count() == 2).then_some(())
    })
    .await;
    let reject = form(&json!({"type": "block_actions", "user": {"id": "U_ERIN"},
        "trigger_id": "trigger-123", "response_url": format!("{base}/respond"),
        "actions": [{"action_id": holdpoint_slack::REJECT, "value": other}]}));
    assert_eq!(
        post_click(&gw, &reject, now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let modal = until("views.open", || {
        slack.calls("views.open").into_iter().next()
    })
    .await;
    assert_eq!(modal["trigger_id"], "trigger-123");
    assert_eq!(modal["view"]["private_metadata"], other.as_str());
    assert_eq!(
        status_of(&gw, &other),
        "pending",
        "a reject click alone decides nothing"
    );
    let submission = form(&json!({"type": "view_submission", "user": {"id": "U_ERIN"},
        "view": {"callback_id": "holdpoint_reject_reason", "private_metadata": other,
                 "state": {"values": {"reason": {"reason": {"type": "plain_text_input",
                    "value": "not during the freeze"}}}}}}));
    assert_eq!(
        post_click(&gw, &submission, now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    assert_eq!(status_of(&gw, &other), "rejected");
    let rejected: Value =
        serde_json::from_str(&gw.admin_get(&format!("/v1/actions/{other}"))).unwrap();
    assert_eq!(
        rejected["hold"]["reviews"][0]["comment"],
        "not during the freeze"
    );
    assert_eq!(rejected["hold"]["reviews"][0]["channel"], "slack");

    // The agent's owner hears of each outcome in the message's thread.
    let replies = until("the owner's threaded replies", || {
        let replies: Vec<Value> = slack
            .calls("chat.postMessage")
            .into_iter()
            .filter(|c| c["thread_ts"].is_string())
            .collect();
        (replies.len() == 2).then_some(replies)
    })
    .await;
    assert!(
        replies[0]["text"].as_str().unwrap().contains("<@U_OLGA>"),
        "{replies:?}"
    );

    // `/holdpoint pending`, for the caller alone.
    let third = hold(&gw, &agent, "invoices");
    let command = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("command", "/holdpoint")
        .append_pair("text", "pending")
        .append_pair("user_id", "U_DANA")
        .finish();
    let ts = now().to_string();
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/integrations/slack/commands", gw.base))
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            holdpoint_slack::sign(SIGNING_SECRET, &ts, command.as_bytes()),
        )
        .body(command)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["response_type"], "ephemeral");
    let listed = answer["text"].as_str().unwrap();
    assert!(
        listed.contains(&third) && !listed.contains(&other),
        "{listed}"
    );
}

/// `payload=` form encoding, as Slack posts interactions.
fn form(payload: &Value) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_down_never_blocks_a_hold_and_the_message_catches_up() {
    let slack = Arc::new(Slack::default());
    *slack.failing.lock().unwrap() = Some(StatusCode::TOO_MANY_REQUESTS);
    let base = start_slack(slack.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &base);
    let agent = gw.create_token("bot", "agent", &[]);
    let id = hold(&gw, &agent, "customers");
    // Approved from the CLI while Slack refuses.
    let dba = gw.create_token("dave", "user", &["dba"]);
    let out = gw.cli(&dba, &["approve", &id]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    assert!(slack.calls("chat.postMessage").is_empty());
    // Slack returns: the message is posted, then brought up to date, in that order.
    *slack.failing.lock().unwrap() = None;
    let updated = until("the update after Slack returned", || {
        slack.calls("chat.update").into_iter().last()
    })
    .await;
    assert_eq!(slack.calls("chat.postMessage").len(), 1);
    assert!(updated.to_string().contains("Approved"), "{updated}");
}

/// The ephemeral answer that follows `clicks` (how many came before it).
async fn answer_after(slack: &Slack, before: usize) -> String {
    until("an ephemeral answer", || {
        slack.ephemeral.lock().unwrap().get(before).cloned()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_reviews_follow_every_rule_of_the_gate() {
    let slack = Arc::new(Slack::default());
    let base = start_slack(slack.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), &base);
    let agent = owned_agent(&gw);
    let approve = |user: &str, id: &str| click(user, holdpoint_slack::APPROVE, id, &base);

    // Quorum 2 across two channels: Dana in Slack, Dave from the CLI (recorded as `api`,
    // the channel the CLI talks through).
    let vault = hold_on(&gw, &agent, "postgres/vault/keys");
    assert_eq!(
        post_click(&gw, &approve("U_DANA", &vault), now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let vault_post = until("the vault hold's message", || {
        slack
            .calls("chat.postMessage")
            .into_iter()
            .find(|p| p.to_string().contains(&vault))
    })
    .await;
    assert_eq!(
        vault_post["channel"], "CVAULT01",
        "the policy's own channel"
    );
    let partial = until("the first review's update", || {
        slack
            .calls("chat.update")
            .into_iter()
            .find(|u| u.to_string().contains("1 of 2 approvals"))
    })
    .await;
    // Dana's second click counts once.
    let seen = slack.ephemeral.lock().unwrap().len();
    assert_eq!(
        post_click(&gw, &approve("U_DANA", &vault), now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let told = answer_after(&slack, seen).await;
    assert!(told.contains("did not record"), "{told}");
    assert_eq!(status_of(&gw, &vault), "pending");
    assert!(
        partial.to_string().contains(holdpoint_slack::APPROVE),
        "still reviewable: {partial}"
    );
    let dave = gw.create_token("dave", "user", &["dba"]);
    let out = gw.cli(&dave, &["approve", &vault]);
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let done = until("the decided update", || {
        slack
            .calls("chat.update")
            .into_iter()
            .find(|u| u.to_string().contains("*Approved*"))
    })
    .await;
    let text = done.to_string();
    assert!(
        text.contains("dana")
            && text.contains("slack")
            && text.contains("dave")
            && text.contains("in api"),
        "{text}"
    );

    // The agent's owner under @separate may not approve its hold.
    let payroll = hold_on(&gw, &agent, "postgres/payroll/salaries");
    let seen = slack.ephemeral.lock().unwrap().len();
    assert_eq!(
        post_click(&gw, &approve("U_OLGA", &payroll), now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let told = answer_after(&slack, seen).await;
    assert!(told.contains("did not record"), "{told}");
    assert_eq!(status_of(&gw, &payroll), "pending");

    // A user may not approve their own request, from Slack either.
    let erin = gw.create_token("erin", "user", &["dba"]);
    let own = hold_on(&gw, &erin, "postgres/prod/erins");
    let seen = slack.ephemeral.lock().unwrap().len();
    assert_eq!(
        post_click(&gw, &approve("U_ERIN", &own), now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let told = answer_after(&slack, seen).await;
    assert!(told.contains("did not record"), "{told}");
    assert_eq!(status_of(&gw, &own), "pending");

    // A click on an expired hold changes nothing.
    let brief = hold_on(&gw, &agent, "postgres/scratch/tmp");
    until("expired", || {
        (status_of(&gw, &brief) == "expired").then_some(())
    })
    .await;
    let seen = slack.ephemeral.lock().unwrap().len();
    assert_eq!(
        post_click(&gw, &approve("U_DANA", &brief), now(), SIGNING_SECRET).await,
        StatusCode::OK
    );
    let told = answer_after(&slack, seen).await;
    assert!(told.contains("did not record"), "{told}");
    assert_eq!(status_of(&gw, &brief), "expired");
}
