-- One row every server process rewrites every second: a committed write,
-- so that a full or read-only disk, a standby that refuses writes or a
-- lost server shows as "down" (`/readyz` 503, requests answered 503 at
-- once) rather than as failures request by request.
CREATE TABLE liveness (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at  TIMESTAMP NOT NULL
);
INSERT INTO liveness (id, probed_at) VALUES (1, CURRENT_TIMESTAMP);
