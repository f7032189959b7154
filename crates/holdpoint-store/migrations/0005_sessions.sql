-- Web inbox sessions and the identities a provider vouched for move from one process's
-- memory into the store: they survive a restart and replicas share them. Portable SQL,
-- as 0001.

-- One row per signed-in browser, keyed by the SHA-256 of the session id (the cookie's
-- value is never stored).
CREATE TABLE web_sessions (
    key_hash       TEXT PRIMARY KEY,
    principal_kind TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    -- The name lowercased: one person's sessions, whatever the case they signed in with.
    principal_key  TEXT NOT NULL,
    -- The identity at sign-in: JSON array of group names, and an owner (none for humans).
    groups         TEXT NOT NULL,
    owner          TEXT,
    -- 'token' (token_hash is the token's stored hash, checked at every request) or 'oidc'.
    via            TEXT NOT NULL,
    token_hash     TEXT,
    csrf           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen      BIGINT NOT NULL,
    -- The idle timeout, in microseconds: the session ends at last_seen + idle_micros.
    idle_micros    BIGINT NOT NULL,
    -- The absolute deadline.
    expires_at     BIGINT NOT NULL
);

-- One person's sessions, oldest activity first (the per-person cap).
CREATE INDEX web_sessions_principal ON web_sessions (principal_kind, principal_key, last_seen);
-- Everyone's, least recently active first (the global cap, the admin listing).
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);
-- The purge of sessions past their absolute deadline.
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- What an identity provider said of a person, until a deadline: one row per name
-- (lowercased), the latest sign-in replacing an earlier one.
CREATE TABLE vouches (
    principal_key  TEXT PRIMARY KEY,
    principal_kind TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    groups         TEXT NOT NULL,
    owner          TEXT,
    vouched_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE INDEX vouches_expires ON vouches (expires_at);
