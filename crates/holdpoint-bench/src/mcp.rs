//! Latency of an MCP request ([`Ask`]: a `tools/call` of `echo`, or a `resources/read`)
//! with a raw JSON-RPC client: no SDK between the timer and the wire. One call at a time,
//! each timed from the request written to its answer read.
//! - [`stdio`]: a server started as a child process, speaking on its stdin and stdout.
//! - [`http`]: a streamable-HTTP server (answers as JSON or as one SSE event).

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const PROTOCOL: &str = "2025-06-18";

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {},
        "clientInfo": {"name": "holdpoint-bench", "version": "1"}}})
}

/// What each timed request asks of server-everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Ask {
    /// `tools/call` of `echo`.
    Echo,
    /// `resources/read` of a text resource.
    Resource,
}

impl Ask {
    fn request(self, id: usize) -> Value {
        match self {
            Ask::Echo => json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": format!("ping {id}")}}}),
            Ask::Resource => json!({"jsonrpc": "2.0", "id": id, "method": "resources/read",
                "params": {"uri": "demo://resource/dynamic/text/1"}}),
        }
    }

    /// Checks the answer to call `id` is a success.
    fn check(self, id: usize, answer: &Value) -> anyhow::Result<()> {
        let what = match self {
            Ask::Echo => "content",
            Ask::Resource => "contents",
        };
        if answer["id"] != json!(id)
            || answer["result"]["isError"] == json!(true)
            || answer["result"][what].is_null()
        {
            bail!("call {id} did not succeed: {answer}");
        }
        Ok(())
    }
}

/// Prints the median and p99 of `times`, labelled.
pub fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e6;
    println!(
        "{label}: {} calls, median {:.0} µs, p99 {:.0} µs",
        times.len(),
        at(0.5),
        at(0.99)
    );
}

pub async fn stdio(label: &str, calls: usize, ask: Ask, command: &[String]) -> anyhow::Result<()> {
    let (program, args) = command.split_first().context("no command")?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let mut send = async |message: Value| -> anyhow::Result<()> {
        stdin.write_all(format!("{message}\n").as_bytes()).await?;
        stdin.flush().await?;
        Ok(())
    };
    // The answer to `id`, skipping notifications (list changes, logs).
    async fn answer(
        lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
        id: usize,
    ) -> anyhow::Result<Value> {
        loop {
            let line = lines
                .next_line()
                .await?
                .context("the server closed its stdout")?;
            let message: Value = serde_json::from_str(&line)?;
            if message["id"] == json!(id) {
                return Ok(message);
            }
        }
    }
    send(initialize()).await?;
    answer(&mut lines, 0).await?;
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await?;
    let mut times = Vec::with_capacity(calls);
    for id in 1..=calls + calls / 10 {
        let started = Instant::now();
        send(ask.request(id)).await?;
        let reply = answer(&mut lines, id).await?;
        let took = started.elapsed();
        ask.check(id, &reply)?;
        // The first tenth warms up (JIT, caches) and is not counted.
        if id > calls / 10 {
            times.push(took);
        }
    }
    report(label, times);
    Ok(())
}

pub async fn http(
    label: &str,
    calls: usize,
    ask: Ask,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4)
        .build()?;
    let post = |body: &Value, session: Option<&str>| {
        let mut request = client
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request
    };
    let opened = post(&initialize(), None).send().await?;
    if !opened.status().is_success() {
        bail!("initialize: HTTP {}", opened.status());
    }
    let session = opened
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let _ = opened.bytes().await?;
    let session = session.as_deref();
    let _ = post(
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        session,
    )
    .send()
    .await?
    .bytes()
    .await?;
    let mut times = Vec::with_capacity(calls);
    for id in 1..=calls + calls / 10 {
        let started = Instant::now();
        let response = post(&ask.request(id), session).send().await?;
        let body = response.text().await?;
        let took = started.elapsed();
        ask.check(id, &from_body(&body, id)?)?;
        if id > calls / 10 {
            times.push(took);
        }
    }
    report(label, times);
    Ok(())
}

/// The answer to `id` in a body that is JSON or a stream of SSE events.
fn from_body(body: &str, id: usize) -> anyhow::Result<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return Ok(value);
    }
    body.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|message| message["id"] == json!(id))
        .with_context(|| format!("no answer to {id} in {body}"))
}
