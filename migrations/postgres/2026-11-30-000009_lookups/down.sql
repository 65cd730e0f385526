DROP INDEX alerts_one_enumeration_per_window;
DROP TABLE lookups;
DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'lookup_enumeration');
DELETE FROM alert_audiences WHERE alert_id IN (SELECT id FROM alerts WHERE kind = 'lookup_enumeration');
DELETE FROM alerts WHERE kind = 'lookup_enumeration';
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('duplicate_registration',
    'near_duplicate_registration', 'duplicate_pledge', 'po_double_financing'));
