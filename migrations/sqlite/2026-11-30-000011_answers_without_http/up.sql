-- A stored answer is the domain's outcome (done, or a closed refusal);
-- its HTTP status is the API's to derive, not the record's to keep.
ALTER TABLE idempotency_keys DROP COLUMN response_status;
