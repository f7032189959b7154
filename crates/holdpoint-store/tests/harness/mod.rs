//! One test body, both backends: [`run`] gives a body a fresh store (a SQLite file in a
//! temporary directory, or a fresh PostgreSQL schema), a raw pool on the same database for
//! tampering, and cleans up afterwards, even when the body panics.
//!
//! PostgreSQL is `HOLDPOINT_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached the PostgreSQL half of each test is skipped with a note, unless
//! `CI=true`, where it fails.

#![allow(dead_code)]

use holdpoint_core::action::Hold;
use holdpoint_core::env::{Env, ProcessEnv};
use holdpoint_core::{
    ActionId, ActionRecord, Actor, EventType, NewEvent, Outcome, Principal, PrincipalKind,
    Requirement, Status, Timestamp, Verdict,
};
use holdpoint_core::{Clock as _, SystemClock};
use holdpoint_store::WRITER_LOCK_KEY;
use holdpoint_store::{OpenMode, SqlStore};
use serde_json::{Value, json};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, Postgres as Pg};
use sqlx::sqlite::{Sqlite, SqlitePool};
use sqlx::{AssertSqlSafe, Connection};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection on the store's database that bypasses the store.
#[derive(Clone)]
pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// Runs one or more statements.
    pub async fn exec(&self, sql: &str) {
        let sql = AssertSqlSafe(sql.to_string());
        match self {
            Raw::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
            Raw::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        }
        .unwrap();
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let sql = AssertSqlSafe(sql.to_string());
        match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .unwrap()
    }

    pub async fn close(&self) {
        match self {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }
}

/// A lock held outside the store; see [`Harness::hold_write_lock`].
pub enum WriteLock {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Pg>),
}

impl WriteLock {
    pub async fn release(self) {
        match self {
            WriteLock::Sqlite(mut conn) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await.unwrap();
            }
            WriteLock::Postgres(mut conn) => {
                sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(WRITER_LOCK_KEY)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
            }
        }
    }
}

#[derive(Clone)]
pub struct Harness {
    pub backend: Backend,
    /// The url the store was opened with: open it again to get a second store.
    pub url: String,
    pub store: SqlStore,
    pub raw: Raw,
    dir: Arc<TempDir>,
    postgres: Option<Postgres>,
}

#[derive(Clone)]
struct Postgres {
    admin: PgPool,
    base_url: String,
    schemas: Arc<Mutex<Vec<String>>>,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A name no other test run uses at the same time.
fn unique(prefix: &str) -> String {
    let nanos = SystemClock.now().timestamp_subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn with_search_path(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

impl Postgres {
    async fn connect() -> Option<Postgres> {
        let base_url = ProcessEnv
            .var("HOLDPOINT_TEST_POSTGRES_URL")
            .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_string());
        // Asked once per test binary; every test after the first skips at once.
        static REACHABLE: tokio::sync::OnceCell<Result<(), String>> =
            tokio::sync::OnceCell::const_new();
        let reachable = REACHABLE
            .get_or_init(|| async {
                let attempt = tokio::time::timeout(
                    Duration::from_secs(3),
                    sqlx::PgConnection::connect(&base_url),
                );
                match attempt.await {
                    Ok(Ok(conn)) => conn.close().await.map_err(|e| e.to_string()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("no answer within 3 s".to_string()),
                }
            })
            .await
            .clone();
        let admin = match reachable {
            Ok(()) => PgPoolOptions::new()
                .max_connections(2)
                .connect(&base_url)
                .await
                .map_err(|e| e.to_string()),
            Err(err) => Err(err),
        };
        match admin {
            Ok(admin) => Some(Postgres {
                admin,
                base_url,
                schemas: Arc::default(),
            }),
            Err(err) if ProcessEnv.var("CI").as_deref() == Some("true") => {
                panic!(
                    "PostgreSQL at HOLDPOINT_TEST_POSTGRES_URL is unreachable and CI=true: {err}"
                )
            }
            Err(err) => {
                eprintln!("note: skipping the PostgreSQL half of this test: {err}");
                None
            }
        }
    }

    /// A new, empty schema, and a url whose connections use it.
    async fn schema(&self) -> String {
        let schema = unique("hp_test");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&self.admin)
            .await
            .unwrap();
        self.schemas.lock().unwrap().push(schema.clone());
        with_search_path(&self.base_url, &schema)
    }
}

impl Harness {
    async fn new(backend: Backend) -> Option<Harness> {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let (url, raw, postgres) = match backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    dir.path().join("data/holdpoint.db").display()
                );
                (url, None, None)
            }
            Backend::Postgres => {
                let pg = Postgres::connect().await?;
                let url = pg.schema().await;
                let raw = PgPoolOptions::new()
                    .max_connections(2)
                    .connect(&url)
                    .await
                    .unwrap();
                (url, Some(Raw::Postgres(raw)), Some(pg))
            }
        };
        let store = SqlStore::open(&url, OpenMode::Serve).await.unwrap();
        let raw = match raw {
            Some(raw) => raw,
            None => Raw::Sqlite(SqlitePool::connect(&url).await.unwrap()),
        };
        Some(Harness {
            backend,
            url,
            store,
            raw,
            dir,
            postgres,
        })
    }

    /// A url with no holdpoint database behind it yet: a file that does not exist, or an
    /// empty schema.
    pub async fn fresh_url(&self) -> String {
        match &self.postgres {
            None => format!(
                "sqlite://{}",
                self.dir
                    .path()
                    .join(unique("fresh"))
                    .join("new.db")
                    .display()
            ),
            Some(pg) => pg.schema().await,
        }
    }

    /// For tampering: drops everything the store wrote.
    pub async fn drop_database(&self) {
        match &self.postgres {
            None => {
                self.raw
                    .exec("DROP TABLE audit; DROP TABLE actions; DROP TABLE tokens;")
                    .await
            }
            Some(pg) => {
                let schemas = pg.schemas.lock().unwrap().clone();
                for schema in schemas {
                    sqlx::raw_sql(AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&pg.admin)
                    .await
                    .unwrap();
                }
            }
        }
    }

    /// Takes what the store's writer needs, as another process or replica would: the
    /// SQLite write lock, or the PostgreSQL chain lock.
    pub async fn hold_write_lock(&self) -> WriteLock {
        match &self.raw {
            Raw::Sqlite(pool) => {
                let mut conn = pool.acquire().await.unwrap();
                sqlx::raw_sql("BEGIN EXCLUSIVE")
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                WriteLock::Sqlite(conn)
            }
            Raw::Postgres(pool) => {
                let mut conn = pool.acquire().await.unwrap();
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(WRITER_LOCK_KEY)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                WriteLock::Postgres(conn)
            }
        }
    }

    async fn teardown(&self) {
        self.store.close().await;
        self.raw.close().await;
        if let Some(pg) = &self.postgres {
            let schemas = pg.schemas.lock().unwrap().clone();
            for schema in schemas {
                let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                if let Err(err) = sqlx::raw_sql(AssertSqlSafe(drop)).execute(&pg.admin).await {
                    eprintln!("note: could not drop test schema {schema}: {err}");
                }
            }
            pg.admin.close().await;
        }
    }
}

/// Runs `body` against a fresh store of `backend`, then cleans up.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(harness) = Harness::new(backend).await else {
        return;
    };
    let outcome = tokio::spawn(body(harness.clone())).await;
    harness.teardown().await;
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("test task failed: {err}"),
        }
    }
}

/// Generates `name::sqlite` and `name::postgres` for each async test body `name(Harness)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::harness::run($crate::harness::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::harness::run($crate::harness::Backend::Postgres, super::$name).await;
            }
        }
    )*};
}

// ---- building records and events ----

pub fn agent(name: &str) -> Principal {
    Principal::new(PrincipalKind::Agent, name)
}

pub fn user(name: &str) -> Principal {
    Principal::new(PrincipalKind::User, name)
}

/// Now, at full (nanosecond) precision: records must round-trip it exactly.
pub fn now() -> Timestamp {
    SystemClock.now()
}

pub fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

/// A decided action without a hold.
pub fn record(id: &str, principal: &Principal, status: Status) -> ActionRecord {
    ActionRecord {
        id: ActionId(id.to_string()),
        status,
        version: 1,
        principal: principal.clone(),
        owner: Some("alice".into()),
        kind: "db.ddl".into(),
        resource: "postgres/prod/customers".into(),
        environment: "prod".into(),
        params: json!({"sql": "ALTER TABLE customers ADD COLUMN tier int", "password": "hunter2", "n": 1.5}),
        masked_params: json!({"sql": "ALTER TABLE customers ADD COLUMN tier int", "password": "***", "n": 1.5}),
        masked_resource: "postgres/prod/customers".into(),
        justification: "add a column for the report".into(),
        digest: format!("sha256:{id}"),
        surface: "api".into(),
        verdict: Verdict {
            outcome: Outcome::Allow,
            policies: vec!["reads-pass".into()],
            reason: "allowed by reads-pass".into(),
        },
        hold: None,
        grant_until: None,
        consumed_by: None,
        granted_by: None,
        created_at: now(),
        decided_at: None,
        approval_until: None,
        context: None,
        executed_by_gateway: false,
    }
}

/// A pending action held for `groups`, expiring at `expires_at`.
pub fn held(
    id: &str,
    principal: &Principal,
    groups: &[&str],
    expires_at: Timestamp,
) -> ActionRecord {
    let mut rec = record(id, principal, Status::Pending);
    rec.verdict = Verdict {
        outcome: Outcome::Hold,
        policies: vec!["prod-schema-change".into()],
        reason: "Schema change in production".into(),
    };
    rec.hold = Some(Hold {
        title: "Schema change in production".into(),
        requirements: vec![Requirement {
            policy: "prod-schema-change".into(),
            approvers: groups.iter().map(|g| g.to_string()).collect(),
            quorum: 1,
        }],
        expires_at,
        reviews: Vec::new(),
        separate: true,
        grant_window: Some(Duration::from_secs(600)),
        slack_channel: None,
    });
    rec
}

/// The next version of `rec`, changed by `edit`.
pub fn next_version(rec: &ActionRecord, edit: impl FnOnce(&mut ActionRecord)) -> ActionRecord {
    let mut next = rec.clone();
    next.version += 1;
    edit(&mut next);
    next
}

pub fn event(event_type: EventType, action: Option<&ActionId>, data: Value) -> NewEvent {
    NewEvent::new(
        now(),
        event_type,
        Actor::new("agent", "ci-bot", "api"),
        action,
        data,
    )
}
