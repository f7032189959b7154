//! Properties of approvals over any sequence of submissions, reviews, policy changes,
//! reads and the passing of time (issue 6):
//! - no action passes (allowed on an earlier approval, or approved at release) with fewer
//!   distinct qualifying approvers than the policy in force at that moment asks for;
//! - an approval is never used twice: at most one resubmission passes on it or one answer
//!   hands it to its requester with `proceed: true`, never both, never two.
//!
//! Each case runs a real gate on SQLite with a manual clock. The oracle counts approvers
//! by hand: one requirement at a time, so a count is enough.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::{
    ActionId, ActionRecord, ActionRequest, Actor, Decision, Identity, Principal, PrincipalKind,
    Status,
};
use holdpoint_gate::testing::TestGate;
use holdpoint_gate::{Gate, GateSettings, NewToken, SurfaceContext};
use holdpoint_policy::HoldDefaults;
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

const GROUPS: [&str; 2] = ["dba", "sre"];
/// The reviewers and their groups: one in each group, one in both, one in neither.
const USERS: [(&str, &[&str]); 4] = [
    ("ann", &["dba"]),
    ("bob", &["sre"]),
    ("cat", &["dba", "sre"]),
    ("dan", &[]),
];

#[derive(Debug, Clone)]
enum Step {
    Submit {
        params: u8,
    },
    Review {
        user: usize,
        action: usize,
        approve: bool,
    },
    Policy {
        groups: u8,
        quorum: u32,
    },
    Read {
        action: usize,
    },
    Advance {
        minutes: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u8..3).prop_map(|params| Step::Submit { params }),
        4 => (0..USERS.len(), 0usize..8, prop::bool::weighted(0.85))
            .prop_map(|(user, action, approve)| Step::Review { user, action, approve }),
        1 => (1u8..4, 1u32..4).prop_map(|(groups, quorum)| Step::Policy { groups, quorum }),
        2 => (0usize..8).prop_map(|action| Step::Read { action }),
        1 => (0u64..20).prop_map(|minutes| Step::Advance { minutes }),
    ]
}

/// The one requirement in force: approvers from these groups, this many of them.
#[derive(Debug, Clone)]
struct Rule {
    groups: Vec<&'static str>,
    quorum: u32,
}

impl Rule {
    fn from(groups: u8, quorum: u32) -> Rule {
        let groups = GROUPS
            .iter()
            .enumerate()
            .filter(|(i, _)| groups & (1 << i) != 0)
            .map(|(_, g)| *g)
            .collect();
        Rule { groups, quorum }
    }

    fn cedar(&self) -> String {
        format!(
            "@id(\"deletes\") @hold(\"Delete\") @approvers(\"{}\") @quorum(\"{}\")\n\
             permit(principal, action == Action::\"db.delete\", resource);\n",
            self.groups.join(", "),
            self.quorum
        )
    }

    /// Distinct approvers of `record` in one of the rule's groups, counted by hand.
    fn met_by(&self, record: &ActionRecord) -> bool {
        let mut names: Vec<&str> = record
            .hold
            .iter()
            .flat_map(|h| h.reviews.iter())
            .filter(|r| r.decision == Decision::Approve)
            .filter(|r| r.groups.iter().any(|g| self.groups.contains(&g.as_str())))
            .map(|r| r.reviewer.name.as_str())
            .collect();
        names.sort();
        names.dedup();
        names.len() as u32 >= self.quorum
    }
}

struct World {
    t: TestGate,
    agent: Identity,
    users: Vec<Identity>,
    rule: Rule,
    actions: Vec<ActionId>,
    /// Per approval: how many times it let something proceed.
    uses: HashMap<ActionId, u32>,
}

async fn world() -> World {
    let rule = Rule::from(1, 1);
    let t = TestGate::with_policies(&rule.cedar())
        .hold_defaults(HoldDefaults {
            approvers: vec!["admins".into()],
            expiry: Duration::from_secs(3600),
            max_duration: holdpoint_policy::MAX_DURATION,
        })
        .settings(GateSettings {
            approval_ttl: Duration::from_secs(30 * 60),
            ..GateSettings::default()
        })
        .build()
        .await;
    let agent = make(&t.gate, "bot", PrincipalKind::Agent, &[]).await;
    let mut users = Vec::new();
    for (name, groups) in USERS {
        users.push(make(&t.gate, name, PrincipalKind::User, groups).await);
    }
    World {
        t,
        agent,
        users,
        rule,
        actions: Vec::new(),
        uses: HashMap::new(),
    }
}

async fn make(gate: &Gate, name: &str, kind: PrincipalKind, groups: &[&str]) -> Identity {
    let request = NewToken {
        name: name.into(),
        kind,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        owner: None,
        ttl: None,
    };
    gate.create_token(&Actor::system(), request).await.unwrap();
    let principal = Principal::new(kind, name);
    gate.live_identity(&principal).await.unwrap().unwrap()
}

fn delete(params: u8) -> ActionRequest {
    ActionRequest {
        kind: "db.delete".into(),
        resource: "postgres/prod/orders".into(),
        environment: "prod".into(),
        params: serde_json::json!({ "order": params }),
        justification: String::new(),
    }
}

impl World {
    fn pick(&self, i: usize) -> Option<ActionId> {
        (!self.actions.is_empty()).then(|| self.actions[i % self.actions.len()].clone())
    }

    fn used(&mut self, approval: &ActionId) -> Result<(), TestCaseError> {
        let n = self.uses.entry(approval.clone()).or_default();
        *n += 1;
        prop_assert!(*n <= 1, "approval {approval} let {n} executions through");
        Ok(())
    }

    async fn run(&mut self, step: Step) -> Result<(), TestCaseError> {
        match step {
            Step::Submit { params } => {
                let ctx = SurfaceContext::named("api");
                let record = self
                    .t
                    .gate
                    .submit(&self.agent, delete(params), ctx)
                    .await
                    .unwrap();
                if let Some(by) = &record.granted_by {
                    prop_assert_eq!(record.status, Status::Allowed);
                    let approval = self.t.gate.get(&self.users[2], by).await.unwrap();
                    prop_assert!(
                        self.rule.met_by(&approval),
                        "passed on {} with fewer approvers than {:?}",
                        by,
                        self.rule
                    );
                    self.used(by)?;
                }
                self.actions.push(record.id);
            }
            Step::Review {
                user,
                action,
                approve,
            } => {
                let Some(id) = self.pick(action) else {
                    return Ok(());
                };
                let decision = if approve {
                    Decision::Approve
                } else {
                    Decision::Reject
                };
                let user = self.users[user].clone();
                if let Ok(record) = self.t.gate.review(&user, &id, decision, "", "api").await
                    && record.status == Status::Approved
                {
                    prop_assert!(self.rule.met_by(&record), "released under {:?}", self.rule);
                }
            }
            Step::Policy { groups, quorum } => {
                self.rule = Rule::from(groups, quorum);
                let file = self
                    .t
                    .policy_dir()
                    .join(holdpoint_gate::testing::POLICY_FILE);
                std::fs::write(file, self.rule.cedar()).unwrap();
                self.t.policy.reload().unwrap();
            }
            Step::Read { action } => {
                let Some(id) = self.pick(action) else {
                    return Ok(());
                };
                let answer = self
                    .t
                    .gate
                    .wait(&self.agent, &id, Duration::ZERO)
                    .await
                    .unwrap();
                if answer.proceed && answer.record.status == Status::Approved {
                    self.used(&id)?;
                }
            }
            Step::Advance { minutes } => self.t.clock.advance(Duration::from_secs(minutes * 60)),
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn no_approval_passes_short_of_current_policy_or_is_used_twice(
        steps in prop::collection::vec(step(), 5..30)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut world = world().await;
            for step in steps {
                world.run(step).await?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
