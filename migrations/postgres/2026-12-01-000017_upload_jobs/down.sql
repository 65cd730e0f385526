DROP TABLE upload_chunks;
DROP TABLE upload_bodies;
DROP INDEX uploads_running;
ALTER TABLE uploads DROP COLUMN failure;
ALTER TABLE uploads DROP COLUMN attempts;
ALTER TABLE uploads DROP COLUMN lease_until;
ALTER TABLE uploads DROP COLUMN lease_owner;
