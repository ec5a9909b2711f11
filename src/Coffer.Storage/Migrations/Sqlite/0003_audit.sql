-- The audit chain (docs/design.md, "Audit"; docs/formats.md, "Audit record").
--
-- Append-only: Coffer never updates or deletes these rows. Every field of a record is a column of its
-- own so that listing can filter on it; prev_hash and hash are the chain, and checkpoints hold a MAC
-- over the chain head made with a key derived from the master key.
--
-- BIGINT, not INTEGER, for sequence numbers: PostgreSQL's INTEGER is 32 bits, which a busy node
-- passes in days. In SQLite BIGINT has INTEGER affinity (the values are the same 64-bit integers).
-- Times are the fixed-width UTC text of 0001_initial.sql (with millisecond precision here), so text
-- order is time order and the time range filter is a plain comparison.

CREATE TABLE audit_records (
    seq               BIGINT NOT NULL PRIMARY KEY,
    time              TEXT NOT NULL,
    node              TEXT NOT NULL,
    action            TEXT NOT NULL,
    outcome           TEXT NOT NULL,       -- ok, denied, error, requested
    error_name        TEXT NULL,
    reason            TEXT NULL,
    actor_kind        TEXT NULL,           -- xks, token, system, anonymous
    actor_id          TEXT NULL,
    key_store         TEXT NULL,
    key_id            TEXT NULL,
    key_version       INTEGER NULL,
    latency_us        BIGINT NULL,         -- microseconds, as hashed (docs/formats.md)
    source_ip         TEXT NULL,
    kms_request_id    TEXT NULL,
    aws_principal_arn TEXT NULL,
    kms_key_arn       TEXT NULL,
    aws_account       TEXT NULL,
    aws_region        TEXT NULL,
    kms_operation     TEXT NULL,
    kms_via_service   TEXT NULL,
    aws_source_vpc    TEXT NULL,
    aws_source_vpce   TEXT NULL,
    details           TEXT NULL,
    prev_hash         BLOB NOT NULL,       -- 32 bytes: hash of record seq - 1 (zeros for record 1)
    hash              BLOB NOT NULL        -- 32 bytes: SHA-256(prev_hash || canonical form)
);

-- Few indexes on purpose: each one is written on every XKS call, inside the batch every caller waits
-- for. Time and key are the common audit questions, and both indexes grow at their right edge (time
-- and seq only increase), which is cheap. An index on kms_request_id (random values) doubled the
-- cost of a 64-record batch on the reference machine, so a kmsRequestId lookup scans instead.
CREATE INDEX ix_audit_records_time ON audit_records (time);
CREATE INDEX ix_audit_records_key ON audit_records (key_id, seq);

CREATE TABLE audit_checkpoints (
    seq  BIGINT NOT NULL PRIMARY KEY,      -- the record whose hash this checkpoint covers
    time TEXT NOT NULL,
    hash BLOB NOT NULL,                    -- that record's hash
    mac  BLOB NOT NULL                     -- HMAC-SHA256 under the audit checkpoint key
);
