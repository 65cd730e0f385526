DROP INDEX ledger_leaves_fingerprint;
ALTER TABLE ledger_leaves DROP COLUMN fingerprint;
