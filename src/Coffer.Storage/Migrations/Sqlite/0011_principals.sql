-- Users and apps with their roles and groups, custom roles, and tokens that stand for a user or app
-- (issue 7). Grants are stored as "role" or "role@keyStoreId" separated by spaces, groups likewise:
-- both are validated names without spaces, and a principal is always read whole.
CREATE TABLE principals (
    id           TEXT NOT NULL PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'app')),
    name         TEXT NOT NULL,
    oidc_subject TEXT NULL UNIQUE,
    grants       TEXT NOT NULL,
    groups       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    disabled_at  TEXT NULL
);

CREATE TABLE custom_roles (
    name        TEXT NOT NULL PRIMARY KEY,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- A token has a role (it stands for itself) or an owner (it stands for that user or app), never both.
CREATE TABLE api_tokens_new (
    id           TEXT NOT NULL PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,   -- SHA-256 of the bearer token, never the token
    role         TEXT NULL,
    key_store_id TEXT NULL,
    owner_id     TEXT NULL REFERENCES principals (id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NULL,
    revoked_at   TEXT NULL,
    CHECK ((role IS NULL) <> (owner_id IS NULL))
);

INSERT INTO api_tokens_new (id, name, hash, role, key_store_id, owner_id, created_at, expires_at, revoked_at)
    SELECT id, name, hash, role, NULL, NULL, created_at, expires_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_owner ON api_tokens (owner_id);
