-- A core enterprise's receivables in one status, newest first: its queue
-- of invoices to confirm (status registered) is one index range, as
-- 000023 made a supplier's filtered list.
CREATE INDEX receivables_buyer_status ON receivables (buyer_id, status, created_at, id);
