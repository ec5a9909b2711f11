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

-- XKS calls per minute, by node, outcome (ok, denied or error, as in the audit log) and answer (success
-- or the XKS error name), for the console's Overview (docs/console.md, "Traffic"). Each node adds what it answered since its last write, about
-- once a minute; rows older than a day are deleted.

CREATE TABLE xks_traffic (
    minute  INTEGER NOT NULL,   -- Unix time in minutes
    node_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    answer  TEXT NOT NULL,
    calls   INTEGER NOT NULL,
    PRIMARY KEY (minute, node_id, outcome, answer)
);
