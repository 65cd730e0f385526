-- Sessions of the web portal (docs/ARCHITECTURE.md, "Portal"). A session
-- is signed in with an API key; its id is 32 random bytes that only the
-- browser's cookie holds: the database keeps their SHA-256, so whoever
-- reads it cannot take over a session.
CREATE TABLE portal_sessions (
    id_sha256       BLOB PRIMARY KEY NOT NULL CHECK (length(id_sha256) = 32),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    risk_officer_id TEXT REFERENCES risk_officers (id),
    -- The key signed in with, and its secret's hash as it was then: the
    -- session is looked up joined to its key, so revoking the key (or
    -- replacing its secret) ends the session at its next request.
    api_key_id      TEXT NOT NULL REFERENCES api_keys (id),
    api_key_secret_sha256 BLOB NOT NULL CHECK (length(api_key_secret_sha256) = 32),
    created_at      TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    -- Moved forward on use, never past expires_at (the absolute limit).
    idle_expires_at TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    CHECK (idle_expires_at <= expires_at)
);
-- Expired sessions are deleted by this index at each sign-in.
CREATE INDEX portal_sessions_idle_expiry ON portal_sessions (idle_expires_at);
CREATE INDEX portal_sessions_api_key ON portal_sessions (api_key_id);
