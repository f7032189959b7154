//! # holdpoint-pg: the PostgreSQL surface
//!
//! A wire-protocol proxy: agents connect with any PostgreSQL client, their holdpoint
//! token as the password; holdpoint logs in upstream with credentials the agent never
//! sees, judges every statement, and relays the rest untouched. A tour:
//! - `kind.rs`: [`Kind`], the database action kinds from `db.transaction` to `db.unknown`.
//! - `classify.rs`: [`classify`] reads SQL with PostgreSQL's own parser (`pg_query`) and
//!   walks the whole tree: kinds, tables, functions, unbounded writes.
//! - `functions.rs`: functions with a fixed kind, and how the catalog decides the rest.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod classify;
pub mod functions;
mod kind;

pub use classify::{Statement, classify};
pub use functions::{FunctionCall, FunctionInfo};
pub use kind::Kind;
