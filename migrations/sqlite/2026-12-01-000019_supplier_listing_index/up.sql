-- A supplier's receivables, newest first, a page at a time (the portal's
-- list: keyset pagination by created_at and id) read from the index alone,
-- however many it has. It serves every look-up by supplier_id too, so it
-- replaces the single-column index.
DROP INDEX receivables_supplier;
CREATE INDEX receivables_supplier ON receivables (supplier_id, created_at, id);
