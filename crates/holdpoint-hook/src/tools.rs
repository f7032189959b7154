//! Which Claude Code tool is which kind of action, and which of its inputs are the
//! action and which explain it.
//!
//! Every tool that runs code or touches files is mapped to what it does; only a named
//! list of planning tools passes as `claude.{Tool}`; a tool the hook does not know is
//! `tool.{Tool}`, which the starter policies hold. A new Claude Code tool is therefore
//! held until someone maps it here.

/// What a Claude Code tool does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Bash: a shell line, read by the shell parser.
    Shell,
    /// Code the hook cannot read (PowerShell, the JavaScript REPL): a shell action whose
    /// only part is `shell.unknown`.
    UnreadCode(&'static str),
    /// Reads files or lists them (Read, NotebookRead, LS, Glob, Grep).
    FileRead,
    /// Writes files (Write, Edit, MultiEdit, NotebookEdit).
    FileWrite,
    /// Fetches a page or searches the web.
    Web,
    /// `mcp__{server}__{tool}`.
    Mcp,
    /// Plans, delegates or asks; the calls it leads to are checked on their own.
    Planning,
    /// Anything else: held by the starter policies.
    Unknown,
}

/// Claude Code's tools that only plan, delegate, ask the user or look at shells the
/// agent already started (each of which was judged when it started).
pub const PLANNING_TOOLS: &[&str] = &[
    "Task",
    "Agent",
    "TodoWrite",
    "TodoRead",
    "ExitPlanMode",
    "EnterPlanMode",
    "AskUserQuestion",
    "BashOutput",
    "TaskOutput",
    "KillShell",
    "KillBash",
    "ListMcpResourcesTool",
];

/// The kind of tool `name` is.
pub fn kind_of(name: &str) -> ToolKind {
    match name {
        "Bash" => ToolKind::Shell,
        "PowerShell" => ToolKind::UnreadCode("PowerShell is not read by holdpoint"),
        "REPL" => ToolKind::UnreadCode("JavaScript run by the REPL tool is not read by holdpoint"),
        "Read" | "NotebookRead" | "LS" | "Glob" | "Grep" => ToolKind::FileRead,
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => ToolKind::FileWrite,
        "WebFetch" | "WebSearch" => ToolKind::Web,
        mcp if mcp.starts_with("mcp__") => ToolKind::Mcp,
        planning if PLANNING_TOOLS.contains(&planning) => ToolKind::Planning,
        _ => ToolKind::Unknown,
    }
}

/// The inputs of tool `name` that say what the agent means rather than what the call
/// does (Bash's and PowerShell's `description`): they go into the justification, not
/// into the params, so rewording them does not make a repeat a new action needing a new
/// approval. Only for the tools named here: for any other tool (an MCP tool's or a new
/// tool's `description` is often the payload: an issue's body, a commit message) every
/// input is part of the action.
pub fn explaining_inputs(name: &str) -> &'static [&'static str] {
    match name {
        "Bash" | "PowerShell" => &["description"],
        _ => &[],
    }
}

/// The input that holds the code a tool runs.
pub fn code_input(name: &str) -> &'static str {
    match name {
        "REPL" => "code",
        _ => "command",
    }
}
