-- A buyer's receivables, newest first, a page at a time (the portal's
-- queue of invoices to confirm: keyset pagination by created_at and id),
-- as 000019 did for suppliers. It serves every look-up by buyer_id too,
-- so it replaces the single-column index.
DROP INDEX receivables_buyer;
CREATE INDEX receivables_buyer ON receivables (buyer_id, created_at, id);
