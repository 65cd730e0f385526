DROP INDEX receivables_buyer;
CREATE INDEX receivables_buyer ON receivables (buyer_id);
