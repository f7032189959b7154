//! Multi-row `INSERT`s for the writer's fast path: one statement for many rows instead of
//! one round trip per row.

use crate::db::{Arg, Conn};
use sqlx::AssertSqlSafe;
use std::fmt::Write;

/// Rows per statement. Small on purpose: sqlx looks up each SQLite parameter by name in a
/// list as long as the statement's, so binding costs grow with the square of its length.
const ROWS_PER_STATEMENT: usize = 32;

/// Inserts `rows` (each `width` values, in the order of `columns`) into `table`; with
/// `skip_conflicts`, rows that collide with existing keys are skipped. Returns how many
/// rows were inserted.
pub(crate) async fn insert(
    conn: &mut Conn<'_>,
    table: &'static str,
    columns: &'static str,
    width: usize,
    rows: Vec<Vec<Arg>>,
    skip_conflicts: bool,
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Arg>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
        let mut args = Vec::with_capacity(chunk.len() * width);
        for (i, row) in chunk.into_iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..width {
                let sep = if j == 0 { "" } else { ", " };
                let _ = write!(sql, "{sep}${}", i * width + j + 1);
            }
            sql.push(')');
            args.extend(row);
        }
        if skip_conflicts {
            sql.push_str(" ON CONFLICT DO NOTHING");
        }
        inserted += conn.execute(AssertSqlSafe(sql), args).await?;
    }
    Ok(inserted)
}
