DROP INDEX alerts_one_per_log_inconsistency;
DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'log_inconsistency');
DELETE FROM alert_audiences WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'log_inconsistency');
DELETE FROM alerts WHERE kind = 'log_inconsistency';
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration',
    'ledger_stalled', 'dilution', 'late_correction'));
DROP TABLE witness_states;
DROP TABLE witness_cosignatures;
