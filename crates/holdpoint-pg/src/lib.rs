//! # holdpoint-pg: the PostgreSQL surface
//!
//! A wire-protocol proxy: agents connect with any PostgreSQL client, their holdpoint
//! token as the password; holdpoint logs in upstream with credentials the agent never
//! sees, judges every statement, and relays the rest as bytes. A tour:
//! - `config.rs`: the `[[postgres]]` section of `holdpoint.toml`, checked at load and
//!   resolved with the upstream URL read from the variable it names.
//! - `listener.rs`: [`Listener`], one `[[postgres]]` entry, and its accept loop;
//!   `running.rs`: a gateway's listeners, bound, then each on a thread of its own.
//! - `startup.rs`: the client's startup (TLS, cancel requests, the token as password);
//!   `connect.rs`: what is refused before a session starts, the upstream login
//!   (`upstream.rs`: cleartext, MD5, SCRAM-SHA-256, over TCP or a Unix socket,
//!   `server_stream.rs`) and the greeting.
//! - `session.rs`: the client's messages: each Query judged, the rest relayed;
//!   `extended.rs`: Parse classified, Bind tied to its statement, Execute judged with
//!   the bound values.
//! - `pump.rs`: the server's answers, matched in order to what was sent, so refused
//!   Parses are put back and each result's rows are masked; `origins.rs`: where each
//!   result column comes from, asked of the server when no one described it.
//! - `classify.rs`: [`classify`] reads SQL with PostgreSQL's own parser (`pg_query`) and
//!   walks the whole tree: kinds ([`Kind`]), tables, functions, unbounded writes;
//!   `shapes.rs`: statements that differ only in literals share one classification;
//!   `functions.rs` and `catalog.rs`: whether a function is read-only, from the catalog
//!   (`catalog/more.rs`: functions called in column notation, settings' contexts);
//!   `settings.rs`: what changing a setting is; `grammar.rs`: syntax the server, older
//!   than the parser, reads as function calls.
//! - `resolve.rs`: what the session and the catalog tell of a message's statements
//!   (prepared statements at EXECUTE, the server's grammar, calls, settings);
//!   `judge.rs`: a message as one action with a part per kind and table; `hold.rs`:
//!   allowed at once (an allowed shape reused while no policy reads values), or
//!   submitted, and a hold waited for on the open connection; `params.rs`: bound values
//!   as reviewers see them; `tls.rs`: the listener's certificate.
//! - `refusal.rs`: a refusal raised by the server itself, in its own order.
//! - `results.rs`: masking result columns; `lineage.rs`: a masked table's inheritance
//!   family and the statistics catalogs; `withhold.rs`: the server's errors, notices
//!   and notifications on a masked listener; `reading.rs`: server settings that change
//!   how SQL is read, refused at login and during the session; `summary.rs`: allowed
//!   statements summarised in the audit log; `cancel.rs`: cancel requests; `wire.rs`:
//!   message framing; `targets.rs`: result columns that name no column (`count(*)`).

mod cancel;
mod catalog;
pub mod classify;
pub mod config;
mod connect;
mod extended;
pub mod functions;
pub mod grammar;
mod hold;
mod judge;
mod kind;
mod lineage;
mod listener;
mod origins;
mod params;
mod pump;
mod reading;
mod refusal;
mod resolve;
pub mod results;
mod running;
mod server_stream;
mod session;
mod settings;
mod shapes;
mod startup;
mod summary;
mod targets;
mod tls;
mod upstream;
mod wire;
mod withhold;

pub use catalog::CatalogError;
pub use classify::{Statement, classify};
pub use functions::{FunctionCall, FunctionInfo};
pub use judge::SURFACE;
pub use kind::Kind;
pub use listener::{Listener, ListenerConfig, ListenerError};
pub use results::MaskRulesError;
pub use running::{Running, Sockets, StartError, start};
pub use tls::{TlsError, acceptor as tls_acceptor};
pub use upstream::{UpstreamTarget, UpstreamUrlError};
