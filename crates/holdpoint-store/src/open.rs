//! From a `[store] url` to a connected pool: which backend, its options, and migrations.

use crate::db::Db;
use crate::error::from_sqlx;
use holdpoint_core::StoreError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The schema, embedded from `migrations/`. The SQL is portable: one set for both backends.
static MIGRATOR: Migrator = sqlx::migrate!();

/// How long a SQLite connection waits for the write lock, and anyone waits for a pooled
/// connection, before the store answers `Unavailable`.
const WAIT: Duration = Duration::from_secs(5);
const SQLITE_CONNECTIONS: u32 = 8;
const POSTGRES_CONNECTIONS: u32 = 10;

/// What the caller means to do with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The gateway: create the database if it is missing, run migrations, start the writer.
    Serve,
    /// Read an existing database (e.g. `holdpoint audit verify` on a copy): nothing is
    /// created or migrated, and [`crate::SqlStore`] refuses writes.
    Inspect,
}

/// Connects to the database `url` names and, in [`OpenMode::Serve`], brings its schema up
/// to date.
pub(crate) async fn connect(url: &str, mode: OpenMode) -> Result<Db, StoreError> {
    let db = if url.starts_with("sqlite:") {
        Db::Sqlite(sqlite(url, mode).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Db::Postgres(postgres(url).await?)
    } else {
        let scheme = url.split(':').next().unwrap_or_default();
        return Err(StoreError::Unavailable(format!(
            "unsupported store url scheme `{scheme}`: expected sqlite://… or postgres://…"
        )));
    };
    let ready = match mode {
        OpenMode::Serve => migrate(&db).await,
        OpenMode::Inspect => check_schema(&db).await,
    };
    if let Err(err) = ready {
        db.close().await;
        return Err(err);
    }
    Ok(db)
}

/// SQLite: WAL (readers never wait for the writer), `synchronous=FULL` (a commit is on
/// disk before it is acknowledged), a 5 s busy timeout, foreign keys on.
async fn sqlite(url: &str, mode: OpenMode) -> Result<sqlx::SqlitePool, StoreError> {
    let bad_url = |e: sqlx::Error| StoreError::Unavailable(format!("bad sqlite url `{url}`: {e}"));
    let options = SqliteConnectOptions::from_str(url)
        .map_err(bad_url)?
        .busy_timeout(WAIT)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Full);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let path = options.get_filename().to_path_buf();

    let options = match mode {
        OpenMode::Serve if in_memory => options,
        OpenMode::Serve => {
            create_parent_dir(&path).await?;
            private_files(&path)?;
            options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
        }
        OpenMode::Inspect => {
            if in_memory || !tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Err(StoreError::NotFound(format!(
                    "no database at `{}`",
                    path.display()
                )));
            }
            options.read_only(true)
        }
    };

    // An in-memory database lives only as long as a connection to it: keep exactly one.
    let pool = if in_memory {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(SQLITE_CONNECTIONS)
    };
    pool.acquire_timeout(WAIT)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot open `{}`: {e}", path.display())))
}

/// Creates the database's folder, readable by its owner only, when it is missing.
async fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create directory `{}`: {e}", dir.display()))
            })
        }
        _ => Ok(()),
    }
}

/// The database holds unmasked actions: the file, its WAL and shared-memory files are
/// the owner's alone (0600). A missing database file is created 0600 before SQLite opens
/// it, because SQLite gives the `-wal` and `-shm` files the mode of the main file; files
/// of an older store are narrowed on every start.
fn private_files(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let cannot = |p: &Path, e: std::io::Error| {
            StoreError::Unavailable(format!("cannot secure `{}`: {e}", p.display()))
        };
        if !path.exists() {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(cannot(path, e)),
            }
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = Path::new(&name);
            if file.exists() {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| cannot(file, e))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// PostgreSQL, with every option (host, TLS, `options=-c search_path=…`) from the url.
/// Errors never repeat the url: it may hold a password.
async fn postgres(url: &str) -> Result<sqlx::PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("bad postgres url: {e}")))?;
    let cannot =
        |e: sqlx::Error| StoreError::Unavailable(format!("cannot connect to postgres: {e}"));
    // One plain connection first: its error says why (refused, authentication, no such
    // database), where the pool's would only say that it timed out.
    match tokio::time::timeout(WAIT, options.connect()).await {
        Ok(Ok(conn)) => conn.close().await.map_err(cannot)?,
        Ok(Err(e)) => return Err(cannot(e)),
        Err(_) => return Err(cannot(sqlx::Error::PoolTimedOut)),
    }
    PgPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(WAIT)
        .connect_with(options)
        .await
        .map_err(cannot)
}

async fn migrate(db: &Db) -> Result<(), StoreError> {
    let result = match db {
        Db::Sqlite(pool) => MIGRATOR.run(pool).await,
        Db::Postgres(pool) => MIGRATOR.run(pool).await,
    };
    result.map_err(|e| StoreError::Unavailable(format!("cannot migrate the database: {e}")))
}

/// An inspected database must already be a holdpoint database.
async fn check_schema(db: &Db) -> Result<(), StoreError> {
    match db
        .fetch_optional::<(i64,)>(
            "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1",
            Vec::new(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) => Err(StoreError::NotFound(format!(
            "not a holdpoint database: {}",
            e.message()
        ))),
        Err(e) => Err(from_sqlx(e)),
    }
}
