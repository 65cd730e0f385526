-- Which fingerprint (in its stored, keyed form) each entry records, beside
-- the append-only leaves: a certificate of non-encumbrance lists every
-- entry about one fingerprint, found through this index rather than by
-- reading every entry's details. Written with the leaf; filled here for
-- the entries before it from their bodies (sealed entries, version 2, name
-- it there; public ones — onboarding, keys — never carry one).
CREATE TABLE ledger_leaf_fingerprints (
    leaf_hash   BYTEA PRIMARY KEY REFERENCES ledger_leaves (leaf_hash),
    fingerprint BYTEA NOT NULL CHECK (length(fingerprint) = 32)
);
CREATE INDEX ledger_leaf_fingerprints_fingerprint ON ledger_leaf_fingerprints (fingerprint);
INSERT INTO ledger_leaf_fingerprints (leaf_hash, fingerprint)
SELECT leaf_hash, decode(details::jsonb ->> 'fingerprint', 'hex')
  FROM ledger_leaves
 WHERE get_byte(entry, 0) = 2 AND details::jsonb ->> 'fingerprint' IS NOT NULL;
