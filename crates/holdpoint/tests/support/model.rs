//! A local stand-in of the Anthropic Messages API for driving the real Claude Code CLI:
//! `POST /v1/messages` answers with a scripted sequence of tool calls (streamed as
//! server-sent events when asked, as Claude Code does) and records every request, so a
//! test can tell what reached the model. Claude Code's side requests (no `tools`: titles,
//! summaries) get a short text; any other path gets `{}`.
//!
//! It serves on 127.0.0.1 from its own thread and runtime, so sync tests can use it.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One turn of the scripted model.
#[derive(Clone, Debug)]
pub enum Step {
    /// A `tool_use` block: the tool's name and input.
    Tool(&'static str, Value),
}

/// A `tool_result` Claude Code sent back: what the model was told.
#[derive(Clone, Debug)]
pub struct ToolResult {
    pub tool_use_id: String,
    pub is_error: bool,
    pub text: String,
}

#[derive(Default)]
struct Record {
    /// `(path, body)` of every request, in order.
    requests: Vec<(String, Value)>,
    /// When the first main request of each step arrived (step = tool calls so far).
    arrivals: std::collections::BTreeMap<usize, std::time::Instant>,
}

#[derive(Clone)]
struct Shared {
    script: Arc<Vec<Step>>,
    record: Arc<Mutex<Record>>,
}

pub struct Model {
    /// `http://127.0.0.1:PORT`, for `ANTHROPIC_BASE_URL`.
    pub base: String,
    record: Arc<Mutex<Record>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The text after the last tool call.
pub const DONE: &str = "All done.";

impl Model {
    /// Serves `script` on a free port of 127.0.0.1.
    pub fn start(script: Vec<Step>) -> Model {
        let record = Arc::new(Mutex::new(Record::default()));
        let shared = Shared {
            script: Arc::new(script),
            record: record.clone(),
        };
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .fallback(other)
            .with_state(shared);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the model");
        listener.set_nonblocking(true).expect("nonblocking");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Model {
            base,
            record,
            stop: Some(stop),
        }
    }

    /// Every request body, in order, as text: to check what never reached the model.
    pub fn everything_sent(&self) -> String {
        let record = self.record.lock().expect("record");
        record
            .requests
            .iter()
            .map(|(path, body)| format!("{path} {body}\n"))
            .collect()
    }

    /// Each main request's conversation as `role:block types`, to debug a script.
    pub fn shapes(&self) -> Vec<String> {
        let record = self.record.lock().expect("record");
        record
            .requests
            .iter()
            .filter(|(_, body)| is_main(body))
            .map(|(_, body)| {
                let turns = body["messages"].as_array().into_iter().flatten();
                turns
                    .map(|m| {
                        let blocks = m["content"].as_array().into_iter().flatten();
                        let kinds: Vec<&str> =
                            blocks.map(|b| b["type"].as_str().unwrap_or("?")).collect();
                        format!("{}:{}", m["role"].as_str().unwrap_or("?"), kinds.join("+"))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// The time from each step's answer to the next request: one tool call as Claude
    /// Code makes it (hooks, permission checks, the tool itself, and its own work).
    pub fn step_times(&self) -> Vec<std::time::Duration> {
        let record = self.record.lock().expect("record");
        let arrivals: Vec<_> = record.arrivals.values().copied().collect();
        arrivals.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// The paths requested, in order.
    pub fn paths(&self) -> Vec<String> {
        let record = self.record.lock().expect("record");
        record.requests.iter().map(|(p, _)| p.clone()).collect()
    }

    /// The tool results of the conversation, in the order of the script's steps (from
    /// the latest main request, which carries the whole conversation).
    pub fn results(&self) -> Vec<ToolResult> {
        let record = self.record.lock().expect("record");
        let Some((_, last)) = record
            .requests
            .iter()
            .rev()
            .find(|(path, body)| path == "/v1/messages" && is_main(body))
        else {
            return Vec::new();
        };
        let mut results = Vec::new();
        for message in last["messages"].as_array().into_iter().flatten() {
            for block in message["content"].as_array().into_iter().flatten() {
                if block["type"] == "tool_result" {
                    results.push(ToolResult {
                        tool_use_id: block["tool_use_id"].as_str().unwrap_or("").into(),
                        is_error: block["is_error"] == true,
                        text: flatten(&block["content"]),
                    });
                }
            }
        }
        results
    }

    /// The result of step `index` (0-based): what the model saw of that tool call.
    pub fn result(&self, index: usize) -> ToolResult {
        let id = tool_use_id(index);
        self.results()
            .into_iter()
            .find(|r| r.tool_use_id == id)
            .unwrap_or_else(|| {
                panic!(
                    "no result for step {index} reached the model; the conversations:\n{:#?}",
                    self.shapes()
                )
            })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn tool_use_id(index: usize) -> String {
    format!("toolu_holdpoint_{index:02}")
}

/// A tool result's content: a string, or text blocks.
fn flatten(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

/// The agent's own conversation (it offers tools); side requests offer none.
fn is_main(body: &Value) -> bool {
    body["tools"].as_array().is_some_and(|t| !t.is_empty())
}

async fn other(uri: Uri, State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    shared
        .record
        .lock()
        .expect("record")
        .requests
        .push((path.clone(), body));
    if path.ends_with("/count_tokens") {
        return Json(json!({"input_tokens": 10})).into_response();
    }
    (StatusCode::OK, Json(json!({}))).into_response()
}

async fn messages(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    shared
        .record
        .lock()
        .expect("record")
        .requests
        .push(("/v1/messages".into(), body.clone()));
    // The step is the number of tool calls so far (Claude Code may merge the model's
    // turns into one message): a retried request gets the same answer.
    let turns = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "assistant")
        .flat_map(|m| m["content"].as_array().into_iter().flatten())
        .filter(|b| b["type"] == "tool_use")
        .count();
    if is_main(&body) {
        let mut record = shared.record.lock().expect("record");
        record
            .arrivals
            .entry(turns)
            .or_insert_with(std::time::Instant::now);
    }
    let block = match (is_main(&body), shared.script.get(turns)) {
        (true, Some(Step::Tool(name, input))) => {
            json!({"type": "tool_use", "id": tool_use_id(turns), "name": name, "input": input})
        }
        (true, None) => json!({"type": "text", "text": DONE}),
        (false, _) => json!({"type": "text", "text": "Scripted session"}),
    };
    let model = body["model"]
        .as_str()
        .unwrap_or("claude-stand-in")
        .to_string();
    if body["stream"] == true {
        sse(&model, turns, &block)
    } else {
        let stop = stop_reason(&block);
        Json(json!({
            "id": format!("msg_holdpoint_{turns:02}"), "type": "message", "role": "assistant",
            "model": model, "content": [block], "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 10}
        }))
        .into_response()
    }
}

fn stop_reason(block: &Value) -> &'static str {
    if block["type"] == "tool_use" {
        "tool_use"
    } else {
        "end_turn"
    }
}

/// The Messages API's streaming form of a one-block answer.
fn sse(model: &str, turn: usize, block: &Value) -> Response {
    let (start, delta) = if block["type"] == "tool_use" {
        (
            json!({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}),
            json!({"type": "input_json_delta", "partial_json": block["input"].to_string()}),
        )
    } else {
        (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": block["text"]}),
        )
    };
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {
            "id": format!("msg_holdpoint_{turn:02}"), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": start}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta",
            "delta": {"stop_reason": stop_reason(block), "stop_sequence": null},
            "usage": {"output_tokens": 10}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    let text: String = events
        .iter()
        .map(|(event, data)| format!("event: {event}\ndata: {data}\n\n"))
        .collect();
    ([(header::CONTENT_TYPE, "text/event-stream")], text).into_response()
}
