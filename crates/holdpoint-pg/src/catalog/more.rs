//! More questions for the catalog, over the same pool and cache.
//!
//! - Column notation: `t.name` (or `(expr).name`) is a call of `name(t)` when no column
//!   of that name exists and a function of that name takes one argument that a row can
//!   be passed as (a composite type, a domain over one, `record`, `anyelement`,
//!   `"any"` and the other polymorphic types that take a non-array; further arguments
//!   with defaults). The row's own type is not checked: a column named like such a
//!   function is judged as the call too (stricter, never laxer). [`Catalog::notation`] says what every such function is,
//!   or that there is none (`exists` false): then the reference is a column.
//! - Aggregates: `pg_proc` calls every aggregate IMMUTABLE; what it runs is its
//!   support functions, asked of `pg_aggregate`.
//! - Settings: `pg_settings.context` of a configuration parameter, or whether an
//!   unregistered `prefix.name` belongs to an extension the server has.

use super::{Catalog, CatalogError};
use crate::functions::{FunctionCall, FunctionInfo};
use std::collections::BTreeMap;

/// The cache key's schema for column-notation answers: no schema is named with a NUL,
/// so these never meet an ordinary call's answer.
const NOTATION: &str = "\0column notation";
/// The cache key's schema prefix for aggregates' support functions.
const AGGREGATE: &str = "\0aggregate ";

impl Catalog {
    /// For each of `names`, what the catalog says of the functions a column-notation
    /// reference of that name could call.
    pub async fn notation(
        &self,
        names: &[String],
    ) -> Result<Vec<(String, FunctionInfo)>, CatalogError> {
        let key = |name: &str| (Some(NOTATION.to_string()), name.to_string());
        let mut found = BTreeMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.functions.lock().map_err(|_| CatalogError::Poisoned)?;
            for name in names {
                match cache.get(&key(name)) {
                    Some(info) => {
                        found.insert(name.clone(), info);
                    }
                    None => missing.push(name.clone()),
                }
            }
        }
        if !missing.is_empty() {
            let rows: Vec<(String, String, bool, String, String)> = sqlx::query_as(
                "SELECT p.proname::text, p.provolatile::text, p.prosecdef, p.prokind::text, \
                        coalesce(array_to_string(p.proconfig, chr(10)), '') \
                 FROM pg_catalog.pg_proc p \
                 WHERE p.proname = ANY($1::text[]) AND p.pronargs >= 1 \
                   AND p.pronargs - p.pronargdefaults <= 1 \
                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_type t \
                               LEFT JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype \
                               WHERE t.oid IN (p.proargtypes[0], p.provariadic) \
                                 AND (t.typtype = 'c' OR b.typtype = 'c' \
                                      OR t.typname IN ('record', 'anyelement', 'anynonarray', \
                                          'anycompatible', 'anycompatiblenonarray', 'any')))",
            )
            .bind(&missing)
            .fetch_all(&self.pool)
            .await
            .map_err(|error| CatalogError::Function {
                name: format!("column notation ({})", missing.join(", ")),
                error,
            })?;
            let mut cache = self.functions.lock().map_err(|_| CatalogError::Poisoned)?;
            for name in missing {
                let of: Vec<_> = rows
                    .iter()
                    .filter(|(n, ..)| *n == name)
                    .map(|(_, v, d, k, c)| (v.clone(), *d, k.clone(), c.clone()))
                    .collect();
                let info = info(&of);
                cache.put(key(&name), info);
                found.insert(name, info);
            }
        }
        Ok(found.into_iter().collect())
    }

    /// What the catalog says of the functions an aggregate named like `call` runs (its
    /// transition, final, combine and (de)serialisation functions): an aggregate is
    /// IMMUTABLE in `pg_proc` whatever they are. `exists` is false when no aggregate has
    /// the name.
    pub async fn aggregate_support(
        &self,
        call: &FunctionCall,
    ) -> Result<FunctionInfo, CatalogError> {
        let key = (
            Some(format!(
                "{AGGREGATE}{}",
                call.schema.as_deref().unwrap_or_default()
            )),
            call.name.clone(),
        );
        if let Some(info) = self.functions.lock().ok().and_then(|c| c.get(&key)) {
            return Ok(info);
        }
        let rows: Vec<(String, bool, String, String)> = sqlx::query_as(
            "SELECT f.provolatile::text, f.prosecdef, f.prokind::text, \
                    coalesce(array_to_string(f.proconfig, chr(10)), '') \
             FROM pg_catalog.pg_proc p \
             JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
             JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid \
             JOIN pg_catalog.pg_proc f ON f.oid IN (a.aggtransfn::oid, a.aggfinalfn::oid, \
                 a.aggcombinefn::oid, a.aggserialfn::oid, a.aggdeserialfn::oid, \
                 a.aggmtransfn::oid, a.aggminvtransfn::oid, a.aggmfinalfn::oid) \
             WHERE p.proname = $1 AND ($2::text IS NULL OR n.nspname = $2)",
        )
        .bind(&call.name)
        .bind(&call.schema)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| CatalogError::Function {
            name: format!("the aggregate {}", call.name),
            error,
        })?;
        let info = info(&rows);
        if let Ok(mut cache) = self.functions.lock() {
            cache.put(key, info);
        }
        Ok(info)
    }

    /// `pg_settings.context` of the setting `name`; `extension` for an unregistered
    /// `prefix.name` whose prefix is an extension the server has (its library, once
    /// loaded, may register the name with any context, and keep the value set before);
    /// `None` when no such setting is registered (a placeholder of the user's own, or a
    /// name the server refuses).
    pub async fn setting_context(&self, name: &str) -> Result<Option<String>, CatalogError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT coalesce( \
                 (SELECT context::text FROM pg_catalog.pg_settings \
                  WHERE lower(name) = lower($1)), \
                 (SELECT 'extension' FROM pg_catalog.pg_available_extensions \
                  WHERE strpos($1, '.') > 0 AND name = split_part(lower($1), '.', 1) \
                  LIMIT 1))",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| CatalogError::Function {
            name: format!("the setting {name}"),
            error,
        })?;
        Ok(row.and_then(|(context,)| context))
    }
}

/// What the rows `(provolatile, prosecdef, prokind, proconfig)` of some functions say,
/// read as `Catalog::function` reads them.
fn info(rows: &[(String, bool, String, String)]) -> FunctionInfo {
    FunctionInfo {
        exists: !rows.is_empty(),
        read_only: rows.iter().all(|(volatility, _, kind, _)| {
            matches!(volatility.as_str(), "i" | "s") && matches!(kind.as_str(), "f" | "a" | "w")
        }),
        security_definer: rows.iter().any(|(_, definer, _, config)| {
            *definer
                || config.lines().any(|c| {
                    let c = c.to_ascii_lowercase();
                    c.starts_with("role=") || c.starts_with("session_authorization=")
                })
        }),
    }
}
