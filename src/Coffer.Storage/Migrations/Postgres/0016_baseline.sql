-- Coffer's schema as SQLite has it after 0001–0016 (Migrations/Sqlite/), written once for PostgreSQL.
-- Same tables and columns, so the repositories' queries are shared (docs/storage.md). Differences:
-- * Every TEXT column is COLLATE "C": byte order, as SQLite's BINARY, so keyset paging ("id > @After"
--   ORDER BY id) and time text compare the same on both engines, and lower() folds ASCII only.
-- * Integers are BIGINT (SQLite's INTEGER is 64 bits); bytes are bytea.
-- * Unique and primary key constraints are named after the columns SQLite names in its error
--   ("keys.key_store_id, keys.external_id"), so one classification of a conflict serves both engines.
-- From 0017 on, every schema change has a file of the same number in both folders.

CREATE TABLE settings (
    name  TEXT COLLATE "C" NOT NULL CONSTRAINT "settings.name" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE key_stores (
    id         TEXT COLLATE "C" NOT NULL CONSTRAINT "key_stores.id" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL CONSTRAINT "key_stores.name" UNIQUE,
    uri_prefix TEXT COLLATE "C" NOT NULL CONSTRAINT "key_stores.uri_prefix" UNIQUE,   -- normalised: '' or '/a/b'
    created_at TEXT COLLATE "C" NOT NULL,
    backend    TEXT COLLATE "C" NOT NULL DEFAULT 'software'
);

CREATE TABLE credentials (
    id            TEXT COLLATE "C" NOT NULL CONSTRAINT "credentials.id" PRIMARY KEY,
    key_store_id  TEXT COLLATE "C" NOT NULL REFERENCES key_stores (id),
    access_key_id TEXT COLLATE "C" NOT NULL CONSTRAINT "credentials.access_key_id" UNIQUE,
    sealed_secret bytea NOT NULL,       -- sealed under the master key; storage is untrusted
    created_at    TEXT COLLATE "C" NOT NULL,
    revoked_at    TEXT COLLATE "C" NULL
);

CREATE INDEX ix_credentials_key_store ON credentials (key_store_id);

CREATE TABLE keys (
    id                      TEXT COLLATE "C" NOT NULL CONSTRAINT "keys.id" PRIMARY KEY,
    key_store_id            TEXT COLLATE "C" NOT NULL REFERENCES key_stores (id),
    external_id             TEXT COLLATE "C" NOT NULL,
    description             TEXT COLLATE "C" NOT NULL,
    tags                    TEXT COLLATE "C" NOT NULL,     -- JSON object of string to string
    usage                   BIGINT NOT NULL,               -- Coffer.Keys.KeyUsage flags: 1 encrypt, 2 decrypt
    enabled                 BIGINT NOT NULL,               -- 0 or 1
    current_version         BIGINT NOT NULL,
    created_at              TEXT COLLATE "C" NOT NULL,
    compromised_may_decrypt BIGINT NOT NULL DEFAULT 0,
    destroys_at             TEXT COLLATE "C" NULL,
    destroyed_at            TEXT COLLATE "C" NULL,
    CONSTRAINT "keys.key_store_id, keys.external_id" UNIQUE (key_store_id, external_id)
);

CREATE INDEX ix_keys_destroys_at ON keys (destroys_at) WHERE destroys_at IS NOT NULL;

CREATE TABLE key_versions (
    key_id               TEXT COLLATE "C" NOT NULL REFERENCES keys (id),
    version              BIGINT NOT NULL,
    state                TEXT COLLATE "C" NOT NULL,          -- PreActive, Active, Deactivated, Compromised, Destroyed
    backend              TEXT COLLATE "C" NOT NULL,          -- crypto backend name: software, pkcs11
    material             bytea NOT NULL,                     -- wrapped material or an HSM object reference
    created_at           TEXT COLLATE "C" NOT NULL,
    activates_at         TEXT COLLATE "C" NULL,
    deactivates_at       TEXT COLLATE "C" NULL,
    destroys_at          TEXT COLLATE "C" NULL,
    state_changed_at     TEXT COLLATE "C" NULL,
    state_changed_by     TEXT COLLATE "C" NULL,
    encryptions_reserved BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "key_versions.key_id, key_versions.version" PRIMARY KEY (key_id, version)
);

CREATE INDEX ix_key_versions_activates_at ON key_versions (activates_at) WHERE activates_at IS NOT NULL;
CREATE INDEX ix_key_versions_deactivates_at ON key_versions (deactivates_at) WHERE deactivates_at IS NOT NULL;
CREATE INDEX ix_key_versions_destroys_at ON key_versions (destroys_at) WHERE destroys_at IS NOT NULL;

CREATE TABLE audit_checkpoints (
    seq  BIGINT NOT NULL CONSTRAINT "audit_checkpoints.seq" PRIMARY KEY,
    time TEXT COLLATE "C" NOT NULL,
    hash bytea NOT NULL,
    mac  bytea NOT NULL
);

CREATE TABLE audit_archives (
    through_seq  BIGINT NOT NULL CONSTRAINT "audit_archives.through_seq" PRIMARY KEY,
    first_seq    BIGINT NOT NULL,
    through_hash bytea NOT NULL,
    file_name    TEXT COLLATE "C" NOT NULL,
    file_sha256  bytea NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    mac          bytea NOT NULL
);

CREATE TABLE audit_batches (
    first_seq BIGINT NOT NULL CONSTRAINT "audit_batches.first_seq" PRIMARY KEY,
    last_seq  BIGINT NOT NULL,
    time      TEXT COLLATE "C" NOT NULL,
    prev_hash bytea NOT NULL,
    hashes    bytea NOT NULL,
    records   bytea NOT NULL
);

CREATE INDEX ix_audit_batches_time ON audit_batches (time);

CREATE TABLE audit_batch_keys (
    key_id    TEXT COLLATE "C" NOT NULL,
    first_seq BIGINT NOT NULL,
    CONSTRAINT "audit_batch_keys.key_id, audit_batch_keys.first_seq" PRIMARY KEY (key_id, first_seq)
);

CREATE TABLE kill_switches (
    id          TEXT COLLATE "C" NOT NULL CONSTRAINT "kill_switches.id" PRIMARY KEY,
    scope       TEXT COLLATE "C" NOT NULL,
    value       TEXT COLLATE "C" NULL,
    reason      TEXT COLLATE "C" NOT NULL,
    engaged_by  TEXT COLLATE "C" NOT NULL,
    engaged_at  TEXT COLLATE "C" NOT NULL,
    released_by TEXT COLLATE "C" NULL,
    released_at TEXT COLLATE "C" NULL
);

CREATE INDEX ix_kill_switches_engaged ON kill_switches (engaged_at) WHERE released_at IS NULL;

CREATE TABLE alert_webhooks (
    id            TEXT COLLATE "C" NOT NULL CONSTRAINT "alert_webhooks.id" PRIMARY KEY,
    url           TEXT COLLATE "C" NOT NULL,
    events        TEXT COLLATE "C" NOT NULL,
    sealed_secret bytea NOT NULL,
    from_seq      BIGINT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    created_by    TEXT COLLATE "C" NULL,
    removed_at    TEXT COLLATE "C" NULL
);

CREATE TABLE alert_deliveries (
    webhook_id      TEXT COLLATE "C" NOT NULL REFERENCES alert_webhooks (id),
    audit_seq       BIGINT NOT NULL,
    event_type      TEXT COLLATE "C" NOT NULL,
    payload         TEXT COLLATE "C" NOT NULL,
    state           TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT COLLATE "C" NOT NULL,
    next_attempt_at TEXT COLLATE "C" NULL,
    last_attempt_at TEXT COLLATE "C" NULL,
    last_status     BIGINT NULL,
    last_error      TEXT COLLATE "C" NULL,
    delivered_at    TEXT COLLATE "C" NULL,
    CONSTRAINT "alert_deliveries.webhook_id, alert_deliveries.audit_seq" PRIMARY KEY (webhook_id, audit_seq)
);

CREATE INDEX ix_alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE access_policies (
    scope      TEXT COLLATE "C" NOT NULL,
    scope_id   TEXT COLLATE "C" NOT NULL,
    version    BIGINT NOT NULL,
    document   TEXT COLLATE "C" NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    created_by TEXT COLLATE "C" NULL,
    CONSTRAINT "access_policies.scope, scope_id, version" PRIMARY KEY (scope, scope_id, version)
);

CREATE TABLE region_sets (
    name       TEXT COLLATE "C" NOT NULL CONSTRAINT "region_sets.name" PRIMARY KEY,
    regions    TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE rotation_policies (
    scope                     TEXT COLLATE "C" NOT NULL,
    target_id                 TEXT COLLATE "C" NOT NULL,
    interval_days             BIGINT NULL,
    time_of_day               TEXT COLLATE "C" NULL,
    day_of_week               BIGINT NULL,
    rotate_before_expiry_days BIGINT NULL,
    updated_at                TEXT COLLATE "C" NOT NULL,
    updated_by                TEXT COLLATE "C" NOT NULL,
    CONSTRAINT "rotation_policies.scope, rotation_policies.target_id" PRIMARY KEY (scope, target_id)
);

CREATE TABLE key_rotation_state (
    key_id       TEXT COLLATE "C" NOT NULL CONSTRAINT "key_rotation_state.key_id" PRIMARY KEY,
    last_due_at  TEXT COLLATE "C" NOT NULL,
    from_version BIGINT NOT NULL,
    rotated_at   TEXT COLLATE "C" NOT NULL
);

CREATE TABLE principals (
    id           TEXT COLLATE "C" NOT NULL CONSTRAINT "principals.id" PRIMARY KEY,
    kind         TEXT COLLATE "C" NOT NULL CHECK (kind IN ('user', 'app')),
    name         TEXT COLLATE "C" NOT NULL,
    oidc_subject TEXT COLLATE "C" NULL CONSTRAINT "principals.oidc_subject" UNIQUE,
    grants       TEXT COLLATE "C" NOT NULL,
    groups       TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    disabled_at  TEXT COLLATE "C" NULL
);

CREATE TABLE custom_roles (
    name        TEXT COLLATE "C" NOT NULL CONSTRAINT "custom_roles.name" PRIMARY KEY,
    description TEXT COLLATE "C" NOT NULL,
    permissions TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT COLLATE "C" NOT NULL CONSTRAINT "api_tokens.id" PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    hash         bytea NOT NULL CONSTRAINT "api_tokens.hash" UNIQUE,   -- SHA-256 of the bearer token, never the token
    role         TEXT COLLATE "C" NULL,
    key_store_id TEXT COLLATE "C" NULL,
    owner_id     TEXT COLLATE "C" NULL REFERENCES principals (id),
    created_at   TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NULL,
    revoked_at   TEXT COLLATE "C" NULL,
    CHECK ((role IS NULL) <> (owner_id IS NULL))
);

CREATE INDEX api_tokens_owner ON api_tokens (owner_id);

CREATE TABLE quorum_policies (
    name               TEXT COLLATE "C" NOT NULL CONSTRAINT "quorum_policies.name" PRIMARY KEY,
    required_approvals BIGINT NOT NULL,
    approver_group     TEXT COLLATE "C" NOT NULL,
    lifetime_seconds   BIGINT NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL,
    updated_by         TEXT COLLATE "C" NOT NULL
);

CREATE TABLE quorum_policy_operations (
    operation   TEXT COLLATE "C" NOT NULL CONSTRAINT "quorum_policy_operations.operation" PRIMARY KEY,
    policy_name TEXT COLLATE "C" NOT NULL REFERENCES quorum_policies (name) ON DELETE CASCADE
);

CREATE TABLE approval_requests (
    id                 TEXT COLLATE "C" NOT NULL CONSTRAINT "approval_requests.id" PRIMARY KEY,
    operation          TEXT COLLATE "C" NOT NULL,
    policy_name        TEXT COLLATE "C" NOT NULL,
    required_approvals BIGINT NOT NULL,
    approver_group     TEXT COLLATE "C" NOT NULL,
    method             TEXT COLLATE "C" NOT NULL,
    route_pattern      TEXT COLLATE "C" NOT NULL,
    path               TEXT COLLATE "C" NOT NULL,
    route_values       TEXT COLLATE "C" NOT NULL,
    query              TEXT COLLATE "C" NOT NULL,
    body               TEXT COLLATE "C" NULL,
    requester_id       TEXT COLLATE "C" NOT NULL,
    requester_kind     TEXT COLLATE "C" NOT NULL,
    requester_name     TEXT COLLATE "C" NOT NULL,
    requester_grants   TEXT COLLATE "C" NOT NULL,
    requester_groups   TEXT COLLATE "C" NOT NULL,
    requester_token_id TEXT COLLATE "C" NULL,
    reason             TEXT COLLATE "C" NULL,
    fingerprint        TEXT COLLATE "C" NOT NULL,
    state              TEXT COLLATE "C" NOT NULL,
    created_at         TEXT COLLATE "C" NOT NULL,
    expires_at         TEXT COLLATE "C" NOT NULL,
    finished_at        TEXT COLLATE "C" NULL,
    end_reason         TEXT COLLATE "C" NULL,
    result_status      BIGINT NULL,
    result_body        TEXT COLLATE "C" NULL,
    sealed_result      bytea NULL
);

CREATE INDEX approval_requests_by_state ON approval_requests (state, created_at);

CREATE TABLE approval_votes (
    request_id TEXT COLLATE "C" NOT NULL REFERENCES approval_requests (id),
    voter_id   TEXT COLLATE "C" NOT NULL,
    voter_kind TEXT COLLATE "C" NOT NULL,
    voter_name TEXT COLLATE "C" NOT NULL,
    approves   BIGINT NOT NULL,
    comment    TEXT COLLATE "C" NULL,
    voted_at   TEXT COLLATE "C" NOT NULL,
    CONSTRAINT "approval_votes.request_id, approval_votes.voter_id" PRIMARY KEY (request_id, voter_id)
);
