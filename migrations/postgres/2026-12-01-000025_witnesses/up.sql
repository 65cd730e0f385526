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
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
    'ledger_stalled', 'dilution', 'late_correction', 'log_inconsistency'));
CREATE UNIQUE INDEX alerts_one_per_log_inconsistency ON alerts (subject_id) WHERE kind = 'log_inconsistency';
