//! Actions: what an agent asks to do, and the record the gate keeps of it.

use crate::Timestamp;
use crate::principal::Principal;
use crate::review::Review;
use crate::verdict::{Requirement, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use utoipa::ToSchema;

/// Longest accepted `kind`, `resource` or `environment`.
pub const MAX_NAME_LEN: usize = 256;
/// Longest accepted justification.
pub const MAX_JUSTIFICATION_LEN: usize = 4096;

/// One concrete operation an agent asks for, as it arrives at a surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionRequest {
    /// Dotted kind, e.g. `db.ddl`, `mcp.call`, `shell.exec`.
    pub kind: String,
    /// Slash path, e.g. `postgres/prod/customers`.
    pub resource: String,
    #[serde(default)]
    pub environment: String,
    /// A JSON object.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub params: Value,
    #[serde(default)]
    pub justification: String,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl ActionRequest {
    /// Checks the shape of every field. The message names the field and the bad value.
    pub fn validate(&self) -> Result<(), String> {
        validate_kind(&self.kind)?;
        validate_resource(&self.resource)?;
        if self.environment.len() > MAX_NAME_LEN
            || !self
                .environment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "bad environment `{}`: use letters, digits, `-`, `_` or `.` (at most {MAX_NAME_LEN})",
                self.environment
            ));
        }
        if !self.params.is_object() {
            return Err("params must be a JSON object".into());
        }
        crate::digest::check_params(&self.params)?;
        if self.justification.len() > MAX_JUSTIFICATION_LEN {
            return Err(format!(
                "justification is {} bytes; at most {MAX_JUSTIFICATION_LEN} are accepted",
                self.justification.len()
            ));
        }
        Ok(())
    }
}

fn is_kind_segment(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@+=".contains(c))
}

/// A kind is dotted segments of letters, digits, `-` and `_`: `db.ddl`, `http.delete`.
pub fn validate_kind(kind: &str) -> Result<(), String> {
    if kind.len() > MAX_NAME_LEN || !kind.split('.').all(is_kind_segment) {
        return Err(format!(
            "bad kind `{kind}`: expected dotted segments of letters, digits, `-` or `_`, like `db.ddl`"
        ));
    }
    Ok(())
}

/// A resource is a slash path without empty, `.` or `..` segments: `postgres/prod/customers`.
pub fn validate_resource(resource: &str) -> Result<(), String> {
    if resource.len() > MAX_NAME_LEN || !resource.split('/').all(is_path_segment) {
        return Err(format!(
            "bad resource `{resource}`: expected a slash path like `postgres/prod/customers`"
        ));
    }
    Ok(())
}

/// `text` as one resource segment: characters a segment allows are kept, every other one
/// becomes `_`; an empty, `.` or `..` segment becomes `_`. Surfaces use it to build a
/// resource from names they do not control (paths, hosts, tool names).
pub fn resource_segment(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.:@+=".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".into(),
        _ => cleaned,
    }
}

/// `text` as one kind segment: letters, digits, `-` and `_` kept, anything else `_`.
pub fn kind_segment(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".into()
    } else {
        cleaned
    }
}

/// Every dotted prefix of a kind, nearest first: `db.ddl.create` → `db.ddl`, `db`.
pub fn kind_parents(kind: &str) -> Vec<&str> {
    kind.char_indices()
        .rev()
        .filter(|(_, c)| *c == '.')
        .map(|(i, _)| &kind[..i])
        .collect()
}

/// Every path prefix of a resource, nearest first: `pg/prod/t` → `pg/prod`, `pg`.
pub fn resource_parents(resource: &str) -> Vec<&str> {
    resource
        .char_indices()
        .rev()
        .filter(|(_, c)| *c == '/')
        .map(|(i, _)| &resource[..i])
        .collect()
}

/// `act_` + a ULID: sortable by creation time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ActionId(pub String);

impl ActionId {
    pub fn new() -> Self {
        ActionId(format!("act_{}", ulid::Ulid::new()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ActionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an action is in its life. `proceed` is true exactly for `allowed` and `approved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Allowed,
    Denied,
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
    Executed,
    Failed,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Allowed,
        Status::Denied,
        Status::Pending,
        Status::Approved,
        Status::Rejected,
        Status::Expired,
        Status::Cancelled,
        Status::Executed,
        Status::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Allowed => "allowed",
            Status::Denied => "denied",
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
            Status::Executed => "executed",
            Status::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The status lets the agent go ahead by itself: only `allowed`. An `approved` action
    /// proceeds only in the one answer that hands its approval over (`Gate::deliver`).
    pub fn proceed(self) -> bool {
        self == Status::Allowed
    }

    /// Still waiting for humans.
    pub fn is_pending(self) -> bool {
        self == Status::Pending
    }

    /// The status machine: whether a stored action may go from `self` to `to`. A hold
    /// ends once (approved, rejected, expired, withdrawn, or denied at its release
    /// re-check); an action the gateway executes ends executed or failed. Staying put is
    /// a revision (a review added, an approval used), for pending and approved actions.
    pub fn may_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (
                Pending,
                Pending | Approved | Rejected | Expired | Cancelled | Denied
            ) | (Approved, Approved)
                | (Allowed | Approved, Executed | Failed)
        )
    }
}

/// A status change the status machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the action is {from}; it cannot become {to}")]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The waiting part of a held action: what it needs and what it has so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Hold {
    pub title: String,
    pub requirements: Vec<Requirement>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub reviews: Vec<Review>,
    /// Under `@separate` the requesting agent's owner may not review.
    #[serde(default)]
    pub separate: bool,
    /// With `@grant`, how long after approval the same principal, kind and resource pass.
    #[serde(default, with = "crate::duration::opt_secs")]
    #[schema(value_type = Option<u64>)]
    pub grant_window: Option<std::time::Duration>,
    /// `@slack_channel`: where Slack asks about this hold, instead of `[slack]`'s channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_channel: Option<String>,
}

/// What the gate keeps of one action. `params` and `resource` are raw (needed to prove,
/// judge again and execute the exact action); only `masked_params` and
/// `masked_resource` ever leave the gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    pub id: ActionId,
    pub status: Status,
    /// Optimistic concurrency: each stored update bumps it by one.
    pub version: i64,
    pub principal: Principal,
    /// The human owner of the requesting agent, if any.
    pub owner: Option<String>,
    pub kind: String,
    pub resource: String,
    pub environment: String,
    pub params: Value,
    pub masked_params: Value,
    /// `resource` masked (`Masker::mask_resource`) when the action was submitted. Empty
    /// on a record stored before resources were masked: [`ActionRecord::shown_resource`]
    /// masks it then.
    #[serde(default)]
    pub masked_resource: String,
    pub justification: String,
    pub digest: String,
    pub surface: String,
    pub verdict: Verdict,
    pub hold: Option<Hold>,
    /// Set on an approved action with `@grant`: until when it opens the window.
    pub grant_until: Option<Timestamp>,
    /// Set when an approved single-use action was used: the id of the resubmission that
    /// used it, or this action's own id when the approval was handed to its requester.
    pub consumed_by: Option<ActionId>,
    /// Set on an allowed action that passed on an earlier approval.
    pub granted_by: Option<ActionId>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    /// Set on an approved single-use action: after this, an unused approval lapses.
    #[serde(default)]
    pub approval_until: Option<Timestamp>,
    /// What the surface knew besides the params (`sql`, `mcp`, …), kept so the release
    /// re-check sees what the first evaluation saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Map<String, Value>>,
    /// True when the surface executes the action itself once it may proceed (tokens,
    /// proxies); false when the client executes it (API, CLI, hooks).
    #[serde(default)]
    pub executed_by_gateway: bool,
}

impl ActionRecord {
    /// The one way a stored action changes: to `to` (its own status for a revision),
    /// with the version bumped once, as [`Status::may_become`] allows. Leaving `pending`
    /// stamps `decided_at`. Nothing changes when the move is refused.
    pub fn advance(&mut self, to: Status, now: Timestamp) -> Result<(), TransitionError> {
        if !self.status.may_become(to) {
            return Err(TransitionError {
                from: self.status,
                to,
            });
        }
        if self.status == Status::Pending && to != Status::Pending {
            self.decided_at = Some(now);
        }
        self.status = to;
        self.version += 1;
        Ok(())
    }

    /// The request this record holds (with its justification as stored, masked), for
    /// judging it again or resubmitting it.
    pub fn request(&self) -> ActionRequest {
        ActionRequest {
            kind: self.kind.clone(),
            resource: self.resource.clone(),
            environment: self.environment.clone(),
            params: self.params.clone(),
            justification: self.justification.clone(),
        }
    }

    /// The resource as it leaves the gate: `masked_resource`, or, on a record stored
    /// before resources were masked, `resource` masked by `masker`.
    pub fn shown_resource(&self, masker: &dyn crate::mask::Masker) -> String {
        if self.masked_resource.is_empty() {
            masker.mask_resource(&self.resource)
        } else {
            self.masked_resource.clone()
        }
    }

    /// `reviewer: comment` for each review with a comment, the comment masked.
    pub fn review_comments(&self, masker: &dyn crate::mask::Masker) -> Vec<String> {
        self.hold
            .iter()
            .flat_map(|h| h.reviews.iter())
            .filter(|r| !r.comment.is_empty())
            .map(|r| format!("{}: {}", r.reviewer.name, masker.mask_text(&r.comment)))
            .collect()
    }

    /// True for an allowed action. An approved action proceeds only in the one answer
    /// that hands its approval over (see `Gate::deliver`), never from the record alone.
    pub fn proceed(&self) -> bool {
        self.status == Status::Allowed
    }

    /// An approved, single-use approval that is neither used nor lapsed at `now`.
    pub fn unused_approval_at(&self, now: Timestamp) -> bool {
        self.status == Status::Approved
            && self.grant_until.is_none()
            && self.consumed_by.is_none()
            && self.approval_until.is_some_and(|until| now < until)
    }

    /// True when `principal` requested this action (names compared case-insensitively).
    pub fn requested_by(&self, principal: &Principal) -> bool {
        self.principal.kind == principal.kind
            && crate::principal::same_name(&self.principal.name, &principal.name)
    }

    /// Groups named by any requirement of the hold.
    pub fn approver_groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = self
            .hold
            .iter()
            .flat_map(|h| h.requirements.iter())
            .flat_map(|r| r.approvers.iter().cloned())
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_every_prefix_nearest_first() {
        assert_eq!(kind_parents("db.ddl.create"), vec!["db.ddl", "db"]);
        assert!(kind_parents("db").is_empty());
        assert_eq!(
            resource_parents("postgres/prod/customers"),
            vec!["postgres/prod", "postgres"]
        );
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut req = ActionRequest {
            kind: "db.ddl".into(),
            resource: "postgres/prod".into(),
            environment: "prod".into(),
            params: serde_json::json!({}),
            justification: String::new(),
        };
        assert!(req.validate().is_ok());
        req.kind = "db..ddl".into();
        assert!(req.validate().unwrap_err().contains("bad kind"));
        req.kind = "db.ddl".into();
        req.resource = "postgres//prod".into();
        assert!(req.validate().unwrap_err().contains("bad resource"));
        req.resource = "postgres/../etc".into();
        assert!(req.validate().is_err());
        req.resource = "postgres/prod".into();
        req.params = serde_json::json!([1]);
        assert!(req.validate().unwrap_err().contains("params"));
    }

    #[test]
    fn the_status_machine_ends_a_hold_once() {
        use Status::*;
        for to in [Approved, Rejected, Expired, Cancelled, Denied, Pending] {
            assert!(Pending.may_become(to), "pending → {to}");
        }
        for from in [
            Allowed, Denied, Rejected, Expired, Cancelled, Executed, Failed,
        ] {
            assert!(!from.may_become(Pending), "{from} → pending");
            assert!(!from.may_become(Approved), "{from} → approved");
        }
        assert!(Allowed.may_become(Executed) && Approved.may_become(Failed));
        assert!(!Rejected.may_become(Executed) && !Executed.may_become(Failed));
    }

    #[test]
    fn proceed_by_status_only_for_allowed() {
        for s in Status::ALL {
            assert_eq!(s.proceed(), s == Status::Allowed);
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
