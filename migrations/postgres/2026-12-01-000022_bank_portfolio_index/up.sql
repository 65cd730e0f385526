-- A bank's liens, newest first, a page at a time (the portal's
-- portfolio: keyset pagination by created_at and id) read from an index
-- range however many it holds. It serves every look-up by bank_id too, so
-- it replaces the single-column index.
DROP INDEX liens_bank;
CREATE INDEX liens_bank ON liens (bank_id, created_at, id);
