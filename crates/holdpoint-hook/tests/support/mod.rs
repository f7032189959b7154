//! What the hook's policy tests share: a gate with the starter policies and an agent,
//! and the verdict it gives a Claude Code tool call.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use holdpoint_core::{Identity, Outcome, PrincipalKind};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{Gate, SurfaceContext};
use serde_json::{Value, json};

/// The working folder of most calls here.
pub const CWD: &str = "/home/dev/app";

/// A gate with every starter policy, and an agent of it.
pub async fn starter_gate() -> (TestGate, Identity) {
    let text = (holdpoint_policy::starter_sources().into_iter())
        .map(|s| s.text)
        .collect::<Vec<_>>()
        .join("\n");
    let gate = TestGate::with_policies(&text).build().await;
    let (_, agent) = gate.token("claude", PrincipalKind::Agent, &[]).await;
    (gate, agent)
}

/// A hook input: the tool `name` called with `input` in `cwd`.
pub fn tool(cwd: &str, name: &str, input: Value) -> Value {
    json!({"cwd": cwd, "tool_name": name, "tool_input": input})
}

/// The verdict the gate gives the call; the hook must read it and the gate judge it.
pub fn judge(gate: &Gate, agent: &Identity, input: &Value) -> Outcome {
    let action = holdpoint_hook::action_of(input).unwrap();
    gate.check(agent, &action.request, &context(action.context))
        .unwrap()
        .outcome()
}

/// The verdict the gate gives the call, as the endpoint answers: an input the hook
/// cannot read, or an action the gate refuses to judge, is a deny.
pub fn judge_or_deny(gate: &Gate, agent: &Identity, input: &Value) -> Outcome {
    let Ok(action) = holdpoint_hook::action_of(input) else {
        return Outcome::Deny;
    };
    match gate.check(agent, &action.request, &context(action.context)) {
        Ok(evaluation) => {
            // A deny from a rule that could not be evaluated is not the rule working.
            let reason = &evaluation.verdict().reason;
            assert!(!reason.contains("failed to evaluate"), "{reason}");
            evaluation.outcome()
        }
        Err(_) => Outcome::Deny,
    }
}

/// The verdict for the Bash command `command`, run in [`CWD`].
pub fn verdict(gate: &Gate, agent: &Identity, command: &str) -> Outcome {
    verdict_in(gate, agent, CWD, command)
}

/// The verdict for the Bash command `command`, run in `cwd`.
pub fn verdict_in(gate: &Gate, agent: &Identity, cwd: &str, command: &str) -> Outcome {
    let input = tool(
        cwd,
        "Bash",
        json!({"command": command, "description": "a step"}),
    );
    judge(gate, agent, &input)
}

fn context(extra: serde_json::Map<String, Value>) -> SurfaceContext {
    SurfaceContext {
        surface: holdpoint_hook::SURFACE.into(),
        extra: Some(extra),
        executes: false,
    }
}
