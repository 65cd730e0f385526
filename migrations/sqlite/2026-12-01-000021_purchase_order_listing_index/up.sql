-- A supplier's purchase orders and a core enterprise's (its queue to
-- acknowledge), newest first, a page at a time (the portal's list: keyset
-- pagination by created_at and id), each one index range as 000019 and
-- 000020 did for receivables. They serve every look-up by supplier_id or
-- buyer_id too, so they replace the single-column indexes.
DROP INDEX purchase_orders_supplier;
CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id, created_at, id);
DROP INDEX purchase_orders_buyer;
CREATE INDEX purchase_orders_buyer ON purchase_orders (buyer_id, created_at, id);
