-- The ledger: see migrations/postgres/2026-11-24-000002_ledger/up.sql.
-- The same tables; SQLite triggers refuse UPDATE and DELETE as well, though
-- anyone holding the file can drop them: `anchorfin verify` is what detects
-- tampering, whatever the backend.

CREATE TABLE ledger_leaves (
    leaf_hash     BLOB PRIMARY KEY CHECK (length(leaf_hash) = 32),
    entry         BLOB NOT NULL,
    kind          TEXT NOT NULL,
    details       TEXT NOT NULL,
    details_salt  BLOB NOT NULL CHECK (length(details_salt) = 32),
    parties       TEXT NOT NULL,
    queued_at     TIMESTAMP NOT NULL
);

CREATE TABLE ledger_queue (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    leaf_hash BLOB NOT NULL UNIQUE REFERENCES ledger_leaves (leaf_hash)
);

CREATE TABLE ledger_sequence (
    leaf_index   BIGINT PRIMARY KEY CHECK (leaf_index >= 0),
    leaf_hash    BLOB NOT NULL UNIQUE REFERENCES ledger_leaves (leaf_hash),
    sequenced_at TIMESTAMP NOT NULL
);

CREATE TABLE ledger_nodes (
    level      SMALLINT NOT NULL CHECK (level >= 0 AND level < 64),
    node_index BIGINT NOT NULL CHECK (node_index >= 0),
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, node_index)
);

CREATE TABLE ledger_tree_heads (
    tree_size    BIGINT PRIMARY KEY CHECK (tree_size >= 0),
    root_hash    BLOB NOT NULL CHECK (length(root_hash) = 32),
    timestamp_ms BIGINT NOT NULL,
    signature    BLOB NOT NULL CHECK (length(signature) = 64),
    checkpoint   TEXT NOT NULL
);

CREATE TRIGGER ledger_leaves_no_update BEFORE UPDATE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_leaves_no_delete BEFORE DELETE ON ledger_leaves
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_sequence_no_update BEFORE UPDATE ON ledger_sequence
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_sequence_no_delete BEFORE DELETE ON ledger_sequence
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_tree_heads_no_update BEFORE UPDATE ON ledger_tree_heads
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
CREATE TRIGGER ledger_tree_heads_no_delete BEFORE DELETE ON ledger_tree_heads
BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;
