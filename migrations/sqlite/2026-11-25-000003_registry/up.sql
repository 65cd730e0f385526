-- Purchase orders, receivables, the assets confirmed receivables become, and
-- the alerts the registry raises. Money is integer minor units plus the
-- ISO 4217 code (never NUMERIC, which diesel reads through f64 on SQLite).
-- A fingerprint is the SHA-256 of docs/PRODUCT.md §3.1; its UNIQUE
-- constraint is what makes a registration unique, whatever the race.

CREATE TABLE purchase_orders (
    id                TEXT PRIMARY KEY,
    fingerprint       BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    supplier_id       TEXT NOT NULL REFERENCES organizations (id),
    buyer_id          TEXT NOT NULL REFERENCES organizations (id),
    po_number         TEXT NOT NULL,
    issue_date        DATE NOT NULL,
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    -- What receivables registered against it add up to; raised with a
    -- conditional UPDATE so that it can never pass amount_minor.
    invoiced_minor    BIGINT NOT NULL DEFAULT 0 CHECK (invoiced_minor >= 0 AND invoiced_minor <= amount_minor),
    status            TEXT NOT NULL CHECK (status IN ('registered', 'acknowledged', 'closed', 'cancelled')),
    leaf_hash         BLOB NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    acknowledged_at   TIMESTAMP
);
CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id);
CREATE INDEX purchase_orders_buyer ON purchase_orders (buyer_id);

CREATE TABLE receivables (
    id                TEXT PRIMARY KEY,
    fingerprint       BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    supplier_id       TEXT NOT NULL REFERENCES organizations (id),
    buyer_id          TEXT NOT NULL REFERENCES organizations (id),
    invoice_number    TEXT NOT NULL,
    purchase_order_id TEXT REFERENCES purchase_orders (id),
    issue_date        DATE NOT NULL,
    due_date          DATE NOT NULL CHECK (due_date >= issue_date),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    status            TEXT NOT NULL CHECK (status IN ('registered', 'confirmed', 'disputed', 'settled', 'defaulted')),
    dispute_reason    TEXT,
    leaf_hash         BLOB NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    decided_at        TIMESTAMP
);
CREATE INDEX receivables_supplier ON receivables (supplier_id);
CREATE INDEX receivables_buyer ON receivables (buyer_id);
-- Near-duplicate detection: same seller, buyer, amount and issue date.
CREATE INDEX receivables_near_duplicate ON receivables (supplier_id, buyer_id, issue_date, currency, amount_minor);

CREATE TABLE assets (
    id                TEXT PRIMARY KEY,
    receivable_id     TEXT NOT NULL REFERENCES receivables (id),
    parent_id         TEXT REFERENCES assets (id),
    -- Order among the children of a split, as the parts were listed.
    position          INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
    holder_id         TEXT NOT NULL REFERENCES organizations (id),
    face_value_minor  BIGINT NOT NULL CHECK (face_value_minor > 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    status            TEXT NOT NULL CHECK (status IN ('active', 'retired', 'settled', 'defaulted')),
    leaf_hash         BLOB NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
-- One root asset per receivable: confirming twice cannot mint two.
CREATE UNIQUE INDEX assets_one_root ON assets (receivable_id) WHERE parent_id IS NULL;
CREATE INDEX assets_receivable ON assets (receivable_id);
CREATE INDEX assets_parent ON assets (parent_id);
CREATE INDEX assets_holder ON assets (holder_id);

CREATE TABLE alerts (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('duplicate_registration', 'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing')),
    fingerprint        BLOB CHECK (fingerprint IS NULL OR length(fingerprint) = 32),
    -- What the attempt was about: the receivable, asset or purchase order.
    subject_id         TEXT,
    attempting_org_id  TEXT NOT NULL REFERENCES organizations (id),
    -- The party already holding what was attempted (the first registrant,
    -- the lienholder): told to the operator, never to another bank.
    existing_party_id  TEXT REFERENCES organizations (id),
    details            TEXT NOT NULL,
    leaf_hash          BLOB NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('open', 'acknowledged')),
    created_at         TIMESTAMP NOT NULL,
    acknowledged_at    TIMESTAMP,
    acknowledged_by    TEXT
);
CREATE INDEX alerts_created ON alerts (created_at, id);
CREATE INDEX alerts_attempting ON alerts (attempting_org_id);
