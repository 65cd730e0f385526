-- The look-up enumeration alert is a new kind.
-- SQLite cannot change a CHECK constraint in place: the alerts table is
-- rebuilt. Its audiences and deliveries reference it by name; their foreign
-- keys are checked at commit, when the rebuilt table holds every id again.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE alerts_next (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('duplicate_registration', 'near_duplicate_registration',
                                                     'duplicate_pledge', 'po_double_financing', 'lookup_enumeration')),
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
INSERT INTO alerts_next SELECT * FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_next RENAME TO alerts;
CREATE INDEX alerts_created ON alerts (created_at, id);
CREATE INDEX alerts_attempting ON alerts (attempting_org_id);

-- Every encumbrance look-up, recorded in the commit that answers it: who
-- asked, when, about which receivable (none when nothing is registered
-- under the fingerprint) and what it was told. The invoice's supplier and
-- buyer list who looked their invoices up; a burst of misses is alerted.
CREATE TABLE lookups (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    fingerprint       BLOB NOT NULL CHECK (length(fingerprint) = 32),
    receivable_id     TEXT REFERENCES receivables (id),
    purchase_order_id TEXT REFERENCES purchase_orders (id),
    registered        BOOLEAN NOT NULL,
    confirmed         BOOLEAN NOT NULL,
    encumbered        BOOLEAN NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX lookups_receivable ON lookups (receivable_id, created_at) WHERE receivable_id IS NOT NULL;
-- Recent misses per organisation, for the enumeration alert.
CREATE INDEX lookups_misses ON lookups (organization_id, created_at) WHERE registered = FALSE;

-- One enumeration alert per organisation and window: the alert's subject
-- names the window, and the database keeps it single across processes.
CREATE UNIQUE INDEX alerts_one_enumeration_per_window ON alerts (subject_id) WHERE kind = 'lookup_enumeration';
