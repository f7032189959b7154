//! Which tables share a masked table's rows: its inheritance family. A partition or an
//! inheritance child of a masked table shows the same rows under its own name, and a
//! parent shows its children's rows: so a mask on any relation of a family (found in
//! `pg_inherits`, recursively, both ways) covers every relation of it. Asked over a
//! pool of its own with the listener's credentials, cached like the rest of the catalog
//! (a minute at most, forgotten after any DDL).

use crate::results::MaskRules;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 50_000;

/// Planner statistics: they hold sample values of table columns (most common values,
/// histogram bounds), past any result masking.
const STATISTICS: &[&str] = &[
    "pg_stats",
    "pg_stats_ext",
    "pg_stats_ext_exprs",
    "pg_statistic",
    "pg_statistic_ext_data",
];

/// The statistics catalog `table` (as written, maybe schema-qualified) names, if any.
pub fn statistics(table: &str) -> Option<&'static str> {
    let name = table
        .rsplit('.')
        .next()
        .unwrap_or(table)
        .to_ascii_lowercase();
    STATISTICS.iter().copied().find(|s| *s == name)
}

/// A relation's family: its own name, its ancestors' and descendants' names, and its
/// column names.
#[derive(Debug, Clone, Default)]
pub struct Family {
    pub relations: BTreeSet<String>,
    pub columns: BTreeSet<String>,
}

pub struct Lineage {
    pool: PgPool,
    by_oid: Mutex<HashMap<u32, (Family, Instant)>>,
    by_name: Mutex<HashMap<String, (Family, Instant)>>,
}

/// Families as the catalog gives them: key, relation name, column names.
type FamilyRows<K> = Vec<(K, String, Vec<String>)>;

impl Lineage {
    pub fn new(url: &str) -> Result<Lineage, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(url)?;
        Ok(Lineage {
            pool,
            by_oid: Mutex::new(HashMap::new()),
            by_name: Mutex::new(HashMap::new()),
        })
    }

    /// Forgets every answer (after a DDL statement).
    pub fn invalidate(&self) {
        if let Ok(mut m) = self.by_oid.lock() {
            m.clear();
        }
        if let Ok(mut m) = self.by_name.lock() {
            m.clear();
        }
    }

    /// The family of each relation oid (empty for an oid the catalog does not know).
    pub async fn families(&self, oids: &[u32]) -> Result<Vec<Family>, sqlx::Error> {
        let missing: Vec<i64> = cached_missing(&self.by_oid, oids)
            .into_iter()
            .map(i64::from)
            .collect();
        if !missing.is_empty() {
            let rows: FamilyRows<i64> = sqlx::query_as(family_sql!(
                "SELECT k.rel::oid AS rel, k.rel AS top FROM unnest($1::int8[]) AS k(rel)"
            ))
            .bind(&missing)
            .fetch_all(&self.pool)
            .await?;
            let found = collect(
                rows.into_iter()
                    .filter_map(|(k, rel, cols)| u32::try_from(k).ok().map(|k| (k, rel, cols))),
            );
            let keys: Vec<u32> = missing
                .iter()
                .filter_map(|k| u32::try_from(*k).ok())
                .collect();
            store(&self.by_oid, &keys, found);
        }
        Ok(read(&self.by_oid, oids))
    }

    /// The family of every relation named `name` (in any schema), merged.
    pub async fn named(&self, names: &[String]) -> Result<Vec<Family>, sqlx::Error> {
        let missing = cached_missing(&self.by_name, names);
        if !missing.is_empty() {
            let rows: FamilyRows<String> = sqlx::query_as(family_sql!(
                "SELECT c.oid AS rel, c.relname::text AS top FROM pg_catalog.pg_class c \
                 WHERE c.relname = ANY($1::text[])"
            ))
            .bind(&missing)
            .fetch_all(&self.pool)
            .await?;
            store(&self.by_name, &missing, collect(rows.into_iter()));
        }
        Ok(read(&self.by_name, names))
    }

    /// True when a statement reading `tables` (as written) reads a relation that shares
    /// rows with a masked table, or has a column masked in every table (`*.column`).
    pub async fn reads_masked(
        &self,
        rules: &MaskRules,
        tables: &BTreeSet<String>,
    ) -> Result<bool, sqlx::Error> {
        let names: BTreeSet<String> = tables
            .iter()
            .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
            .collect();
        if names.iter().any(|n| rules.masks_table(n)) {
            return Ok(true);
        }
        if names.is_empty() {
            return Ok(false);
        }
        let names: Vec<String> = names.into_iter().collect();
        Ok(self
            .named(&names)
            .await?
            .iter()
            .any(|f| rules.masks_family(f)))
    }
}

/// The query for the families of the relations `seed` selects (`rel`, and the key
/// `top` it is reported under): each key's relations up and down `pg_inherits`, with
/// their column names.
macro_rules! family_sql {
    ($seed:literal) => {
        concat!(
            "WITH RECURSIVE seed AS (",
            $seed,
            "), \
             up(rel, top) AS (SELECT rel, top FROM seed \
               UNION SELECT i.inhparent, up.top FROM pg_catalog.pg_inherits i JOIN up ON i.inhrelid = up.rel), \
             down(rel, top) AS (SELECT rel, top FROM seed \
               UNION SELECT i.inhrelid, down.top FROM pg_catalog.pg_inherits i JOIN down ON i.inhparent = down.rel), \
             family AS (SELECT rel, top FROM up UNION SELECT rel, top FROM down) \
             SELECT f.top, c.relname::text, \
               coalesce((SELECT array_agg(a.attname::text) FROM pg_catalog.pg_attribute a \
                         WHERE a.attrelid = f.rel AND a.attnum > 0 AND NOT a.attisdropped), '{}') \
             FROM family f JOIN pg_catalog.pg_class c ON c.oid = f.rel"
        )
    };
}
use family_sql;

fn collect<K: std::hash::Hash + Eq>(
    rows: impl Iterator<Item = (K, String, Vec<String>)>,
) -> HashMap<K, Family> {
    let mut found: HashMap<K, Family> = HashMap::new();
    for (key, relation, columns) in rows {
        let family = found.entry(key).or_default();
        family.relations.insert(relation);
        family.columns.extend(columns);
    }
    found
}

fn cached_missing<K: std::hash::Hash + Eq + Clone>(
    cache: &Mutex<HashMap<K, (Family, Instant)>>,
    keys: &[K],
) -> Vec<K> {
    let Ok(cache) = cache.lock() else {
        return keys.to_vec();
    };
    let mut missing: Vec<K> = Vec::new();
    for k in keys {
        let fresh = cache.get(k).is_some_and(|(_, at)| at.elapsed() < TTL);
        if !fresh && !missing.contains(k) {
            missing.push(k.clone());
        }
    }
    missing
}

fn store<K: std::hash::Hash + Eq + Clone>(
    cache: &Mutex<HashMap<K, (Family, Instant)>>,
    asked: &[K],
    mut found: HashMap<K, Family>,
) {
    if let Ok(mut cache) = cache.lock() {
        if cache.len() > MAX_ENTRIES {
            cache.clear();
        }
        for k in asked {
            let family = found.remove(k).unwrap_or_default();
            cache.insert(k.clone(), (family, Instant::now()));
        }
    }
}

fn read<K: std::hash::Hash + Eq>(
    cache: &Mutex<HashMap<K, (Family, Instant)>>,
    keys: &[K],
) -> Vec<Family> {
    let Ok(cache) = cache.lock() else {
        return Vec::new();
    };
    keys.iter()
        .map(|k| cache.get(k).map(|(f, _)| f.clone()).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_catalogs_are_named_in_any_schema() {
        for t in [
            "pg_stats",
            "pg_catalog.pg_stats",
            "PG_STATISTIC",
            "pg_stats_ext_exprs",
        ] {
            assert!(statistics(t).is_some(), "{t}");
        }
        for t in ["pg_stat_activity", "stats", "pg_statistic_ext"] {
            assert!(statistics(t).is_none(), "{t}");
        }
    }

    #[test]
    fn a_family_is_masked_by_any_member_or_column() {
        let rules = MaskRules::new(&["p.email".to_string(), "*.ssn".to_string()], false)
            .unwrap_or_default();
        let child = Family {
            relations: ["p_2026".to_string(), "p".to_string()].into(),
            columns: ["id".to_string(), "email".to_string()].into(),
        };
        assert!(rules.masks_family(&child));
        let other = Family {
            relations: ["orders".to_string()].into(),
            columns: ["id".to_string()].into(),
        };
        assert!(!rules.masks_family(&other));
        let with_ssn = Family {
            relations: ["staff".to_string()].into(),
            columns: ["SSN".to_string()].into(),
        };
        assert!(rules.masks_family(&with_ssn));
    }
}
