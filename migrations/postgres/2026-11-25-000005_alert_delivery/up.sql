-- Who is told of each alert, and the durable e-mail outbox. Both rows are
-- written in the transaction that raises the alert, so an alert is never
-- stored without its messages, nor messages without their alert.

CREATE TABLE alert_audiences (
    alert_id          TEXT NOT NULL REFERENCES alerts (id),
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    -- Whether the other bank's identity is left out of this copy.
    redacted          BOOLEAN NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('open', 'acknowledged')),
    acknowledged_at   TIMESTAMP,
    acknowledged_by   TEXT REFERENCES risk_officers (id),
    PRIMARY KEY (alert_id, organization_id)
);
CREATE INDEX alert_audiences_organization ON alert_audiences (organization_id, alert_id);

CREATE TABLE alert_deliveries (
    id                TEXT PRIMARY KEY,
    alert_id          TEXT NOT NULL REFERENCES alerts (id),
    risk_officer_id   TEXT NOT NULL REFERENCES risk_officers (id),
    recipient         TEXT NOT NULL,
    -- Stable per alert and recipient: a resend after a crash carries the
    -- same Message-ID, so mail systems can recognise it.
    message_id        TEXT NOT NULL UNIQUE,
    subject           TEXT NOT NULL,
    body_text         TEXT NOT NULL,
    body_html         TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMP NOT NULL,
    -- A sender claims a message until this time; another process may take
    -- it over only after the lease has run out.
    leased_until      TIMESTAMP,
    leased_by         TEXT,
    last_error        TEXT,
    sent_at           TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    UNIQUE (alert_id, risk_officer_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
