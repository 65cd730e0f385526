-- The column comes back where it was (fourth, no default): the table is
-- rebuilt, its answers given status 0 (unknown).
ALTER TABLE idempotency_keys RENAME TO idempotency_keys_next;
ALTER TABLE idempotency_keys_next RENAME CONSTRAINT idempotency_keys_pkey TO idempotency_keys_next_pkey;
ALTER TABLE idempotency_keys_next RENAME CONSTRAINT idempotency_keys_organization_id_fkey TO idempotency_keys_next_organization_id_fkey;
ALTER TABLE idempotency_keys_next RENAME CONSTRAINT idempotency_keys_request_sha256_check TO idempotency_keys_next_request_sha256_check;
CREATE TABLE idempotency_keys (
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    idempotency_key   TEXT NOT NULL,
    request_sha256    BYTEA NOT NULL CHECK (length(request_sha256) = 32),
    response_status   INTEGER NOT NULL,
    response_body     TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, idempotency_key)
);
INSERT INTO idempotency_keys
    SELECT organization_id, idempotency_key, request_sha256, 0, response_body, created_at FROM idempotency_keys_next;
DROP TABLE idempotency_keys_next;
