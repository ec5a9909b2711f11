-- Coffer schema, version 1.
--
-- Portable between SQLite and PostgreSQL on purpose (docs/design.md, Storage): only TEXT, INTEGER
-- and BLOB columns, standard constraints, no AUTOINCREMENT, no WITHOUT ROWID, no JSON columns.
-- BLOB is the one type name PostgreSQL lacks; its dialect declares `CREATE DOMAIN blob AS bytea`
-- before running these scripts (see Sqlite/SqliteDialect.cs for every dialect difference).
--
-- Times are ISO-8601 UTC text with 7 fractional digits ("2025-01-31T12:00:00.0000000Z"): exact
-- round-trip of DateTimeOffset ticks, readable in a SQL shell, and fixed width so it sorts.
-- Ids are application-generated TEXT, so no sequences are needed on either engine.

CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,   -- SHA-256 of the bearer token, never the token
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NULL,
    revoked_at TEXT NULL
);

CREATE TABLE key_stores (
    id         TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    uri_prefix TEXT NOT NULL UNIQUE,   -- normalised: '' or '/a/b'
    created_at TEXT NOT NULL
);

CREATE TABLE credentials (
    id            TEXT NOT NULL PRIMARY KEY,
    key_store_id  TEXT NOT NULL REFERENCES key_stores (id),
    access_key_id TEXT NOT NULL UNIQUE,
    sealed_secret BLOB NOT NULL,       -- sealed under the master key; storage is untrusted
    created_at    TEXT NOT NULL,
    revoked_at    TEXT NULL
);

CREATE INDEX ix_credentials_key_store ON credentials (key_store_id);

CREATE TABLE keys (
    id              TEXT NOT NULL PRIMARY KEY,
    key_store_id    TEXT NOT NULL REFERENCES key_stores (id),
    external_id     TEXT NOT NULL,
    description     TEXT NOT NULL,
    tags            TEXT NOT NULL,     -- JSON object of string to string
    usage           INTEGER NOT NULL,  -- Coffer.Keys.KeyUsage flags: 1 encrypt, 2 decrypt
    enabled         INTEGER NOT NULL,  -- 0 or 1
    current_version INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (key_store_id, external_id)
);

CREATE TABLE key_versions (
    key_id     TEXT NOT NULL REFERENCES keys (id),
    version    INTEGER NOT NULL,
    state      TEXT NOT NULL,          -- PreActive, Active, Deactivated, Compromised, Destroyed
    backend    TEXT NOT NULL,          -- crypto backend name: software, pkcs11
    material   BLOB NOT NULL,          -- wrapped material or an HSM object reference
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, version)
);
