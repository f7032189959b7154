//! The recording upstream (`tests/peers/recording_server.mjs`, which writes every line it
//! receives to a log), a gateway hosting it, and a raw streamable-HTTP client that sends
//! exactly the JSON-RPC it is given.

use super::Gateway;
use super::peers::peers_dir;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What reached a recording upstream, one message a line.
pub struct Recording(pub PathBuf);

impl Recording {
    pub fn new(dir: &Path) -> Recording {
        Recording(dir.join("upstream.log"))
    }

    /// The command line of the upstream, for `[[mcp]] command` or `holdpoint mcp --`.
    pub fn command(&self) -> Vec<String> {
        let script = peers_dir().join("recording_server.mjs");
        assert!(script.exists(), "{} is missing", script.display());
        vec![
            "node".into(),
            script.to_string_lossy().into_owned(),
            self.0.to_string_lossy().into_owned(),
        ]
    }

    /// Every message the upstream received.
    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The messages of `method` the upstream received.
    pub fn of(&self, method: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["method"] == method)
            .collect()
    }

    /// Waits (up to 20 s) until some message satisfies `seen`.
    pub async fn wait_for(&self, seen: impl Fn(&Value) -> bool) {
        for _ in 0..200 {
            if self.messages().iter().any(&seen) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the upstream never received it: {:?}", self.messages());
    }
}

/// `[[mcp]] name = "{name}"` hosting the recording upstream, with `extra` lines, and the
/// policies `policies`.
pub fn gateway(
    dir: &Path,
    name: &str,
    recording: &Recording,
    extra: &str,
    policies: &str,
) -> Gateway {
    let command: Vec<String> = recording
        .command()
        .iter()
        .map(|part| format!("{part:?}"))
        .collect();
    let config = dir.join("holdpoint.toml");
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(dir.join("policies/test.cedar"), policies).unwrap();
    std::fs::write(
        &config,
        format!(
            "[policy]\ndir = \"policies\"\n\n[[mcp]]\nname = \"{name}\"\ncommand = [{}]\n{extra}\n",
            command.join(", ")
        ),
    )
    .unwrap();
    Gateway::start(&dir.join("data"), &["--config", config.to_str().unwrap()])
}

/// A streamable-HTTP MCP session sent raw JSON-RPC.
pub struct Raw {
    pub url: String,
    pub token: String,
    pub session: Option<String>,
    /// The MCP protocol revision asked for, and sent in `mcp-protocol-version`.
    pub version: String,
    http: reqwest::Client,
}

/// One HTTP answer: its status and the JSON-RPC messages in its body (JSON or SSE).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub messages: Vec<Value>,
    pub text: String,
}

impl Answer {
    /// The message answering `id`.
    pub fn to(&self, id: &Value) -> Option<&Value> {
        self.messages
            .iter()
            .find(|m| &m["id"] == id && m.get("method").is_none())
    }
}

fn messages_of(text: &str) -> Vec<Value> {
    if let Ok(one) = serde_json::from_str::<Value>(text) {
        return vec![one];
    }
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str(data.trim()).ok())
        .collect()
}

impl Raw {
    /// Opens a session on `/mcp/{name}`: `initialize` (with `capabilities`), then
    /// `notifications/initialized`.
    pub async fn open(gw: &Gateway, name: &str, token: &str) -> Raw {
        Raw::open_as(gw, name, token, "2025-06-18").await
    }

    /// [`Raw::open`] asking for the protocol revision `version`.
    pub async fn open_as(gw: &Gateway, name: &str, token: &str, version: &str) -> Raw {
        let mut raw = Raw {
            url: format!("{}/mcp/{name}", gw.base),
            token: token.to_string(),
            session: None,
            version: version.to_string(),
            http: reqwest::Client::new(),
        };
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}});
        let response = raw.request(&init).send().await.unwrap();
        raw.session = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        assert!(raw.session.is_some(), "no session: {text}");
        let ready = raw
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(ready.status, 202, "{ready:?}");
        raw
    }

    fn request(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", &self.version)
            .json(body);
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request
    }

    /// POSTs `body` and reads the whole answer.
    pub async fn post(&self, body: &Value) -> Answer {
        let response = self.request(body).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        Answer {
            status,
            messages: messages_of(&text),
            text,
        }
    }

    /// POSTs `body` in the background: the answer once it comes.
    pub fn spawn_post(&self, body: Value) -> tokio::task::JoinHandle<Answer> {
        let request = self.request(&body);
        tokio::spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            Answer {
                status,
                messages: messages_of(&text),
                text,
            }
        })
    }

    /// `DELETE` of the session: its HTTP status.
    pub async fn delete(&self) -> u16 {
        let mut request = self.http.delete(&self.url).bearer_auth(&self.token);
        if let Some(session) = &self.session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.unwrap().status().as_u16()
    }
}

/// A JSON-RPC request `method` with `params`, numbered `id`.
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// `tools/call` of `tool` sent as a task (MCP 2025-11-25), kept a minute once done.
pub fn call_as_task(id: u64, tool: &str, arguments: Value) -> Value {
    request(
        id,
        "tools/call",
        json!({"name": tool, "arguments": arguments, "task": {"ttl": 60000}}),
    )
}

impl Raw {
    /// POSTs `body` and returns the answer (`result` or `error`) to it.
    pub async fn ask(&self, body: &Value) -> Value {
        let answer = self.post(body).await;
        answer
            .to(&body["id"])
            .cloned()
            .unwrap_or_else(|| panic!("no answer to {body}: {answer:?}"))
    }
}
