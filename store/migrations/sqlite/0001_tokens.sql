-- b24-store, SQLite, migration 1: token pairs by portal, and refresh claims.
CREATE TABLE b24_tokens (
    member_id     TEXT PRIMARY KEY NOT NULL,
    -- The refresh token the compare-and-set compares (NULL: the pair has none).
    refresh_token TEXT,
    -- The whole pair as JSON (access token, expiry, endpoints, application token, ...).
    pair          TEXT NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE TABLE b24_claims (
    member_id     TEXT PRIMARY KEY NOT NULL,
    refresh_token TEXT NOT NULL,
    until_ms      INTEGER NOT NULL
);
