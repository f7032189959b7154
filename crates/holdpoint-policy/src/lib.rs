//! # holdpoint-policy: Cedar policies, read as allow, deny or hold
//!
//! Policies are Cedar files in a directory; annotations on them (`@hold`, `@approvers`,
//! `@quorum`, `@expires`, `@separate`, `@grant`, `@reason`, `@id`) turn Cedar's permit
//! into "permit after approval" (DESIGN §3).
//!
//! A tour, in the order a policy lives through:
//! - `load`: [`read_dir`] reads every `*.cedar` file (and `schema.cedarschema`);
//!   [`load_dir`] compiles them.
//! - `parse`: one file → its policies with their first lines; syntax errors name file
//!   and line.
//! - `annotations`: each policy's id (`@id`, else `file:line`) and hold terms, checked
//!   at compile time.
//! - `schema`: strict validation when the directory has a schema.
//! - [`PolicySet`] (`set`): the compiled set; [`PolicySet::compile`] ties the above.
//! - `entities` and `context`: one action → Cedar request and entity store, built in
//!   Rust (principal and groups, dotted action parents, slash resource parents).
//! - `scope`: per-kind subsets of the set, so a decision checks only the policies whose
//!   action scope can match (equivalent, and far faster on large sets).
//! - `evaluate`: Cedar's answer → [`holdpoint_core::Evaluation`]; fails closed.
//! - [`PolicyEngine`] (`engine`): the set in force, swapped on reload; `watch` reloads on
//!   file changes ([`PolicyWatcher`]).
//! - `starter`: the embedded starter policies ([`starter_sources`]) and
//!   [`write_starter`] for `holdpoint init`.
//! - `builtin/tokens.cedar`: token rules added to a set that names no `token` action.
//! - `values.rs`: whether a policy reads an action's values (params, justification,
//!   statement text) or only its shape, so a surface knows when an allow can be reused.
//! - [`PolicyError`]: everything that can be refused, by file and line.

mod annotations;
mod context;
mod engine;
mod entities;
mod error;
mod evaluate;
mod load;
mod parse;
mod schema;
mod scope;
mod set;
mod starter;
mod values;
mod watch;

pub use engine::PolicyEngine;
pub use error::PolicyError;
pub use load::{load_dir, read_dir};
pub use set::PolicySet;
pub use starter::{starter_sources, write_starter};
pub use watch::PolicyWatcher;

use holdpoint_core::Principal;
use std::time::Duration;

/// Hold terms used where a holding permit does not say: `[approvals]` of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldDefaults {
    /// Groups asked when a hold has no `@approvers`.
    pub approvers: Vec<String>,
    /// How long a hold waits when it has no `@expires`.
    pub expiry: Duration,
    /// The longest `@expires` or `@grant` a policy may ask for; longer ones are refused
    /// at load, with file and line.
    pub max_duration: Duration,
}

/// The default bound on `@expires` and `@grant`: 30 days.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// One policy file's text. `file` is the name shown in errors, e.g. `10-holds.cedar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    pub file: String,
    pub text: String,
}

/// Everything policy sees of one action.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    pub principal: &'a Principal,
    /// Every group of the principal, the implicit one (`agents`, `users`, `admins`)
    /// included: see [`holdpoint_core::Identity::all_groups`]. (The implicit group is
    /// added anyway if missing, so a `forbid` on `Group::"agents"` cannot be skipped.)
    pub groups: &'a [String],
    /// Dotted kind, e.g. `db.ddl`.
    pub kind: &'a str,
    /// Slash path, e.g. `postgres/prod/customers`.
    pub resource: &'a str,
    pub environment: &'a str,
    pub justification: &'a str,
    /// `api`, `mcp`, `pg`, `hook`, `cli`.
    pub surface: &'a str,
    /// A JSON object; becomes `context.params`.
    pub params: &'a serde_json::Value,
    /// What the surface knows, merged at the top level of `context`, e.g.
    /// `{"sql": {"kinds": [...], "tables": [...], "unbounded": true}}`.
    pub extra: Option<&'a serde_json::Map<String, serde_json::Value>>,
}
