-- The web console's login sessions (docs/console.md, "Sessions"). The browser holds a random session
-- id in an HttpOnly cookie; the database holds only its SHA-256, so a copy of the database logs nobody
-- in. A session stands for the Coffer token that opened it and is checked against that token at every
-- call: revoking the token or disabling its owner ends the session too. Rows live in the database,
-- not in a node's memory, so any node of a cluster serves the session.

CREATE TABLE console_sessions (
    hash         BLOB NOT NULL PRIMARY KEY,
    token_id     TEXT NOT NULL REFERENCES api_tokens (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);

CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
