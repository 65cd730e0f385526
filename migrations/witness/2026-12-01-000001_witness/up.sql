-- The witness's own SQLite file (`anchorfin witness --data-dir`), apart from
-- the platform's database. Append-only but for the outbox's delivery state.

-- Every checkpoint this witness cosigned, in the order it cosigned them.
CREATE TABLE cosigned_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    origin TEXT NOT NULL,
    tree_size BIGINT NOT NULL,
    root_hash BLOB NOT NULL,
    -- The signed note exactly as the log submitted it.
    note TEXT NOT NULL,
    -- Our signature line on it, with its newline.
    cosignature TEXT NOT NULL,
    cosigned_at TIMESTAMP NOT NULL
);
CREATE INDEX cosigned_checkpoints_by_size ON cosigned_checkpoints (tree_size, id);

-- The witness's copy of the log: every entry up to the latest cosigned size.
CREATE TABLE mirrored_entries (
    entry_index BIGINT PRIMARY KEY NOT NULL,
    leaf_hash BLOB NOT NULL,
    entry BLOB NOT NULL,
    -- What the entry shows this bank (a sealed one it may not open: `business`).
    kind TEXT NOT NULL,
    fingerprint TEXT,
    -- JSON array of ids.
    subjects TEXT NOT NULL,
    time_micros BIGINT NOT NULL,
    -- JSON, when the bank was given the details.
    details TEXT
);
CREATE INDEX mirrored_entries_by_fingerprint ON mirrored_entries (fingerprint);

CREATE TABLE mirrored_subjects (
    subject TEXT NOT NULL,
    entry_index BIGINT NOT NULL REFERENCES mirrored_entries (entry_index),
    PRIMARY KEY (subject, entry_index)
);

-- Submissions refused as inconsistent with what this witness cosigned.
CREATE TABLE evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    origin TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The offending signed note, and the request's old size and proof lines.
    note TEXT NOT NULL,
    old_size BIGINT NOT NULL,
    proof TEXT NOT NULL,
    -- Our latest cosigned note (with our cosignature) it conflicts with.
    conflicting_note TEXT,
    recorded_at TIMESTAMP NOT NULL
);

-- Alert e-mails, written with their evidence; a sender drains it.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    evidence_id BIGINT NOT NULL REFERENCES evidence (id),
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    message_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
