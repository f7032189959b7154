//! Reviews and the rules that never bend (DESIGN §2.2–2.5), as one pure function.

use crate::Timestamp;
use crate::action::{ActionRecord, Hold, Status};
use crate::principal::Identity;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
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
    if !reviewer.principal.kind.is_human() {
        return Err(ReviewRefusal::AgentReviewer);
    }
    let hold = match (&record.hold, record.status) {
        (Some(hold), Status::Pending) => hold,
        (_, status) => return Err(ReviewRefusal::NotPending(status)),
    };
    if now >= hold.expires_at {
        return Err(ReviewRefusal::Expired(hold.expires_at));
    }
    let name = &reviewer.principal.name;
    if record.principal.kind.is_human() && &record.principal.name == name {
        return Err(ReviewRefusal::SelfReview);
    }
    if hold.separate && record.owner.as_deref() == Some(name.as_str()) {
        return Err(ReviewRefusal::OwnerUnderSeparate(name.clone()));
    }
    let groups = record.approver_groups();
    if !groups.iter().any(|g| reviewer.in_group(g)) {
        return Err(ReviewRefusal::NotAnApprover {
            reviewer: name.clone(),
            groups: groups.join(", "),
        });
    }
    if hold.reviews.iter().any(|r| &r.reviewer.name == name) {
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

/// True when every requirement has `quorum` distinct approving humans from its groups.
/// A human counts once per requirement however many of its groups they are in.
pub fn quorum_met(hold: &Hold) -> bool {
    hold.requirements.iter().all(|req| {
        let approvers: BTreeSet<&str> = hold
            .reviews
            .iter()
            .filter(|r| r.decision == Decision::Approve)
            .filter(|r| r.groups.iter().any(|g| req.approvers.contains(g)))
            .map(|r| r.reviewer.name.as_str())
            .collect();
        approvers.len() as u64 >= u64::from(req.quorum.max(1))
    })
}
