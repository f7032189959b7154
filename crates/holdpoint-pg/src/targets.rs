//! Which result columns of a statement cannot hold a table's values: a target that
//! names no column, no whole row and no subquery (`count(*)`, `1`, `now()`, `$1`).
//! Read by position from the statement's own target list, and only where positions
//! are certain: one plain SELECT (no UNION, INTERSECT or EXCEPT, no VALUES), no `*`
//! anywhere in its target list, as many targets as the server described columns.
//! Anything else is `None`, and every computed column is treated as possibly carrying
//! a masked one. EXPLAIN's plan is clean too: it shows expressions, never row values.

use serde_json::Value;

/// For each result column of `sql` (when there are `columns` of them), true when it
/// holds no table data.
pub fn clean(sql: &str, columns: usize) -> Option<Vec<bool>> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let tree = serde_json::to_value(&parsed.protobuf).ok()?;
    let [only] = tree.get("stmts")?.as_array()?.as_slice() else {
        return None;
    };
    let node = only.get("stmt")?.get("node")?;
    if node.get("ExplainStmt").is_some() {
        return Some(vec![true; columns]);
    }
    let select = node.get("SelectStmt")?;
    let set_operation = ["larg", "rarg"]
        .iter()
        .any(|k| select.get(*k).is_some_and(|v| !v.is_null()));
    let values = select
        .get("values_lists")
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty());
    if set_operation || values {
        return None;
    }
    let targets = select.get("target_list")?.as_array()?;
    if targets.len() != columns {
        return None;
    }
    let mut out = Vec::with_capacity(targets.len());
    for target in targets {
        if mentions(target, "AStar") {
            return None;
        }
        out.push(!mentions(target, "ColumnRef") && !mentions(target, "SubLink"));
    }
    Some(out)
}

/// `value` has a node of type `kind` anywhere below it.
fn mentions(value: &Value, kind: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k == kind || mentions(v, kind)),
        Value::Array(items) => items.iter().any(|v| mentions(v, kind)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_targets_that_name_no_column_are_clean() {
        assert_eq!(
            clean(
                "SELECT count(*), lower(email), 1, now(), $1::int FROM customers",
                5
            ),
            Some(vec![true, false, true, true, true])
        );
        assert_eq!(
            clean(
                "SELECT (SELECT 1), c, c.row_to_json, (c).x FROM customers c",
                4
            ),
            Some(vec![false, false, false, false])
        );
        assert_eq!(
            clean(
                "SELECT count(*) FILTER (WHERE email LIKE 'a%') FROM customers",
                1
            ),
            Some(vec![false])
        );
    }

    #[test]
    fn a_plan_is_clean() {
        assert_eq!(
            clean("EXPLAIN (ANALYZE) SELECT lower(email) FROM customers", 1),
            Some(vec![true])
        );
    }

    #[test]
    fn uncertain_positions_are_none() {
        for (sql, n) in [
            ("SELECT count(*) FROM t UNION SELECT 1", 1),
            ("SELECT *, count(*) FROM t GROUP BY 1", 2),
            ("SELECT (t).*, 1 FROM t", 2),
            ("VALUES (1)", 1),
            ("SELECT 1; SELECT 2", 1),
            ("SELECT 1, 2", 3),
            ("FETCH ALL FROM k", 1),
            ("INSERT INTO t VALUES (1) RETURNING 1", 1),
            ("not sql", 1),
        ] {
            assert_eq!(clean(sql, n), None, "{sql}");
        }
    }
}
