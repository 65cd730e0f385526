DROP INDEX alerts_one_per_ledger_stall;
DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'ledger_stalled');
DELETE FROM alert_audiences WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'ledger_stalled');
DELETE FROM alerts WHERE kind = 'ledger_stalled';
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing', 'lookup_enumeration'));
