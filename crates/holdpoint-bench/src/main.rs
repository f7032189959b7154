//! `holdpoint-bench`: drives a running gateway from a separate process over loopback and
//! prints medians and percentiles. `bench/run.sh` starts the gateway and calls it.
//!
//! - `throughput`: requests per second and latency for `GET /healthz` (the baseline) or
//!   `POST /v1/actions` of an allowed action.
//! - `wake`: for N holds with an agent long-polling each, the time from the deciding
//!   review's response to the agent's response.
//! - `waiters`: the gateway's resident memory with N agents long-polling pending holds.
//! - `slack-latency` (`outbox.rs`): a Slack and webhook stand-in, and the time from a
//!   hold's creation to its `chat.postMessage` arriving there.
//! - `mcp-stdio` and `mcp-http` (`mcp.rs`): latency of an MCP `tools/call` of `echo`,
//!   direct or through a relay, with a raw JSON-RPC client.
//! - `web` (`web.rs`): `GET /inbox` with 1,000 pending holds beside the JSON list, and
//!   a decision's time to the signed-in page's `GET /events` beside an agent's long-poll.

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a load generator run by hand, not a request path: it stops on the first surprise, reads JSON answers with Value's index (null when absent) and percentiles within their sample"
)]

mod mcp;
mod outbox;
mod web;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value = "http://127.0.0.1:18470")]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Throughput {
        #[arg(long)]
        token: String,
        /// `healthz`, `submit` (an allowed action) or `hold` (a held one).
        #[arg(long)]
        target: String,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 50_000)]
        requests: usize,
    },
    Wake {
        #[arg(long)]
        agent: String,
        #[arg(long)]
        reviewer: String,
        #[arg(long, default_value_t = 1000)]
        holds: usize,
    },
    Waiters {
        #[arg(long)]
        agent: String,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// The gateway's process id, to read its resident memory.
        #[arg(long)]
        pid: u32,
    },
    /// Serves a Slack and webhook stand-in on `--port` until the end of the process; with
    /// `--holds N`, submits N holds one at a time and times each one's chat.postMessage.
    SlackLatency {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        agent: Option<String>,
        #[arg(long, default_value_t = 0)]
        holds: usize,
        /// Serve this long when not measuring (for the throughput runs), in seconds.
        #[arg(long, default_value_t = 0)]
        serve_secs: u64,
    },
    /// `tools/call` of `echo` on a stdio MCP server started with COMMAND.
    McpStdio {
        #[arg(long)]
        label: String,
        #[arg(long, default_value_t = 10_000)]
        calls: usize,
        /// What each call asks.
        #[arg(long, value_enum, default_value_t = mcp::Ask::Echo)]
        ask: mcp::Ask,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// `tools/call` of `echo` on a streamable-HTTP MCP server at `--endpoint`.
    McpHttp {
        #[arg(long)]
        label: String,
        #[arg(long, default_value_t = 10_000)]
        calls: usize,
        /// What each call asks.
        #[arg(long, value_enum, default_value_t = mcp::Ask::Echo)]
        ask: mcp::Ask,
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        token: Option<String>,
    },
    /// With `--holds` pending holds for `dba`: `GET /inbox` (signed in as `--reviewer`, a
    /// user in `dba`) beside `GET /v1/actions`, then `--decisions` approvals timed to their
    /// `GET /events` frame, beside as many to an agent's long-poll.
    Web {
        #[arg(long)]
        agent: String,
        #[arg(long)]
        reviewer: String,
        #[arg(long, default_value_t = 1000)]
        holds: usize,
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(long, default_value_t = 300)]
        decisions: usize,
    },
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (
        percentile(&ms, 0.5),
        percentile(&ms, 0.99),
        percentile(&ms, 1.0),
    )
}

async fn throughput(
    url: &str,
    token: &str,
    target: &str,
    concurrency: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let http = client();
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, errors) = (http.clone(), next.clone(), errors.clone());
        let (url, token, target) = (url.to_string(), token.to_string(), target.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return lat;
                }
                let t = Instant::now();
                let ok = if target == "healthz" {
                    match http.get(format!("{url}/healthz")).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    }
                } else {
                    // `submit`: an allowed read; `hold`: a production schema change, held.
                    let (kind, resource, expect): (&str, &str, &[u8]) = if target == "hold" {
                        ("db.ddl", "postgres/prod/customers", b"\"status\":\"pending\"")
                    } else {
                        ("db.read", "postgres/prod/customers", b"\"status\":\"allowed\"")
                    };
                    let body = json!({"kind": kind, "resource": resource,
                                      "environment": "prod", "params": {"sql": "SELECT * FROM customers WHERE id = $1", "i": i, "run": run_id().to_string()},
                                      "justification": "load test"});
                    match http.post(format!("{url}/v1/actions")).bearer_auth(&token).json(&body).send().await {
                        Ok(r) => {
                            let good = r.status().is_success();
                            let bytes = r.bytes().await.unwrap_or_default();
                            good && bytes.windows(expect.len()).any(|w| w == expect)
                        }
                        Err(_) => false,
                    }
                };
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(requests);
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (p50, p99, max) = summary(all);
    println!(
        "{target:<8} requests={requests} concurrency={concurrency} errors={} rps={:.0} p50_ms={p50:.3} p99_ms={p99:.3} max_ms={max:.3}",
        errors.load(Ordering::Relaxed),
        requests as f64 / elapsed
    );
    Ok(())
}

/// Distinguishes this run's holds from earlier ones: an identical action that was approved
/// before would pass on that approval instead of being held.
fn run_id() -> u128 {
    static ID: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    #[expect(
        clippy::disallowed_methods,
        reason = "a run's id only tells its holds from earlier runs'; nothing is decided by it"
    )]
    *ID.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    })
}

async fn submit_hold(
    http: &reqwest::Client,
    url: &str,
    agent: &str,
    i: usize,
) -> anyhow::Result<String> {
    let body = json!({"kind": "db.ddl", "resource": "postgres/prod/customers", "environment": "prod",
                      "params": {"sql": format!("CREATE INDEX i{i} ON customers(c{i})"), "run": run_id().to_string()},
                      "justification": "bench"});
    let v: Value = http
        .post(format!("{url}/v1/actions"))
        .bearer_auth(agent)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    if v["status"] != "pending" {
        bail!("expected a hold, got {v}");
    }
    Ok(v["id"].as_str().context("id")?.to_string())
}

async fn submit_holds(url: &str, agent: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let http = client();
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(32) {
        let mut batch = Vec::new();
        for &i in chunk {
            let (http, url, agent) = (http.clone(), url.to_string(), agent.to_string());
            batch.push(tokio::spawn(async move {
                submit_hold(&http, &url, &agent, i).await
            }));
        }
        for b in batch {
            ids.push(b.await??);
        }
    }
    Ok(ids)
}

/// An agent long-polling `id` for up to `wait` (`30s`); when it was answered, and the
/// status it was given.
fn spawn_poll(
    http: &reqwest::Client,
    url: &str,
    agent: &str,
    id: &str,
    wait: &str,
) -> tokio::task::JoinHandle<anyhow::Result<(Instant, String)>> {
    let (http, url, agent, id, wait) = (
        http.clone(),
        url.to_string(),
        agent.to_string(),
        id.to_string(),
        wait.to_string(),
    );
    tokio::spawn(async move {
        let v: Value = http
            .get(format!("{url}/v1/actions/{id}?wait={wait}"))
            .bearer_auth(agent)
            .send()
            .await?
            .json()
            .await?;
        Ok((
            Instant::now(),
            v["status"].as_str().unwrap_or("?").to_string(),
        ))
    })
}

async fn wake(url: &str, agent: &str, reviewer: &str, holds: usize) -> anyhow::Result<()> {
    let ids = submit_holds(url, agent, holds).await?;
    let http = client();
    let polls: Vec<_> = ids
        .iter()
        .map(|id| spawn_poll(&http, url, agent, id, "300s"))
        .collect();
    // Let every poll reach the gateway and park.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut from_response, mut from_request) = (Vec::new(), Vec::new());
    let mut early = 0;
    for (id, poll) in ids.iter().zip(polls) {
        let sent = Instant::now();
        let r = http
            .post(format!("{url}/v1/actions/{id}/reviews"))
            .bearer_auth(reviewer)
            .json(&json!({"decision": "approve", "comment": "bench"}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("review failed: {}", r.text().await?);
        }
        r.bytes().await?;
        let answered = Instant::now();
        let (woken, status) = poll.await??;
        if status != "approved" {
            bail!("poll saw {status}");
        }
        if woken < answered {
            early += 1;
        }
        from_response.push(woken.saturating_duration_since(answered).as_secs_f64() * 1000.0);
        from_request.push(woken.duration_since(sent).as_secs_f64() * 1000.0);
    }
    let (p50, p99, max) = summary(from_response);
    let (q50, q99, _) = summary(from_request);
    println!(
        "wake     holds={holds} review_response_to_poll_response: p50_ms={p50:.3} p99_ms={p99:.3} max_ms={max:.3} (poll answered first in {early}); review_sent_to_poll_response: p50_ms={q50:.3} p99_ms={q99:.3}"
    );
    Ok(())
}

fn rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?)
}

async fn waiters(url: &str, agent: &str, count: usize, pid: u32) -> anyhow::Result<()> {
    let idle = rss_kb(pid)?;
    let ids = submit_holds(url, agent, count).await?;
    let with_holds = rss_kb(pid)?;
    let http = client();
    let polls: Vec<_> = ids
        .iter()
        .map(|id| spawn_poll(&http, url, agent, id, "300s"))
        .collect();
    // Wait until the gateway has accepted every connection and memory stops growing.
    let mut last = 0;
    let mut rss = 0;
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss = rss_kb(pid)?;
        if rss == last {
            break;
        }
        last = rss;
    }
    let finished = polls.iter().filter(|p| p.is_finished()).count();
    println!(
        "waiters  count={count} rss_idle_mb={:.1} rss_with_{count}_pending_mb={:.1} rss_with_{count}_waiting_mb={:.1} per_waiter_kb={:.1} polls_already_answered={finished}",
        idle as f64 / 1024.0,
        with_holds as f64 / 1024.0,
        rss as f64 / 1024.0,
        (rss.saturating_sub(with_holds)) as f64 / count as f64
    );
    for p in polls {
        p.abort();
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Throughput {
            token,
            target,
            concurrency,
            requests,
        } => throughput(&cli.url, &token, &target, concurrency, requests).await,
        Command::Wake {
            agent,
            reviewer,
            holds,
        } => wake(&cli.url, &agent, &reviewer, holds).await,
        Command::Waiters { agent, count, pid } => waiters(&cli.url, &agent, count, pid).await,
        Command::SlackLatency {
            port,
            agent,
            holds,
            serve_secs,
        } => outbox::slack_latency(&cli.url, port, agent.as_deref(), holds, serve_secs).await,
        Command::McpStdio {
            label,
            calls,
            ask,
            command,
        } => mcp::stdio(&label, calls, ask, &command).await,
        Command::McpHttp {
            label,
            calls,
            ask,
            endpoint,
            token,
        } => mcp::http(&label, calls, ask, &endpoint, token.as_deref()).await,
        Command::Web {
            agent,
            reviewer,
            holds,
            requests,
            decisions,
        } => web::web(&cli.url, &agent, &reviewer, holds, requests, decisions).await,
    }
}
