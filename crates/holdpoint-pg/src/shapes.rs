//! Statements of the same shape: the same tokens, literals aside. They classify alike
//! (unless a literal's value decides a kind, see `Statement::reads_literals`), so a
//! listener classifies each shape once: a shape's key comes from PostgreSQL's own
//! scanner, about a tenth of the cost of a parse, and the full key is compared, so two
//! shapes never share an entry.

use crate::classify::{Statement, classify};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// At most this many shapes are kept per listener; past it the cache starts over.
const MAX_SHAPES: usize = 10_000;
/// Statements longer than this are classified every time (and not cached).
const MAX_KEYED_TEXT: usize = 16 * 1024;

/// A classified shape, with pg_query's fingerprint for the audit summary.
pub struct Shape {
    /// Unique per classified shape, for the sessions' verdict caches.
    pub id: u64,
    pub statements: Vec<Statement>,
    pub fingerprint: String,
    /// Every statement's kinds follow from the shape alone.
    pub cacheable: bool,
}

impl Shape {
    /// This shape with `also` among its statements, judged afresh every time.
    pub fn with(&self, also: Statement) -> Arc<Shape> {
        let mut statements = self.statements.clone();
        statements.push(also);
        Arc::new(Shape {
            id: 0,
            statements,
            fingerprint: self.fingerprint.clone(),
            cacheable: false,
        })
    }

    /// A shape holdpoint cannot judge, for the reason `what`.
    pub fn unknown(what: &str) -> Arc<Shape> {
        Arc::new(Shape {
            id: 0,
            statements: vec![Statement::unknown_named(what)],
            fingerprint: "unknown".into(),
            cacheable: false,
        })
    }
}

#[derive(Default)]
pub struct Shapes {
    known: Mutex<HashMap<String, Arc<Shape>>>,
}

impl Shapes {
    /// The shape of `sql`, classified now or earlier. Text that is not UTF-8 (shown
    /// with U+FFFD) is unknown.
    pub fn of_bytes(&self, raw: &[u8]) -> (String, Arc<Shape>) {
        match std::str::from_utf8(raw) {
            Ok(sql) => (sql.to_string(), self.of(sql)),
            Err(_) => (
                String::from_utf8_lossy(raw).into_owned(),
                Shape::unknown("text that is not valid UTF-8"),
            ),
        }
    }

    /// The shape of `sql`, classified now or earlier.
    pub fn of(&self, sql: &str) -> Arc<Shape> {
        let Some(key) = key(sql) else {
            return Arc::new(fresh(sql));
        };
        if let Some(shape) = self.known.lock().ok().and_then(|k| k.get(&key).cloned()) {
            return shape;
        }
        let shape = Arc::new(fresh(sql));
        if shape.cacheable
            && let Ok(mut known) = self.known.lock()
        {
            if known.len() >= MAX_SHAPES {
                known.clear();
            }
            known.insert(key, shape.clone());
        }
        shape
    }
}

fn fresh(sql: &str) -> Shape {
    let statements = classify(sql);
    let cacheable = !statements.iter().any(|s| s.reads_literals);
    let fingerprint = match pg_query::fingerprint(sql, 0, 0) {
        Ok(f) => f.hex,
        Err(_) => format!("unparsed:{}", sql.len()),
    };
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Shape {
        id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        statements,
        fingerprint,
        cacheable,
    }
}

/// The tokens of `sql`, each with its type, literals reduced to their type and
/// comments left out; `None` when it does not scan or is too long to key.
pub fn key(sql: &str) -> Option<String> {
    use pg_query::protobuf::Token;
    if sql.len() > MAX_KEYED_TEXT {
        return None;
    }
    let scanned = pg_query::scan(sql).ok()?;
    let mut key = String::with_capacity(sql.len() + 4 * scanned.tokens.len());
    for token in &scanned.tokens {
        let kind = Token::try_from(token.token).ok()?;
        match kind {
            Token::SqlComment | Token::CComment => continue,
            Token::Sconst
            | Token::Usconst
            | Token::Iconst
            | Token::Fconst
            | Token::Bconst
            | Token::Xconst => {
                key.push_str(kind.as_str_name());
            }
            _ => {
                let start = usize::try_from(token.start).ok()?;
                let end = usize::try_from(token.end).ok()?;
                key.push_str(kind.as_str_name());
                key.push('=');
                key.push_str(sql.get(start..end)?);
            }
        }
        key.push('\0');
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn literals_aside_shapes_are_the_same() {
        assert_eq!(
            key("SELECT * FROM t WHERE id = 1 AND name = 'x'"),
            key("SELECT  *  FROM t /* c */ WHERE id = 42 AND name = $$y$$")
        );
        assert_ne!(key("SELECT * FROM t"), key("SELECT * FROM u"));
        assert_ne!(
            key("SELECT 'a'; DROP TABLE t"),
            key("SELECT 'a; DROP TABLE t'")
        );
        assert_ne!(key("SELECT 1"), key("SELECT \"1\""));
    }

    #[test]
    fn a_literal_that_decides_a_kind_is_not_shared() {
        let shapes = Shapes::default();
        let utf8 = shapes.of("SET client_encoding = 'UTF8'");
        assert!(!utf8.cacheable);
        let sjis = shapes.of("SET client_encoding = 'SJIS'");
        assert_eq!(sjis.statements[0].head(), crate::Kind::Unknown);
        let file = shapes.of("COPY t FROM ''");
        assert!(!file.cacheable);
        let role = shapes.of("SELECT set_config('application_name', 'x', false)");
        assert!(!role.cacheable);
        let role = shapes.of("SELECT set_config('role', 'x', false)");
        assert_eq!(role.statements[0].head(), crate::Kind::Privilege);
        let read = shapes.of("SELECT * FROM t WHERE a = 1");
        assert!(read.cacheable);
        let again = shapes.of("SELECT * FROM t WHERE a = 2");
        assert!(Arc::ptr_eq(&read, &again));
    }
}
