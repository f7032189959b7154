//! What only the database can tell: whether a function is read-only, and which table
//! column a result column comes from. Asked over one small connection pool per listener,
//! with the listener's own upstream credentials, and cached: a minute at most, and
//! forgotten whenever a DDL statement passes through the listener.

use crate::functions::{FunctionCall, FunctionInfo};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is trusted.
const TTL: Duration = Duration::from_secs(60);

/// Why the catalog could not answer.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the upstream URL is not usable: {0}")]
    Url(sqlx::Error),
    #[error("the catalog could not be asked about {name}: {error}")]
    Function { name: String, error: sqlx::Error },
    #[error("the catalog could not be asked about result columns: {0}")]
    Columns(sqlx::Error),
    /// A thread panicked while holding the cache.
    #[error("catalog cache poisoned")]
    Poisoned,
}

/// A table column: `(table, column)`.
pub type ColumnName = (String, String);

pub struct Catalog {
    pool: PgPool,
    functions: Mutex<Cache<(Option<String>, String), FunctionInfo>>,
    columns: Mutex<Cache<(u32, i16), ColumnName>>,
}

struct Cache<K, V> {
    entries: HashMap<K, (V, Instant)>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Cache<K, V> {
    fn new() -> Self {
        Cache {
            entries: HashMap::new(),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        self.entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(v, _)| v.clone())
    }

    fn put(&mut self, key: K, value: V) {
        if self.entries.len() > 50_000 {
            self.entries.clear();
        }
        self.entries.insert(key, (value, Instant::now()));
    }
}

impl Catalog {
    /// A catalog for the database at `url`; connects on first use.
    pub fn new(url: &str) -> Result<Catalog, CatalogError> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(url)
            .map_err(CatalogError::Url)?;
        Ok(Catalog {
            pool,
            functions: Mutex::new(Cache::new()),
            columns: Mutex::new(Cache::new()),
        })
    }

    /// Forgets every answer (after a DDL statement).
    pub fn invalidate(&self) {
        if let Ok(mut f) = self.functions.lock() {
            f.entries.clear();
        }
        if let Ok(mut c) = self.columns.lock() {
            c.entries.clear();
        }
    }

    /// What the catalog says about every function named like `call`.
    pub async fn function(&self, call: &FunctionCall) -> Result<FunctionInfo, CatalogError> {
        let key = (call.schema.clone(), call.name.clone());
        if let Some(info) = self.functions.lock().ok().and_then(|c| c.get(&key)) {
            return Ok(info);
        }
        let rows: Vec<(String, bool, String, String, String)> = sqlx::query_as(
            "SELECT p.provolatile::text, p.prosecdef, p.prokind::text, \
                    coalesce(array_to_string(p.proconfig, chr(10)), ''), n.nspname::text \
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.proname = $1 AND ($2::text IS NULL OR n.nspname = $2)",
        )
        .bind(&call.name)
        .bind(&call.schema)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| CatalogError::Function {
            name: call.name.clone(),
            error,
        })?;
        let info = FunctionInfo {
            exists: !rows.is_empty(),
            // pg_catalog's own `random`, `clock_timestamp`, … change nothing; a
            // function of the same name elsewhere (on the search path) is judged.
            read_only: rows.iter().all(|(volatility, _, kind, _, schema)| {
                (matches!(volatility.as_str(), "i" | "s")
                    || crate::functions::harmless_in_pg_catalog(schema, &call.name))
                    && matches!(kind.as_str(), "f" | "a" | "w")
            }),
            // SECURITY DEFINER, or `SET role` / `SET session_authorization` on the
            // function: either way it runs as someone else.
            security_definer: rows.iter().any(|(_, definer, _, config, _)| {
                *definer
                    || config.lines().any(|c| {
                        let c = c.to_ascii_lowercase();
                        c.starts_with("role=") || c.starts_with("session_authorization=")
                    })
            }),
        };
        if let Ok(mut cache) = self.functions.lock() {
            cache.put(key, info);
        }
        Ok(info)
    }

    /// The table column behind each `(table oid, column number)`; `None` where the
    /// catalog has none.
    pub async fn columns(
        &self,
        keys: &[(u32, i16)],
    ) -> Result<Vec<Option<ColumnName>>, CatalogError> {
        let missing: Vec<(u32, i16)> = {
            let cache = self.columns.lock().map_err(|_| CatalogError::Poisoned)?;
            keys.iter()
                .filter(|k| cache.get(k).is_none())
                .copied()
                .collect()
        };
        if !missing.is_empty() {
            let oids: Vec<i64> = missing.iter().map(|(o, _)| i64::from(*o)).collect();
            let nums: Vec<i16> = missing.iter().map(|(_, n)| *n).collect();
            let rows: Vec<(i64, i16, String, String)> = sqlx::query_as(
                "SELECT a.attrelid::int8, a.attnum, c.relname::text, a.attname::text \
                 FROM unnest($1::int8[], $2::int2[]) AS k(rel, num) \
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = k.rel::oid AND a.attnum = k.num \
                 JOIN pg_catalog.pg_class c ON c.oid = a.attrelid",
            )
            .bind(&oids)
            .bind(&nums)
            .fetch_all(&self.pool)
            .await
            .map_err(CatalogError::Columns)?;
            let mut cache = self.columns.lock().map_err(|_| CatalogError::Poisoned)?;
            for (oid, num, table, column) in rows {
                if let Ok(oid) = u32::try_from(oid) {
                    cache.put((oid, num), (table, column));
                }
            }
        }
        let cache = self.columns.lock().map_err(|_| CatalogError::Poisoned)?;
        Ok(keys.iter().map(|k| cache.get(k)).collect())
    }
}

/// Functions called in column notation, and settings' contexts.
mod more;
