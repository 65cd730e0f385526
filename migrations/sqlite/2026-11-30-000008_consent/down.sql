DROP TABLE loan_records;
CREATE TABLE liens_previous (
    id                TEXT PRIMARY KEY,
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
INSERT INTO liens_previous
    SELECT id, asset_id, purchase_order_id, bank_id, kind, amount_minor, currency,
           CASE status WHEN 'settling' THEN 'settled' ELSE status END, leaf_hash, created_at, ended_at
    FROM liens;
DROP TABLE liens;
ALTER TABLE liens_previous RENAME TO liens;
CREATE UNIQUE INDEX liens_one_active_per_asset ON liens (asset_id) WHERE status = 'active' AND asset_id IS NOT NULL;
CREATE UNIQUE INDEX liens_one_active_per_purchase_order ON liens (purchase_order_id) WHERE status = 'active' AND purchase_order_id IS NOT NULL;
CREATE INDEX liens_bank ON liens (bank_id);
CREATE INDEX liens_asset ON liens (asset_id);
DROP TABLE offers;
