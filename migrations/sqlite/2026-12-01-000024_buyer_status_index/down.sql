DROP INDEX receivables_buyer_status;
