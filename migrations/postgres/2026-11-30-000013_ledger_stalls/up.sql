-- A stalled ledger is a new alert kind, told to the operator alone.
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
    'ledger_stalled'));

-- One `ledger_stalled` alert per stall, whichever server process notices
-- it first: its subject names the oldest entry waiting for a signed head.
CREATE UNIQUE INDEX alerts_one_per_ledger_stall ON alerts (subject_id) WHERE kind = 'ledger_stalled';
