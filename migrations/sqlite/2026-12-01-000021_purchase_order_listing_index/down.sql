DROP INDEX purchase_orders_buyer;
CREATE INDEX purchase_orders_buyer ON purchase_orders (buyer_id);
DROP INDEX purchase_orders_supplier;
CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id);
