-- Identifiers an organisation carries beside its legal id (SPEC §11):
-- ISO 6523 ICD codes as Peppol uses them (`0088` for a GLN, `0192`, …) or
-- `VAT`. Document imports find a party by them, so one identifier names one
-- organisation: (scheme, normalised value) is unique across organisations.
-- The key leads with the value because an import may state no scheme and
-- looks the value up alone.

CREATE TABLE organization_identifiers (
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    scheme           TEXT NOT NULL CHECK (scheme = 'VAT' OR scheme ~ '^[0-9]{4}$'),
    -- As given (trimmed), for display.
    value            TEXT NOT NULL,
    -- NFKC, upper case, separators dropped, leading zeros stripped, as
    -- `organizations.legal_id_normalized`.
    normalized_value TEXT NOT NULL CHECK (length(normalized_value) > 0),
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (normalized_value, scheme)
);
CREATE INDEX organization_identifiers_organization ON organization_identifiers (organization_id);
