-- The look-up enumeration alert is a new kind.
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration'));

-- Every encumbrance look-up, recorded in the commit that answers it: who
-- asked, when, about which receivable (none when nothing is registered
-- under the fingerprint) and what it was told. The invoice's supplier and
-- buyer list who looked their invoices up; a burst of misses is alerted.
CREATE TABLE lookups (
    id                TEXT PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    fingerprint       BYTEA NOT NULL CHECK (length(fingerprint) = 32),
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
