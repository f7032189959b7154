//! Allow, deny and hold, and the entities and context they are decided on.

use crate::{Act, compile, outcome};
use holdpoint_core::{Outcome, PrincipalKind, Requirement};
use serde_json::json;
use std::time::Duration;

#[test]
fn a_permit_allows_and_names_itself() {
    let set = compile(r#"@id("reads") permit(principal, action == Action::"db.read", resource);"#);
    let eval = Act::agent("db.read", "postgres/prod").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Allow);
    assert_eq!(eval.verdict().policies, vec!["reads".to_string()]);
    assert_eq!(eval.verdict().reason, "permitted by reads");
    assert!(eval.terms().is_none());
}

#[test]
fn nothing_permits_means_deny_with_the_action_named() {
    let set = compile(r#"@id("reads") permit(principal, action == Action::"db.read", resource);"#);
    let eval = Act::agent("db.ddl", "postgres/prod").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Deny);
    assert!(eval.verdict().policies.is_empty());
    assert_eq!(
        eval.verdict().reason,
        "no policy permits `db.ddl` on `postgres/prod`"
    );
}

#[test]
fn an_empty_set_denies_everything() {
    let set = compile("");
    assert!(set.ids().is_empty());
    assert_eq!(outcome(&set, Act::agent("db.read", "x")), Outcome::Deny);
}

#[test]
fn a_forbid_denies_with_its_reason_or_its_id() {
    let set = compile(
        r#"
permit(principal, action, resource);
@id("no-grants") @reason("agents may not change database privileges")
forbid(principal in Group::"agents", action == Action::"db.privilege", resource);
@id("no-drop")
forbid(principal, action == Action::"db.drop", resource);
"#,
    );
    let eval = Act::agent("db.privilege", "postgres/prod").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Deny);
    assert_eq!(eval.verdict().policies, vec!["no-grants".to_string()]);
    assert_eq!(
        eval.verdict().reason,
        "agents may not change database privileges"
    );
    let eval = Act::agent("db.drop", "postgres/prod").eval(&set);
    assert_eq!(eval.verdict().reason, "no-drop");
    // Users are not agents: the first forbid does not apply to them.
    let user = Act::new(
        PrincipalKind::User,
        "alice",
        "db.privilege",
        "postgres/prod",
    );
    assert_eq!(outcome(&set, user), Outcome::Allow);
}

#[test]
fn unnamed_policies_are_named_by_file_and_line() {
    let set = compile("// header\n\npermit(principal, action == Action::\"db.read\", resource);\n");
    assert_eq!(set.ids(), vec!["p.cedar:3".to_string()]);
    let eval = Act::agent("db.read", "x").eval(&set);
    assert_eq!(eval.verdict().policies, vec!["p.cedar:3".to_string()]);
}

#[test]
fn a_hold_carries_its_terms() {
    let set = compile(
        r#"
@id("prod-schema-change")
@hold("Schema change in production")
@approvers("dba, sre")
@quorum("2")
@expires("30m")
@separate
@grant("10m")
permit(principal in Group::"agents", action == Action::"db.ddl", resource in Resource::"postgres/prod");
"#,
    );
    let eval = Act::agent("db.ddl", "postgres/prod/customers").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Hold);
    assert_eq!(
        eval.verdict().policies,
        vec!["prod-schema-change".to_string()]
    );
    assert_eq!(eval.verdict().reason, "Schema change in production");
    let terms = eval.terms().cloned().unwrap();
    assert_eq!(terms.title, "Schema change in production");
    assert_eq!(
        terms.requirements,
        vec![Requirement {
            policy: "prod-schema-change".into(),
            approvers: vec!["dba".into(), "sre".into()],
            quorum: 2,
        }]
    );
    assert_eq!(terms.expires, Duration::from_secs(1800));
    assert!(terms.separate);
    assert_eq!(terms.grant, Some(Duration::from_secs(600)));
}

#[test]
fn hold_defaults_apply() {
    let set = compile(r#"@id("h") @hold("H") permit(principal, action, resource);"#);
    let terms = Act::agent("x", "y").eval(&set).terms().cloned().unwrap();
    assert_eq!(terms.requirements[0].approvers, vec!["admins".to_string()]);
    assert_eq!(terms.requirements[0].quorum, 1);
    assert_eq!(terms.expires, Duration::from_secs(900));
    assert!(!terms.separate);
    assert_eq!(terms.grant, None);
}

#[test]
fn several_holds_combine() {
    let set = compile(
        r#"
@id("a") @hold("A") @approvers("dba") @expires("1h") @grant("10m")
permit(principal, action in Action::"db", resource);
@id("b") @hold("B") @approvers("sre") @quorum("2") @expires("20m") @separate @grant("5m")
permit(principal, action == Action::"db.ddl", resource);
@id("c") @hold("C") @expires("2h")
permit(principal, action, resource in Resource::"postgres/prod");
"#,
    );
    let eval = Act::agent("db.ddl", "postgres/dev").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Hold);
    assert_eq!(
        eval.verdict().policies,
        vec!["a".to_string(), "b".to_string()]
    );
    assert_eq!(eval.verdict().reason, "A; B");
    let terms = eval.terms().cloned().unwrap();
    assert_eq!(terms.title, "A; B");
    let req: Vec<(&str, u32)> = terms
        .requirements
        .iter()
        .map(|r| (r.policy.as_str(), r.quorum))
        .collect();
    assert_eq!(req, vec![("a", 1), ("b", 2)]);
    assert_eq!(terms.requirements[1].approvers, vec!["sre".to_string()]);
    assert_eq!(terms.expires, Duration::from_secs(20 * 60));
    assert!(terms.separate);
    assert_eq!(terms.grant, Some(Duration::from_secs(300)));

    // `c` has no `@grant`: together they are single use.
    let terms = Act::agent("db.ddl", "postgres/prod")
        .eval(&set)
        .terms()
        .cloned()
        .unwrap();
    assert_eq!(terms.requirements.len(), 3);
    assert_eq!(terms.grant, None);
    assert_eq!(terms.expires, Duration::from_secs(20 * 60));
}

#[test]
fn a_broad_permit_never_cancels_a_narrower_hold() {
    let set = compile(
        r#"
@id("everything") permit(principal, action, resource);
@id("ddl") @hold("DDL") permit(principal, action == Action::"db.ddl", resource);
"#,
    );
    let eval = Act::agent("db.ddl", "postgres/prod").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Hold);
    assert_eq!(eval.verdict().policies, vec!["ddl".to_string()]);
    assert_eq!(
        outcome(&set, Act::agent("db.read", "postgres/prod")),
        Outcome::Allow
    );
}

#[test]
fn a_forbid_wins_over_a_hold() {
    let set = compile(
        r#"
@id("ddl") @hold("DDL") permit(principal, action == Action::"db.ddl", resource);
@id("frozen") @reason("prod is frozen") forbid(principal, action, resource in Resource::"postgres/prod");
"#,
    );
    let eval = Act::agent("db.ddl", "postgres/prod/t").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Deny);
    assert_eq!(eval.verdict().reason, "prod is frozen");
    assert!(eval.terms().is_none());
    assert_eq!(
        outcome(&set, Act::agent("db.ddl", "postgres/dev")),
        Outcome::Hold
    );
}

#[test]
fn an_evaluation_error_denies_even_when_a_permit_allows() {
    let set = compile(
        r#"
@id("all") permit(principal, action, resource);
@id("careless") forbid(principal, action, resource) when { context.params.missing == 1 };
"#,
    );
    let eval = Act::agent("db.read", "x").eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Deny);
    assert!(
        eval.verdict()
            .reason
            .starts_with("policy `careless` failed to evaluate: "),
        "{}",
        eval.verdict().reason
    );
    assert_eq!(eval.verdict().policies, vec!["careless".to_string()]);
    // With the attribute present the policy evaluates, and the permit stands.
    let eval = Act::agent("db.read", "x")
        .params(json!({"missing": 2}))
        .eval(&set);
    assert_eq!(eval.verdict().outcome, Outcome::Allow);
}

#[test]
fn dotted_kinds_have_their_prefixes_as_parents() {
    let set = compile(r#"permit(principal, action in Action::"db", resource);"#);
    for kind in ["db", "db.ddl", "db.ddl.create"] {
        assert_eq!(
            outcome(&set, Act::agent(kind, "x")),
            Outcome::Allow,
            "{kind}"
        );
    }
    for kind in ["dbx.ddl", "http.db", "shell.exec"] {
        assert_eq!(
            outcome(&set, Act::agent(kind, "x")),
            Outcome::Deny,
            "{kind}"
        );
    }
    let set = compile(r#"permit(principal, action in Action::"db.ddl", resource);"#);
    assert_eq!(outcome(&set, Act::agent("db", "x")), Outcome::Deny);
}

#[test]
fn resource_paths_have_their_prefixes_as_parents() {
    let set = compile(r#"permit(principal, action, resource in Resource::"postgres/prod");"#);
    for resource in [
        "postgres/prod",
        "postgres/prod/customers",
        "postgres/prod/a/b",
    ] {
        assert_eq!(
            outcome(&set, Act::agent("db.read", resource)),
            Outcome::Allow,
            "{resource}"
        );
    }
    for resource in ["postgres", "postgres/production", "mysql/prod"] {
        assert_eq!(
            outcome(&set, Act::agent("db.read", resource)),
            Outcome::Deny,
            "{resource}"
        );
    }
}

#[test]
fn principals_are_typed_and_members_of_their_groups() {
    let set = compile(
        r#"
@id("sre") permit(principal in Group::"sre", action == Action::"a", resource);
@id("agents") permit(principal is Agent, action == Action::"b", resource);
@id("admins") permit(principal in Group::"admins", action == Action::"c", resource);
@id("users") permit(principal == User::"root", action == Action::"d", resource);
"#,
    );
    assert_eq!(outcome(&set, Act::agent("a", "x")), Outcome::Deny);
    assert_eq!(
        outcome(&set, Act::agent("a", "x").group("sre")),
        Outcome::Allow
    );
    assert_eq!(outcome(&set, Act::agent("b", "x")), Outcome::Allow);
    let admin = |kind| Act::new(PrincipalKind::Admin, "root", kind, "x");
    assert_eq!(outcome(&set, admin("b")), Outcome::Deny);
    assert_eq!(outcome(&set, admin("c")), Outcome::Allow);
    // Admins are `User` entities.
    assert_eq!(outcome(&set, admin("d")), Outcome::Allow);
    let user = Act::new(PrincipalKind::User, "root", "c", "x");
    assert_eq!(outcome(&set, user), Outcome::Deny);
}

#[test]
fn context_carries_params_and_surface_knowledge() {
    let set = compile(
        r#"
@id("small") permit(principal, action, resource)
when { context.environment == "prod" && context.surface == "api" && context.justification == "because" };
@id("unbounded") @reason("add a WHERE")
forbid(principal, action, resource) when { context has sql && context.sql.unbounded };
@id("big") @hold("Big") permit(principal, action, resource)
when { context.params has rows && context.params.rows > 100 && context.params.tables.contains("t") };
"#,
    );
    assert_eq!(outcome(&set, Act::agent("db.write", "x")), Outcome::Allow);
    let bounded = Act::agent("db.write", "x").extra(json!({"sql": {"unbounded": false}}));
    assert_eq!(outcome(&set, bounded), Outcome::Allow);
    let unbounded = Act::agent("db.write", "x").extra(json!({"sql": {"unbounded": true}}));
    assert_eq!(unbounded.eval(&set).verdict().reason, "add a WHERE");
    let big = Act::agent("db.write", "x").params(json!({"rows": 500, "tables": ["t", "u"]}));
    assert_eq!(outcome(&set, big), Outcome::Hold);
    let small = Act::agent("db.write", "x").params(json!({"rows": 5, "tables": ["t"]}));
    assert_eq!(outcome(&set, small), Outcome::Allow);
}

#[test]
fn the_implicit_group_applies_even_when_not_passed() {
    let set = compile(
        r#"
permit(principal, action, resource);
@id("no-agents") forbid(principal in Group::"agents", action == Action::"db.privilege", resource);
"#,
    );
    let mut act = Act::agent("db.privilege", "x");
    act.groups.clear();
    assert_eq!(outcome(&set, act), Outcome::Deny);
}
