DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE kind IN ('dilution', 'late_correction'));
DELETE FROM alert_audiences WHERE alert_id IN (SELECT id FROM alerts WHERE kind IN ('dilution', 'late_correction'));
DELETE FROM alerts WHERE kind IN ('dilution', 'late_correction');
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
    'ledger_stalled'));
DROP TABLE uploads;
DROP TABLE credit_notes;
ALTER TABLE receivables DROP COLUMN order_reference;
ALTER TABLE receivables DROP COLUMN superseded_by;
ALTER TABLE receivables DROP COLUMN credited_minor;
