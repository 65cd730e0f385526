-- What every server process on this database must share: the platform's
-- signing key (its public half) and the fingerprint secret (a check value
-- that reveals nothing of it). A process started with other keys — another
-- data directory, a lost backup — refuses to run instead of signing heads
-- the log's auditors reject, or missing every stored fingerprint.
CREATE TABLE platform_identity (
    name      TEXT PRIMARY KEY,
    value     BLOB NOT NULL,
    set_at    TIMESTAMP NOT NULL
);
