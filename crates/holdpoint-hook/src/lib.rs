//! # holdpoint-hook: Claude Code's PreToolUse hook as a surface
//!
//! Claude Code runs a hook before each tool call and reads a permission decision from
//! it. The gateway answers it at `POST /hooks/claude-code`; the CLI
//! (`holdpoint hook claude-code`) forwards Claude Code's input there. A tour:
//! - [`action_of`]: the PreToolUse input (JSON) → the action and the context only the
//!   hook knows (`command`, `argv`, `url`, `path`, `parts`), following the table in
//!   docs/agents.md;
//! - `tools.rs`: which tool is which kind of action (only named planning tools pass as
//!   `claude.*`; an unknown tool is `tool.*`), and which inputs only explain the call
//!   (Bash's `description`: the justification, not the digested params);
//! - `files.rs`: a file tool's `path` (every path input judged; `~/` outside the project),
//!   `in_project` (from the project folder the command hook names, else `cwd`), the
//!   patterns Glob and Grep match (`globs.rs`: and the guarded names a wildcard aims at),
//!   the real path, and each path in lower case (each a further part);
//! - `real_paths.rs`: symlinks resolved on the agent's machine by `holdpoint hook
//!   claude-code`, as the kernel would, into the hook input;
//! - [`allow`] and [`deny`]: the `hookSpecificOutput` Claude Code reads. Every failure
//!   becomes a `deny` with its cause: the hook fails closed.
//! - `shell/`: a Bash command read by a shell parser into the commands it runs, the
//!   paths they touch and what cannot be read ([`shell::read`]); each becomes a part of
//!   the action (`context.parts`).
//! - `http.rs`: the endpoint, mounted by the app on the gateway's server; it asks the
//!   gate's one ask-and-wait path ([`holdpoint_gate::Gate::decide`]), answers 200 to
//!   everything (an oversized body is a deny), and marks paths in the gateway's own data
//!   folder (`holdpoint_file`).

mod files;
mod globs;
pub mod http;
pub mod real_paths;
pub mod shell;
pub mod tools;

use files::RealPaths;

use holdpoint_core::ActionRequest;
use holdpoint_core::action::{kind_segment, resource_segment as segment};
use holdpoint_gate::PARTS_KEY;
use serde_json::{Map, Value, json};

/// The surface name recorded on actions from the hook.
pub const SURFACE: &str = "hook";

/// The field `holdpoint hook claude-code` adds to the hook input: the user's latest
/// prompt, read from the transcript on the agent's machine. (The gateway never opens a
/// path a client names.)
pub const PROMPT_FIELD: &str = "holdpoint_prompt";

/// The field `holdpoint hook claude-code` adds to the hook input: the folder Claude Code
/// started in (`CLAUDE_PROJECT_DIR`), from which `in_project` is judged. Without it (the
/// HTTP hook) the project is `cwd`, which moves when the agent runs `cd`.
pub const PROJECT_FIELD: &str = "holdpoint_project_dir";

/// The user's latest prompt in a Claude Code transcript (JSON lines): the last `user`
/// entry written by the person, not a tool result.
pub fn latest_prompt(transcript: &str) -> Option<String> {
    transcript.lines().rev().find_map(|line| {
        let entry: Value = serde_json::from_str(line).ok()?;
        if entry.get("type").and_then(Value::as_str) != Some("user") {
            return None;
        }
        match entry.pointer("/message/content")? {
            Value::String(text) => Some(text.clone()),
            Value::Array(blocks) => {
                let texts: Vec<&str> = blocks
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                    .filter_map(|b| b.get("text").and_then(Value::as_str))
                    .collect();
                (!texts.is_empty()).then(|| texts.join("\n"))
            }
            _ => None,
        }
        .filter(|text| !text.trim().is_empty())
    })
}

/// One tool call as an action, with what the hook adds to the policy context.
#[derive(Debug, Clone, PartialEq)]
pub struct HookAction {
    pub request: ActionRequest,
    pub context: Map<String, Value>,
}

/// Hook input that cannot be read as a tool call. The hook then denies (fails closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("the hook input is not a JSON object")]
    NotAnObject,
    #[error("the hook input has no `tool_name`")]
    NoToolName,
    #[error("`tool_input` is not a JSON object")]
    ToolInputNotAnObject,
    /// A field the tool needs is absent (the message names it).
    #[error("{0}")]
    Missing(&'static str),
    #[error("the url has no host")]
    UrlWithoutHost,
    #[error("an MCP tool name is `mcp__{{server}}__{{tool}}`")]
    McpToolName,
    /// Two path inputs written differently that are one path as text (`x` and
    /// `link/../x`): after a symlink they lead to different places, and the real paths
    /// the command hook finds are keyed by the path as text.
    #[error("the tool input names one path in two ways (`file_path`, `notebook_path`, `path`)")]
    AmbiguousPaths,
}

/// Maps Claude Code's PreToolUse input to an action (the table in docs/agents.md). The
/// params are the tool input without the inputs that only explain it
/// ([`tools::explaining_inputs`], which join the justification); the resource is derived
/// from it (a path made relative to the root, a host).
pub fn action_of(input: &Value) -> Result<HookAction, HookError> {
    let hook = input.as_object().ok_or(HookError::NotAnObject)?;
    let tool = hook
        .get("tool_name")
        .and_then(Value::as_str)
        .ok_or(HookError::NoToolName)?;
    let mut tool_input = match hook.get("tool_input") {
        Some(Value::Object(map)) => map.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(HookError::ToolInputNotAnObject),
    };
    let cwd = hook.get("cwd").and_then(Value::as_str).unwrap_or("/");
    // The project, from which `in_project` is judged: the folder Claude Code started in
    // where the command hook says so (the agent's `cd` moves `cwd`), else `cwd`. Without
    // either (or with a relative one) nothing is in the project: a missing `cwd` must not
    // make `/` the project.
    let project = (hook.get(PROJECT_FIELD).and_then(Value::as_str))
        .or_else(|| hook.get("cwd").and_then(Value::as_str))
        .filter(|dir| dir.starts_with('/'));
    let real = RealPaths(
        hook.get(real_paths::REAL_PATHS_FIELD)
            .and_then(Value::as_object),
    );
    let mut explained: Vec<String> = Vec::new();
    for key in tools::explaining_inputs(tool) {
        if let Some(Value::String(text)) = tool_input.remove(*key) {
            explained.push(text);
        }
    }
    let text = |key: &str| tool_input.get(key).and_then(Value::as_str);
    let mut context = Map::new();
    let (kind, resource) = match tools::kind_of(tool) {
        tools::ToolKind::Shell => {
            let command =
                text("command").ok_or(HookError::Missing("a Bash call without `command`"))?;
            // `argv` as shlex splits it, for people's own rules (empty when it cannot);
            // the parts are what the shell will run.
            let argv = shlex::split(command).unwrap_or_default();
            let resource = format!("shell{}", path(cwd, ""));
            context.insert("command".into(), json!(command));
            context.insert("argv".into(), json!(argv));
            let reading = shell::read(command, cwd);
            let mut parts = shell_parts(&reading, &resource);
            parts.extend(real.shell_parts(&reading, &resource, cwd));
            let folded = files::case_folded(&parts);
            parts.extend(folded);
            if !parts.is_empty() {
                context.insert(PARTS_KEY.into(), Value::Array(parts));
            }
            ("shell.exec".to_string(), resource)
        }
        tools::ToolKind::UnreadCode(reason) => {
            let resource = format!("shell{}", path(cwd, ""));
            let code = text(tools::code_input(tool)).unwrap_or_default();
            context.insert("command".into(), json!(code));
            context.insert("argv".into(), json!([]));
            context.insert("language".into(), json!(tool));
            let unknown = json!({"kind": "shell.unknown", "resource": resource,
                "context": {"reason": reason}});
            context.insert(PARTS_KEY.into(), json!([unknown]));
            ("shell.exec".to_string(), resource)
        }
        tools::ToolKind::FileWrite => {
            files::one_way_each(cwd, &tool_input)?;
            let file = text("file_path")
                .or_else(|| text("notebook_path"))
                .ok_or(HookError::Missing("a write without `file_path`"))?;
            let others = files::other_paths(&tool_input, file);
            let at = files::Place { cwd, project };
            files::context_for(&mut context, "fs.write", at, file, &others, &real);
            ("fs.write".to_string(), files::resource(cwd, file))
        }
        tools::ToolKind::FileRead => {
            files::one_way_each(cwd, &tool_input)?;
            let file = (text("file_path").or_else(|| text("notebook_path")))
                .or_else(|| text("path"))
                .unwrap_or("");
            let mut further = files::patterns(tool, &tool_input);
            further.extend(files::other_paths(&tool_input, file));
            let at = files::Place { cwd, project };
            files::context_for(&mut context, "fs.read", at, file, &further, &real);
            ("fs.read".to_string(), files::resource(cwd, file))
        }
        tools::ToolKind::Web => {
            let host = match text("url") {
                Some(url) => {
                    context.insert("url".into(), json!(url));
                    url::Url::parse(url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .ok_or(HookError::UrlWithoutHost)?
                }
                None => "search".to_string(),
            };
            ("web.fetch".to_string(), format!("web/{}", segment(&host)))
        }
        tools::ToolKind::Mcp => {
            let rest = tool.trim_start_matches("mcp__");
            let (server, name) = rest.split_once("__").ok_or(HookError::McpToolName)?;
            // The same action as the MCP proxy's; the hook does not see the tool's
            // annotations, so they take the cautious defaults.
            let call = holdpoint_core::tool_call::tool_call(server, name, Map::new(), None, "");
            context.extend(call.context);
            (call.request.kind, call.request.resource)
        }
        tools::ToolKind::Planning => (
            format!("claude.{}", kind_segment(tool)),
            format!("claude{}", path(cwd, "")),
        ),
        tools::ToolKind::Unknown => {
            context.insert("tool".into(), json!(tool));
            (
                format!("tool.{}", kind_segment(tool)),
                format!("claude{}", path(cwd, "")),
            )
        }
    };
    let prompt = hook.get(PROMPT_FIELD).and_then(Value::as_str);
    let justification = justification(&explained.join(". "), prompt);
    Ok(HookAction {
        request: ActionRequest {
            kind,
            resource,
            environment: String::new(),
            params: Value::Object(tool_input),
            justification,
        },
        context,
    })
}

/// What the agent says the call does, and the user's latest prompt, within the limit of
/// a justification (the prompt is cut first).
fn justification(description: &str, prompt: Option<&str>) -> String {
    let limit = holdpoint_core::action::MAX_JUSTIFICATION_LEN;
    let description = cut(description.trim(), limit / 2);
    match prompt.map(str::trim).filter(|p| !p.is_empty()) {
        None => description.to_string(),
        Some(prompt) => {
            let lead = if description.is_empty() {
                "The user asked: ".to_string()
            } else {
                format!("{description}. The user asked: ")
            };
            let room = limit.saturating_sub(lead.len());
            format!("{lead}{}", cut(prompt, room))
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, `…` marking a cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

/// `file` joined to `cwd` unless absolute, with `.`, `..` and empty segments resolved.
pub(crate) fn normalize(cwd: &str, file: &str) -> String {
    let joined = if file.starts_with('/') {
        file.to_string()
    } else {
        format!("{cwd}/{file}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        "/".into()
    } else {
        parts.iter().map(|p| format!("/{p}")).collect()
    }
}

/// Each command, path and unreadable piece of a shell line as a part of the action:
/// `shell.exec` with `program`, `subcommand`, `flags`, `args` and `dynamic`;
/// `shell.exec` with `path`, `access`, `program`, `in_project`, `glob`, `hidden` and,
/// for a glob or a word known only at run time, `pattern` (so rules written for
/// `shell.exec` cover it); `shell.unknown` with `reason`.
fn shell_parts(reading: &shell::Reading, resource: &str) -> Vec<Value> {
    let parts: Vec<Value> = (reading.parts.iter())
        .map(|part| {
            let (kind, context) = match part {
                shell::Part::Command(c) => {
                    let mut context = json!({"program": c.program, "flags": c.flags,
                        "args": c.args, "dynamic": c.dynamic});
                    if let (Some(sub), Some(map)) = (&c.subcommand, context.as_object_mut()) {
                        map.insert("subcommand".into(), json!(sub));
                    }
                    ("shell.exec", context)
                }
                shell::Part::Path(p) => ("shell.exec", path_context(p)),
                shell::Part::Unknown(reason) => ("shell.unknown", json!({"reason": reason})),
            };
            json!({"kind": kind, "resource": resource, "context": context})
        })
        .collect();
    parts
}

/// A shell path part's context.
fn path_context(p: &shell::PathUse) -> Value {
    let mut context = json!({"path": p.path, "access": p.access.as_str(),
        "program": p.program, "in_project": p.in_project,
        "glob": p.pattern.is_some(), "hidden": p.hidden});
    if let (Some(pattern), Some(map)) = (&p.pattern, context.as_object_mut()) {
        map.insert("pattern".into(), json!(pattern));
    }
    context
}

/// `file` (relative to `cwd` unless absolute), normalized as a slash path with a leading
/// `/`: `.` and empty segments dropped, `..` resolved, other characters kept where a
/// resource allows them and replaced by `_` elsewhere. The root is `""`. Cut after the
/// last whole segment that fits [`MAX_RESOURCE_PATH`]: a resource is at most 256 bytes,
/// and the gate's cost grows with a resource's depth (a part's resource with thousands of
/// segments took seconds, and more overflowed the stack). Rules on `context.path` see
/// the whole path.
pub(crate) fn path(cwd: &str, file: &str) -> String {
    let mut out = String::new();
    for part in normalize(cwd, file)
        .split('/')
        .filter(|part| !part.is_empty())
    {
        let next = format!("/{}", segment(part));
        if out.len() + next.len() > MAX_RESOURCE_PATH {
            break;
        }
        out.push_str(&next);
    }
    out
}

/// The most bytes of a path in a resource, leaving room for its surface's prefix
/// (`shell`, `claude`, `fs`) within [`holdpoint_core::action::MAX_NAME_LEN`].
const MAX_RESOURCE_PATH: usize = holdpoint_core::action::MAX_NAME_LEN - 8;

/// The output that lets the call go ahead.
pub fn allow(reason: &str) -> Value {
    decision("allow", reason)
}

/// The output that stops the call; Claude Code shows `reason` to the model.
pub fn deny(reason: &str) -> Value {
    decision("deny", reason)
}

fn decision(decision: &str, reason: &str) -> Value {
    json!({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": decision,
        "permissionDecisionReason": reason,
    }})
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn hook(tool: &str, input: Value) -> HookAction {
        action_of(
            &json!({"hook_event_name": "PreToolUse", "cwd": "/home/dev/app",
                          "tool_name": tool, "tool_input": input}),
        )
        .unwrap()
    }

    #[test]
    fn each_tool_maps_to_its_action() {
        let bash = hook(
            "Bash",
            json!({"command": "git push --force 'origin main'", "description": "push"}),
        );
        assert_eq!(bash.request.kind, "shell.exec");
        assert_eq!(bash.request.resource, "shell/home/dev/app");
        assert_eq!(
            bash.context["argv"],
            json!(["git", "push", "--force", "origin main"])
        );
        assert_eq!(bash.request.justification, "push");
        // What the agent says the command does explains it; it is not the action.
        assert_eq!(
            bash.request.params,
            json!({"command": "git push --force 'origin main'"})
        );
        let parts = bash.context["parts"].as_array().unwrap();
        assert_eq!(parts[0]["kind"], "shell.exec");
        assert_eq!(parts[0]["resource"], "shell/home/dev/app");
        assert_eq!(parts[0]["context"]["program"], "git");
        assert_eq!(parts[0]["context"]["subcommand"], "push");
        assert!((parts[0]["context"]["flags"].as_array().unwrap()).contains(&json!("--force")));
        let unreadable = hook("Bash", json!({"command": "echo 'unbalanced"}));
        assert_eq!(unreadable.context["parts"][0]["kind"], "shell.unknown");
        assert_eq!(unreadable.context["argv"], json!([]));
        let secret = hook("Bash", json!({"command": "tar czf k.tgz ~/.ssh"}));
        let paths: Vec<&Value> = (secret.context["parts"].as_array().unwrap().iter())
            .filter(|p| p["context"]["path"].is_string())
            .map(|p| &p["context"]["path"])
            .collect();
        assert!(paths.contains(&&json!("~/.ssh")), "{paths:?}");

        let write = hook("Write", json!({"file_path": "src/../../secrets/x y.txt"}));
        assert_eq!(
            (write.request.kind.as_str(), write.request.resource.as_str()),
            ("fs.write", "fs/home/dev/secrets/x_y.txt")
        );
        assert_eq!(write.context["path"], "/home/dev/secrets/x y.txt");
        assert_eq!(write.context["in_project"], false);
        let read = hook("Read", json!({"file_path": "/etc/passwd"}));
        assert_eq!(read.request.resource, "fs/etc/passwd");
        let inside = hook("Read", json!({"file_path": "./src/../Cargo.toml"}));
        assert_eq!(inside.context["path"], "/home/dev/app/Cargo.toml");
        assert_eq!(inside.context["in_project"], true);
        // A sibling whose name starts like the project is not inside it.
        let sibling = hook("Glob", json!({"path": "/home/dev/app2"}));
        assert_eq!(sibling.context["in_project"], false);
        let root = hook("Grep", json!({}));
        assert_eq!(root.context["in_project"], true);
        let web = hook("WebFetch", json!({"url": "https://example.com/a?b"}));
        assert_eq!(web.request.resource, "web/example.com");
        let mcp = hook("mcp__github__create_issue", json!({"title": "t"}));
        assert_eq!(
            (mcp.request.kind.as_str(), mcp.request.resource.as_str()),
            ("mcp.call", "mcp/github/create_issue")
        );
        let other = hook("Task", json!({}));
        assert_eq!(other.request.kind, "claude.Task");
        assert_eq!(other.request.resource, "claude/home/dev/app");
        for action in [bash, write, read, web, mcp, other] {
            assert!(action.request.validate().is_ok(), "{:?}", action.request);
        }
    }

    #[test]
    fn tools_that_run_code_read_files_or_are_unknown_map_to_what_they_do() {
        for (tool, input, kind) in [
            ("PowerShell", json!({"command": "rm x"}), "shell.exec"),
            ("REPL", json!({"code": "1+1"}), "shell.exec"),
            ("LS", json!({"path": "/etc"}), "fs.read"),
            (
                "NotebookRead",
                json!({"notebook_path": "a.ipynb"}),
                "fs.read",
            ),
            (
                "SlashCommand",
                json!({"command": "/x"}),
                "tool.SlashCommand",
            ),
            ("Skill", json!({}), "tool.Skill"),
            ("ReadMcpResourceTool", json!({}), "tool.ReadMcpResourceTool"),
            ("Brand-New Tool", json!({}), "tool.Brand-New_Tool"),
            ("TodoWrite", json!({}), "claude.TodoWrite"),
        ] {
            let action = hook(tool, input);
            assert_eq!(action.request.kind, kind, "{tool}");
            assert!(action.request.validate().is_ok(), "{:?}", action.request);
        }
        let ps = hook("PowerShell", json!({"command": "Get-ChildItem"}));
        assert_eq!(ps.context["parts"][0]["kind"], "shell.unknown");
        assert_eq!(ps.context["command"], "Get-ChildItem");
        let ls = hook("LS", json!({"path": "/etc"}));
        assert_eq!(ls.context["path"], "/etc");
        let glob = hook("Glob", json!({"pattern": "**/.env", "path": "src"}));
        assert_eq!(
            glob.context["parts"][0]["context"]["path"],
            "/home/dev/app/src/**/.env"
        );
        let grep = hook("Grep", json!({"pattern": "k", "glob": "*.pem"}));
        assert_eq!(
            grep.context["parts"][0]["context"]["path"],
            "/home/dev/app/**/*.pem"
        );
    }

    #[test]
    fn a_real_path_from_the_agent_s_machine_is_a_further_part() {
        let input = json!({"cwd": "/p", "tool_name": "Read",
            "tool_input": {"file_path": "link/id_rsa"},
            real_paths::REAL_PATHS_FIELD: {"/p/link/id_rsa": "/home/u/.ssh/id_rsa"}});
        let action = action_of(&input).unwrap();
        assert_eq!(action.context["path"], "/p/link/id_rsa");
        assert_eq!(action.context["real_path"], "/home/u/.ssh/id_rsa");
        let part = &action.context["parts"][0];
        assert_eq!(part["kind"], "fs.read");
        assert_eq!(part["resource"], "fs/home/u/.ssh/id_rsa");
        assert_eq!(part["context"]["in_project"], false);
        let bash = action_of(&json!({"cwd": "/p", "tool_name": "Bash",
            "tool_input": {"command": "cat ./link/id_rsa"},
            real_paths::REAL_PATHS_FIELD: {"/p/link/id_rsa": "/home/u/.ssh/id_rsa"}}))
        .unwrap();
        let paths: Vec<&Value> = (bash.context["parts"].as_array().unwrap().iter())
            .filter_map(|p| p["context"].get("path"))
            .collect();
        assert!(paths.contains(&&json!("/home/u/.ssh/id_rsa")), "{paths:?}");
    }

    #[test]
    fn the_justification_joins_the_description_and_the_latest_prompt() {
        let transcript = [
            r#"{"type":"user","message":{"role":"user","content":"first ask"}}"#,
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"ok"}]}}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"clean the build"}]}}"#,
            r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"done"}]}}"#,
            "not json",
        ]
        .join("\n");
        let prompt = latest_prompt(&transcript).unwrap();
        assert_eq!(prompt, "clean the build");
        let action = action_of(&json!({"cwd": "/a", "tool_name": "Bash",
            "tool_input": {"command": "rm -rf build", "description": "remove build output"},
            PROMPT_FIELD: prompt}))
        .unwrap();
        assert_eq!(
            action.request.justification,
            "remove build output. The user asked: clean the build"
        );
        let long = "é".repeat(5000);
        let action = action_of(&json!({"tool_name": "Task", PROMPT_FIELD: long})).unwrap();
        assert!(action.request.validate().is_ok());
        assert!(action.request.justification.ends_with('…'));
        assert_eq!(latest_prompt(""), None);
    }

    #[test]
    fn malformed_input_is_an_error_to_deny_on() {
        for bad in [
            json!([]),
            json!({"tool_input": {}}),
            json!({"tool_name": "Bash", "tool_input": {}}),
            json!({"tool_name": "Write", "tool_input": "x"}),
            json!({"tool_name": "mcp__nodelimiter", "tool_input": {}}),
        ] {
            assert!(action_of(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            deny("no")["hookSpecificOutput"]["permissionDecision"],
            "deny"
        );
    }
}
