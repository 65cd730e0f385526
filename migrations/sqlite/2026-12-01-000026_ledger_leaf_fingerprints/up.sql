-- The fingerprint (in its stored, keyed form) an entry records, beside the
-- entry: a certificate of non-encumbrance lists every entry about one
-- fingerprint, found through this index rather than by reading every
-- entry's details. Sealed entries (version 2) name it in their body;
-- public ones (onboarding, keys) never carry one.
ALTER TABLE ledger_leaves ADD COLUMN fingerprint BLOB CHECK (length(fingerprint) = 32);
UPDATE ledger_leaves
   SET fingerprint = unhex(json_extract(details, '$.fingerprint'))
 WHERE substr(entry, 1, 1) = x'02' AND json_extract(details, '$.fingerprint') IS NOT NULL;
CREATE INDEX ledger_leaves_fingerprint ON ledger_leaves (fingerprint) WHERE fingerprint IS NOT NULL;
