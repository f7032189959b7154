//! Configuration parameters (SET, SET LOCAL, RESET, `set_config`, `ALTER ROLE/DATABASE
//! … SET`, a function's `SET` clause): what changing one is.
//!
//! - `role` and `session_authorization` change who runs the statements: `db.privilege`.
//! - Settings that change how the server reads SQL, and a client encoding other than
//!   UTF8, would make what holdpoint parsed differ from what runs: `db.unknown`.
//! - Settings only a superuser may change (GUC context `superuser`, or fixed at
//!   connection start: `superuser-backend`, `backend`; the rest cannot be SET at all):
//!   logging, auditing, statistics, planner safety nets. `db.admin`, from the fixed list
//!   here for PostgreSQL's own, every name of an auditing or security extension's prefix
//!   (`pgaudit.log`), and for any other name not known to be an ordinary user setting,
//!   from `pg_settings.context` in the catalog at judging time ([`needs_catalog`]); an
//!   unregistered `prefix.name` of an extension the server has is `db.admin` too (the
//!   library may register it later with any context).
//! - Transaction characteristics: `db.transaction`. The rest: `db.read`.

use crate::kind::Kind;

/// Superuser-only settings of PostgreSQL 14–18 (context `superuser`,
/// `superuser-backend` or `backend`).
const SUPERUSER: &[&str] = &[
    "allow_in_place_tablespaces",
    "allow_system_table_mods",
    "allow_system_table_modifications",
    "backtrace_functions",
    "commit_delay",
    "compute_query_id",
    "deadlock_timeout",
    "debug_discard_caches",
    "dynamic_library_path",
    "event_triggers",
    "ignore_checksum_failure",
    "ignore_invalid_pages",
    "ignore_system_indexes",
    "jit_debugging_support",
    "jit_dump_bitcode",
    "jit_profiling_support",
    "lc_messages",
    "lo_compat_privileges",
    "log_connections",
    "log_disconnections",
    "log_duration",
    "log_error_verbosity",
    "log_executor_stats",
    "log_lock_failures",
    "log_lock_waits",
    "log_min_duration_sample",
    "log_min_duration_statement",
    "log_min_error_statement",
    "log_min_messages",
    "log_parameter_max_length",
    "log_parser_stats",
    "log_planner_stats",
    "log_replication_commands",
    "log_statement",
    "log_statement_sample_rate",
    "log_statement_stats",
    "log_temp_files",
    "log_transaction_sample_rate",
    "max_stack_depth",
    "post_auth_delay",
    "session_preload_libraries",
    "session_replication_role",
    "temp_file_limit",
    "track_activities",
    "track_cost_delay_timing",
    "track_counts",
    "track_functions",
    "track_io_timing",
    "track_wal_io_timing",
    "update_process_title",
    "wal_compression",
    "wal_consistency_checking",
    "wal_init_zero",
    "wal_recycle",
    "zero_damaged_pages",
];

/// Prefixes of extensions whose settings audit, mask or guard: every setting of
/// theirs is `db.admin`, loaded or not.
const GUARDING_PREFIXES: &[&str] = &[
    "pgaudit",
    "pgauditlogtofile",
    "anon",
    "pgsodium",
    "sepgsql",
    "auto_explain",
    "pg_stat_statements",
    "pg_stat_monitor",
    "set_user",
    "credcheck",
    "passwordcheck",
    "cron",
    "pglogical",
    "supautils",
    // Procedural languages' start-up code, run as whoever loads the language.
    "plperl",
    "plv8",
    "pltcl",
    "pltclu",
];

/// Ordinary settings (context `user`) clients and drivers set all the time: judged
/// without asking the catalog.
const ORDINARY: &[&str] = &[
    "application_name",
    "bytea_output",
    "client_min_messages",
    "datestyle",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "extra_float_digits",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
    "intervalstyle",
    "jit",
    "lock_timeout",
    "plpgsql.check_asserts",
    "plpgsql.extra_errors",
    "plpgsql.extra_warnings",
    "plpgsql.print_strict_params",
    "plpgsql.variable_conflict",
    "maintenance_work_mem",
    "random_page_cost",
    "row_security",
    "search_path",
    "statement_timeout",
    "timezone",
    "transaction_isolation",
    "transaction_read_only",
    "transaction_timeout",
    "work_mem",
    "xmloption",
];

/// The kind of changing the configuration parameter `name` (to `value`, when known),
/// as far as holdpoint's lists tell; [`needs_catalog`] says whether the catalog may make
/// it `db.admin`.
pub(crate) fn setting_kind(name: &str, value: Option<&str>, notes: &mut Vec<String>) -> Kind {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "role" | "session_authorization" => Kind::Privilege,
        // These change how the server reads SQL, so what holdpoint parsed would no
        // longer be what runs.
        "standard_conforming_strings" | "backslash_quote" => {
            notes.push(format!(
                "setting {name} would change how the server reads SQL"
            ));
            Kind::Unknown
        }
        "client_encoding" | "names"
            if !value.is_some_and(|v| {
                matches!(
                    v.to_ascii_lowercase().replace(['-', '_'], "").as_str(),
                    "utf8" | "unicode"
                )
            }) =>
        {
            notes.push("only UTF8 is allowed as client_encoding".into());
            Kind::Unknown
        }
        "search_path" if value.is_some_and(shadows_pg_catalog) => {
            notes.push(
                "a search_path with a schema before pg_catalog lets that schema's operators, \
                 types and functions stand in for the built-in ones"
                    .into(),
            );
            Kind::Unknown
        }
        "transaction" | "session characteristics" => Kind::Transaction,
        other if SUPERUSER.contains(&other) || guarded(other) => Kind::Admin,
        _ => Kind::Read,
    }
}

/// True when the search path `value` (schemas separated by commas, as SET or a startup
/// parameter gives it) names a schema before `pg_catalog`. PostgreSQL searches
/// pg_catalog first unless the path names it; named later, a schema before it can
/// shadow `+`, `=`, casts and built-in functions with objects of its own, which
/// holdpoint does not look up (operators) or looks up by name only.
pub(crate) fn shadows_pg_catalog(value: &str) -> bool {
    let schemas: Vec<String> = value
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    schemas
        .iter()
        .position(|s| s == "pg_catalog")
        .is_some_and(|at| at > 0)
}

/// Whether a setting of an extension that audits or guards.
fn guarded(lower: &str) -> bool {
    lower
        .split_once('.')
        .is_some_and(|(prefix, _)| GUARDING_PREFIXES.contains(&prefix))
}

/// Whether only `pg_settings.context` can tell if changing `name` is `db.admin`: a name
/// neither on holdpoint's lists nor one it decides itself. (`RESET ALL` names none.)
pub(crate) fn needs_catalog(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !(lower.is_empty()
        || ORDINARY.contains(&lower.as_str())
        || SUPERUSER.contains(&lower.as_str())
        || guarded(&lower)
        || lower.starts_with("enable_")
        || matches!(
            lower.as_str(),
            "role"
                | "session_authorization"
                | "standard_conforming_strings"
                | "backslash_quote"
                | "client_encoding"
                | "names"
                | "transaction"
                | "session characteristics"
        ))
}

/// The kind of a setting whose GUC context the catalog reported (`None`: no such
/// setting is registered, a placeholder of the user's own).
pub(crate) fn context_kind(context: Option<&str>) -> Option<Kind> {
    match context {
        Some("user") | None => None,
        Some(_) => Some(Kind::Admin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_path_with_a_schema_before_pg_catalog_is_unknown() {
        for path in [
            "evil,pg_catalog",
            "evil, \"pg_catalog\"",
            " public , PG_CATALOG",
        ] {
            assert!(shadows_pg_catalog(path), "{path}");
            let mut notes = Vec::new();
            assert_eq!(
                setting_kind("search_path", Some(path), &mut notes),
                Kind::Unknown
            );
        }
        for path in [
            "",
            "public",
            "pg_catalog, evil",
            "evil, public",
            "\"$user\", public",
        ] {
            assert!(!shadows_pg_catalog(path), "{path}");
        }
    }

    #[test]
    fn superuser_settings_are_admin_and_the_rest_ask_the_catalog() {
        let mut notes = Vec::new();
        for name in [
            "log_statement",
            "LOG_STATEMENT",
            "pgaudit.log",
            "Anon.masking",
        ] {
            assert_eq!(setting_kind(name, None, &mut notes), Kind::Admin, "{name}");
            assert!(!needs_catalog(name), "{name}");
        }
        for name in [
            "search_path",
            "enable_seqscan",
            "role",
            "",
            "names",
            "plpgsql.extra_warnings",
        ] {
            assert!(!needs_catalog(name), "{name}");
        }
        for name in ["myapp.user_id", "geqo", "pg_trgm.similarity_threshold"] {
            assert_eq!(setting_kind(name, None, &mut notes), Kind::Read, "{name}");
            assert!(needs_catalog(name), "{name}");
        }
        assert_eq!(context_kind(Some("superuser")), Some(Kind::Admin));
        assert_eq!(context_kind(Some("sighup")), Some(Kind::Admin));
        assert_eq!(context_kind(Some("extension")), Some(Kind::Admin));
        assert_eq!(context_kind(Some("user")), None);
        assert_eq!(context_kind(None), None);
    }
}
