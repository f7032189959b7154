//! Web inbox sessions and vouched identities. A session is keyed by the SHA-256 of its id;
//! the id the browser holds is never stored. Names are matched by a lowercased copy
//! (`principal_key`), computed here, so both backends compare them alike.

use crate::db::{Conn, Db, args};
use crate::error::{corrupt, from_sqlx};
use crate::time::{from_micros, to_micros};
use holdpoint_core::principal::PrincipalKind;
use holdpoint_core::{
    Identity, Principal, SessionRecord, SessionVia, StoreError, Timestamp, VouchRecord,
};

// Every query is written out whole, so each is a `&'static str`. A session is live at
// `$1` when `expires_at > $1 AND last_seen + idle_micros > $1`.

const BY_KEY: &str = "SELECT key_hash, principal_kind, principal_name, groups, owner, via, \
    token_hash, csrf, created_at, last_seen, idle_micros, expires_at \
    FROM web_sessions WHERE key_hash = $1";

const LIVE: &str = "SELECT key_hash, principal_kind, principal_name, groups, owner, via, \
    token_hash, csrf, created_at, last_seen, idle_micros, expires_at \
    FROM web_sessions WHERE expires_at > $1 AND last_seen + idle_micros > $1 \
    ORDER BY last_seen DESC, key_hash LIMIT $2";

const COUNT_LIVE_OF: &str = "SELECT COUNT(*) FROM web_sessions \
    WHERE expires_at > $1 AND last_seen + idle_micros > $1 \
    AND principal_kind = $2 AND principal_key = $3";

const END_OLDEST_OF: &str = "DELETE FROM web_sessions WHERE key_hash IN (\
    SELECT key_hash FROM web_sessions \
    WHERE expires_at > $1 AND last_seen + idle_micros > $1 \
    AND principal_kind = $2 AND principal_key = $3 \
    ORDER BY last_seen, created_at, key_hash LIMIT $4)";

const COUNT_LIVE: &str = "SELECT COUNT(*) FROM web_sessions \
    WHERE expires_at > $1 AND last_seen + idle_micros > $1";

const END_OLDEST: &str = "DELETE FROM web_sessions WHERE key_hash IN (\
    SELECT key_hash FROM web_sessions \
    WHERE expires_at > $1 AND last_seen + idle_micros > $1 \
    ORDER BY last_seen, created_at, key_hash LIMIT $2)";

const INSERT: &str = "INSERT INTO web_sessions (key_hash, principal_kind, principal_name, \
    groups, owner, via, token_hash, csrf, created_at, last_seen, idle_micros, expires_at, \
    principal_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
    ON CONFLICT DO NOTHING";

const VOUCH_BY_NAME: &str = "SELECT principal_kind, principal_name, groups, owner, \
    vouched_at, expires_at FROM vouches WHERE principal_key = $1";

const UPSERT_VOUCH: &str = "INSERT INTO vouches (principal_key, principal_kind, \
    principal_name, groups, owner, vouched_at, expires_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT (principal_key) DO UPDATE SET principal_kind = excluded.principal_kind, \
    principal_name = excluded.principal_name, groups = excluded.groups, \
    owner = excluded.owner, vouched_at = excluded.vouched_at, \
    expires_at = excluded.expires_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    key_hash: String,
    principal_kind: String,
    principal_name: String,
    groups: String,
    owner: Option<String>,
    via: String,
    token_hash: Option<String>,
    csrf: String,
    created_at: i64,
    last_seen: i64,
    idle_micros: i64,
    expires_at: i64,
}

impl SessionRow {
    fn into_record(self) -> Result<SessionRecord, StoreError> {
        let what = format!("web session of `{}`", self.principal_name);
        let identity = identity(
            &self.principal_kind,
            self.principal_name,
            &self.groups,
            self.owner,
            &what,
        )?;
        let via = match (self.via.as_str(), self.token_hash) {
            ("token", Some(hash)) => SessionVia::Token { hash },
            ("oidc", None) => SessionVia::Oidc,
            (via, _) => return Err(corrupt(&what, format!("unknown sign-in `{via}`"))),
        };
        let idle = u64::try_from(self.idle_micros)
            .map(std::time::Duration::from_micros)
            .map_err(|_| corrupt(&what, "a negative idle timeout"))?;
        Ok(SessionRecord {
            key: self.key_hash,
            identity,
            via,
            csrf: self.csrf,
            created_at: from_micros(self.created_at, &what)?,
            last_seen: from_micros(self.last_seen, &what)?,
            idle,
            expires_at: from_micros(self.expires_at, &what)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct VouchRow {
    principal_kind: String,
    principal_name: String,
    groups: String,
    owner: Option<String>,
    vouched_at: i64,
    expires_at: i64,
}

impl VouchRow {
    fn into_record(self) -> Result<VouchRecord, StoreError> {
        let what = format!("vouch for `{}`", self.principal_name);
        Ok(VouchRecord {
            identity: identity(
                &self.principal_kind,
                self.principal_name,
                &self.groups,
                self.owner,
                &what,
            )?,
            at: from_micros(self.vouched_at, &what)?,
            until: from_micros(self.expires_at, &what)?,
        })
    }
}

fn identity(
    kind: &str,
    name: String,
    groups: &str,
    owner: Option<String>,
    what: &str,
) -> Result<Identity, StoreError> {
    let kind: PrincipalKind = kind.parse().map_err(|e| corrupt(what, e))?;
    let groups: Vec<String> = serde_json::from_str(groups).map_err(|e| corrupt(what, e))?;
    Ok(Identity {
        principal: Principal::new(kind, name),
        groups,
        owner,
    })
}

/// How names are matched: ASCII case folded, as everywhere in holdpoint (DESIGN §1).
fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The idle timeout as stored. Past the absolute deadline it no longer matters, so it is
/// kept to at most the session's whole lifetime (which also keeps `last_seen + idle`
/// within a BIGINT).
fn idle_micros(session: &SessionRecord) -> i64 {
    let lifetime = to_micros(session.expires_at)
        .saturating_sub(to_micros(session.created_at))
        .max(0);
    i64::try_from(session.idle.as_micros())
        .unwrap_or(i64::MAX)
        .min(lifetime)
}

/// `Op::InsertSession`: makes room under both caps, then inserts.
pub(crate) async fn insert(
    conn: &mut Conn<'_>,
    session: &SessionRecord,
    max_per_principal: u32,
    max_total: u32,
) -> Result<(), StoreError> {
    let now = to_micros(session.created_at);
    let kind = session.identity.principal.kind.as_str();
    let key = name_key(&session.identity.principal.name);

    let (theirs,): (i64,) = conn
        .fetch_optional(COUNT_LIVE_OF, args![now, kind, &key])
        .await
        .map_err(from_sqlx)?
        .unwrap_or((0,));
    let over = theirs - i64::from(max_per_principal) + 1;
    if over > 0 {
        conn.execute(END_OLDEST_OF, args![now, kind, &key, over])
            .await
            .map_err(from_sqlx)?;
    }

    let (all,): (i64,) = conn
        .fetch_optional(COUNT_LIVE, args![now])
        .await
        .map_err(from_sqlx)?
        .unwrap_or((0,));
    let over = all - i64::from(max_total) + 1;
    if over > 0 {
        conn.execute(END_OLDEST, args![now, over])
            .await
            .map_err(from_sqlx)?;
    }

    let groups = serde_json::to_string(&session.identity.groups)
        .map_err(|e| corrupt("session groups", e))?;
    let token_hash = match &session.via {
        SessionVia::Token { hash } => Some(hash.clone()),
        SessionVia::Oidc => None,
    };
    let inserted = conn
        .execute(
            INSERT,
            args![
                &session.key,
                kind,
                &session.identity.principal.name,
                groups,
                session.identity.owner.clone(),
                session.via.label(),
                token_hash,
                &session.csrf,
                now,
                to_micros(session.last_seen),
                idle_micros(session),
                to_micros(session.expires_at),
                key,
            ],
        )
        .await
        .map_err(from_sqlx)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(
            "a web session with this key already exists".into(),
        ));
    }
    Ok(())
}

/// `Op::TouchSession`: forward only, and nothing for a session that has ended.
pub(crate) async fn touch(conn: &mut Conn<'_>, key: &str, at: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE web_sessions SET last_seen = $1 WHERE key_hash = $2 AND last_seen < $1",
        args![to_micros(at), key],
    )
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// `Op::EndSession`.
pub(crate) async fn end(conn: &mut Conn<'_>, key: &str) -> Result<(), StoreError> {
    let ended = conn
        .execute("DELETE FROM web_sessions WHERE key_hash = $1", args![key])
        .await
        .map_err(from_sqlx)?;
    if ended == 0 {
        return Err(StoreError::NotFound("no such web session".into()));
    }
    Ok(())
}

/// `Op::PurgeExpired`: sessions past either deadline, vouches past theirs.
pub(crate) async fn purge(conn: &mut Conn<'_>, now: Timestamp) -> Result<(), StoreError> {
    let now = to_micros(now);
    conn.execute(
        "DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen + idle_micros <= $1",
        args![now],
    )
    .await
    .map_err(from_sqlx)?;
    conn.execute("DELETE FROM vouches WHERE expires_at <= $1", args![now])
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

/// `Op::Vouch`: the latest word on a name replaces an earlier one, whatever its kind.
pub(crate) async fn vouch(conn: &mut Conn<'_>, vouch: &VouchRecord) -> Result<(), StoreError> {
    let principal = &vouch.identity.principal;
    let groups =
        serde_json::to_string(&vouch.identity.groups).map_err(|e| corrupt("vouched groups", e))?;
    conn.execute(
        UPSERT_VOUCH,
        args![
            name_key(&principal.name),
            principal.kind.as_str(),
            &principal.name,
            groups,
            vouch.identity.owner.clone(),
            to_micros(vouch.at),
            to_micros(vouch.until),
        ],
    )
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// `Op::Unvouch`.
pub(crate) async fn unvouch(conn: &mut Conn<'_>, principal: &Principal) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM vouches WHERE principal_key = $1 AND principal_kind = $2",
        args![name_key(&principal.name), principal.kind.as_str()],
    )
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

pub(crate) async fn by_key(db: &Db, key: &str) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<SessionRow> = db
        .fetch_optional(BY_KEY, args![key])
        .await
        .map_err(from_sqlx)?;
    row.map(SessionRow::into_record).transpose()
}

/// Sessions live at `now`, most recently active first.
pub(crate) async fn live(
    db: &Db,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<SessionRecord>, StoreError> {
    let rows: Vec<SessionRow> = db
        .fetch_all(LIVE, args![to_micros(now), i64::from(limit)])
        .await
        .map_err(from_sqlx)?;
    rows.into_iter().map(SessionRow::into_record).collect()
}

pub(crate) async fn vouch_by_name(db: &Db, name: &str) -> Result<Option<VouchRecord>, StoreError> {
    let row: Option<VouchRow> = db
        .fetch_optional(VOUCH_BY_NAME, args![name_key(name)])
        .await
        .map_err(from_sqlx)?;
    row.map(VouchRow::into_record).transpose()
}
