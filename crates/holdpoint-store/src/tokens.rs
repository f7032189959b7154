//! Tokens: only the SHA-256 of a bearer token is stored, never the token itself.

use crate::db::{Conn, Db, args};
use crate::error::{corrupt, from_sqlx};
use crate::time::{from_micros, opt_from_micros, opt_to_micros, to_micros};
use holdpoint_core::principal::PrincipalKind;
use holdpoint_core::{StoreError, Timestamp, TokenRecord};

const BY_HASH: &str = "SELECT hash, name, kind, groups, owner, created_at, expires_at, revoked_at \
    FROM tokens WHERE hash = $1";

const BY_NAME: &str = "SELECT hash, name, kind, groups, owner, created_at, expires_at, revoked_at \
    FROM tokens WHERE lower(name) = lower($1) AND revoked_at IS NULL";

const ALL: &str = "SELECT hash, name, kind, groups, owner, created_at, expires_at, revoked_at \
    FROM tokens ORDER BY created_at, name";

#[derive(sqlx::FromRow)]
struct TokenRow {
    hash: String,
    name: String,
    kind: String,
    groups: String,
    owner: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_record(self) -> Result<TokenRecord, StoreError> {
        let what = format!("token `{}`", self.name);
        let kind: PrincipalKind = self.kind.parse().map_err(|e| corrupt(&what, e))?;
        let groups: Vec<String> =
            serde_json::from_str(&self.groups).map_err(|e| corrupt(&what, e))?;
        Ok(TokenRecord {
            kind,
            groups,
            owner: self.owner,
            hash: self.hash,
            created_at: from_micros(self.created_at, &what)?,
            expires_at: opt_from_micros(self.expires_at, &what)?,
            revoked_at: opt_from_micros(self.revoked_at, &what)?,
            name: self.name,
        })
    }
}

/// `Op::InsertToken`: the name must not belong to a token that is not revoked.
pub(crate) async fn insert(conn: &mut Conn<'_>, token: &TokenRecord) -> Result<(), StoreError> {
    let taken: Option<(String,)> = conn
        .fetch_optional(
            "SELECT name FROM tokens WHERE lower(name) = lower($1) AND revoked_at IS NULL",
            args![&token.name],
        )
        .await
        .map_err(from_sqlx)?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "a token named `{}` already exists",
            token.name
        )));
    }
    let groups = serde_json::to_string(&token.groups).map_err(|e| corrupt("token groups", e))?;
    let inserted = conn
        .execute(
            "INSERT INTO tokens (hash, name, kind, groups, owner, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            args![
                &token.hash,
                &token.name,
                token.kind.as_str(),
                groups,
                token.owner.clone(),
                to_micros(token.created_at),
                opt_to_micros(token.expires_at),
                opt_to_micros(token.revoked_at),
            ],
        )
        .await
        .map_err(from_sqlx)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(
            "a token with this hash already exists".into(),
        ));
    }
    Ok(())
}

/// `Op::RevokeToken`.
pub(crate) async fn revoke(
    conn: &mut Conn<'_>,
    name: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let revoked = conn
        .execute(
            "UPDATE tokens SET revoked_at = $1 WHERE lower(name) = lower($2) AND revoked_at IS NULL",
            args![to_micros(at), name],
        )
        .await
        .map_err(from_sqlx)?;
    if revoked == 0 {
        return Err(StoreError::NotFound(format!(
            "no live token named `{name}`"
        )));
    }
    Ok(())
}

/// The token with this stored hash, revoked or expired ones included: the caller decides.
pub(crate) async fn by_hash(db: &Db, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    let row: Option<TokenRow> = db
        .fetch_optional(BY_HASH, args![hash])
        .await
        .map_err(from_sqlx)?;
    row.map(TokenRow::into_record).transpose()
}

/// The token of this name that is not revoked (there is at most one).
pub(crate) async fn by_name(db: &Db, name: &str) -> Result<Option<TokenRecord>, StoreError> {
    let row: Option<TokenRow> = db
        .fetch_optional(BY_NAME, args![name])
        .await
        .map_err(from_sqlx)?;
    row.map(TokenRow::into_record).transpose()
}

/// Every token, oldest first.
pub(crate) async fn all(db: &Db) -> Result<Vec<TokenRecord>, StoreError> {
    let rows: Vec<TokenRow> = db.fetch_all(ALL, args![]).await.map_err(from_sqlx)?;
    rows.into_iter().map(TokenRow::into_record).collect()
}
