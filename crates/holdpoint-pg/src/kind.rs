//! The kinds of database action, ordered from least to most privileged: a message is
//! judged by all of its parts, and headed by its most privileged one.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, …
    Transaction,
    /// SELECT, SHOW, EXPLAIN without ANALYZE, ordinary SET, …
    Read,
    /// INSERT, UPDATE, DELETE, MERGE, SELECT … FOR UPDATE, COPY … FROM STDIN, calls of
    /// functions not known to be read-only.
    Write,
    /// CREATE, ALTER, DROP, COMMENT, …
    Ddl,
    /// COPY … TO, `lo_export`, `pg_read_file` and the other file functions.
    Export,
    /// TRUNCATE, VACUUM, ALTER SYSTEM, `pg_terminate_backend`, `dblink_exec`, …
    Admin,
    /// GRANT, REVOKE, roles, SET ROLE, SET SESSION AUTHORIZATION, SECURITY DEFINER.
    Privilege,
    /// Anything holdpoint does not understand.
    Unknown,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Transaction,
        Kind::Read,
        Kind::Write,
        Kind::Ddl,
        Kind::Export,
        Kind::Admin,
        Kind::Privilege,
        Kind::Unknown,
    ];

    /// The action kind: `db.read`, `db.ddl`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Transaction => "db.transaction",
            Kind::Read => "db.read",
            Kind::Write => "db.write",
            Kind::Ddl => "db.ddl",
            Kind::Export => "db.export",
            Kind::Admin => "db.admin",
            Kind::Privilege => "db.privilege",
            Kind::Unknown => "db.unknown",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
