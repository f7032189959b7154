//! Commands that talk to a running gateway over its HTTP API.

use crate::cli::{Remote, TokenCommand};
use crate::exit;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use holdpoint_core::text::{inert, json_for_terminal};
use holdpoint_server::{ActionList, ActionView, CreatedToken, TokenList};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// The longest single long-poll; `--wait` longer than this polls again.
const POLL: Duration = Duration::from_secs(60);

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[arg(long)]
    pub kind: String,
    #[arg(long)]
    pub resource: String,
    #[arg(long = "env", default_value = "")]
    pub environment: String,
    /// A string parameter, `key=value`; repeatable.
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Parameters as one JSON object (merged under --param).
    #[arg(long)]
    pub params_json: Option<String>,
    /// Why the action is needed; shown to reviewers.
    #[arg(long = "why", default_value = "")]
    pub justification: String,
    /// Wait this long for a held action to be decided, e.g. 5m.
    #[arg(long, value_parser = parse_wait)]
    pub wait: Option<Duration>,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected `key=value`, got `{text}`"))
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    holdpoint_core::duration::parse_duration(text)
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(remote: &Remote) -> anyhow::Result<Client> {
        let token = remote
            .token
            .clone()
            .ok_or_else(|| anyhow!("no token: set HOLDPOINT_TOKEN or pass --token"))?;
        Ok(Client {
            http: reqwest::Client::builder()
                .timeout(POLL + Duration::from_secs(30))
                .build()?,
            base: remote.url.trim_end_matches('/').to_string(),
            token,
        })
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> anyhow::Result<T> {
        self.send_with_status(req).await.map(|(_, body)| body)
    }

    async fn send_with_status<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> anyhow::Result<(reqwest::StatusCode, T)> {
        let response = req
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach holdpoint at {}", self.base))?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            let detail: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let message = detail["error"]["message"].as_str().unwrap_or("no message");
            let code = detail["error"]["code"].as_str().unwrap_or("error");
            bail!("{} ({code}, HTTP {})", inert(message), status.as_u16());
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        let value = serde_json::from_slice(body).context("unexpected response from holdpoint")?;
        Ok((status, value))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Prints JSON with agent-controlled text made inert for the terminal.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", json_for_terminal(&serde_json::to_value(value)?));
    Ok(())
}

pub async fn token(remote: &Remote, command: TokenCommand) -> anyhow::Result<u8> {
    let client = Client::new(remote)?;
    match command {
        TokenCommand::Create {
            name,
            kind,
            groups,
            owner,
            ttl,
            wait,
        } => {
            let body =
                json!({"name": name, "kind": kind, "groups": groups, "owner": owner, "ttl": ttl});
            return create_token(&client, &body, wait.unwrap_or_default()).await;
        }
        TokenCommand::List => {
            let list: TokenList = client
                .send(client.http.get(client.url("/v1/tokens")))
                .await?;
            println!(
                "{:<24} {:<6} {:<24} {:<12} STATE",
                "NAME", "KIND", "GROUPS", "OWNER"
            );
            for t in list.tokens {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                println!(
                    "{:<24} {:<6} {:<24} {:<12} {state}",
                    inert(&t.name),
                    t.kind.as_str(),
                    inert(&t.groups.join(",")),
                    inert(t.owner.as_deref().unwrap_or("-"))
                );
            }
        }
        TokenCommand::Revoke { name } => {
            let _: Value = client
                .send(
                    client
                        .http
                        .delete(client.url(&format!("/v1/tokens/{name}"))),
                )
                .await?;
            eprintln!("revoked `{name}`");
        }
    }
    Ok(exit::OK)
}

/// Creates an agent token named `name` with the admin token of `remote`; the token.
pub async fn create_agent_token(remote: &Remote, name: &str) -> anyhow::Result<String> {
    let client = Client::new(remote)?;
    let body = json!({"name": name, "kind": "agent"});
    let post = client.http.post(client.url("/v1/tokens")).json(&body);
    let (status, answer): (reqwest::StatusCode, Value) = client.send_with_status(post).await?;
    if status == reqwest::StatusCode::ACCEPTED {
        bail!(
            "policy holds new agent tokens; create it with `holdpoint token create --wait` instead"
        );
    }
    let created: CreatedToken = serde_json::from_value(answer)?;
    Ok(created.token)
}

/// `POST /v1/tokens`; when policy holds it, waits up to `wait` for the decision and, once
/// approved, asks again to collect the token (the approval is used by that request).
async fn create_token(client: &Client, body: &Value, wait: Duration) -> anyhow::Result<u8> {
    let post = || client.http.post(client.url("/v1/tokens")).json(body);
    let (status, answer): (reqwest::StatusCode, Value) = client.send_with_status(post()).await?;
    if status != reqwest::StatusCode::ACCEPTED {
        let created: CreatedToken = serde_json::from_value(answer)?;
        eprintln!(
            "created {} token `{}`; it is shown only once:",
            created.record.kind,
            inert(&created.record.name)
        );
        println!("{}", created.token);
        return Ok(exit::OK);
    }
    let held: ActionView = serde_json::from_value(answer)?;
    let action = wait_for(client, held, wait).await?;
    match action.status {
        holdpoint_core::Status::Approved => {
            let created: CreatedToken = client.send(post()).await?;
            eprintln!(
                "approved in {}; created {} token `{}`; it is shown only once:",
                action.id,
                created.record.kind,
                inert(&created.record.name)
            );
            println!("{}", created.token);
            Ok(exit::OK)
        }
        status if status.is_pending() => {
            eprintln!(
                "held as {} for approval by another human; once approved, run the same \
                 command again to receive the token",
                action.id
            );
            Ok(exit::PENDING)
        }
        status => {
            eprintln!(
                "{} is {status}: {}",
                action.id,
                inert(&action.verdict.reason)
            );
            Ok(exit::DENIED)
        }
    }
}

/// `now + wait`, or a year from now for a wait longer than the clock can count.
fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Long-polls a pending action until it is decided or `wait` has passed.
async fn wait_for(
    client: &Client,
    mut action: ActionView,
    wait: Duration,
) -> anyhow::Result<ActionView> {
    let deadline = deadline_after(wait);
    while action.status.is_pending() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.as_secs() == 0 {
            break;
        }
        let path = format!(
            "/v1/actions/{}?wait={}s",
            action.id,
            left.min(POLL).as_secs()
        );
        action = client.send(client.http.get(client.url(&path))).await?;
    }
    Ok(action)
}

pub async fn submit(remote: &Remote, args: SubmitArgs) -> anyhow::Result<u8> {
    let client = Client::new(remote)?;
    let mut params = match &args.params_json {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => bail!("--params-json must be a JSON object"),
            Err(e) => bail!("--params-json is not valid JSON: {e}"),
        },
        None => Map::new(),
    };
    for (k, v) in args.params {
        params.insert(k, Value::String(v));
    }
    let wait = args.wait.unwrap_or_default();
    let deadline = deadline_after(wait);
    let first = format!("{}s", wait.min(POLL).as_secs());
    let body = json!({
        "kind": args.kind, "resource": args.resource, "environment": args.environment,
        "params": params, "justification": args.justification, "wait": first,
    });
    let action: ActionView = client
        .send(client.http.post(client.url("/v1/actions")).json(&body))
        .await?;
    let action = wait_for(
        &client,
        action,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await?;
    print_json(&action)?;
    Ok(if action.proceed {
        exit::OK
    } else if action.status.is_pending() {
        exit::PENDING
    } else {
        exit::DENIED
    })
}

pub async fn pending(remote: &Remote) -> anyhow::Result<u8> {
    let client = Client::new(remote)?;
    let list: ActionList = client
        .send(
            client
                .http
                .get(client.url("/v1/actions?status=pending&limit=500")),
        )
        .await?;
    if list.actions.is_empty() {
        eprintln!("nothing is waiting for you");
    }
    for a in list.actions {
        let (title, expires) = a
            .hold
            .as_ref()
            .map(|h| {
                (
                    h.title.clone(),
                    h.expires_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
            })
            .unwrap_or_default();
        // Everything the agent wrote is made inert: no escape sequence or carriage return
        // from it reaches the reviewer's terminal.
        println!(
            "{}  {}  {} on {}  \"{}\"  expires {}",
            inert(&a.id),
            inert(&a.principal.to_string()),
            inert(&a.kind),
            inert(&a.resource),
            inert(&title),
            expires
        );
        if !a.justification.is_empty() {
            println!("    why: {}", inert(&a.justification));
        }
        println!("    params: {}", inert(&a.params.to_string()));
    }
    Ok(exit::OK)
}

pub async fn review(
    remote: &Remote,
    id: &str,
    decision: &str,
    comment: &str,
) -> anyhow::Result<u8> {
    let client = Client::new(remote)?;
    let body = json!({"decision": decision, "comment": comment});
    let action: ActionView = client
        .send(
            client
                .http
                .post(client.url(&format!("/v1/actions/{id}/reviews")))
                .json(&body),
        )
        .await?;
    println!("{} is {}", inert(&action.id), action.status);
    Ok(exit::OK)
}
