-- The ledger: an append-only Merkle log (docs/PRODUCT.md §7), stored as in
-- Trillian. A use case writes its entry (ledger_leaves) and a queue row
-- (ledger_queue) in its own transaction; the sequencer moves queued leaves
-- into ledger_sequence with gap-free indexes, stores every completed perfect
-- subtree in ledger_nodes and signs a tree head per batch.

CREATE TABLE ledger_leaves (
    leaf_hash     BYTEA PRIMARY KEY CHECK (length(leaf_hash) = 32),
    -- The canonical public header bytes the leaf hash covers.
    entry         BYTEA NOT NULL,
    kind          TEXT NOT NULL,
    -- The private details (JSON) and the salt of their hash in the header;
    -- shown only to the parties and the operator.
    details       TEXT NOT NULL,
    details_salt  BYTEA NOT NULL CHECK (length(details_salt) = 32),
    -- Organisations that may see the details (besides the operator).
    parties       TEXT NOT NULL,
    queued_at     TIMESTAMP NOT NULL
);

-- Unsequenced leaves, oldest first. Rows leave the queue when sequenced;
-- this is the only ledger table whose rows are ever deleted.
CREATE TABLE ledger_queue (
    id        BIGSERIAL PRIMARY KEY,
    leaf_hash BYTEA NOT NULL UNIQUE REFERENCES ledger_leaves (leaf_hash)
);

CREATE TABLE ledger_sequence (
    leaf_index   BIGINT PRIMARY KEY CHECK (leaf_index >= 0),
    leaf_hash    BYTEA NOT NULL UNIQUE REFERENCES ledger_leaves (leaf_hash),
    sequenced_at TIMESTAMP NOT NULL
);

-- The perfect subtree covering leaves [node_index << level, (node_index + 1) << level).
CREATE TABLE ledger_nodes (
    level      SMALLINT NOT NULL CHECK (level >= 0 AND level < 64),
    node_index BIGINT NOT NULL CHECK (node_index >= 0),
    hash       BYTEA NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, node_index)
);

CREATE TABLE ledger_tree_heads (
    tree_size    BIGINT PRIMARY KEY CHECK (tree_size >= 0),
    root_hash    BYTEA NOT NULL CHECK (length(root_hash) = 32),
    timestamp_ms BIGINT NOT NULL,
    signature    BYTEA NOT NULL CHECK (length(signature) = 64),
    -- The C2SP tlog-checkpoint signed note.
    checkpoint   TEXT NOT NULL
);

-- Sequenced history is immutable: refuse UPDATE and DELETE (and TRUNCATE)
-- on every ledger table but the queue.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER ledger_leaves_append_only BEFORE UPDATE OR DELETE ON ledger_leaves
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_sequence_append_only BEFORE UPDATE OR DELETE ON ledger_sequence
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_tree_heads_append_only BEFORE UPDATE OR DELETE ON ledger_tree_heads
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_leaves_no_truncate BEFORE TRUNCATE ON ledger_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_sequence_no_truncate BEFORE TRUNCATE ON ledger_sequence
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_nodes_no_truncate BEFORE TRUNCATE ON ledger_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_tree_heads_no_truncate BEFORE TRUNCATE ON ledger_tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
