-- Signing-key rotations are rare ledger entries that every server reads at
-- start (`GET /v1/ledger/public-key` lists them): a partial index finds
-- them without reading the whole log.
CREATE INDEX ledger_leaves_key_rotations ON ledger_leaves (kind) WHERE kind = 'signing_key_rotated';
