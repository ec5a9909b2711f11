-- The audit tables keyed by SQLite's rowid. Only a column declared exactly "INTEGER PRIMARY KEY" is the
-- rowid; "seq BIGINT NOT NULL PRIMARY KEY" (0003_audit.sql) gave each table a hidden rowid plus a
-- separate unique index on seq, so every appended record went into one B-tree more than it needs
-- (in SQLite INTEGER is 64 bits, like BIGINT). With seq as the rowid, a batch of 37 XKS records
-- writes 15 pages to the WAL instead of 19, and the file is ~11 % smaller. The key index needs no seq
-- column of its own: every index entry ends with the rowid, so (key_id) is already ordered by seq.
-- Rows are copied unchanged (the chain covers their values, not their storage). A PostgreSQL dialect
-- must read INTEGER here as BIGINT (its INTEGER is 32 bits).

CREATE TABLE audit_records_by_seq (
    seq               INTEGER PRIMARY KEY,
    time              TEXT NOT NULL,
    node              TEXT NOT NULL,
    action            TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    error_name        TEXT NULL,
    reason            TEXT NULL,
    actor_kind        TEXT NULL,
    actor_id          TEXT NULL,
    key_store         TEXT NULL,
    key_id            TEXT NULL,
    key_version       INTEGER NULL,
    latency_us        BIGINT NULL,
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
    prev_hash         BLOB NOT NULL,
    hash              BLOB NOT NULL
);

INSERT INTO audit_records_by_seq
SELECT seq, time, node, action, outcome, error_name, reason, actor_kind, actor_id, key_store, key_id, key_version, latency_us,
       source_ip, kms_request_id, aws_principal_arn, kms_key_arn, aws_account, aws_region, kms_operation, kms_via_service,
       aws_source_vpc, aws_source_vpce, details, prev_hash, hash
FROM audit_records ORDER BY seq;

DROP TABLE audit_records;
ALTER TABLE audit_records_by_seq RENAME TO audit_records;
CREATE INDEX ix_audit_records_time ON audit_records (time);
CREATE INDEX ix_audit_records_key ON audit_records (key_id);

CREATE TABLE audit_checkpoints_by_seq (
    seq  INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    hash BLOB NOT NULL,
    mac  BLOB NOT NULL
);

INSERT INTO audit_checkpoints_by_seq SELECT seq, time, hash, mac FROM audit_checkpoints ORDER BY seq;
DROP TABLE audit_checkpoints;
ALTER TABLE audit_checkpoints_by_seq RENAME TO audit_checkpoints;
