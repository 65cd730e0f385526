-- Credit notes and corrected invoices (docs/ARCHITECTURE.md, "Documents in").
-- A credit note lowers what the buyer owes on a receivable: the sum of its
-- credit notes never exceeds the invoice's amount, and the database holds
-- that line, whatever the processes racing to record them.
ALTER TABLE receivables ADD COLUMN credited_minor BIGINT NOT NULL DEFAULT 0
    CHECK (credited_minor >= 0 AND credited_minor <= amount_minor);
-- A corrected invoice (UBL type 384) that replaced this unconfirmed one.
-- A superseded receivable can no longer be confirmed.
ALTER TABLE receivables ADD COLUMN superseded_by TEXT REFERENCES receivables (id);
-- The order an invoice names (UBL OrderReference) when it is not a
-- purchase order registered here: kept as the document gave it.
ALTER TABLE receivables ADD COLUMN order_reference TEXT;

CREATE TABLE credit_notes (
    id                 TEXT PRIMARY KEY NOT NULL,
    -- Keyed, like a receivable's: seller, buyer and credit-note number.
    fingerprint        BLOB NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    receivable_id      TEXT NOT NULL REFERENCES receivables (id),
    supplier_id        TEXT NOT NULL REFERENCES organizations (id),
    credit_note_number TEXT NOT NULL,
    issue_date         DATE NOT NULL,
    currency           TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    leaf_hash          BLOB NOT NULL,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX credit_notes_receivable ON credit_notes (receivable_id);

-- Every upload a supplier made, by the SHA-256 of its bytes: the same file
-- again replays its first report; a large one runs as a job whose
-- progress is read here.
CREATE TABLE uploads (
    id             TEXT PRIMARY KEY NOT NULL,
    supplier_id    TEXT NOT NULL REFERENCES organizations (id),
    digest         BLOB NOT NULL CHECK (length(digest) = 32),
    status         TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    total_rows     BIGINT,
    processed_rows BIGINT NOT NULL DEFAULT 0,
    report         TEXT,
    created_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    UNIQUE (supplier_id, digest)
);

-- Credit notes against confirmed or financed receivables, and corrections
-- refused because the original was confirmed, are new alert kinds. SQLite
-- cannot change a CHECK constraint in place: the alerts table is rebuilt
-- (as in 000013).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE alerts_next (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('duplicate_registration', 'near_duplicate_registration',
                                                     'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
                                                     'ledger_stalled', 'dilution', 'late_correction')),
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
CREATE UNIQUE INDEX alerts_one_enumeration_per_window ON alerts (subject_id) WHERE kind = 'lookup_enumeration';
CREATE UNIQUE INDEX alerts_one_per_ledger_stall ON alerts (subject_id) WHERE kind = 'ledger_stalled';
