-- A supplier's receivables in one status, newest first (the portal's list
-- filtered by status): without it a status that few or none of them have
-- read every one of the supplier's rows to fill a page (10,000 rows for a
-- page of none). It carries currency and amount so that the dashboard's
-- totals by status and currency can be read from it alone.
CREATE INDEX receivables_supplier_status ON receivables (supplier_id, status, created_at, id) INCLUDE (currency, amount_minor);
