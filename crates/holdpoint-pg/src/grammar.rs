//! The parser's grammar against the server's. `pg_query` reads SQL as PostgreSQL 18
//! does; an older server reads some of the same text differently. Where 18 sees SQL/JSON
//! or MERGE syntax (`json_value(…)`, `json_object(…)`, `merge_action()`, …), PostgreSQL
//! 15 sees a call of whatever function of that name the database has. So each such
//! construct is recorded with the major version that introduced it and the function
//! name it is spelt with ([`construct`]); when the session's server is older, the
//! statement is judged as calling that function (looked up in the catalog), or, for a
//! construct the older server cannot read as a call (`IS JSON`), as `db.unknown`.
//!
//! Servers are supported from [`OLDEST`] to the parser's own major version ([`PARSER`]);
//! on any other server (or one that announced no `server_version`) every statement is
//! `db.unknown`.

use serde_json::Value;

/// The oldest PostgreSQL major version the proxy judges statements for.
pub const OLDEST: u32 = 14;
/// The parser's PostgreSQL major version (`pg_query` 18). A newer server's grammar is
/// unknown to it.
pub const PARSER: u32 = 18;

/// When the node `key` (with `body`) is syntax of a grammar newer than some servers:
/// the major version that introduced it, and the function an older server calls for it
/// (empty: none, it cannot read the text as a call).
pub(crate) fn construct(key: &str, body: &Value) -> Option<(u32, &'static str)> {
    Some(match key {
        "JsonObjectConstructor" => (16, "json_object"),
        "JsonArrayConstructor" | "JsonArrayQueryConstructor" => (16, "json_array"),
        "JsonObjectAgg" => (16, "json_objectagg"),
        "JsonArrayAgg" => (16, "json_arrayagg"),
        "JsonIsPredicate" => (16, ""),
        "JsonParseExpr" => (17, "json"),
        "JsonScalarExpr" => (17, "json_scalar"),
        "JsonSerializeExpr" => (17, "json_serialize"),
        "JsonTable" => (17, "json_table"),
        "MergeSupportFunc" => (17, "merge_action"),
        "JsonFuncExpr" => {
            use pg_query::protobuf::JsonExprOp;
            let op = body
                .get("op")
                .and_then(Value::as_i64)
                .and_then(|o| i32::try_from(o).ok())
                .and_then(|o| JsonExprOp::try_from(o).ok());
            match op {
                Some(JsonExprOp::JsonExistsOp) => (17, "json_exists"),
                Some(JsonExprOp::JsonQueryOp) => (17, "json_query"),
                Some(JsonExprOp::JsonValueOp) => (17, "json_value"),
                Some(JsonExprOp::JsonTableOp) => (17, "json_table"),
                _ => (17, ""),
            }
        }
        "FuncCall" => {
            // PostgreSQL 16 reads the legacy `json_object(…)` as a call it qualifies
            // with `pg_catalog`; PostgreSQL 15 leaves it to the search path.
            let names = crate::classify::strings(body.get("funcname"));
            match names.as_slice() {
                [schema, name] if schema == "pg_catalog" && name == "json_object" => {
                    (16, "json_object")
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The major version of a `server_version` ("15.20 (Debian …)", "18beta1", "9.6.24").
pub fn major(server_version: &str) -> Option<u32> {
    let digits: String = server_version
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The major version the server announced in its ParameterStatus messages (`S` frames,
/// as kept from the upstream login).
pub fn announced_major(announced: &[u8]) -> Option<u32> {
    let mut rest = announced;
    while let [tag, a, b, c, d, tail @ ..] = rest {
        let len = usize::try_from(u32::from_be_bytes([*a, *b, *c, *d])).ok()?;
        let body = tail.get(..len.checked_sub(4)?)?;
        rest = tail.get(len.checked_sub(4)?..)?;
        if *tag != b'S' {
            continue;
        }
        let mut fields = body.split(|b| *b == 0);
        if fields.next() == Some(b"server_version".as_slice()) {
            return major(&String::from_utf8_lossy(fields.next()?));
        }
    }
    None
}

/// Whether statements are judged for a server of this major version.
pub fn supported(major: Option<u32>) -> bool {
    major.is_some_and(|m| (OLDEST..=PARSER).contains(&m))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_parser_is_the_version_named_here() {
        let parsed = pg_query::parse("SELECT 1", 0).map(|p| p.protobuf.version);
        assert_eq!(parsed.ok().map(|v| v / 10000), i32::try_from(PARSER).ok());
    }

    #[test]
    fn versions_are_read_from_parameter_status() {
        assert_eq!(major("15.20 (Debian 15.20-0+deb12u1)"), Some(15));
        assert_eq!(major("18beta1"), Some(18));
        assert_eq!(major("9.6.24"), Some(9));
        assert_eq!(major("x"), None);
        let mut announced = Vec::new();
        for (name, value) in [("DateStyle", "ISO"), ("server_version", "16.4")] {
            let body = format!("{name}\0{value}\0");
            announced.push(b'S');
            announced.extend_from_slice(&u32::try_from(body.len() + 4).unwrap_or(0).to_be_bytes());
            announced.extend_from_slice(body.as_bytes());
        }
        assert_eq!(announced_major(&announced), Some(16));
        assert_eq!(announced_major(&announced[..announced.len() - 1]), None);
        assert!(supported(Some(15)) && supported(Some(18)));
        assert!(!supported(Some(13)) && !supported(Some(19)) && !supported(None));
    }
}
