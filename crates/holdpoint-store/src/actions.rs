//! Actions: the row an [`ActionRecord`] is stored as, its two writes, and every query.
//!
//! The `record` column holds the whole record as JSON and is what every read returns, so a
//! record round-trips exactly. The other columns are copies of its fields for filtering.

use crate::db::{Arg, Backend, Conn, Db, args};
use crate::error::{corrupt, from_sqlx};
use crate::time::{opt_to_micros, to_micros};
use holdpoint_core::store::ActionFilter;
use holdpoint_core::{ActionId, ActionRecord, Principal, Status, StoreError, Timestamp};
use sqlx::AssertSqlSafe;

/// Columns of the actions table, in the order of [`row`].
pub(crate) const COLUMNS: &str = "id, status, version, principal_kind, principal_name, \
    kind, resource, digest, approver_groups, expires_at, grant_until, consumed_by, created_at, \
    environment, approval_until, record";

/// Values per row, in the order of [`COLUMNS`].
pub(crate) const WIDTH: usize = 16;

const INSERT: &str = "INSERT INTO actions (id, status, version, principal_kind, principal_name, \
    kind, resource, digest, approver_groups, expires_at, grant_until, consumed_by, created_at, \
    environment, approval_until, record) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
    ON CONFLICT DO NOTHING";

const UPDATE: &str = "UPDATE actions SET status = $2, version = $3, principal_kind = $4, \
    principal_name = $5, kind = $6, resource = $7, digest = $8, approver_groups = $9, \
    expires_at = $10, grant_until = $11, consumed_by = $12, created_at = $13, \
    environment = $14, approval_until = $15, record = $16 \
    WHERE id = $1 AND version = $17";

/// How many candidate approvals a grant lookup returns; the gate takes the first that
/// still satisfies policy.
const CANDIDATES: i64 = 16;

/// The column values of `record`, in the order of [`INSERT`].
pub(crate) fn row(record: &ActionRecord) -> Result<Vec<Arg>, StoreError> {
    let json =
        serde_json::to_string(record).map_err(|e| corrupt(&format!("action {}", record.id), e))?;
    // Only a pending action waits for the expiry timer.
    let expires_at = match (&record.hold, record.status) {
        (Some(hold), Status::Pending) => Some(to_micros(hold.expires_at)),
        _ => None,
    };
    let groups = record.approver_groups();
    let approver_groups = if groups.is_empty() {
        String::new()
    } else {
        format!(",{},", groups.join(","))
    };
    Ok(args![
        record.id.as_str(),
        record.status.as_str(),
        record.version,
        record.principal.kind.as_str(),
        &record.principal.name,
        &record.kind,
        &record.resource,
        &record.digest,
        approver_groups,
        expires_at,
        opt_to_micros(record.grant_until),
        record.consumed_by.as_ref().map(|id| id.0.clone()),
        to_micros(record.created_at),
        &record.environment,
        opt_to_micros(record.approval_until),
        json,
    ])
}

/// `Op::InsertAction`: a duplicate id is a conflict.
pub(crate) async fn insert(conn: &mut Conn<'_>, record: &ActionRecord) -> Result<(), StoreError> {
    let inserted = conn
        .execute(INSERT, row(record)?)
        .await
        .map_err(from_sqlx)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "action {} already exists",
            record.id
        )));
    }
    Ok(())
}

/// `Op::UpdateAction`: replaces the action only if it is still at `expected_version`.
pub(crate) async fn update(
    conn: &mut Conn<'_>,
    record: &ActionRecord,
    expected_version: i64,
) -> Result<(), StoreError> {
    if record.version != expected_version + 1 {
        return Err(StoreError::Conflict(format!(
            "action {} must move from version {expected_version} to {}, not {}",
            record.id,
            expected_version + 1,
            record.version
        )));
    }
    let mut values = row(record)?;
    values.push(Arg::from(expected_version));
    let updated = conn.execute(UPDATE, values).await.map_err(from_sqlx)?;
    if updated > 0 {
        return Ok(());
    }
    let stored: Option<(i64,)> = conn
        .fetch_optional(
            "SELECT version FROM actions WHERE id = $1",
            args![record.id.as_str()],
        )
        .await
        .map_err(from_sqlx)?;
    Err(StoreError::Conflict(match stored {
        Some((version,)) => format!(
            "action {} is at version {version}, not {expected_version}",
            record.id
        ),
        None => format!("action {} does not exist", record.id),
    }))
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    record: String,
}

fn parse(row: RecordRow) -> Result<ActionRecord, StoreError> {
    serde_json::from_str(&row.record).map_err(|e| corrupt("stored action record", e))
}

async fn fetch_records(
    db: &Db,
    sql: impl sqlx::SqlSafeStr + Send,
    args: Vec<Arg>,
) -> Result<Vec<ActionRecord>, StoreError> {
    let rows: Vec<RecordRow> = db.fetch_all(sql, args).await.map_err(from_sqlx)?;
    rows.into_iter().map(parse).collect()
}

async fn fetch_record(
    db: &Db,
    sql: &'static str,
    args: Vec<Arg>,
) -> Result<Option<ActionRecord>, StoreError> {
    let row: Option<RecordRow> = db.fetch_optional(sql, args).await.map_err(from_sqlx)?;
    row.map(parse).transpose()
}

pub(crate) async fn by_id(db: &Db, id: &ActionId) -> Result<Option<ActionRecord>, StoreError> {
    fetch_record(
        db,
        "SELECT record FROM actions WHERE id = $1",
        args![id.as_str()],
    )
    .await
}

/// Numbered placeholders for a query built at run time.
#[derive(Default)]
struct Params(Vec<Arg>);

impl Params {
    fn push(&mut self, arg: impl Into<Arg>) -> String {
        self.0.push(arg.into());
        format!("${}", self.0.len())
    }
}

/// The listing query for `filter`. Only fixed fragments and placeholders go into the SQL;
/// every value is bound.
fn list_query(backend: Backend, filter: &ActionFilter) -> (String, Vec<Arg>) {
    let mut params = Params::default();
    let mut sql = String::from("SELECT record FROM actions WHERE 1 = 1");
    if let Some(status) = filter.status {
        sql.push_str(&format!(" AND status = {}", params.push(status.as_str())));
    }
    if let Some(before) = &filter.before {
        sql.push_str(&format!(" AND id < {}", params.push(before.as_str())));
    }
    if let Some(name) = &filter.principal_name {
        sql.push_str(&format!(" AND principal_name = {}", params.push(name)));
    }
    if let Some(kind) = &filter.kind {
        sql.push_str(&format!(" AND kind = {}", params.push(kind)));
    }
    if let Some(environment) = &filter.environment {
        sql.push_str(&format!(" AND environment = {}", params.push(environment)));
    }
    if let Some(since) = filter.since {
        sql.push_str(&format!(
            " AND created_at >= {}",
            params.push(to_micros(since))
        ));
    }
    if let Some(until) = filter.until {
        sql.push_str(&format!(
            " AND created_at < {}",
            params.push(to_micros(until))
        ));
    }
    let mut visible = Vec::new();
    if let Some(requester) = &filter.requester {
        let kind = params.push(requester.kind.as_str());
        let name = params.push(&requester.name);
        visible.push(format!(
            "(principal_kind = {kind} AND principal_name = {name})"
        ));
    }
    for group in &filter.reviewer_groups {
        let needle = params.push(format!(",{group},"));
        visible.push(backend.contains("approver_groups", &needle));
    }
    if !visible.is_empty() {
        sql.push_str(&format!(" AND ({})", visible.join(" OR ")));
    }
    let limit = params.push(i64::from(filter.limit));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    (sql, params.0)
}

/// Newest first. A `limit` of 0 returns nothing.
pub(crate) async fn list(db: &Db, filter: &ActionFilter) -> Result<Vec<ActionRecord>, StoreError> {
    let (sql, args) = list_query(db.backend(), filter);
    fetch_records(db, AssertSqlSafe(sql), args).await
}

pub(crate) async fn count_by_status(db: &Db, status: Status) -> Result<i64, StoreError> {
    let (count,): (i64,) = db
        .fetch_optional(
            "SELECT COUNT(*) FROM actions WHERE status = $1",
            args![status.as_str()],
        )
        .await
        .map_err(from_sqlx)?
        .unwrap_or((0,));
    Ok(count)
}

pub(crate) async fn next_expiry(db: &Db) -> Result<Option<Timestamp>, StoreError> {
    let row: Option<(Option<i64>,)> = db
        .fetch_optional(
            "SELECT MIN(expires_at) FROM actions WHERE status = 'pending' AND expires_at IS NOT NULL",
            args![],
        )
        .await
        .map_err(from_sqlx)?;
    crate::time::opt_from_micros(row.and_then(|(m,)| m), "actions.expires_at")
}

pub(crate) async fn due_for_expiry(
    db: &Db,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<ActionRecord>, StoreError> {
    fetch_records(
        db,
        "SELECT record FROM actions WHERE status = 'pending' AND expires_at IS NOT NULL \
         AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2",
        args![to_micros(now), i64::from(limit)],
    )
    .await
}

/// Open windows for this principal, kind, resource and environment, longest first.
pub(crate) async fn window_grants(
    db: &Db,
    principal: &Principal,
    kind: &str,
    resource: &str,
    environment: &str,
    now: Timestamp,
) -> Result<Vec<ActionRecord>, StoreError> {
    fetch_records(
        db,
        "SELECT record FROM actions WHERE status = 'approved' AND grant_until IS NOT NULL \
         AND principal_kind = $1 AND principal_name = $2 AND kind = $3 AND resource = $4 \
         AND environment = $5 AND grant_until > $6 ORDER BY grant_until DESC, id DESC LIMIT $7",
        args![
            principal.kind.as_str(),
            &principal.name,
            kind,
            resource,
            environment,
            to_micros(now),
            CANDIDATES
        ],
    )
    .await
}

/// Unused, unlapsed single-use approvals of this digest, oldest first, so approvals are
/// used in the order they were asked for.
pub(crate) async fn unused_approvals(
    db: &Db,
    principal: &Principal,
    digest: &str,
    now: Timestamp,
) -> Result<Vec<ActionRecord>, StoreError> {
    fetch_records(
        db,
        "SELECT record FROM actions WHERE status = 'approved' AND grant_until IS NULL \
         AND consumed_by IS NULL AND digest = $1 AND principal_kind = $2 AND principal_name = $3 \
         AND approval_until > $4 ORDER BY id LIMIT $5",
        args![
            digest,
            principal.kind.as_str(),
            &principal.name,
            to_micros(now),
            CANDIDATES
        ],
    )
    .await
}

pub(crate) async fn pending_with_digest(
    db: &Db,
    principal: &Principal,
    digest: &str,
) -> Result<Option<ActionRecord>, StoreError> {
    let found = fetch_records(
        db,
        "SELECT record FROM actions WHERE status = 'pending' AND digest = $1 \
         AND principal_kind = $2 AND principal_name = $3 ORDER BY id LIMIT $4",
        args![digest, principal.kind.as_str(), &principal.name, 1_i64],
    )
    .await?;
    Ok(found.into_iter().next())
}

pub(crate) async fn count_pending_by(db: &Db, principal: &Principal) -> Result<i64, StoreError> {
    let (count,): (i64,) = db
        .fetch_optional(
            "SELECT COUNT(*) FROM actions WHERE status = 'pending' \
             AND principal_kind = $1 AND principal_name = $2",
            args![principal.kind.as_str(), &principal.name],
        )
        .await
        .map_err(from_sqlx)?
        .unwrap_or((0,));
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdpoint_core::PrincipalKind;

    #[test]
    fn the_listing_binds_every_value() {
        let filter = ActionFilter {
            status: Some(Status::Pending),
            requester: Some(Principal::new(PrincipalKind::Agent, "x' OR 1=1 --")),
            reviewer_groups: vec!["dba".into(), "sre".into()],
            before: Some(ActionId("act_9".into())),
            limit: 10,
            principal_name: Some("ci-bot' --".into()),
            kind: Some("db.ddl".into()),
            environment: Some("prod".into()),
            since: Some(chrono::DateTime::UNIX_EPOCH),
            until: None,
        };
        let (sql, args) = list_query(Backend::Sqlite, &filter);
        assert_eq!(
            sql,
            "SELECT record FROM actions WHERE 1 = 1 AND status = $1 AND id < $2 AND \
             principal_name = $3 AND kind = $4 AND environment = $5 AND created_at >= $6 AND \
             ((principal_kind = $7 AND principal_name = $8) OR instr(approver_groups, $9) > 0 \
             OR instr(approver_groups, $10) > 0) ORDER BY id DESC LIMIT $11"
        );
        assert_eq!(args.len(), 11);
        assert_eq!(args[8], Arg::from(",dba,"));
        let (pg, _) = list_query(Backend::Postgres, &ActionFilter::default());
        assert_eq!(
            pg,
            "SELECT record FROM actions WHERE 1 = 1 ORDER BY id DESC LIMIT $1"
        );
    }
}
