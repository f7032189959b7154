//! Where a result's columns come from, for masking: the table column behind each (the
//! catalog, and the table's inheritance family from `lineage.rs`), whether its computed
//! columns may carry a masked one, and, for a portal no one described, a Describe of
//! holdpoint's own before its Execute.

use crate::listener::Listener;
use crate::pump::Expect;
use crate::results::{self, RowMask, Source};
use crate::session::Session;
use crate::shapes::Shape;
use crate::wire::{self, Frame};
use std::collections::BTreeSet;
use std::io;

/// Every table the statements of `shape` read.
pub(crate) fn tables(shape: Option<&Shape>) -> BTreeSet<String> {
    shape
        .into_iter()
        .flat_map(|s| s.statements.iter())
        .flat_map(|st| st.tables.iter().cloned())
        .collect()
}

/// Where a result's rows come from.
pub(crate) struct Origin {
    /// The statement may carry a masked column in a computed one (by the names it
    /// mentions, or rows from elsewhere).
    pub tainted: bool,
    /// The tables it reads.
    pub tables: BTreeSet<String>,
    /// Its text, when it is one statement.
    pub sql: Option<String>,
}

/// The masking plan for `fields`, asking the catalog which table column each is and
/// which relations share its rows. Computed columns are masked when the statement or a
/// table it reads may carry a masked column, unless its own target names no column
/// (`targets.rs`).
pub(crate) async fn plan(
    l: &Listener,
    fields: &[results::Field],
    formats: &[i16],
    origin: &Origin,
) -> RowMask {
    let computed = fields.iter().any(|f| f.table == 0);
    let tainted = origin.tainted
        || (computed
            && l.lineage
                .reads_masked(&l.rules, &origin.tables)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "masking computed columns: the catalog could not be asked");
                    true
                }));
    let clean = match &origin.sql {
        Some(sql) if tainted && computed => crate::targets::clean(sql, fields.len()),
        _ => None,
    };
    let masked = |i: usize| tainted && !clean.as_ref().and_then(|c| c.get(i)).is_some_and(|c| *c);
    match sources(l, fields).await {
        Ok(sources) => RowMask::plan(&l.rules, fields, formats, Some(&sources), masked),
        Err(e) => {
            tracing::warn!(error = %e, "masking every column: the catalog could not be asked");
            RowMask::plan(&l.rules, fields, formats, None, masked)
        }
    }
}

/// The table column behind each of `fields` (`None` for a computed one, or one the
/// catalog does not know), with its table's inheritance family.
async fn sources(l: &Listener, fields: &[results::Field]) -> Result<Vec<Option<Source>>, String> {
    let traced: Vec<&results::Field> = fields.iter().filter(|f| f.table != 0).collect();
    if traced.is_empty() {
        return Ok(vec![None; fields.len()]);
    }
    let keys: Vec<(u32, i16)> = traced.iter().map(|f| (f.table, f.attnum)).collect();
    let oids: Vec<u32> = traced.iter().map(|f| f.table).collect();
    let names = l.catalog.columns(&keys).await.map_err(|e| e.to_string())?;
    let families = l.lineage.families(&oids).await.map_err(|e| e.to_string())?;
    let mut found = names.into_iter().zip(families);
    Ok(fields
        .iter()
        .map(|f| {
            if f.table == 0 {
                return None;
            }
            let (name, family) = found.next()?;
            name.map(|(table, column)| Source {
                table,
                column,
                family: family.relations,
            })
        })
        .collect())
}

impl Session {
    /// On a listener with masking, an Execute of a portal whose columns are not known
    /// yet is preceded by a Describe of that portal: its answer, dropped, tells where
    /// each column comes from. (Without it, a client that never describes would get
    /// rows holdpoint could only mask blindly.)
    pub(crate) fn describe_for_masking(&mut self, execute: &Frame) -> io::Result<()> {
        if self.l.rules.is_empty() {
            return Ok(());
        }
        let name = wire::Reader::new(&execute.body).cstr()?.to_string();
        let Some(fields) = self.portals.get(&name).map(|p| p.fields.clone()) else {
            return Ok(());
        };
        if fields.get().is_some() {
            return Ok(());
        }
        let mut body = bytes::BytesMut::new();
        body.extend_from_slice(b"P");
        wire::put_cstr(&mut body, &name);
        wire::put_frame(&mut self.to_server, b'D', &body);
        self.expect.push_back(Expect::InjectedDescribe(fields));
        Ok(())
    }
}
