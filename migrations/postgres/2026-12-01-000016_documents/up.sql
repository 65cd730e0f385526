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
    fingerprint        BYTEA NOT NULL UNIQUE CHECK (length(fingerprint) = 32),
    receivable_id      TEXT NOT NULL REFERENCES receivables (id),
    supplier_id        TEXT NOT NULL REFERENCES organizations (id),
    credit_note_number TEXT NOT NULL,
    issue_date         DATE NOT NULL,
    currency           TEXT NOT NULL CHECK (length(currency) = 3),
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    leaf_hash          BYTEA NOT NULL,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX credit_notes_receivable ON credit_notes (receivable_id);

-- Every upload a supplier made, by the SHA-256 of its bytes: the same file
-- again replays its first report; a large one runs as a job whose
-- progress is read here.
CREATE TABLE uploads (
    id             TEXT PRIMARY KEY NOT NULL,
    supplier_id    TEXT NOT NULL REFERENCES organizations (id),
    digest         BYTEA NOT NULL CHECK (length(digest) = 32),
    status         TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    total_rows     BIGINT,
    processed_rows BIGINT NOT NULL DEFAULT 0,
    report         TEXT,
    created_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP,
    UNIQUE (supplier_id, digest)
);

-- Credit notes against confirmed or financed receivables, and corrections
-- refused because the original was confirmed, are new alert kinds.
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
    'ledger_stalled', 'dilution', 'late_correction'));
