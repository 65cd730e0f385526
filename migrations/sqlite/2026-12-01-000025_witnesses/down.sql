DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'log_inconsistency');
DELETE FROM alert_audiences WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'log_inconsistency');
DELETE FROM alerts WHERE kind = 'log_inconsistency';
-- The alerts table is rebuilt with its former CHECK (as in 000016).
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
DROP TABLE witness_states;
DROP TABLE witness_cosignatures;
