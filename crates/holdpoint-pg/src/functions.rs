//! Function calls. A few functions have a fixed kind here, whatever the catalog says
//! (`pg_read_file` exports, `pg_terminate_backend` is admin, `set_config('role', …)` is a
//! privilege change). Every other call is `db.read` only when PostgreSQL itself says
//! the function is read-only: every function of that name is IMMUTABLE or STABLE and
//! none is SECURITY DEFINER ([`FunctionInfo`], looked up by `catalog.rs`). Otherwise it
//! is at least `db.write`, and `db.privilege` for a SECURITY DEFINER one.

use crate::classify::first_string;
use crate::kind::Kind;
use crate::settings::setting_kind;
use serde_json::Value;

/// One call, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionCall {
    pub schema: Option<String>,
    pub name: String,
    /// The first argument, when it is a string constant.
    pub first: Option<String>,
}

/// What the catalog says about every function of one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionInfo {
    /// At least one function has the name.
    pub exists: bool,
    /// Every one of them is IMMUTABLE or STABLE, and a function (not a procedure).
    pub read_only: bool,
    /// One of them is SECURITY DEFINER.
    pub security_definer: bool,
}

impl FunctionInfo {
    pub fn kind(self) -> Kind {
        if self.security_definer {
            Kind::Privilege
        } else if self.exists && self.read_only {
            Kind::Read
        } else {
            Kind::Write
        }
    }
}

pub(crate) fn call(mut names: Vec<String>, args: Option<&Value>) -> FunctionCall {
    let name = names.pop().unwrap_or_default();
    FunctionCall {
        schema: names.pop(),
        name,
        first: first_string(args),
    }
}

/// Reading server files, or writing them.
const EXPORTS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_ls_dir",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_ls_archive_statusdir",
    "pg_ls_logicalsnapdir",
    "pg_ls_logicalmapdir",
    "pg_ls_replslotdir",
    "lo_export",
    "lo_import",
    "pg_file_read",
];

/// Dangerous functions, maintained by hand.
const ADMIN: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_slot_advance",
    "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_replication_origin_create",
    "pg_replication_origin_drop",
    "pg_log_backend_memory_contexts",
    "pg_file_write",
    "pg_file_rename",
    "pg_file_unlink",
    "pg_file_sync",
    "pg_logdir_ls",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
    "dblink_open",
    "dblink_fetch",
    "pg_import_system_collations",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_reset_single_function_counters",
    "pg_stat_reset_slru",
    "pg_stat_statements_reset",
];

/// Functions that run SQL given as text, which holdpoint cannot judge.
const RUN_SQL_TEXT: &[&str] = &[
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "cursor_to_xmlschema",
    "table_to_xml",
    "table_to_xmlschema",
    "table_to_xml_and_xmlschema",
    "schema_to_xml",
    "schema_to_xmlschema",
    "schema_to_xml_and_xmlschema",
    "database_to_xml",
    "database_to_xmlschema",
    "database_to_xml_and_xmlschema",
    // Core text search: the statistics of a query's tsvectors, a rewrite by a query.
    "ts_stat",
    "ts_rewrite",
    // tablefunc (STABLE by the catalog, and reading whatever its query text names).
    "crosstab",
    "crosstab2",
    "crosstab3",
    "crosstab4",
    "connectby",
    // xml2.
    "xpath_table",
];

/// VOLATILE by the catalog, yet they change nothing.
const HARMLESS: &[&str] = &[
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
];

/// True for pg_catalog's `name`, VOLATILE by the catalog yet changing nothing.
pub fn harmless_in_pg_catalog(schema: &str, name: &str) -> bool {
    schema == "pg_catalog" && HARMLESS.contains(&name.to_ascii_lowercase().as_str())
}

impl FunctionCall {
    /// `schema.name` or `name`.
    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// True for a function of holdpoint's lists, which are checked in `pg_catalog`
    /// and everywhere else alike.
    fn is(&self, list: &[&str]) -> bool {
        list.contains(&self.name.to_ascii_lowercase().as_str())
    }

    /// The kind of a call on holdpoint's lists; `None` when the catalog must tell.
    pub fn fixed_kind(&self, notes: &mut Vec<String>) -> Option<Kind> {
        if self.is(&["set_config"]) {
            return Some(match &self.first {
                Some(name) => setting_kind(name, None, notes).max(Kind::Write),
                None => Kind::Privilege,
            });
        }
        if self.is(EXPORTS) {
            return Some(Kind::Export);
        }
        if self.is(ADMIN) {
            return Some(Kind::Admin);
        }
        if self.is(RUN_SQL_TEXT) {
            notes.push(format!("{} runs SQL given as text", self.name));
            return Some(Kind::Unknown);
        }
        // Named without a schema, the call may reach a function of the same name
        // earlier in the search path (which the agent sets): the catalog tells, and
        // counts only pg_catalog's own as harmless.
        if self.is(HARMLESS) && self.schema.as_deref() == Some("pg_catalog") {
            return Some(Kind::Read);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_answers_map_to_kinds() {
        let info = |exists, read_only, security_definer| FunctionInfo {
            exists,
            read_only,
            security_definer,
        };
        assert_eq!(info(true, true, false).kind(), Kind::Read);
        assert_eq!(info(true, false, false).kind(), Kind::Write);
        assert_eq!(info(false, false, false).kind(), Kind::Write);
        assert_eq!(info(true, true, true).kind(), Kind::Privilege);
    }
}
