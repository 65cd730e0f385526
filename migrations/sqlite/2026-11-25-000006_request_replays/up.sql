-- The first answer to a POST sent with an Idempotency-Key (docs/PRODUCT.md §3.7),
-- per caller (the SHA-256 of its API key, never the key itself). Pledges
-- and assignments keep theirs in idempotency_keys, written in the
-- decision's own transaction.
CREATE TABLE request_replays (
    caller_sha256     BLOB NOT NULL CHECK (length(caller_sha256) = 32),
    idempotency_key   TEXT NOT NULL,
    request_sha256    BLOB NOT NULL CHECK (length(request_sha256) = 32),
    response_status   INTEGER NOT NULL,
    content_type      TEXT NOT NULL,
    response_body     BLOB NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (caller_sha256, idempotency_key)
);
