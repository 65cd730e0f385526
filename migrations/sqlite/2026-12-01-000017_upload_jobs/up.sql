-- Uploads as jobs (docs/DOCUMENTS.md, "Large uploads"): an upload is
-- decided in chunks, each committed with its share of the report and the
-- progress it makes; whoever holds the lease decides the next chunk, and a
-- lease left by a process that died expires, so that another process
-- resumes where the last committed chunk ended.
ALTER TABLE uploads ADD COLUMN lease_owner TEXT;
ALTER TABLE uploads ADD COLUMN lease_until TIMESTAMP;
ALTER TABLE uploads ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN failure TEXT;

-- The waiting and the abandoned, oldest first.
CREATE INDEX uploads_running ON uploads (created_at) WHERE status = 'running';

-- The bytes of an upload not yet done, to resume it from; deleted when
-- its report is complete.
CREATE TABLE upload_bodies (
    upload_id TEXT PRIMARY KEY NOT NULL REFERENCES uploads (id),
    format    TEXT NOT NULL CHECK (format IN ('csv', 'ubl', 'xlsx')),
    body      BLOB NOT NULL
);

-- The report of each chunk decided, by the first row of the chunk in the
-- order rows are decided; joined into the upload's report at the end.
CREATE TABLE upload_chunks (
    upload_id  TEXT NOT NULL REFERENCES uploads (id),
    first_item BIGINT NOT NULL CHECK (first_item >= 0),
    results    TEXT NOT NULL,
    PRIMARY KEY (upload_id, first_item)
);
