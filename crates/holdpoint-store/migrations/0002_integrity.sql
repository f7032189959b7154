-- Issue 6: approvals bound to the environment and lapsing, pending holds counted per
-- principal, token names unique whatever their case, and a table the readiness probe
-- writes to. Portable SQL, as 0001.

-- The environment, so a grant window never passes an action in another environment.
-- Rows written before this have '' and match nothing but ''.
ALTER TABLE actions ADD COLUMN environment TEXT NOT NULL DEFAULT '';
-- When an unused single-use approval lapses. NULL (older rows) counts as lapsed.
ALTER TABLE actions ADD COLUMN approval_until BIGINT;

DROP INDEX actions_grants;
CREATE INDEX actions_grants ON actions (principal_kind, principal_name, kind, resource, environment, grant_until)
    WHERE status = 'approved' AND grant_until IS NOT NULL;

-- The per-principal limit on pending holds.
CREATE INDEX actions_pending_by ON actions (principal_kind, principal_name)
    WHERE status = 'pending';

-- Names are compared case-insensitively (DESIGN §1).
CREATE UNIQUE INDEX tokens_live_lower_name ON tokens (lower(name)) WHERE revoked_at IS NULL;

-- /readyz writes here when the last write failed, to learn whether the store can write
-- again: one row, rewritten with a 64 KiB pad, so a store that can only take tiny writes
-- does not count as ready.
CREATE TABLE store_probe (
    id  BIGINT PRIMARY KEY,
    at  BIGINT NOT NULL,
    pad TEXT NOT NULL
);
