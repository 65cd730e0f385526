-- The look-ups' audit rows without foreign keys, as on PostgreSQL (why:
-- migrations/postgres/2026-12-01-000027_lookups_without_locks/up.sql).
-- SQLite cannot drop a constraint: the table is rebuilt; nothing
-- references it.
CREATE TABLE lookups_next (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL,
    fingerprint       BLOB NOT NULL CHECK (length(fingerprint) = 32),
    receivable_id     TEXT,
    purchase_order_id TEXT,
    registered        BOOLEAN NOT NULL,
    confirmed         BOOLEAN NOT NULL,
    encumbered        BOOLEAN NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
INSERT INTO lookups_next SELECT * FROM lookups;
DROP TABLE lookups;
ALTER TABLE lookups_next RENAME TO lookups;
CREATE INDEX lookups_receivable ON lookups (receivable_id, created_at) WHERE receivable_id IS NOT NULL;
-- Recent misses per organisation, for the enumeration alert.
CREATE INDEX lookups_misses ON lookups (organization_id, created_at) WHERE registered = FALSE;
