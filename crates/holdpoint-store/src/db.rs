//! The two backends behind one small interface, so every query is written once.
//!
//! A query is a SQL string with `$1`, `$2`, … placeholders (the same on SQLite and
//! PostgreSQL) and a list of [`Arg`]s. It runs on a [`Conn`]: a connection borrowed from
//! the pool (reads) or from the writer's transaction. The only SQL that differs between
//! the backends lives here: how the writer starts its transaction and locks the chain, and
//! the substring test used for reviewer listings.

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgRow, Postgres};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Database, Encode, FromRow, SqlSafeStr, Type};

/// The PostgreSQL advisory lock key every replica's writer takes (for the length of its
/// transaction) before it reads the chain head, so that replicas append one at a time.
/// The value is "holdpoin" in ASCII.
pub const WRITER_LOCK_KEY: i64 = 0x686f_6c64_706f_696e;

/// How long a PostgreSQL writer waits for another replica's batch before giving up.
const PG_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '5s'";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// SQL that is true when `column` contains the text bound at `param`, case-sensitively.
    /// (`LIKE` would do on PostgreSQL, but it ignores ASCII case on SQLite.)
    pub(crate) fn contains(self, column: &str, param: &str) -> String {
        match self {
            Backend::Sqlite => format!("instr({column}, {param}) > 0"),
            Backend::Postgres => format!("strpos({column}, {param}) > 0"),
        }
    }
}

/// A connection pool of either backend.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn acquire(&self) -> Result<Pooled, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    /// Opens the writer's transaction and takes the chain lock: on SQLite `BEGIN IMMEDIATE`
    /// (the write lock at once, waiting up to the busy timeout), on PostgreSQL an advisory
    /// lock held until commit or rollback.
    ///
    /// The transaction is driven with plain `BEGIN`/`COMMIT`/`ROLLBACK` on a connection
    /// the writer owns, so that after any failure the connection is closed rather than
    /// returned to the pool in an unknown state (a full disk can leave SQLite inside a
    /// transaction): the next batch starts on a fresh connection.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let mut tx = WriteTx {
            conn: self.acquire().await?,
            open: true,
        };
        let begun = match &mut tx.conn {
            Pooled::Sqlite(c) => sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut **c)
                .await
                .map(drop),
            Pooled::Postgres(c) => {
                let c: &mut PgConnection = c;
                async {
                    sqlx::query("BEGIN").execute(&mut *c).await?;
                    sqlx::query(PG_LOCK_TIMEOUT).execute(&mut *c).await?;
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(WRITER_LOCK_KEY)
                        .execute(&mut *c)
                        .await
                        .map(drop)
                }
                .await
            }
        };
        match begun {
            Ok(()) => Ok(tx),
            Err(e) => {
                tx.abandon().await;
                Err(e)
            }
        }
    }

    /// Runs one read on a pooled connection.
    pub(crate) async fn fetch_all<T: FromBoth>(
        &self,
        sql: impl SqlSafeStr + Send,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, sqlx::Error> {
        self.acquire().await?.conn().fetch_all(sql, args).await
    }

    pub(crate) async fn fetch_optional<T: FromBoth>(
        &self,
        sql: impl SqlSafeStr + Send,
        args: Vec<Arg>,
    ) -> Result<Option<T>, sqlx::Error> {
        self.acquire().await?.conn().fetch_optional(sql, args).await
    }

    /// Closes the pool. On SQLite the WAL is first folded into the database file, so a
    /// copy of that one file (an auditor's) holds every committed event; this does not
    /// depend on which connection happens to close last.
    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(pool) => {
                // A read-only (inspected) database cannot checkpoint; nothing to fold then.
                let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(pool)
                    .await;
                pool.close().await
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// A connection checked out of the pool.
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }

    /// The connection is closed when dropped instead of going back to the pool.
    fn close_on_drop(&mut self) {
        match self {
            Pooled::Sqlite(c) => c.close_on_drop(),
            Pooled::Postgres(c) => c.close_on_drop(),
        }
    }
}

/// The writer's transaction on a connection it owns. Committed or rolled back
/// explicitly; dropped in any other state (an error, a cancelled task), its connection is
/// closed, never reused.
pub(crate) struct WriteTx {
    conn: Pooled,
    open: bool,
}

impl WriteTx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        self.conn.conn()
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.end("COMMIT").await
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.end("ROLLBACK").await
    }

    /// Ends the transaction with `sql`; if that fails, the connection is discarded.
    async fn end(mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        match self.conn().execute(sql, Vec::new()).await {
            Ok(_) => {
                self.open = false;
                Ok(())
            }
            Err(e) => {
                self.abandon().await;
                Err(e)
            }
        }
    }

    /// Rolls back if the connection still answers, and closes it.
    pub(crate) async fn discard(mut self) {
        self.abandon().await;
    }

    /// After a failure: roll back if the connection still answers, then close it.
    async fn abandon(&mut self) {
        let _ = self.conn().execute("ROLLBACK", Vec::new()).await;
        self.conn.close_on_drop();
        self.open = false;
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open {
            self.conn.close_on_drop();
        }
    }
}

/// One bound value. Everything holdpoint stores is a BIGINT or TEXT, possibly NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

/// `args![a, b, c]`: the bound values of a query, in placeholder order.
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::db::Arg::from($value)),*]
    };
}
pub(crate) use args;

/// A row type that both backends can decode (what `#[derive(sqlx::FromRow)]` gives).
pub(crate) trait FromBoth:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> FromBoth for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A borrowed connection of either backend.
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: impl SqlSafeStr + Send,
        args: Vec<Arg>,
    ) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Conn::Sqlite(c) => bind(sqlx::query(sql), args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => bind(sqlx::query(sql), args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    pub(crate) async fn fetch_all<T: FromBoth>(
        &mut self,
        sql: impl SqlSafeStr + Send,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Conn::Sqlite(c) => {
                let rows = bind(sqlx::query(sql), args).fetch_all(&mut **c).await?;
                rows.iter()
                    .map(<T as FromRow<SqliteRow>>::from_row)
                    .collect()
            }
            Conn::Postgres(c) => {
                let rows = bind(sqlx::query(sql), args).fetch_all(&mut **c).await?;
                rows.iter().map(<T as FromRow<PgRow>>::from_row).collect()
            }
        }
    }

    pub(crate) async fn fetch_optional<T: FromBoth>(
        &mut self,
        sql: impl SqlSafeStr + Send,
        args: Vec<Arg>,
    ) -> Result<Option<T>, sqlx::Error> {
        match self {
            Conn::Sqlite(c) => {
                let row = bind(sqlx::query(sql), args)
                    .fetch_optional(&mut **c)
                    .await?;
                row.as_ref()
                    .map(<T as FromRow<SqliteRow>>::from_row)
                    .transpose()
            }
            Conn::Postgres(c) => {
                let row = bind(sqlx::query(sql), args)
                    .fetch_optional(&mut **c)
                    .await?;
                row.as_ref()
                    .map(<T as FromRow<PgRow>>::from_row)
                    .transpose()
            }
        }
    }
}

fn bind<'q, DB>(
    mut query: Query<'q, DB, <DB as Database>::Arguments>,
    args: Vec<Arg>,
) -> Query<'q, DB, <DB as Database>::Arguments>
where
    DB: Database,
    Option<i64>: for<'t> Encode<'t, DB> + Type<DB>,
    Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
        };
    }
    query
}
