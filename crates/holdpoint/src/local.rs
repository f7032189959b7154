//! Commands that read files and the store directly, with no gateway running: an auditor
//! can verify a copy of the database.

use crate::cli::{AuditCommand, Local, PolicyCommand};
use crate::config::{Config, STARTER_CONFIG};
use crate::exit;
use anyhow::{Context, anyhow};
use clap::Args;
use holdpoint_core::{ActionRequest, Identity, Store};
use holdpoint_policy::{PolicyInput, PolicySet};
use holdpoint_store::{OpenMode, SqlStore};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[arg(long)]
    pub kind: String,
    #[arg(long)]
    pub resource: String,
    #[arg(long = "env", default_value = "")]
    pub environment: String,
    /// `agent:NAME`, `user:NAME` or `admin:NAME`.
    #[arg(long, default_value = "agent:anonymous")]
    pub principal: String,
    /// A group of the principal; repeatable.
    #[arg(long = "group")]
    pub groups: Vec<String>,
    #[arg(long = "param")]
    pub params: Vec<String>,
    #[arg(long)]
    pub params_json: Option<String>,
    #[arg(long, default_value = "api")]
    pub surface: String,
    /// The policy folder; default: the config's, else the starter policies.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `holdpoint mask`: JSON on stdin is walked and printed as JSON; anything else is
/// masked as text.
pub fn mask(local: &Local, data: &Path) -> anyhow::Result<u8> {
    use std::io::Read;
    let config = Config::load(local.config.as_deref())?;
    let redactor = config.redactor(data)?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read stdin as UTF-8 text")?;
    match serde_json::from_str::<Value>(&input) {
        Ok(value) if value.is_object() || value.is_array() => {
            println!(
                "{}",
                serde_json::to_string_pretty(&redactor.mask_value(&value))?
            );
        }
        _ => print!("{}", redactor.mask_text(&input)),
    }
    Ok(exit::OK)
}

pub fn init(dir: &Path) -> anyhow::Result<u8> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let config = dir.join("holdpoint.toml");
    if config.exists() {
        eprintln!("{} exists; left as it is", config.display());
    } else {
        std::fs::write(&config, STARTER_CONFIG)?;
        println!("wrote {}", config.display());
    }
    let written =
        holdpoint_policy::write_starter(&dir.join("policies")).map_err(|e| anyhow!("{e}"))?;
    for path in written {
        println!("wrote {}", path.display());
    }
    println!(
        "start it with: holdpoint serve --config {}",
        config.display()
    );
    Ok(exit::OK)
}

fn load_policies(config: &Config, dir: Option<&Path>) -> anyhow::Result<Result<PolicySet, String>> {
    let defaults = config.hold_defaults()?;
    let dir = dir.map(Path::to_path_buf).or_else(|| config.policy_dir());
    Ok(match dir {
        Some(dir) => holdpoint_policy::load_dir(&dir, &defaults).map_err(|e| e.to_string()),
        None => PolicySet::compile(&holdpoint_policy::starter_sources(), &defaults, None)
            .map_err(|e| e.to_string()),
    })
}

pub fn policy(local: &Local, command: PolicyCommand) -> anyhow::Result<u8> {
    let config = Config::load(local.config.as_deref())?;
    match command {
        PolicyCommand::Check { dir } => {
            let dir = dir
                .or_else(|| config.policy_dir())
                .unwrap_or_else(|| PathBuf::from("policies"));
            match load_policies(&config, Some(&dir))? {
                Ok(set) => {
                    let schema = dir.join("schema.cedarschema").exists();
                    println!(
                        "ok: {} policies in {}{}",
                        set.ids().len(),
                        dir.display(),
                        if schema {
                            ", validated against schema.cedarschema"
                        } else {
                            ""
                        }
                    );
                    Ok(exit::OK)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(exit::ERROR)
                }
            }
        }
        PolicyCommand::Explain(args) => explain(&config, args),
    }
}

fn explain(config: &Config, args: ExplainArgs) -> anyhow::Result<u8> {
    let set = load_policies(config, args.dir.as_deref())?.map_err(|e| anyhow!(e))?;
    let principal = holdpoint_server::parse_principal(&args.principal).map_err(|e| anyhow!(e))?;
    let mut params = match &args.params_json {
        Some(text) => serde_json::from_str::<Value>(text).context("--params-json")?,
        None => json!({}),
    };
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow!("--param expects `key=value`, got `{p}`"))?;
        if let Some(obj) = params.as_object_mut() {
            obj.insert(k.to_string(), Value::String(v.to_string()));
        }
    }
    let request = ActionRequest {
        kind: args.kind,
        resource: args.resource,
        environment: args.environment,
        params,
        justification: String::new(),
    };
    request.validate().map_err(|e| anyhow!(e))?;
    let identity = Identity {
        principal,
        groups: args.groups,
        owner: None,
    };
    let groups = identity.all_groups();
    let evaluation = set.evaluate(&PolicyInput {
        principal: &identity.principal,
        groups: &groups,
        kind: &request.kind,
        resource: &request.resource,
        environment: &request.environment,
        justification: &request.justification,
        surface: &args.surface,
        params: &request.params,
        extra: None,
    });
    let terms = evaluation.terms().map(|t| {
        json!({"title": t.title, "requirements": t.requirements, "expires_secs": t.expires.as_secs(),
               "separate": t.separate, "grant_secs": t.grant.map(|g| g.as_secs())})
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "principal": identity.principal, "groups": groups,
            "verdict": evaluation.verdict(), "hold": terms,
        }))?
    );
    Ok(exit::OK)
}

pub async fn audit(local: &Local, data: &Path, command: AuditCommand) -> anyhow::Result<u8> {
    let config = Config::load(local.config.as_deref())?;
    let store = SqlStore::open(&config.store_url(data), OpenMode::Inspect)
        .await
        .map_err(|e| anyhow!("cannot open the store: {e}"))?;
    let code = match command {
        AuditCommand::Verify => {
            let report = store.verify_chain().await.map_err(|e| anyhow!("{e}"))?;
            if report.ok {
                println!("ok: {} events, head {}", report.events, report.head);
                exit::OK
            } else {
                println!(
                    "broken at seq {}: {}",
                    report.bad_seq.unwrap_or_default(),
                    report.reason.unwrap_or_default()
                );
                exit::ERROR
            }
        }
        AuditCommand::Export { format, since } => {
            let since = since
                .map(|s| chrono::DateTime::parse_from_rfc3339(&s).map(|t| t.to_utc()))
                .transpose()
                .map_err(|e| {
                    anyhow!("--since: expected RFC 3339 like 2026-11-21T10:00:00Z: {e}")
                })?;
            export(&store, &format, since).await?;
            exit::OK
        }
    };
    store.close().await;
    Ok(code)
}

async fn export(
    store: &SqlStore,
    format: &str,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<()> {
    if format == "csv" {
        let mut w = csv::Writer::from_writer(std::io::stdout().lock());
        w.write_record([
            "seq",
            "time",
            "type",
            "actor_kind",
            "actor_name",
            "actor_channel",
            "action_id",
            "data",
            "prev_hash",
            "hash",
        ])?;
        for_each_event(store, since, |ev| {
            w.write_record([
                ev.seq.to_string(),
                ev.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                ev.event_type.to_string(),
                ev.actor.kind.clone(),
                ev.actor.name.clone(),
                ev.actor.channel.clone(),
                ev.action_id
                    .as_ref()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                holdpoint_core::text::escape_json_text(&ev.data.to_string()),
                ev.prev_hash.clone(),
                ev.hash.clone(),
            ])?;
            Ok(())
        })
        .await?;
        w.flush()?;
    } else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for_each_event(store, since, |ev| {
            let line = holdpoint_core::text::escape_json_text(&serde_json::to_string(ev)?);
            Ok(writeln!(out, "{line}")?)
        })
        .await?;
        out.flush()?;
    }
    Ok(())
}

/// Calls `f` on every event at or after `since`, in chain order.
async fn for_each_event(
    store: &SqlStore,
    since: Option<chrono::DateTime<chrono::Utc>>,
    mut f: impl FnMut(&holdpoint_core::AuditEvent) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after = 0;
    loop {
        let page = store
            .audit_events(after, 1000)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.seq;
        for ev in page.iter().filter(|e| since.is_none_or(|s| e.time >= s)) {
            f(ev)?;
        }
    }
}
