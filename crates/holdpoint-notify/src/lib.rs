//! # holdpoint-notify: what reviewers are shown
//!
//! Every channel (Slack, Teams, webhooks, the web inbox) builds its message from one
//! [`ReviewRequest`], and a `ReviewRequest` can only be built through a
//! [`Masker`](holdpoint_core::mask::Masker): params, justification, title, reasons and
//! comments are masked before any of them can leave the gate (DESIGN §2.7). The digest of
//! the unmasked action stays, so the exact action can still be proven.
//!
//! - [`ReviewRequest`] (in core, so the gate that queues it need not know this crate):
//!   its fields and a plain-text rendering.
//! - `deliver.rs`: the outbox's delivery [`Worker`] and the [`Channel`] trait each
//!   channel crate implements: retries with backoff, `Retry-After`, resumed after a
//!   restart.

mod deliver;

pub use deliver::{Channel, DeliveryError, MAX_BACKOFF, Worker, backoff, retry_after};
pub use holdpoint_core::review_request::{ReviewLine, ReviewRequest};
