//! Integration tests of holdpoint-policy through its public API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod compile_errors;
mod outcomes;
mod reload;
mod starter;

use holdpoint_core::{Evaluation, Outcome, Principal, PrincipalKind};
use holdpoint_policy::{HoldDefaults, PolicyInput, PolicySet, PolicySource};
use serde_json::{Map, Value, json};
use std::time::Duration;

pub fn defaults() -> HoldDefaults {
    HoldDefaults {
        approvers: vec!["admins".into()],
        expiry: Duration::from_secs(15 * 60),
        max_duration: holdpoint_policy::MAX_DURATION,
    }
}

pub fn src(file: &str, text: &str) -> PolicySource {
    PolicySource {
        file: file.into(),
        text: text.into(),
    }
}

/// Compiles one file named `p.cedar`.
pub fn compile(text: &str) -> PolicySet {
    PolicySet::compile(&[src("p.cedar", text)], &defaults(), None)
        .unwrap_or_else(|e| panic!("does not compile: {e}"))
}

/// One action to evaluate, built up in tests.
pub struct Act {
    pub principal: Principal,
    pub groups: Vec<String>,
    pub kind: String,
    pub resource: String,
    pub environment: String,
    pub params: Value,
    pub extra: Option<Map<String, Value>>,
}

impl Act {
    pub fn new(kind: PrincipalKind, name: &str, action: &str, resource: &str) -> Act {
        Act {
            principal: Principal::new(kind, name),
            groups: vec![kind.implicit_group().to_string()],
            kind: action.into(),
            resource: resource.into(),
            environment: "prod".into(),
            params: json!({}),
            extra: None,
        }
    }

    pub fn agent(action: &str, resource: &str) -> Act {
        Act::new(PrincipalKind::Agent, "ci-bot", action, resource)
    }

    pub fn group(mut self, group: &str) -> Act {
        self.groups.push(group.into());
        self
    }

    pub fn params(mut self, params: Value) -> Act {
        self.params = params;
        self
    }

    pub fn extra(mut self, extra: Value) -> Act {
        self.extra = extra.as_object().cloned();
        self
    }

    pub fn input(&self) -> PolicyInput<'_> {
        PolicyInput {
            principal: &self.principal,
            groups: &self.groups,
            kind: &self.kind,
            resource: &self.resource,
            environment: &self.environment,
            justification: "because",
            surface: "api",
            params: &self.params,
            extra: self.extra.as_ref(),
        }
    }

    pub fn eval(&self, set: &PolicySet) -> Evaluation {
        set.evaluate(&self.input())
    }
}

pub fn outcome(set: &PolicySet, act: Act) -> Outcome {
    act.eval(set).verdict().outcome
}
