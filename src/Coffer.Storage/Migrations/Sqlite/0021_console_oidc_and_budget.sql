-- Console sessions opened through the identity provider (docs/console.md, "Login through the identity
-- provider"). Such a session stands for no Coffer token: it keeps the ID token's subject, name and
-- groups as they were at login, and every call re-derives the caller from them under the Oidc
-- settings of that moment. Exactly one of token_id and oidc_subject is set. SQLite cannot drop a NOT
-- NULL, so the table is rebuilt; the live sessions are kept.

CREATE TABLE console_sessions_new (
    hash         BLOB NOT NULL PRIMARY KEY,
    token_id     TEXT REFERENCES api_tokens (id),
    oidc_subject TEXT,
    oidc_name    TEXT,
    oidc_groups  TEXT,   -- a JSON array of strings
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    CHECK ((token_id IS NULL) <> (oidc_subject IS NULL))
);

INSERT INTO console_sessions_new (hash, token_id, created_at, last_seen_at, expires_at)
    SELECT hash, token_id, created_at, last_seen_at, expires_at FROM console_sessions;

DROP TABLE console_sessions;

ALTER TABLE console_sessions_new RENAME TO console_sessions;

CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- The Overview's versions near their encryption budget (docs/console.md, "Overview"): only Active
-- versions encrypt, so only they are indexed. A reservation takes a block of encryptions at a time
-- (src/Coffer.Server/Xks/EncryptionBudgets.cs), so the index is written rarely.
CREATE INDEX ix_key_versions_encryptions_reserved ON key_versions (encryptions_reserved) WHERE state = 'Active';
