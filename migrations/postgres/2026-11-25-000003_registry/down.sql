DROP TABLE alerts;
DROP TABLE assets;
DROP TABLE receivables;
DROP TABLE purchase_orders;
