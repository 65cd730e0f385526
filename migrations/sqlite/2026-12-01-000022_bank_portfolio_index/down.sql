DROP INDEX liens_bank;
CREATE INDEX liens_bank ON liens (bank_id);
