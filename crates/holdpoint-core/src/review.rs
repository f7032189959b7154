//! Reviews and the rules that never bend (DESIGN §2.2–2.5), as one pure function.

use crate::Timestamp;
use crate::action::{ActionRecord, Hold, Status};
use crate::principal::Identity;
use crate::principal::{Principal, same_name};
use crate::verdict::Requirement;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
}

/// One human's approve or reject, with the groups they had when they gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Review {
    pub reviewer: Principal,
    pub decision: Decision,
    pub comment: String,
    /// `api`, `cli`, `slack`, `teams`, `web`.
    pub channel: String,
    pub groups: Vec<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Why a review is refused. Each maps to 403, except the last three (409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("agents never review")]
    AgentReviewer,
    #[error("nobody reviews their own request")]
    SelfReview,
    #[error("under @separate the owner of the requesting agent (`{0}`) may not review")]
    OwnerUnderSeparate(String),
    #[error("`{reviewer}` is in none of the approver groups ({groups})")]
    NotAnApprover { reviewer: String, groups: String },
    #[error("`{0}` has already reviewed this action")]
    AlreadyReviewed(String),
    #[error("the action is {0}, not pending")]
    NotPending(Status),
    #[error("the hold expired at {0}")]
    Expired(Timestamp),
}

impl ReviewRefusal {
    /// Refusals that are about the state of the action rather than the reviewer.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ReviewRefusal::AlreadyReviewed(_)
                | ReviewRefusal::NotPending(_)
                | ReviewRefusal::Expired(_)
        )
    }
}

/// Where a hold stands after a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldState {
    /// Still waiting for more approvals.
    Waiting,
    /// Every requirement has its quorum.
    Approved,
    /// One rejection ends a hold.
    Rejected,
}

/// Only humans review (DESIGN §2.2).
pub fn may_review(reviewer: &Principal) -> Result<(), ReviewRefusal> {
    if reviewer.kind.is_human() {
        Ok(())
    } else {
        Err(ReviewRefusal::AgentReviewer)
    }
}

/// Whether `reviewer` may count toward a hold of `requester` (DESIGN §2.2): a human,
/// not the requester, and under `@separate` not the requesting agent's `owner`. The one
/// test both a new review and every later re-check of an approval (a release, a grant,
/// a delivery) apply.
pub fn may_count(
    reviewer: &Principal,
    requester: &Principal,
    owner: Option<&str>,
    separate: bool,
) -> Result<(), ReviewRefusal> {
    may_review(reviewer)?;
    let name = &reviewer.name;
    if requester.kind.is_human() && same_name(&requester.name, name) {
        return Err(ReviewRefusal::SelfReview);
    }
    if separate && owner.is_some_and(|o| same_name(o, name)) {
        return Err(ReviewRefusal::OwnerUnderSeparate(name.clone()));
    }
    Ok(())
}

/// Checks `reviewer` against every rule and returns the hold with the review added and
/// where it now stands. Nothing is changed when a rule refuses.
pub fn apply_review(
    record: &ActionRecord,
    reviewer: &Identity,
    decision: Decision,
    comment: &str,
    channel: &str,
    now: Timestamp,
) -> Result<(Hold, HoldState), ReviewRefusal> {
    may_review(&reviewer.principal)?;
    let hold = match (&record.hold, record.status) {
        (Some(hold), Status::Pending) => hold,
        (_, status) => return Err(ReviewRefusal::NotPending(status)),
    };
    if now >= hold.expires_at {
        return Err(ReviewRefusal::Expired(hold.expires_at));
    }
    let name = &reviewer.principal.name;
    may_count(
        &reviewer.principal,
        &record.principal,
        record.owner.as_deref(),
        hold.separate,
    )?;
    let groups = record.approver_groups();
    if !groups.iter().any(|g| reviewer.in_group(g)) {
        return Err(ReviewRefusal::NotAnApprover {
            reviewer: name.clone(),
            groups: groups.join(", "),
        });
    }
    if hold
        .reviews
        .iter()
        .any(|r| same_name(&r.reviewer.name, name))
    {
        return Err(ReviewRefusal::AlreadyReviewed(name.clone()));
    }
    let mut next = hold.clone();
    next.reviews.push(Review {
        reviewer: reviewer.principal.clone(),
        decision,
        comment: comment.to_string(),
        channel: channel.to_string(),
        groups: reviewer.all_groups(),
        at: now,
    });
    let state = match decision {
        Decision::Reject => HoldState::Rejected,
        Decision::Approve if quorum_met(&next) => HoldState::Approved,
        Decision::Approve => HoldState::Waiting,
    };
    Ok((next, state))
}

/// One human's approval, with the groups that count for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub reviewer: String,
    pub groups: Vec<String>,
}

/// The approvals of a hold, with the groups each reviewer had when they approved.
pub fn approvals(hold: &Hold) -> Vec<Approval> {
    hold.reviews
        .iter()
        .filter(|r| r.decision == Decision::Approve)
        .map(|r| Approval {
            reviewer: r.reviewer.name.to_ascii_lowercase(),
            groups: r.groups.clone(),
        })
        .collect()
}

/// True when the hold's approvals meet every requirement (see [`requirements_met`]).
pub fn quorum_met(hold: &Hold) -> bool {
    requirements_met(&hold.requirements, &approvals(hold))
}

/// True when every requirement has `quorum` distinct humans from its groups, and no
/// human counts toward two requirements (DESIGN §2.2): stacked requirements mean
/// distinct people. A human in several groups of one requirement counts once.
///
/// It is a matching of people to seats (one seat per unit of quorum), found with
/// augmenting paths, so the answer never depends on the order of the reviews.
pub fn requirements_met(requirements: &[Requirement], approvals: &[Approval]) -> bool {
    let mut people: Vec<&Approval> = Vec::with_capacity(approvals.len());
    for a in approvals {
        if !people
            .iter()
            .any(|p| p.reviewer.eq_ignore_ascii_case(&a.reviewer))
        {
            people.push(a);
        }
    }
    let seats_wanted: u64 = requirements
        .iter()
        .map(|r| u64::from(r.quorum.max(1)))
        .sum();
    if seats_wanted > people.len() as u64 {
        return false;
    }
    // INVARIANT: seats_wanted <= people.len(), so this is small.
    let seats: Vec<&Requirement> = requirements
        .iter()
        .flat_map(|r| std::iter::repeat_n(r, r.quorum.max(1) as usize))
        .collect();
    let mut seat_of: Vec<Option<usize>> = vec![None; people.len()];
    (0..seats.len()).all(|seat| {
        let mut seen = vec![false; people.len()];
        seat_someone(seat, &seats, &people, &mut seat_of, &mut seen)
    })
}

fn seat_someone(
    seat: usize,
    seats: &[&Requirement],
    people: &[&Approval],
    seat_of: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    let Some(requirement) = seats.get(seat) else {
        return false;
    };
    for (person, approval) in people.iter().enumerate() {
        let qualifies = approval
            .groups
            .iter()
            .any(|g| requirement.approvers.contains(g));
        if !qualifies || seen.get(person).copied().unwrap_or(true) {
            continue;
        }
        if let Some(s) = seen.get_mut(person) {
            *s = true;
        }
        let current = seat_of.get(person).copied().flatten();
        let free = match current {
            None => true,
            Some(other) => seat_someone(other, seats, people, seat_of, seen),
        };
        if free {
            if let Some(slot) = seat_of.get_mut(person) {
                *slot = Some(seat);
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(approvers: &[&str], quorum: u32) -> Requirement {
        Requirement {
            policy: "p".into(),
            approvers: approvers.iter().map(|s| s.to_string()).collect(),
            quorum,
        }
    }

    fn human(name: &str, groups: &[&str]) -> Approval {
        Approval {
            reviewer: name.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn one_human_never_fills_two_stacked_requirements() {
        let reqs = [req(&["dba"], 1), req(&["security"], 1)];
        assert!(!requirements_met(
            &reqs,
            &[human("alice", &["dba", "security"])]
        ));
        assert!(requirements_met(
            &reqs,
            &[human("alice", &["dba", "security"]), human("bob", &["dba"])]
        ));
    }

    #[test]
    fn the_matching_does_not_depend_on_review_order() {
        // alice could fill either seat; bob only dba. A greedy pass that seats alice
        // on dba first would wrongly fail.
        let reqs = [req(&["dba"], 1), req(&["security"], 1)];
        let alice = human("alice", &["dba", "security"]);
        let bob = human("bob", &["dba"]);
        assert!(requirements_met(&reqs, &[alice.clone(), bob.clone()]));
        assert!(requirements_met(&reqs, &[bob, alice]));
    }

    #[test]
    fn a_name_counts_once_whatever_its_case() {
        let reqs = [req(&["sre"], 2)];
        assert!(!requirements_met(
            &reqs,
            &[human("carol", &["sre"]), human("Carol", &["sre"])]
        ));
    }

    #[test]
    fn a_huge_quorum_is_simply_unmet() {
        let reqs = [req(&["sre"], u32::MAX)];
        assert!(!requirements_met(&reqs, &[human("carol", &["sre"])]));
    }
}
