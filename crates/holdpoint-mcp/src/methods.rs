//! Which MCP methods the proxy knows, what it does with each, and the actions of the
//! methods that are gated besides `tools/call`.
//!
//! Only the methods listed here pass; any other request is refused with `-32601` and any
//! other notification is dropped, so a misspelled `Tools/Call` or `"tools/call "` never
//! reaches an upstream. Of the client's requests:
//! - `initialize`, `tools/list` and `tools/call` are the proxy's own (see `proxy.rs`);
//! - `resources/read` is `mcp.resource` on `mcp/{server}/resources/{uri}` (see
//!   `uri.rs`), `prompts/get` is `mcp.prompt` on `mcp/{server}/prompts/{name}`, and
//!   `completion/complete` is `mcp.complete` on `mcp/{server}/completions/prompts/{name}`
//!   or `…/completions/resources/{uri}`: each passes the gate like a tool call;
//! - `resources/list` and `prompts/list` are forwarded and, for a gateway-hosted server,
//!   lose the entries policy forbids;
//! - `resources/subscribe` is judged as a read of the same URI (a URI that names no one
//!   path, see `uri.rs`, is `mcp.unknown` for reads, subscriptions and completions);
//! - `tasks/{get,list,result,cancel}` are the proxy's own for the tasks it runs (see
//!   `tasks.rs`) and forwarded for the upstream's;
//! - `ping`, `resources/templates/list`, `resources/unsubscribe` and `logging/setLevel`
//!   are forwarded as they are.
//!
//! Of what a server asks the client, `sampling/createMessage` is `mcp.sampling` and
//! `elicitation/create` is `mcp.elicitation`, both on `mcp/{server}/client`, when the
//! configuration lets a hosted server ask at all (see `asks.rs`).

use crate::action::ToolCall;
use crate::uri::{UNKNOWN, is_opaque, named, uri_path};
use holdpoint_core::ActionRequest;
use holdpoint_core::action::resource_segment;
use rmcp::model::{ClientRequest, Reference};
use serde_json::{Map, Value, json};

pub const RESOURCE: &str = "mcp.resource";
pub const PROMPT: &str = "mcp.prompt";
pub const COMPLETE: &str = "mcp.complete";
pub const SAMPLING: &str = "mcp.sampling";
pub const ELICITATION: &str = "mcp.elicitation";

/// Every client request the proxy knows.
pub const KNOWN_REQUESTS: [&str; 17] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "tasks/get",
    "tasks/list",
    "tasks/result",
    "tasks/cancel",
];

/// Every client notification the proxy accepts (`roots/list_changed` reaches only an
/// upstream that runs beside the agent).
pub const KNOWN_NOTIFICATIONS: [&str; 4] = [
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/progress",
    "notifications/roots/list_changed",
];

/// What the proxy does with one client request.
#[derive(Debug)]
pub enum Handling {
    Initialize,
    ListTools,
    CallTool,
    /// Forwarded, and for a hosted server filtered by policy.
    ListResources,
    ListPrompts,
    /// Passes the gate as this action first.
    Gated(ToolCall),
    /// `tasks/*`: answered by the proxy for its own tasks (`tasks.rs`), else forwarded.
    Task,
    /// Forwarded as it is.
    Forward,
    /// Answered with this error; never forwarded.
    Refuse(rmcp::ErrorData),
}

fn base(server: &str) -> String {
    format!("mcp/{}", resource_segment(server))
}

/// One of these methods as an action: `params` are its parameters, `context.mcp` names
/// the server, the method and what it is about.
pub fn action(
    kind: &str,
    resource: String,
    params: Map<String, Value>,
    mcp: Value,
    environment: &str,
) -> ToolCall {
    let mut context = Map::new();
    context.insert("mcp".into(), mcp);
    ToolCall {
        request: ActionRequest {
            kind: kind.into(),
            resource,
            environment: environment.into(),
            params: Value::Object(params),
            justification: String::new(),
        },
        context,
    }
}

/// A request's parameters as an action's params.
pub fn params_of<T: serde::Serialize>(params: &T) -> Map<String, Value> {
    match serde_json::to_value(params) {
        Ok(Value::Object(mut map)) => {
            // `_meta` (progress tokens and the like) is about the request, not the action.
            map.remove("_meta");
            map
        }
        _ => Map::new(),
    }
}

/// `kind`, or `mcp.unknown` when `resource` came from a URI that names no one path.
fn judged_as(kind: &'static str, resource: &str) -> &'static str {
    if is_opaque(resource) { UNKNOWN } else { kind }
}

/// `resources/read` of `uri`.
pub fn resource_read(server: &str, uri: &str, environment: &str) -> ToolCall {
    resource_use(server, "resources/read", uri, environment)
}

/// `method` (a read or a subscription) of the resource at `uri`: `mcp.resource`, or
/// `mcp.unknown` for a URI that names no one path (`uri.rs`).
pub fn resource_use(server: &str, method: &str, uri: &str, environment: &str) -> ToolCall {
    let mut params = Map::new();
    params.insert("uri".into(), Value::String(uri.into()));
    let resource = uri_path(&format!("{}/resources", base(server)), uri);
    action(
        judged_as(RESOURCE, &resource),
        resource,
        params,
        json!({"server": server, "method": method, "uri": uri}),
        environment,
    )
}

/// `prompts/get` of `name`, with its arguments in `params`.
pub fn prompt_get(
    server: &str,
    name: &str,
    params: Map<String, Value>,
    environment: &str,
) -> ToolCall {
    action(
        PROMPT,
        named(&format!("{}/prompts", base(server)), name),
        params,
        json!({"server": server, "method": "prompts/get", "prompt": name}),
        environment,
    )
}

/// `completion/complete` for a prompt's or a resource template's argument.
pub fn complete(
    server: &str,
    reference: &Reference,
    params: Map<String, Value>,
    environment: &str,
) -> ToolCall {
    let prefix = format!("{}/completions", base(server));
    let (resource, about) = match reference {
        Reference::Prompt(prompt) => (
            named(&format!("{prefix}/prompts"), &prompt.name),
            json!({"prompt": prompt.name}),
        ),
        Reference::Resource(template) => (
            uri_path(&format!("{prefix}/resources"), &template.uri),
            json!({"uri": template.uri}),
        ),
    };
    let mut mcp = json!({"server": server, "method": "completion/complete"});
    if let (Some(mcp), Value::Object(about)) = (mcp.as_object_mut(), about) {
        mcp.extend(about);
    }
    let kind = judged_as(COMPLETE, &resource);
    action(kind, resource, completion_params(params), mcp, environment)
}

/// A completion's params with the argument being completed also under its own name
/// (`"argument": {"name": "password", "value": …}` adds `"arguments": {"password": …}`),
/// so masking, which knows secrets by their keys, sees what the value is.
fn completion_params(mut params: Map<String, Value>) -> Map<String, Value> {
    let named = params.get("argument").and_then(|argument| {
        let name = argument.get("name")?.as_str()?;
        Some((name.to_string(), argument.get("value")?.clone()))
    });
    if let Some((name, value)) = named {
        let mut arguments = Map::new();
        arguments.insert(name, value);
        params.insert("arguments".into(), Value::Object(arguments));
        if let Some(Value::Object(argument)) = params.get_mut("argument") {
            // The value is kept once, where masking can see it.
            argument.remove("value");
        }
    }
    params
}

/// A server's `sampling/createMessage` or `elicitation/create` to the client.
pub fn ask(
    server: &str,
    kind: &str,
    method: &str,
    params: Map<String, Value>,
    environment: &str,
) -> ToolCall {
    action(
        kind,
        format!("{}/client", base(server)),
        params,
        json!({"server": server, "method": method}),
        environment,
    )
}

/// What the proxy does with `request` from the agent, for the upstream `server`.
pub fn handling(request: &ClientRequest, server: &str, environment: &str) -> Handling {
    match request {
        ClientRequest::InitializeRequest(_) => Handling::Initialize,
        ClientRequest::ListToolsRequest(_) => Handling::ListTools,
        ClientRequest::CallToolRequest(_) => Handling::CallTool,
        ClientRequest::ListResourcesRequest(_) => Handling::ListResources,
        ClientRequest::ListPromptsRequest(_) => Handling::ListPrompts,
        ClientRequest::ReadResourceRequest(read) => {
            Handling::Gated(resource_read(server, &read.params.uri, environment))
        }
        ClientRequest::GetPromptRequest(get) => Handling::Gated(prompt_get(
            server,
            &get.params.name,
            params_of(&get.params),
            environment,
        )),
        ClientRequest::CompleteRequest(complete_request) => Handling::Gated(complete(
            server,
            &complete_request.params.r#ref,
            params_of(&complete_request.params),
            environment,
        )),
        // A subscription is judged as a read of what it would announce.
        ClientRequest::SubscribeRequest(subscribe) => Handling::Gated(resource_use(
            server,
            "resources/subscribe",
            &subscribe.params.uri,
            environment,
        )),
        ClientRequest::PingRequest(_)
        | ClientRequest::SetLevelRequest(_)
        | ClientRequest::ListResourceTemplatesRequest(_)
        | ClientRequest::UnsubscribeRequest(_) => Handling::Forward,
        ClientRequest::GetTaskInfoRequest(_)
        | ClientRequest::ListTasksRequest(_)
        | ClientRequest::GetTaskResultRequest(_)
        | ClientRequest::CancelTaskRequest(_) => Handling::Task,
        // rmcp reads every known method as its typed form: a known name here did not
        // parse as it should, an unknown one is not MCP's.
        ClientRequest::CustomRequest(custom) => {
            let method = custom.method.as_str();
            if KNOWN_REQUESTS.contains(&method) {
                Handling::Refuse(rmcp::ErrorData::invalid_params(
                    format!("malformed `{method}` request"),
                    None,
                ))
            } else {
                Handling::Refuse(rmcp::ErrorData::new(
                    rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                    format!(
                        "holdpoint: `{}` is not an MCP method this proxy passes",
                        shown(method)
                    ),
                    None,
                ))
            }
        }
    }
}

/// A method name as an error shows it: printable, at most 64 characters.
pub fn shown(method: &str) -> String {
    method
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use holdpoint_core::action::{validate_kind, validate_resource};
    use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage};

    fn request(json: Value) -> ClientRequest {
        match serde_json::from_value::<ClientJsonRpcMessage>(json).unwrap() {
            JsonRpcMessage::Request(r) => r.request,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn gated_methods_are_valid_actions() {
        for kind in [RESOURCE, PROMPT, COMPLETE, SAMPLING, ELICITATION] {
            assert!(validate_kind(kind).is_ok(), "{kind}");
        }
        let read = request(
            json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read",
            "params": {"uri": "file:///srv/data/a.txt"}}),
        );
        let Handling::Gated(call) = handling(&read, "fs", "prod") else {
            panic!("not gated")
        };
        assert_eq!(call.request.kind, "mcp.resource");
        assert_eq!(
            call.request.resource,
            "mcp/fs/resources/file/srv/data/a.txt"
        );
        assert_eq!(
            call.request.params,
            json!({"uri": "file:///srv/data/a.txt"})
        );
        assert!(call.request.validate().is_ok());

        let get = request(json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get",
            "params": {"name": "simple prompt", "arguments": {"a": "b"}, "_meta": {"progressToken": 1}}}));
        let Handling::Gated(call) = handling(&get, "fs", "") else {
            panic!("not gated")
        };
        assert_eq!(call.request.resource, "mcp/fs/prompts/simple=20prompt");
        assert_eq!(
            call.request.params,
            json!({"name": "simple prompt", "arguments": {"a": "b"}})
        );

        let complete = request(
            json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete",
            "params": {"ref": {"type": "ref/resource", "uri": "demo://resource/{id}"},
                       "argument": {"name": "id", "value": "1"}}}),
        );
        let Handling::Gated(call) = handling(&complete, "fs", "") else {
            panic!("not gated")
        };
        assert_eq!(call.request.kind, "mcp.complete");
        assert_eq!(
            call.request.resource,
            "mcp/fs/completions/resources/demo/resource/=7Bid=7D"
        );
        assert!(validate_resource(&call.request.resource).is_ok());
        let sampling = ask("fs", SAMPLING, "sampling/createMessage", Map::new(), "");
        assert!(sampling.request.validate().is_ok());
    }

    #[test]
    fn unknown_and_misspelled_methods_are_refused() {
        for method in [
            "Tools/Call",
            "tools/call ",
            "tools/call\u{0}",
            "resources/write",
        ] {
            let custom =
                request(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}}));
            let Handling::Refuse(error) = handling(&custom, "fs", "") else {
                panic!("{method} passes")
            };
            assert_eq!(
                error.code,
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                "{method}"
            );
        }
        let malformed = request(
            json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": 7}}),
        );
        assert!(matches!(
            handling(&malformed, "fs", ""),
            Handling::Refuse(_)
        ));
    }
}
