//! # holdpoint-store: actions, tokens, sessions and the audit chain, on SQLite or PostgreSQL
//!
//! [`SqlStore`] implements [`holdpoint_core::Store`] once for both backends. SQLite is the
//! default (one file, WAL, `synchronous=FULL`); PostgreSQL serves several replicas.
//!
//! A tour, in the order a change travels:
//! - `open.rs`: a `[store] url` becomes a pool; in [`OpenMode::Serve`] the schema in
//!   `migrations/` (portable SQL, one set for both backends) is brought up to date.
//! - `store.rs`: [`SqlStore`], the trait implementation; reads go straight to the pool,
//!   writes go to the writer.
//! - `writer.rs`: group commit. One task applies every change, many per transaction, each
//!   in its own savepoint, under the chain lock (`BEGIN IMMEDIATE` on SQLite, an advisory
//!   lock on PostgreSQL), and answers all of them after one commit.
//! - `chain.rs`: reads the chain head and appends events with [`holdpoint_core::AuditEvent::chain`].
//! - `actions.rs`, `tokens.rs`: how records are stored and every query on them.
//! - `sessions.rs`: web inbox sessions (keyed by the SHA-256 of their id, with the caps
//!   applied as a session is inserted) and the identities a provider vouched for, so
//!   both survive a restart and replicas share them.
//! - `outbox.rs`: messages for reviewer channels, queued with their change, and their
//!   delivery attempts.
//! - `audit.rs`: reading events back and verifying the whole chain.
//! - `db.rs`: the two backends behind one small interface, and the only SQL that differs
//!   between them; `error.rs` and `time.rs`: error mapping and microsecond times.
//!
//! Everything a caller sees is [`SqlStore`], [`OpenMode`] and the trait; the modules are
//! private and named here for reading the source.

mod actions;
mod audit;
mod bulk;
mod chain;
mod db;
mod error;
mod fast;
mod open;
mod outbox;
mod sessions;
mod store;
mod time;
mod tokens;
mod writer;

pub use db::WRITER_LOCK_KEY;
pub use open::OpenMode;
pub use store::SqlStore;
