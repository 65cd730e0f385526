DROP INDEX receivables_supplier;
CREATE INDEX receivables_supplier ON receivables (supplier_id);
