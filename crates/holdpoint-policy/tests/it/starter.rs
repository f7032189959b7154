//! The starter policies compile and show all three outcomes.

use crate::{Act, defaults, outcome};
use holdpoint_core::{Outcome, PrincipalKind};
use holdpoint_policy::{PolicyError, PolicySet, load_dir, starter_sources, write_starter};
use serde_json::json;
use std::time::Duration;

fn starter() -> PolicySet {
    PolicySet::compile(&starter_sources(), &defaults(), None).unwrap()
}

#[test]
fn every_starter_policy_is_named() {
    let ids = starter().ids();
    assert!(ids.iter().all(|id| !id.contains(".cedar:")), "{ids:?}");
    for id in [
        "reads-pass",
        "prod-schema-change",
        "data-export",
        "infra-change",
        "new-admin-token",
        "no-privilege-changes-by-agents",
    ] {
        assert!(ids.contains(&id.to_string()), "{id} missing from {ids:?}");
    }
}

#[test]
fn starter_allows_reads_and_changes_outside_prod() {
    let set = starter();
    assert_eq!(
        outcome(&set, Act::agent("db.read", "postgres/prod/customers")),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&set, Act::agent("http.get", "api/github")),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&set, Act::agent("db.ddl", "postgres/staging")),
        Outcome::Allow
    );
}

#[test]
fn starter_holds_privileged_actions_for_admins() {
    let set = starter();
    let eval = Act::agent("db.ddl", "postgres/prod/customers").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Hold);
    assert_eq!(
        eval.verdict().policies,
        vec!["prod-schema-change".to_string()]
    );
    let terms = eval.terms().cloned().unwrap();
    assert_eq!(terms.expires, Duration::from_secs(30 * 60));
    assert_eq!(terms.requirements[0].approvers, vec!["admins".to_string()]);

    for (kind, resource, policy) in [
        ("db.export", "postgres/dev/users", "data-export"),
        ("db.write", "postgres/prod/orders", "prod-data-change"),
        ("infra.deploy", "k8s/prod/payments", "infra-change"),
        ("shell.exec", "host/dev/web-1", "shell-commands"),
    ] {
        let eval = Act::agent(kind, resource).eval(&set);
        assert_eq!(eval.verdict().outcome, Outcome::Hold, "{kind}");
        assert_eq!(eval.verdict().policies, vec![policy.to_string()], "{kind}");
    }

    // An admin may manage tokens, but a new admin token waits for another admin.
    let admin = |kind| Act::new(PrincipalKind::Admin, "root", kind, "holdpoint/tokens");
    assert_eq!(outcome(&set, admin("token.create.agent")), Outcome::Allow);
    let eval = admin("token.create.admin").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Hold);
    assert_eq!(eval.verdict().policies, vec!["new-admin-token".to_string()]);
    assert_eq!(
        outcome(&set, Act::agent("token.create.agent", "holdpoint/tokens")),
        Outcome::Deny
    );
}

#[test]
fn starter_denies_with_reasons() {
    let set = starter();
    let eval = Act::agent("db.privilege", "postgres/prod").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Deny);
    assert_eq!(
        eval.verdict().policies,
        vec!["no-privilege-changes-by-agents".to_string()]
    );
    assert!(eval.verdict().reason.contains("privileges"));

    let eval = Act::agent("shell.exec", "host/prod/web-1").eval(&set);
    assert_eq!(
        eval.verdict().policies,
        vec!["no-prod-shell-by-agents".to_string()]
    );

    let unbounded = Act::agent("db.write", "postgres/prod/orders")
        .extra(json!({"sql": {"kinds": ["update"], "tables": ["orders"], "unbounded": true}}));
    let eval = unbounded.eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Deny);
    assert_eq!(
        eval.verdict().policies,
        vec!["no-unbounded-writes-by-agents-in-prod".to_string()]
    );

    let eval = Act::agent("payments.refund", "stripe").eval(&set);
    assert_eq!(
        eval.verdict().reason,
        "no policy permits `payments.refund` on `stripe`"
    );
}

#[test]
fn write_starter_writes_loadable_files_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("policies");
    let written = write_starter(&target).unwrap();
    assert_eq!(written.len(), starter_sources().len());
    let loaded = load_dir(&target, &defaults()).unwrap();
    assert_eq!(loaded.ids(), starter().ids());

    std::fs::write(&written[0], "// mine").unwrap();
    let err = write_starter(&target).unwrap_err();
    assert!(
        matches!(&err, PolicyError::Io { message, .. } if message.contains("already exists")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&written[0]).unwrap(), "// mine");
}

/// The hook's context for a file at `path`.
fn file(kind: &str, path: &str, in_project: bool) -> Act {
    Act::agent(kind, &format!("fs{path}")).extra(json!({"path": path, "in_project": in_project}))
}

fn shell(command: &str) -> Act {
    let argv: Vec<&str> = command.split_whitespace().collect();
    Act::agent("shell.exec", "shell/home/dev/app").extra(json!({"command": command, "argv": argv}))
}

fn mcp(destructive: Option<bool>) -> Act {
    let act = Act::agent("mcp.call", "mcp/github/delete_repo");
    match destructive {
        Some(d) => act.extra(json!({"mcp": {"server": "github", "tool": "delete_repo",
            "readOnlyHint": !d, "destructiveHint": d}})),
        None => act,
    }
}

#[test]
fn starter_guards_coding_agents() {
    let set = starter();
    for (act, expected) in [
        (
            file("fs.read", "/home/dev/app/src/main.rs", true),
            Outcome::Allow,
        ),
        (
            file("fs.write", "/home/dev/app/src/main.rs", true),
            Outcome::Allow,
        ),
        (file("fs.write", "/etc/hosts", false), Outcome::Hold),
        (file("fs.read", "/home/dev/notes.txt", false), Outcome::Hold),
        (
            file("fs.read", "/home/dev/.ssh/id_ed25519", false),
            Outcome::Deny,
        ),
        (file("fs.read", "/home/dev/app/.env", true), Outcome::Deny),
        (
            file("fs.read", "/home/dev/app/.env.production", true),
            Outcome::Deny,
        ),
        (
            file("fs.read", "/home/dev/.aws/credentials", false),
            Outcome::Deny,
        ),
        (
            file(
                "fs.read",
                "/home/dev/.config/gcloud/application_default_credentials.json",
                false,
            ),
            Outcome::Deny,
        ),
        // A file tool without the hook's context is not known to be inside the project.
        (Act::agent("fs.read", "fs/home/dev/app/x"), Outcome::Hold),
        // Shell commands: the hook's parts decide (crates/holdpoint-hook/tests).
        (shell("cargo test --workspace"), Outcome::Allow),
        (
            Act::agent("claude.TodoWrite", "claude/home/dev/app"),
            Outcome::Allow,
        ),
        (Act::agent("web.fetch", "web/docs.rs"), Outcome::Allow),
        (mcp(Some(false)), Outcome::Allow),
        (mcp(Some(true)), Outcome::Hold),
        // An MCP call without the surface's context counts as destructive.
        (mcp(None), Outcome::Hold),
        // Resources, prompts and completions are reads; a server asking the client waits.
        (
            Act::agent("mcp.resource", "mcp/fs/resources/file/srv/data/a.txt"),
            Outcome::Allow,
        ),
        (
            Act::agent("mcp.prompt", "mcp/fs/prompts/review"),
            Outcome::Allow,
        ),
        (
            Act::agent("mcp.complete", "mcp/fs/completions/prompts/review"),
            Outcome::Allow,
        ),
        (Act::agent("mcp.sampling", "mcp/fs/client"), Outcome::Hold),
        (
            Act::agent("mcp.elicitation", "mcp/fs/client"),
            Outcome::Hold,
        ),
    ] {
        let what = format!("{} {} {:?}", act.kind, act.resource, act.extra);
        assert_eq!(outcome(&set, act), expected, "{what}");
    }
}

/// A policy with a few dozen `||` terms takes over a megabyte of stack in a debug build,
/// and Cedar refuses to evaluate with less than 100 KiB left: a server thread deep in its
/// futures once denied every shell command with "failed to evaluate". The evaluation
/// finds its own stack when its thread is short of it.
#[test]
fn a_long_policy_evaluates_on_a_thread_short_of_stack() {
    let set = starter();
    let outcome = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut act = file("fs.write", "/home/dev/app/src/main.rs", true);
            act.extra
                .get_or_insert_with(Default::default)
                .insert("access".into(), json!("write"));
            act.kind = "shell.exec".into();
            act.resource = "shell/home/dev/app".into();
            let evaluation = act.eval(&set);
            (evaluation.outcome(), evaluation.verdict().reason.clone())
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(outcome.0, Outcome::Allow, "{}", outcome.1);
}
