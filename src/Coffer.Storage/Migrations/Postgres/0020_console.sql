-- The web console's login sessions (docs/console.md, "Sessions"). The browser holds a random session
-- id in an HttpOnly cookie; the database holds only its SHA-256, so a copy of the database logs nobody
-- in. A session stands for the Coffer token that opened it and is checked against that token at every
-- call: revoking the token or disabling its owner ends the session too. Rows live in the database,
-- not in a node's memory, so any node of a cluster serves the session.

CREATE TABLE console_sessions (
    hash         bytea NOT NULL CONSTRAINT "console_sessions.hash" PRIMARY KEY,
    token_id     TEXT COLLATE "C" NOT NULL REFERENCES api_tokens (id),
    created_at   TEXT COLLATE "C" NOT NULL,
    last_seen_at TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL
);

CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- XKS calls per minute, by node, outcome (ok, denied or error, as in the audit log) and answer (success
-- or the XKS error name), for the console's Overview (docs/console.md, "Traffic"). Each node adds what it answered since its last write, about
-- once a minute; rows older than a day are deleted.

CREATE TABLE xks_traffic (
    minute  BIGINT NOT NULL,   -- Unix time in minutes
    node_id TEXT COLLATE "C" NOT NULL,
    outcome TEXT COLLATE "C" NOT NULL,
    answer  TEXT COLLATE "C" NOT NULL,
    calls   BIGINT NOT NULL,
    CONSTRAINT "xks_traffic.key" PRIMARY KEY (minute, node_id, outcome, answer)
);
