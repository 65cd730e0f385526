-- The column comes back where it was (fourth, no default): the table is
-- rebuilt, its answers given status 0 (unknown).
CREATE TABLE idempotency_keys_previous (
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    idempotency_key   TEXT NOT NULL,
    request_sha256    BLOB NOT NULL CHECK (length(request_sha256) = 32),
    response_status   INTEGER NOT NULL,
    response_body     TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, idempotency_key)
);
INSERT INTO idempotency_keys_previous
    SELECT organization_id, idempotency_key, request_sha256, 0, response_body, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_previous RENAME TO idempotency_keys;
