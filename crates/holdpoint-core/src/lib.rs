//! # holdpoint-core: the words of the product as types
//!
//! Nothing here does I/O. Every other crate points inward to this one.
//!
//! A tour, in the order an action lives through:
//! - [`principal`]: who acts (`agent`, `user`, `admin`) and the identity a token gives.
//! - [`action`]: what an agent asks to do ([`ActionRequest`]), how it is stored
//!   ([`ActionRecord`]) and its [`Status`].
//! - [`digest`]: the `sha256:` digest an approval is bound to (RFC 8785 canonical JSON),
//!   covering the surface and the pin (an MCP tool's fingerprint).
//! - [`verdict`]: the policy outcome and the requirements of a hold.
//! - [`review`]: the review rules of DESIGN §2 as one pure function.
//! - [`audit`]: audit events and the hash chain, with its verifier.
//! - [`store`], [`clock`], [`mask`]: the traits the gate is built on; [`outbox`]: what
//!   reviewer channels are told, queued with each change.
//! - [`review_request`]: the masked view of a held action every channel renders, with the
//!   surface's notes for reviewers (`context.notes`).
//! - [`tool_call`]: an MCP `tools/call` as an action (for the MCP proxy and the hook).
//! - [`token`], [`session`]: bearer tokens (stored hashed), web inbox sessions (keyed by
//!   the SHA-256 of their id) and the identities a provider vouched for.
//! - [`duration`]: `15m`, `30d` and friends.
//! - [`env`]: the process environment behind a trait, and the check that a config key
//!   ending in `_env` holds a variable's name, not the secret.
//! - [`text`]: agent-controlled text made inert for terminals.

pub mod action;
pub mod audit;
pub mod clock;
pub mod digest;
pub mod duration;
pub mod env;
pub mod mask;
pub mod outbox;
pub mod principal;
pub mod review;
pub mod review_request;
pub mod session;
pub mod store;
pub mod text;
pub mod token;
pub mod tool_call;
pub mod verdict;

pub use action::{ActionId, ActionRecord, ActionRequest, Hold, Status, TransitionError};
pub use audit::{Actor, AuditEvent, EventType, NewEvent, SealedEvent};
pub use clock::{Clock, ManualClock, SystemClock};
pub use principal::{Identity, Principal, PrincipalKind};
pub use review::{Decision, Review};
pub use session::{SessionRecord, SessionVia, VouchRecord};
pub use store::{Change, Op, Store, StoreError};
pub use token::TokenRecord;
pub use verdict::{Evaluation, HoldTerms, Outcome, Requirement, Verdict};

/// Time as holdpoint records it: UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
