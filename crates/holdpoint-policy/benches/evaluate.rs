//! Cedar evaluation per decision: holdpoint's `PolicySet::evaluate` (entities and context
//! built per request, annotations read, verdict built) beside a bare
//! `cedar_policy::Authorizer::is_authorized` on the same policies with entities built
//! once: the floor any Cedar gateway pays. For the starter set and for 1,000 generated
//! policies. Run: `cargo bench -p holdpoint-policy --bench evaluate`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cedar_policy as cedar;
use holdpoint_core::{Principal, PrincipalKind};
use holdpoint_policy::{HoldDefaults, PolicyInput, PolicySet, PolicySource};
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5_000;

fn defaults() -> HoldDefaults {
    HoldDefaults {
        approvers: vec!["admins".into()],
        expiry: Duration::from_secs(900),
        max_duration: holdpoint_policy::MAX_DURATION,
    }
}

/// 1,000 policies over 250 services: permits, holds with every annotation, and forbids.
fn generated() -> String {
    let mut text = String::new();
    for i in 0..1000 {
        let svc = i % 250;
        let policy = match i % 4 {
            0 => format!(
                "@id(\"p{i}\")\npermit(principal in Group::\"team{svc}\", action in Action::\"svc{svc}.read\", resource in Resource::\"app{svc}\");\n"
            ),
            1 => format!(
                "@id(\"p{i}\")\n@hold(\"change {svc}\")\n@approvers(\"ops{svc}, sre\")\n@quorum(\"2\")\n@expires(\"30m\")\npermit(principal in Group::\"team{svc}\", action in Action::\"svc{svc}.write\", resource in Resource::\"app{svc}/prod\");\n"
            ),
            2 => format!(
                "@id(\"p{i}\")\n@reason(\"frozen {svc}\")\nforbid(principal in Group::\"agents\", action == Action::\"svc{svc}.drop\", resource) when {{ context.environment == \"prod\" }};\n"
            ),
            _ => format!(
                "@id(\"p{i}\")\npermit(principal, action in Action::\"svc{svc}\", resource in Resource::\"app{svc}/dev\") when {{ context has params && context.params has rows && context.params.rows < 1000 }};\n"
            ),
        };
        text.push_str(&policy);
    }
    text
}

struct Case {
    name: &'static str,
    kind: &'static str,
    resource: &'static str,
    groups: Vec<String>,
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

fn time_each(mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let mut samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        f();
        samples.push(t.elapsed());
    }
    median(samples)
}

/// Bare Cedar: the same request, entities and context built once, outside the loop.
fn bare_cedar(text: &str, case: &Case, params: &serde_json::Value) -> impl FnMut() {
    let policies = cedar::PolicySet::from_str(text).unwrap();
    let uid = |t: &str, id: &str| {
        cedar::EntityUid::from_type_name_and_id(
            cedar::EntityTypeName::from_str(t).unwrap(),
            cedar::EntityId::new(id),
        )
    };
    let group_uids: Vec<_> = case.groups.iter().map(|g| uid("Group", g)).collect();
    let mut entities = vec![cedar::Entity::new_no_attrs(
        uid("Agent", "bot"),
        group_uids.iter().cloned().collect(),
    )];
    entities.extend(
        group_uids
            .iter()
            .map(|g| cedar::Entity::new_no_attrs(g.clone(), Default::default())),
    );
    let mut parent: Option<cedar::EntityUid> = None;
    let mut prefix = String::new();
    for seg in case.kind.split('.') {
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(seg);
        let u = uid("Action", &prefix);
        entities.push(cedar::Entity::new_no_attrs(
            u.clone(),
            parent.iter().cloned().collect(),
        ));
        parent = Some(u);
    }
    let mut rparent: Option<cedar::EntityUid> = None;
    let mut rprefix = String::new();
    for seg in case.resource.split('/') {
        if !rprefix.is_empty() {
            rprefix.push('/');
        }
        rprefix.push_str(seg);
        let u = uid("Resource", &rprefix);
        entities.push(cedar::Entity::new_no_attrs(
            u.clone(),
            rparent.iter().cloned().collect(),
        ));
        rparent = Some(u);
    }
    let entities = cedar::Entities::from_entities(entities, None).unwrap();
    let context = cedar::Context::from_json_value(
        serde_json::json!({"environment": "prod", "justification": "", "surface": "api", "params": params}),
        None,
    )
    .unwrap();
    let request = cedar::Request::new(
        uid("Agent", "bot"),
        parent.unwrap(),
        rparent.unwrap(),
        context,
        None,
    )
    .unwrap();
    let authorizer = cedar::Authorizer::new();
    move || {
        black_box(authorizer.is_authorized(&request, &policies, &entities));
    }
}

fn main() {
    let starter = holdpoint_policy::starter_sources();
    let starter_text: String = starter
        .iter()
        .map(|s| s.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let generated_text = generated();
    let sets = [
        ("starter", starter.clone(), starter_text),
        (
            "generated-1000",
            vec![PolicySource {
                file: "generated.cedar".into(),
                text: generated_text.clone(),
            }],
            generated_text,
        ),
    ];
    let params =
        serde_json::json!({"sql": "ALTER TABLE customers ADD COLUMN note text", "rows": 12});
    println!(
        "{:<16} {:<28} {:>14} {:>14} {:>7}",
        "set", "decision", "holdpoint µs", "bare cedar µs", "ratio"
    );
    for (set_name, sources, text) in &sets {
        let set = PolicySet::compile(sources, &defaults(), None).unwrap();
        let cases = if *set_name == "starter" {
            vec![
                Case {
                    name: "allow db.read",
                    kind: "db.read",
                    resource: "postgres/prod/customers",
                    groups: vec!["agents".into()],
                },
                Case {
                    name: "hold db.ddl prod",
                    kind: "db.ddl",
                    resource: "postgres/prod/customers",
                    groups: vec!["agents".into()],
                },
                Case {
                    name: "deny db.privilege",
                    kind: "db.privilege",
                    resource: "postgres/prod",
                    groups: vec!["agents".into()],
                },
            ]
        } else {
            vec![
                Case {
                    name: "allow svc8.read",
                    kind: "svc8.read",
                    resource: "app8/prod/x",
                    groups: vec!["agents".into(), "team8".into()],
                },
                Case {
                    name: "hold svc9.write",
                    kind: "svc9.write",
                    resource: "app9/prod/x",
                    groups: vec!["agents".into(), "team9".into()],
                },
                Case {
                    name: "deny svc8.drop",
                    kind: "svc8.drop",
                    resource: "app8/prod",
                    groups: vec!["agents".into(), "team8".into()],
                },
            ]
        };
        for case in &cases {
            let principal = Principal::new(PrincipalKind::Agent, "bot");
            let input = PolicyInput {
                principal: &principal,
                groups: &case.groups,
                kind: case.kind,
                resource: case.resource,
                environment: "prod",
                justification: "",
                surface: "api",
                params: &params,
                extra: None,
            };
            let outcome = set.evaluate(&input).verdict().outcome;
            let ours = time_each(|| {
                black_box(set.evaluate(black_box(&input)));
            });
            let bare = time_each(bare_cedar(text, case, &params));
            println!(
                "{:<16} {:<28} {:>14.2} {:>14.2} {:>7.2}   ({})",
                set_name,
                case.name,
                ours,
                bare,
                ours / bare,
                outcome.as_str()
            );
        }
    }
}
