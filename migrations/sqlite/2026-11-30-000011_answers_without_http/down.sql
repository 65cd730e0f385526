ALTER TABLE idempotency_keys ADD COLUMN response_status INTEGER NOT NULL DEFAULT 0;
