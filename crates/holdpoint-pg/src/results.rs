//! Result masking: configured columns (`mask_columns = ["customers.email", "*.ssn"]`)
//! and, with `mask_results`, any value the masking detectors flag, masked in every
//! DataRow, in text and binary formats, before the agent sees it.
//!
//! A result column is traced to its table column through the catalog (RowDescription
//! gives the table's oid and the column's number), so an alias does not hide it, and a
//! mask on a table covers its whole inheritance family (`lineage.rs`). A computed column
//! (no table behind it: an expression, a whole-row value, a column renamed by an alias
//! list) is masked whenever its statement reads a table that has a masked column, or
//! mentions a masked column's name. A masked text value becomes `[masked:column]`; a
//! masked value of any other type becomes NULL.

use crate::classify::Statement;
use crate::lineage::Family;
use crate::wire::{Reader, invalid};
use bytes::{BufMut, BytesMut};
use holdpoint_core::mask::Masker;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;

/// Why `mask_columns` is refused.
#[derive(Debug, thiserror::Error)]
pub enum MaskRulesError {
    #[error("mask_columns entry `{0}` is not `table.column`")]
    NotTableColumn(String),
}

/// `table` and `column` of an entry could name a column: neither empty, the column not
/// `*`, no blank, control character, comma or quote in either, no empty schema or
/// table part. (An entry such as `"customers.email "` or `"customers.*"` would
/// otherwise load and mask nothing.)
fn names_a_column(table: &str, column: &str) -> bool {
    let clean = |s: &str| {
        !s.is_empty()
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '"' | '\''))
    };
    clean(table)
        && clean(column)
        && column != "*"
        && !column.contains('*')
        && table.split('.').all(|part| !part.is_empty())
        && (table == "*" || !table.contains('*'))
}

/// The listener's masking rules.
#[derive(Debug, Clone, Default)]
pub struct MaskRules {
    by_table: HashMap<String, HashSet<String>>,
    any_table: HashSet<String>,
    /// Run the detectors over every text value.
    pub detect: bool,
}

impl MaskRules {
    /// From `table.column` and `*.column` entries.
    pub fn new(columns: &[String], detect: bool) -> Result<MaskRules, MaskRulesError> {
        let mut rules = MaskRules {
            detect,
            ..MaskRules::default()
        };
        for entry in columns {
            let (table, column) = entry
                .rsplit_once('.')
                .filter(|(t, c)| names_a_column(t, c))
                .ok_or_else(|| MaskRulesError::NotTableColumn(entry.clone()))?;
            let (table, column) = (table.to_ascii_lowercase(), column.to_ascii_lowercase());
            if table == "*" {
                rules.any_table.insert(column);
            } else {
                // A schema-qualified entry matches the table by name, in every schema.
                let table = table.rsplit('.').next().unwrap_or(&table).to_string();
                rules.by_table.entry(table).or_default().insert(column);
            }
        }
        Ok(rules)
    }

    /// Some columns are masked by name (not only by the detectors).
    pub fn masks_columns(&self) -> bool {
        !self.by_table.is_empty() || !self.any_table.is_empty()
    }

    /// Nothing to mask: rows pass untouched.
    pub fn is_empty(&self) -> bool {
        self.by_table.is_empty() && self.any_table.is_empty() && !self.detect
    }

    /// Masks columns of the table named `table` (not counting `*.column` entries).
    pub fn masks_table(&self, table: &str) -> bool {
        self.by_table.contains_key(&table.to_ascii_lowercase())
    }

    /// True when `column` of any of `tables` is masked.
    fn column<'a>(&self, mut tables: impl Iterator<Item = &'a String>, column: &str) -> bool {
        let column = column.to_ascii_lowercase();
        self.any_table.contains(&column)
            || tables.any(|table| {
                self.by_table
                    .get(&table.to_ascii_lowercase())
                    .is_some_and(|c| c.contains(&column))
            })
    }

    /// True when a relation of `family` has a masked column: a member is a masked
    /// table, or it has a column masked in every table.
    pub fn masks_family(&self, family: &Family) -> bool {
        family.relations.iter().any(|r| self.masks_table(r))
            || family
                .columns
                .iter()
                .any(|c| self.any_table.contains(&c.to_ascii_lowercase()))
    }

    /// True when computed columns of `statement`'s results may carry a masked column.
    pub fn taints_computed(&self, statement: &Statement) -> bool {
        let masked_names = |c: &String| {
            let c = c.to_ascii_lowercase();
            self.any_table.contains(&c) || self.by_table.values().any(|cols| cols.contains(&c))
        };
        let masked_table = |t: &String| {
            let t = t.rsplit('.').next().unwrap_or(t).to_ascii_lowercase();
            self.by_table.contains_key(&t)
        };
        (statement.opaque_results && !self.is_empty())
            || statement.columns.iter().any(masked_names)
            || (statement.star
                && (!self.any_table.is_empty() || statement.tables.iter().any(masked_table)))
    }
}

/// The table column behind a result column, and the relations that share its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub table: String,
    pub column: String,
    pub family: BTreeSet<String>,
}

/// One column of a RowDescription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub table: u32,
    pub attnum: i16,
    pub type_oid: u32,
    pub format: i16,
}

pub fn row_description(body: &[u8]) -> io::Result<Vec<Field>> {
    let mut r = Reader::new(body);
    let n = r.count()?;
    let mut fields = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.cstr()?.to_string();
        let table = r.u32()?;
        let attnum = r.i16()?;
        let type_oid = r.u32()?;
        let _size = r.i16()?;
        let _modifier = r.i32()?;
        let format = r.i16()?;
        fields.push(Field {
            name,
            table,
            attnum,
            type_oid,
            format,
        });
    }
    Ok(fields)
}

/// What to do with one column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Treat {
    Keep,
    Mask,
    Detect,
}

/// How each column of a result is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMask {
    columns: Vec<(Treat, ValueType, bool, String)>,
    /// For columns beyond those known (rows of a result never described).
    default: Option<(Treat, ValueType, bool, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueType {
    Text,
    Json,
    Jsonb,
    Other,
}

fn value_type(oid: u32) -> ValueType {
    match oid {
        25 | 1043 | 1042 | 19 | 705 | 18 => ValueType::Text,
        114 => ValueType::Json,
        3802 => ValueType::Jsonb,
        _ => ValueType::Other,
    }
}

impl RowMask {
    /// The plan for a result with `fields`, sent in `formats` (0 text, 1 binary; one
    /// code for all, or one per column), whose table columns the catalog named
    /// (`sources`, or `None` when it could not be asked: then every column is masked).
    pub fn plan(
        rules: &MaskRules,
        fields: &[Field],
        formats: &[i16],
        sources: Option<&[Option<Source>]>,
        computed_tainted: impl Fn(usize) -> bool,
    ) -> RowMask {
        let columns = fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let binary = match formats {
                    [] => false,
                    [one] => *one == 1,
                    many => many.get(i).is_some_and(|f| *f == 1),
                };
                let source = sources.map(|s| s.get(i).cloned().flatten());
                let masked = match (field.table, &source) {
                    (_, None) => true,
                    (0, _) => computed_tainted(i),
                    (_, Some(Some(s))) => {
                        rules.column(std::iter::once(&s.table).chain(&s.family), &s.column)
                    }
                    // A table column the catalog does not know: fail closed.
                    (_, Some(None)) => true,
                } || rules.any_table.contains(&field.name.to_ascii_lowercase());
                let treat = if masked {
                    Treat::Mask
                } else if rules.detect {
                    Treat::Detect
                } else {
                    Treat::Keep
                };
                let name = match source.flatten() {
                    Some(s) => s.column,
                    None => field.name.clone(),
                };
                (treat, value_type(field.type_oid), binary, name)
            })
            .collect();
        RowMask {
            columns,
            default: None,
        }
    }

    /// The plan for rows whose columns were never described: masked (to NULL) if the
    /// statement may carry a masked column, else scanned if the detectors are on.
    pub fn unknown_columns(rules: &MaskRules, formats: &[i16], tainted: bool) -> RowMask {
        let treat = if tainted && !rules.is_empty() {
            Treat::Mask
        } else if rules.detect {
            Treat::Detect
        } else {
            Treat::Keep
        };
        let binary = formats.first().is_some_and(|f| *f == 1);
        RowMask {
            columns: Vec::new(),
            default: Some((treat, ValueType::Other, binary, "column".into())),
        }
    }

    /// A plan that leaves everything as is.
    pub fn keep_all(&self) -> bool {
        self.columns
            .iter()
            .chain(self.default.iter())
            .all(|(t, ..)| *t == Treat::Keep)
    }

    /// The DataRow `body` with its masked values replaced; `None` when nothing changed.
    pub fn apply(&self, body: &[u8], masker: &dyn Masker) -> io::Result<Option<BytesMut>> {
        let mut r = Reader::new(body);
        let n = r.count()?;
        let mut values: Vec<Option<&[u8]>> = Vec::with_capacity(n);
        for _ in 0..n {
            let len = r.i32()?;
            values.push(match usize::try_from(len) {
                Ok(len) => Some(r.bytes(len)?),
                Err(_) if len == -1 => None,
                Err(_) => return Err(invalid("a DataRow value of negative length")),
            });
        }
        let mut changed = false;
        let mut out_values: Vec<Option<Vec<u8>>> = Vec::with_capacity(n);
        for (i, value) in values.iter().enumerate() {
            let plan = self.columns.get(i).or(self.default.as_ref());
            let replaced = match (plan, value) {
                (_, None) | (None, _) => None,
                (Some((Treat::Keep, ..)), _) => None,
                (Some((Treat::Mask, ty, binary, name)), Some(_)) => {
                    Some(masked_value(*ty, *binary, &format!("[masked:{name}]")))
                }
                (Some((Treat::Detect, ty, binary, _)), Some(raw)) => {
                    detect(*ty, *binary, raw, masker)
                }
            };
            changed |= replaced.is_some();
            out_values.push(match replaced {
                Some(v) => v,
                None => value.map(<[u8]>::to_vec),
            });
        }
        if !changed {
            return Ok(None);
        }
        let mut out = BytesMut::with_capacity(body.len());
        out.put_i16(i16::try_from(n).unwrap_or(i16::MAX));
        for value in out_values {
            match value {
                Some(v) => {
                    out.put_i32(i32::try_from(v.len()).unwrap_or(i32::MAX));
                    out.put_slice(&v);
                }
                None => out.put_i32(-1),
            }
        }
        Ok(Some(out))
    }
}

/// The replacement for a masked value: the mask as text, as a JSON string for JSON, or
/// NULL (`None`) for any other type.
fn masked_value(ty: ValueType, binary: bool, mask: &str) -> Option<Vec<u8>> {
    match ty {
        ValueType::Text => Some(mask.as_bytes().to_vec()),
        ValueType::Json => Some(serde_json::Value::from(mask).to_string().into_bytes()),
        ValueType::Jsonb => {
            let text = serde_json::Value::from(mask).to_string();
            Some(if binary {
                [&[1u8][..], text.as_bytes()].concat()
            } else {
                text.into_bytes()
            })
        }
        ValueType::Other => None,
    }
}

/// The value with what the detectors flag masked; `None` when they flag nothing.
fn detect(ty: ValueType, binary: bool, raw: &[u8], masker: &dyn Masker) -> Option<Option<Vec<u8>>> {
    if binary && ty == ValueType::Other {
        // Binary numbers, timestamps and the like are not text to scan.
        return None;
    }
    let (prefix, text) = match (ty, binary) {
        (ValueType::Jsonb, true) => (raw.first().map(|b| vec![*b]), raw.get(1..)?),
        _ => (None, raw),
    };
    let text = std::str::from_utf8(text).ok()?;
    match ty {
        ValueType::Json | ValueType::Jsonb => {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            let masked = masker.mask_value(&value);
            (masked != value).then(|| {
                let mut out = prefix.unwrap_or_default();
                out.extend(masked.to_string().into_bytes());
                Some(out)
            })
        }
        _ => {
            let masked = masker.mask_text(text);
            (masked != text).then(|| match ty {
                ValueType::Text => Some(masked.into_bytes()),
                _ => None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_could_mask_nothing_are_refused() {
        for good in [
            "customers.email",
            "*.ssn",
            "public.customers.email",
            "Customers.Email",
        ] {
            assert!(MaskRules::new(&[good.to_string()], false).is_ok(), "{good}");
        }
        for bad in [
            "email",
            "",
            "customers.",
            ".email",
            "customers.*",
            "*.*",
            "customers.email ",
            " customers.email",
            "customers. email",
            "customers.email,customers.ssn",
            "\"customers\".email",
            "public..email",
            "cust*.email",
        ] {
            assert!(
                MaskRules::new(&[bad.to_string()], false).is_err(),
                "{bad:?}"
            );
        }
    }
}
