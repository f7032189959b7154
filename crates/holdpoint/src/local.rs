//! Commands that read files and the store directly, with no gateway running: an auditor
//! can verify a copy of the database.

use crate::cli::{AuditCommand, Local, PolicyCommand};
use crate::exit;
use anyhow::{Context, anyhow};
use clap::Args;
use holdpoint_app::{AppError, Config, ExportFormat, Inspection, STARTER_CONFIG};
use holdpoint_core::{ActionRequest, Identity};
use holdpoint_policy::{PolicyInput, PolicySet};
use serde_json::{Value, json};
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
    let redactor = holdpoint_app::masker(&config, data)?;
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

/// The policies in `dir`, else the config's folder, else the starter set; a set that
/// does not load is the inner error.
fn load_policies(config: &Config, dir: Option<&Path>) -> anyhow::Result<Result<PolicySet, String>> {
    let dir = dir.map(Path::to_path_buf).or_else(|| config.policy_dir());
    match holdpoint_app::policies::load(config, dir.as_deref()) {
        Ok(set) => Ok(Ok(set)),
        Err(AppError::Policy(e)) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
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
    let store = Inspection::open(&config, data).await?;
    let code = match command {
        AuditCommand::Verify => {
            let report = store.verify().await?;
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
            let format = match format.as_str() {
                "csv" => ExportFormat::Csv,
                _ => ExportFormat::JsonLines,
            };
            store
                .export(format, since, std::io::stdout().lock())
                .await?;
            exit::OK
        }
    };
    store.close().await;
    Ok(code)
}
