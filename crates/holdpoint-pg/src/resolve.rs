//! Resolving a message's statements before they are judged: what only the session
//! (its prepared statements, its server's version) and the catalog can tell. Each
//! `EXECUTE name` carries what `name` was prepared as; syntax the server reads with an
//! older grammar becomes the call it makes (`grammar.rs`); function calls, column-
//! notation references and settings are asked of the catalog. What cannot be told is
//! `db.unknown` (fail closed).

use crate::catalog::Catalog;
use crate::classify::Statement;
use crate::functions::FunctionCall;
use crate::kind::Kind;
use crate::{grammar, settings};
use std::collections::HashMap;

/// Replaces `EXECUTE name` by what `name` was prepared as, judges syntax the server
/// reads with an older grammar as the server does (`grammar.rs`), and asks the catalog
/// about every function call, column-notation reference and setting whose kind it
/// decides. A catalog that cannot answer makes the part unknown (fail closed).
pub async fn resolve(
    statements: Vec<Statement>,
    prepared: &HashMap<String, Statement>,
    catalog: &Catalog,
    server: Option<u32>,
) -> Vec<Statement> {
    let mut out = Vec::with_capacity(statements.len());
    for mut st in expand(statements, prepared, server) {
        for call in std::mem::take(&mut st.calls) {
            let kind = call_kind(catalog, &call, &mut st.notes).await;
            st.kinds.insert(kind);
        }
        let names: Vec<String> = std::mem::take(&mut st.notation).into_iter().collect();
        if !names.is_empty() {
            match catalog.notation(&names).await {
                Ok(found) => {
                    for (name, info) in found.into_iter().filter(|(_, i)| i.exists) {
                        let call = FunctionCall {
                            schema: None,
                            name: name.clone(),
                            first: None,
                        };
                        let support = aggregate_kind(catalog, &call, &mut st.notes).await;
                        st.kinds.extend(support);
                        st.functions.insert(name);
                        st.kinds.insert(info.kind());
                    }
                }
                Err(e) => {
                    st.notes.push(e.to_string());
                    st.kinds.insert(Kind::Unknown);
                }
            }
        }
        for name in std::mem::take(&mut st.settings) {
            match catalog.setting_context(&name).await {
                Ok(context) => st.kinds.extend(settings::context_kind(context.as_deref())),
                Err(e) => {
                    st.notes.push(e.to_string());
                    st.kinds.insert(Kind::Unknown);
                }
            }
        }
        out.push(st);
    }
    out
}

/// The kind of a call, from the catalog: the function's own, and for an aggregate,
/// its support functions' too. Unknown when the catalog cannot answer.
async fn call_kind(catalog: &Catalog, call: &FunctionCall, notes: &mut Vec<String>) -> Kind {
    let own = match catalog.function(call).await {
        Ok(info) => info.kind(),
        Err(e) => {
            notes.push(e.to_string());
            return Kind::Unknown;
        }
    };
    match aggregate_kind(catalog, call, notes).await {
        Some(support) => own.max(support),
        None => own,
    }
}

/// The kind of what an aggregate named like `call` runs; `None` when no aggregate has
/// the name.
async fn aggregate_kind(
    catalog: &Catalog,
    call: &FunctionCall,
    notes: &mut Vec<String>,
) -> Option<Kind> {
    match catalog.aggregate_support(call).await {
        Ok(info) => info.exists.then(|| info.kind()),
        Err(e) => {
            notes.push(e.to_string());
            Some(Kind::Unknown)
        }
    }
}

/// What needs no catalog: each `EXECUTE name` carries everything `name` was prepared
/// as (its kinds and tables, and the calls, column-notation references, settings and
/// syntax still to judge); syntax newer than the server's grammar becomes the call the
/// server makes of it, or unknown; and on a server holdpoint does not support, every
/// statement is unknown.
pub(crate) fn expand(
    statements: Vec<Statement>,
    prepared: &HashMap<String, Statement>,
    server: Option<u32>,
) -> Vec<Statement> {
    let mut out = Vec::with_capacity(statements.len());
    for mut st in statements {
        if let Some(name) = st.executes.clone() {
            match prepared.get(&name) {
                Some(inner) => {
                    let mut inner = inner.clone();
                    inner.executes = None;
                    inner.prepares = None;
                    st.absorb(inner);
                }
                None => {
                    st.kinds.insert(Kind::Unknown);
                    st.notes.push(format!(
                        "no prepared statement `{name}` is known to holdpoint"
                    ));
                }
            }
        }
        for (since, name) in std::mem::take(&mut st.grammar) {
            if server.is_some_and(|v| v >= since) {
                continue;
            }
            if name.is_empty() {
                st.kinds.insert(Kind::Unknown);
                st.notes.push(format!(
                    "it uses syntax new in PostgreSQL {since}, which this server reads otherwise"
                ));
            } else {
                st.functions.insert(name.clone());
                st.calls.push(FunctionCall {
                    schema: None,
                    name,
                    first: None,
                });
            }
        }
        if !grammar::supported(server) {
            st.kinds.insert(Kind::Unknown);
            st.notes.push(match server {
                Some(v) => format!(
                    "holdpoint judges statements for PostgreSQL {} to {}, and the server is {v}",
                    grammar::OLDEST,
                    grammar::PARSER
                ),
                None => "the server announced no server_version".into(),
            });
        }
        out.push(st);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;
    use crate::classify::classify;

    fn prepared(sql: &str) -> HashMap<String, Statement> {
        classify(sql)
            .into_iter()
            .filter_map(|s| s.prepares)
            .map(|(name, inner)| (name, *inner))
            .collect()
    }

    #[test]
    fn an_execute_carries_what_its_statement_must_still_have_judged() {
        let known = prepared(
            "PREPARE p AS SELECT bump(), t.tick, set_config('log_statement', 'none', false), json_value(j, '$') FROM t",
        );
        for sql in [
            "EXECUTE p",
            "EXPLAIN (ANALYZE) EXECUTE p",
            "CREATE TABLE x AS EXECUTE p",
        ] {
            let st = &expand(classify(sql), &known, Some(15))[0];
            let calls: Vec<&str> = st.calls.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(calls, ["bump", "json_value"], "{sql}");
            assert!(st.notation.contains("tick"), "{sql}");
            assert!(st.kinds.contains(&Kind::Admin), "{sql}: {:?}", st.kinds);
            assert!(st.tables.contains("t"), "{sql}");
        }
        let st = &expand(classify("EXECUTE never"), &known, Some(15))[0];
        assert_eq!(st.head(), Kind::Unknown);
    }

    #[test]
    fn newer_syntax_is_what_the_older_server_calls() {
        let sql = "SELECT json_object('a', 1), json_object('a': 1), json_array(1), \
                   json_arrayagg(x), json_objectagg(k: v), json(x), json_scalar(1), \
                   json_serialize(x), json_exists(x, '$'), json_query(x, '$'), \
                   json_value(x, '$') FROM t, json_table(x, '$' COLUMNS (a int PATH '$'))";
        let on = |v| {
            let st = &expand(classify(sql), &HashMap::new(), Some(v))[0];
            let mut names: Vec<String> = st.calls.iter().map(|c| c.qualified()).collect();
            names.sort();
            names.dedup();
            names
        };
        assert_eq!(
            on(15),
            [
                "json",
                "json_array",
                "json_arrayagg",
                "json_exists",
                "json_object",
                "json_objectagg",
                "json_query",
                "json_scalar",
                "json_serialize",
                "json_table",
                "json_value",
                "pg_catalog.json_object",
            ]
        );
        assert_eq!(
            on(16),
            [
                "json",
                "json_exists",
                "json_query",
                "json_scalar",
                "json_serialize",
                "json_table",
                "json_value",
                "pg_catalog.json_object",
            ]
        );
        assert_eq!(on(18), ["pg_catalog.json_object"]);
        let merge =
            "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE RETURNING merge_action()";
        let st = &expand(classify(merge), &HashMap::new(), Some(15))[0];
        assert_eq!(st.calls[0].name, "merge_action");
        let st = &expand(
            classify("SELECT x IS JSON FROM t"),
            &HashMap::new(),
            Some(15),
        )[0];
        assert_eq!(st.head(), Kind::Unknown);
        let st = &expand(
            classify("SELECT x IS JSON FROM t"),
            &HashMap::new(),
            Some(16),
        )[0];
        assert_eq!(st.head(), Kind::Read);
    }

    #[test]
    fn an_unsupported_server_judges_nothing_as_read() {
        for server in [Some(13), Some(19), None] {
            let st = &expand(classify("SELECT 1"), &HashMap::new(), server)[0];
            assert_eq!(st.head(), Kind::Unknown, "{server:?}");
        }
        let st = &expand(classify("SELECT 1"), &HashMap::new(), Some(14))[0];
        assert_eq!(st.head(), Kind::Read);
    }
}
