-- holdpoint store schema. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Times are BIGINT microseconds since the Unix epoch.

-- One row per action. `record` is the full ActionRecord as JSON and is the source of
-- truth; the other columns are copies of its fields, kept for filtering and indexes.
CREATE TABLE actions (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL,
    version         BIGINT NOT NULL,
    principal_kind  TEXT NOT NULL,
    principal_name  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    resource        TEXT NOT NULL,
    digest          TEXT NOT NULL,
    -- Approver groups of the hold as ",dba,sre," ("" when none), for reviewer listings.
    approver_groups TEXT NOT NULL,
    -- Set only while the action is pending.
    expires_at      BIGINT,
    grant_until     BIGINT,
    consumed_by     TEXT,
    created_at      BIGINT NOT NULL,
    record          TEXT NOT NULL
);

-- Listings by status, newest first, and counts by status.
CREATE INDEX actions_status_id ON actions (status, id);
-- Listings of what one principal requested.
CREATE INDEX actions_requester_id ON actions (principal_kind, principal_name, id);
-- The expiry timer: next_expiry and due_for_expiry.
CREATE INDEX actions_expiry ON actions (expires_at) WHERE expires_at IS NOT NULL;
-- Open grant windows.
CREATE INDEX actions_grants ON actions (principal_kind, principal_name, kind, resource, grant_until)
    WHERE status = 'approved' AND grant_until IS NOT NULL;
-- Approvals not yet used. It names every column the lookup tests for equality, so that
-- the planner prefers it to actions_requester_id even without statistics.
CREATE INDEX actions_unused ON actions (digest, principal_kind, principal_name, id)
    WHERE status = 'approved' AND grant_until IS NULL AND consumed_by IS NULL;

-- Bearer tokens: only the SHA-256 of a token is ever stored.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    -- JSON array of group names.
    groups     TEXT NOT NULL,
    owner      TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

-- A name belongs to at most one token that is not revoked.
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
CREATE INDEX tokens_created ON tokens (created_at);

-- The audit log: append-only, hash-chained (see holdpoint_core::audit).
CREATE TABLE audit (
    seq           BIGINT PRIMARY KEY,
    time          BIGINT NOT NULL,
    type          TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_name    TEXT NOT NULL,
    actor_channel TEXT NOT NULL,
    action_id     TEXT,
    -- JSON, masked.
    data          TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
