-- A look-up's audit row names its bank, receivable and purchase order
-- without foreign keys. A foreign key's check locks the row it points to
-- (FOR KEY SHARE): every look-up, a question that changes nothing, wrote
-- a lock into the bank's organisation row and the receivable it asked
-- about (multixacts when two batches met there), 27% of PostgreSQL's time
-- per look-up. The ids are the ones the look-up's own transaction read
-- (the bank from its key, the receivable or order by its fingerprint), and
-- no organisation, receivable or purchase order is ever deleted. SQLite's
-- table is rebuilt the same, so both schemas say the same.
ALTER TABLE lookups
    DROP CONSTRAINT lookups_organization_id_fkey,
    DROP CONSTRAINT lookups_receivable_id_fkey,
    DROP CONSTRAINT lookups_purchase_order_id_fkey;
