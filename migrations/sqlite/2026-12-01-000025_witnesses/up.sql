-- Witnesses cosign the log's tree heads (C2SP tlog-witness). Each
-- cosignature is kept with the head it signs: its signature line, the time
-- the witness states (seconds since the epoch) and when we received it.
-- A witness is named by its verifier key line (name+keyid+key).
CREATE TABLE witness_cosignatures (
    tree_size          BIGINT NOT NULL REFERENCES ledger_tree_heads (tree_size),
    witness            TEXT NOT NULL,
    signature_line     TEXT NOT NULL,
    witness_timestamp  BIGINT NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (tree_size, witness)
);
CREATE INDEX witness_cosignatures_witness ON witness_cosignatures (witness, tree_size);

-- What each witness has cosigned last and how submitting to it goes.
CREATE TABLE witness_states (
    witness        TEXT PRIMARY KEY,
    cosigned_size  BIGINT,
    failures       BIGINT NOT NULL DEFAULT 0,
    last_error     TEXT,
    updated_at     TIMESTAMP NOT NULL
);

-- A witness that holds a tree the log cannot prove consistent with its own
-- is told to the operator: a new alert kind, one per witness and size.
-- SQLite cannot change a CHECK constraint in place: the alerts table is
-- rebuilt (as in 000016).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE alerts_next (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('duplicate_registration', 'near_duplicate_registration',
                                                     'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
                                                     'ledger_stalled', 'dilution', 'late_correction',
                                                     'log_inconsistency')),
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
CREATE UNIQUE INDEX alerts_one_per_log_inconsistency ON alerts (subject_id) WHERE kind = 'log_inconsistency';
