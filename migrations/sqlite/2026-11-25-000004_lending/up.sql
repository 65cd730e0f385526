-- Liens (pledges and assignments) on assets and purchase orders, payments,
-- and the idempotency records of signed bank requests.

CREATE TABLE liens (
    id                TEXT PRIMARY KEY,
    -- Exactly one of the two: a lien on an asset, or on a purchase order
    -- (whose receivables then only its bank may finance, invariant 4).
    asset_id          TEXT REFERENCES assets (id),
    purchase_order_id TEXT REFERENCES purchase_orders (id),
    bank_id           TEXT NOT NULL REFERENCES organizations (id),
    kind              TEXT NOT NULL CHECK (kind IN ('pledge', 'assignment')),
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    status            TEXT NOT NULL CHECK (status IN ('active', 'released', 'settled')),
    leaf_hash         BLOB NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    ended_at          TIMESTAMP,
    CHECK ((asset_id IS NULL) <> (purchase_order_id IS NULL))
);
-- One lien at a time (docs/PRODUCT.md §3.2), decided by the database whatever
-- the number of server processes.
CREATE UNIQUE INDEX liens_one_active_per_asset ON liens (asset_id) WHERE status = 'active' AND asset_id IS NOT NULL;
CREATE UNIQUE INDEX liens_one_active_per_purchase_order ON liens (purchase_order_id) WHERE status = 'active' AND purchase_order_id IS NOT NULL;
CREATE INDEX liens_bank ON liens (bank_id);

CREATE TABLE payments (
    id                TEXT PRIMARY KEY,
    asset_id          TEXT NOT NULL REFERENCES assets (id),
    payer_id          TEXT NOT NULL REFERENCES organizations (id),
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    paid_on           DATE NOT NULL,
    distributions     TEXT NOT NULL,
    leaf_hash         BLOB NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX payments_asset ON payments (asset_id);

-- The first answer to a bank's request under an Idempotency-Key; a retry
-- with the same key and body gets it again, another body is refused.
CREATE TABLE idempotency_keys (
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    idempotency_key   TEXT NOT NULL,
    request_sha256    BLOB NOT NULL CHECK (length(request_sha256) = 32),
    response_status   INTEGER NOT NULL,
    response_body     TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, idempotency_key)
);
