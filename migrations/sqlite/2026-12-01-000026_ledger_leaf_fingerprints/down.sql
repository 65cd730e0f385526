DROP TABLE ledger_leaf_fingerprints;
