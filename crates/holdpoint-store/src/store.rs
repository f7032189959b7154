//! [`SqlStore`]: the [`Store`] both backends share.

use crate::db::Db;
use crate::open::{OpenMode, connect};
use crate::writer::Writer;
use crate::{actions, audit, outbox, sessions, tokens};
use async_trait::async_trait;
use holdpoint_core::audit::ChainReport;
use holdpoint_core::outbox::Delivery;
use holdpoint_core::store::ActionFilter;
use holdpoint_core::{
    ActionId, ActionRecord, AuditEvent, Change, Principal, SessionRecord, Status, Store,
    StoreError, Timestamp, TokenRecord, VouchRecord,
};
use std::fmt;
use std::sync::Arc;

/// The SQLite or PostgreSQL store. Cheap to clone: clones share one pool and one writer.
#[derive(Clone)]
pub struct SqlStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    writer: Writer,
}

impl SqlStore {
    /// Opens `url`: `sqlite://path/to/file.db` (in [`OpenMode::Serve`] the directory and
    /// file are created when missing) or `postgres://…`.
    pub async fn open(url: &str, mode: OpenMode) -> Result<SqlStore, StoreError> {
        let db = connect(url, mode).await?;
        let writer = match mode {
            OpenMode::Serve => Writer::start(db.clone()),
            OpenMode::Inspect => Writer::read_only(),
        };
        tracing::debug!(backend = db.backend().name(), ?mode, "store opened");
        Ok(SqlStore {
            inner: Arc::new(Inner { db, writer }),
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.inner.db.backend().name()
    }

    /// Commits every change already handed to the writer, then closes the pool. Later
    /// calls on this store (and its clones) answer `Unavailable`.
    pub async fn close(&self) {
        self.inner.writer.stop().await;
        self.inner.db.close().await;
    }

    fn db(&self) -> &Db {
        &self.inner.db
    }
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn apply(&self, change: Change) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.writer.submit(change).await
    }

    async fn action(&self, id: &ActionId) -> Result<Option<ActionRecord>, StoreError> {
        actions::by_id(self.db(), id).await
    }

    async fn actions(&self, filter: &ActionFilter) -> Result<Vec<ActionRecord>, StoreError> {
        actions::list(self.db(), filter).await
    }

    async fn count_by_status(&self, status: Status) -> Result<i64, StoreError> {
        actions::count_by_status(self.db(), status).await
    }

    async fn next_expiry(&self) -> Result<Option<Timestamp>, StoreError> {
        actions::next_expiry(self.db()).await
    }

    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        actions::due_for_expiry(self.db(), now, limit).await
    }

    async fn window_grants(
        &self,
        principal: &Principal,
        kind: &str,
        resource: &str,
        environment: &str,
        now: Timestamp,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        actions::window_grants(self.db(), principal, kind, resource, environment, now).await
    }

    async fn unused_approvals(
        &self,
        principal: &Principal,
        digest: &str,
        now: Timestamp,
    ) -> Result<Vec<ActionRecord>, StoreError> {
        actions::unused_approvals(self.db(), principal, digest, now).await
    }

    async fn pending_with_digest(
        &self,
        principal: &Principal,
        digest: &str,
    ) -> Result<Option<ActionRecord>, StoreError> {
        actions::pending_with_digest(self.db(), principal, digest).await
    }

    async fn count_pending_by(&self, principal: &Principal) -> Result<i64, StoreError> {
        actions::count_pending_by(self.db(), principal).await
    }

    async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        outbox::due(self.db(), now, limit).await
    }

    async fn next_delivery(&self) -> Result<Option<Timestamp>, StoreError> {
        outbox::next(self.db()).await
    }

    async fn deliveries(&self, undelivered: bool, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        outbox::list(self.db(), undelivered, limit).await
    }

    async fn outbox_depth(&self) -> Result<i64, StoreError> {
        outbox::depth(self.db()).await
    }

    async fn channel_message(
        &self,
        action_id: &str,
        channel: &str,
    ) -> Result<Option<String>, StoreError> {
        outbox::message(self.db(), action_id, channel).await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        tokens::by_hash(self.db(), hash).await
    }

    async fn token_by_name(&self, name: &str) -> Result<Option<TokenRecord>, StoreError> {
        tokens::by_name(self.db(), name).await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        tokens::all(self.db()).await
    }

    async fn session(&self, key: &str) -> Result<Option<SessionRecord>, StoreError> {
        sessions::by_key(self.db(), key).await
    }

    async fn sessions(&self, now: Timestamp, limit: u32) -> Result<Vec<SessionRecord>, StoreError> {
        sessions::live(self.db(), now, limit).await
    }

    async fn vouch(&self, name: &str) -> Result<Option<VouchRecord>, StoreError> {
        sessions::vouch_by_name(self.db(), name).await
    }

    async fn audit_events(&self, after: i64, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        audit::events_after(self.db(), after, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: Option<(i64,)> = self
            .db()
            .fetch_optional("SELECT CAST(1 AS BIGINT)", Vec::new())
            .await
            .map_err(crate::error::from_sqlx)?;
        Ok(())
    }

    fn writable(&self) -> bool {
        self.inner.writer.healthy()
    }

    async fn probe_write(&self) -> Result<(), StoreError> {
        self.inner.writer.probe().await
    }

    async fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        audit::verify(self.db()).await
    }
}
