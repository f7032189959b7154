//! Commands that talk to a running gateway, through `holdpoint_client`: `token`,
//! `submit`, `pending`, `approve` and `reject`.

use crate::cli::{Remote, TokenCommand};
use crate::exit;
use anyhow::bail;
use clap::Args;
use holdpoint_client::{ActionView, Client, CreatedToken, NewToken, Submission, TokenCreation};
use holdpoint_core::text::{inert, json_for_terminal};
use serde_json::{Map, Value};
use std::time::Duration;

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
    #[arg(long, value_parser = holdpoint_core::duration::parse_duration)]
    pub wait: Option<Duration>,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected `key=value`, got `{text}`"))
}

/// Prints JSON with agent-controlled text made inert for the terminal.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", json_for_terminal(&serde_json::to_value(value)?));
    Ok(())
}

fn print_created(created: &CreatedToken, before: &str) {
    eprintln!(
        "{before}created {} token `{}`; it is shown only once:",
        created.record.kind,
        inert(&created.record.name)
    );
    println!("{}", created.token);
}

pub async fn token(remote: &Remote, command: TokenCommand) -> anyhow::Result<u8> {
    let client = remote.client()?;
    match command {
        TokenCommand::Create {
            name,
            kind,
            groups,
            owner,
            ttl,
            wait,
        } => {
            let token = NewToken {
                name,
                kind,
                groups,
                owner,
                ttl,
            };
            return create_token(&client, &token, wait.unwrap_or_default()).await;
        }
        TokenCommand::List => {
            let list = client.tokens().await?;
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
            client.revoke_token(&name).await?;
            eprintln!("revoked `{name}`");
        }
    }
    Ok(exit::OK)
}

/// Creates an agent token named `name` with the admin token of `remote`; the token.
pub async fn create_agent_token(remote: &Remote, name: &str) -> anyhow::Result<String> {
    let token = NewToken {
        name: name.into(),
        kind: "agent".into(),
        ..NewToken::default()
    };
    match remote.client()?.create_token(&token).await? {
        TokenCreation::Created(created) => Ok(created.token),
        TokenCreation::Held(_) => bail!(
            "policy holds new agent tokens; create it with `holdpoint token create --wait` instead"
        ),
    }
}

/// `POST /v1/tokens`; when policy holds it, waits up to `wait` for the decision and, once
/// approved, asks again to collect the token (the approval is used by that request).
async fn create_token(client: &Client, token: &NewToken, wait: Duration) -> anyhow::Result<u8> {
    let held = match client.create_token(token).await? {
        TokenCreation::Created(created) => {
            print_created(&created, "");
            return Ok(exit::OK);
        }
        TokenCreation::Held(held) => held,
    };
    let action = client.wait_for(*held, wait).await?;
    match action.status {
        holdpoint_core::Status::Approved => match client.create_token(token).await? {
            TokenCreation::Created(created) => {
                print_created(&created, &format!("approved in {}; ", action.id));
                Ok(exit::OK)
            }
            TokenCreation::Held(again) => bail!("held again as {}", inert(&again.id)),
        },
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

pub async fn submit(remote: &Remote, args: SubmitArgs) -> anyhow::Result<u8> {
    let client = remote.client()?;
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
    let submission = Submission {
        kind: args.kind,
        resource: args.resource,
        environment: args.environment,
        params,
        justification: args.justification,
    };
    let action: ActionView = client
        .ask_and_wait(&submission, args.wait.unwrap_or_default())
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
    let list = remote.client()?.pending(500).await?;
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
    let action = remote.client()?.review(id, decision, comment).await?;
    println!("{} is {}", inert(&action.id), action.status);
    Ok(exit::OK)
}
