-- Organisations, their ed25519 keys, risk officers and API keys.
-- Ids are UUID strings (TEXT) so that one schema.rs serves both backends.
-- Times are UTC, set by the application with microsecond precision.

CREATE TABLE organizations (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role                TEXT NOT NULL CHECK (role IN ('supplier', 'core_enterprise', 'bank', 'operator')),
    legal_id            TEXT NOT NULL,
    -- NFKC, upper case, separators dropped, leading zeros stripped: one
    -- legal entity can be onboarded once, however its id is typed.
    legal_id_normalized TEXT NOT NULL UNIQUE,
    created_at          TIMESTAMP NOT NULL
);

CREATE TABLE organization_keys (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    -- ed25519 public key, 64 lowercase hex characters; a key belongs to one
    -- organisation for ever, even after it is revoked.
    public_key      TEXT NOT NULL UNIQUE CHECK (length(public_key) = 64),
    created_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP
);
CREATE INDEX organization_keys_organization ON organization_keys (organization_id);

CREATE TABLE risk_officers (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    email           TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (organization_id, email)
);

CREATE TABLE api_keys (
    -- The public half of the key ("afk_<id>_<secret>"): found by primary key,
    -- then the secret's SHA-256 is compared in constant time.
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    risk_officer_id TEXT REFERENCES risk_officers (id),
    secret_sha256   BLOB NOT NULL CHECK (length(secret_sha256) = 32),
    created_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP
);
CREATE INDEX api_keys_organization ON api_keys (organization_id);
