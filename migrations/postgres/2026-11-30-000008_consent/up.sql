-- Consent (docs/PRODUCT.md §4): nothing is financed that its holder did not
-- offer. Offers of assets and purchase orders to one bank each, the lien's
-- link to the offer it accepted, its share of the buyer's payment and the
-- 'settling' state until the bank's receipt, and the loan records a bank
-- keeps against its lien.

CREATE TABLE offers (
    id                TEXT PRIMARY KEY,
    -- Exactly one of the two, as for liens.
    asset_id          TEXT REFERENCES assets (id),
    purchase_order_id TEXT REFERENCES purchase_orders (id),
    holder_id         TEXT NOT NULL REFERENCES organizations (id),
    bank_id           TEXT NOT NULL REFERENCES organizations (id),
    kind              TEXT NOT NULL CHECK (kind IN ('pledge', 'assignment')),
    -- A pledge's most; an assignment's price.
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    expires_at        TIMESTAMP NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'taken', 'withdrawn', 'lapsed')),
    leaf_hash         BYTEA NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    ended_at          TIMESTAMP,
    CHECK ((asset_id IS NULL) <> (purchase_order_id IS NULL)),
    CHECK (kind = 'pledge' OR asset_id IS NOT NULL)
);
-- At most one open offer per asset and per purchase order, whatever the
-- number of server processes.
CREATE UNIQUE INDEX offers_one_open_per_asset ON offers (asset_id) WHERE status = 'open' AND asset_id IS NOT NULL;
CREATE UNIQUE INDEX offers_one_open_per_purchase_order ON offers (purchase_order_id) WHERE status = 'open' AND purchase_order_id IS NOT NULL;
CREATE INDEX offers_bank ON offers (bank_id, created_at);
CREATE INDEX offers_holder ON offers (holder_id, created_at);
CREATE INDEX offers_open_by_expiry ON offers (expires_at) WHERE status = 'open';

ALTER TABLE liens ADD COLUMN offer_id TEXT REFERENCES offers (id);
-- What the buyer's payment paid this lien's bank (set when it settles).
ALTER TABLE liens ADD COLUMN share_minor BIGINT CHECK (share_minor >= 0);
-- The loan the bank records against its lien; never more disbursed than
-- the lien's amount, never more repaid than disbursed.
ALTER TABLE liens ADD COLUMN disbursed_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE liens ADD COLUMN repaid_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE liens ADD CONSTRAINT liens_loan_within_amount
    CHECK (repaid_minor >= 0 AND repaid_minor <= disbursed_minor AND disbursed_minor <= amount_minor);
ALTER TABLE liens DROP CONSTRAINT liens_status_check;
ALTER TABLE liens ADD CONSTRAINT liens_status_check CHECK (status IN ('active', 'released', 'settling', 'settled'));
-- An offer yields at most one lien.
CREATE UNIQUE INDEX liens_one_per_offer ON liens (offer_id) WHERE offer_id IS NOT NULL;

-- Disbursements and repayments the lienholder records against its lien.
CREATE TABLE loan_records (
    id                TEXT PRIMARY KEY,
    lien_id           TEXT NOT NULL REFERENCES liens (id),
    bank_id           TEXT NOT NULL REFERENCES organizations (id),
    kind              TEXT NOT NULL CHECK (kind IN ('disbursement', 'repayment')),
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    value_date        DATE NOT NULL,
    reference         TEXT NOT NULL,
    leaf_hash         BYTEA NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX loan_records_lien ON loan_records (lien_id, created_at);
