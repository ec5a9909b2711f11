-- The audit chain stored one row per group commit (issue 4; docs/formats.md, "Audit batch").
--
-- Every XKS call waits for its record's batch to be durable, and one row per record cost the single
-- writer a 26-column insert and two index entries each: on the reference machine that alone used up
-- the audit log's whole CPU budget. A batch is now one row: its records as their canonical bodies
-- (the exact bytes the hash covers, made on the callers' threads), and their hashes. The records'
-- sequence numbers follow from first_seq, their time is the batch's (the writer stamps a batch once).
--
--   records = for each record: u32be(length of body) || body     (AuditCanonical.EncodeBody)
--   hashes  = for each record: its 32-byte hash, in order
--   prev_hash = the hash of record first_seq - 1 (zeros for record 1)
--
-- Listing by key reads audit_batch_keys (one row per key per batch); by time, the time index. Other
-- filters match the encoded field in the records blob before a batch is decoded.

CREATE TABLE audit_batches (
    first_seq INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL,
    time      TEXT NOT NULL,            -- every record's time, as in 0003_audit.sql
    prev_hash BLOB NOT NULL,
    hashes    BLOB NOT NULL,
    records   BLOB NOT NULL
);
CREATE INDEX ix_audit_batches_time ON audit_batches (time);

CREATE TABLE audit_batch_keys (
    key_id    TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    PRIMARY KEY (key_id, first_seq)
) WITHOUT ROWID;

-- Each existing record becomes a batch of one, its body encoded here exactly as AuditCanonical does
-- (hex, then unhex once): str(s) = u32be(0xFFFFFFFF) for null, else u32be(UTF-8 length) || UTF-8;
-- opt(v) = 00, or 01 and the big-endian value. `coffer audit verify` recomputes every hash from these
-- bytes, so an encoding slip here could not pass unnoticed.
INSERT INTO audit_batches (first_seq, last_seq, time, prev_hash, hashes, records)
SELECT seq, seq, time, prev_hash, hash, unhex(printf('%08X', length(body) / 2) || body)
FROM (
    SELECT seq, time, prev_hash, hash,
        (CASE WHEN node IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(node AS BLOB))) || hex(node) END) ||
        (CASE WHEN action IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(action AS BLOB))) || hex(action) END) ||
        (CASE WHEN outcome IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(outcome AS BLOB))) || hex(outcome) END) ||
        (CASE WHEN error_name IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(error_name AS BLOB))) || hex(error_name) END) ||
        (CASE WHEN reason IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(reason AS BLOB))) || hex(reason) END) ||
        (CASE WHEN actor_kind IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(actor_kind AS BLOB))) || hex(actor_kind) END) ||
        (CASE WHEN actor_id IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(actor_id AS BLOB))) || hex(actor_id) END) ||
        (CASE WHEN key_store IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(key_store AS BLOB))) || hex(key_store) END) ||
        (CASE WHEN key_id IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(key_id AS BLOB))) || hex(key_id) END) ||
        (CASE WHEN key_version IS NULL THEN '00' ELSE '01' || printf('%08X', key_version & 4294967295) END) ||
        (CASE WHEN latency_us IS NULL THEN '00' ELSE '01' || printf('%016X', latency_us) END) ||
        (CASE WHEN source_ip IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(source_ip AS BLOB))) || hex(source_ip) END) ||
        (CASE WHEN kms_request_id IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(kms_request_id AS BLOB))) || hex(kms_request_id) END) ||
        (CASE WHEN aws_principal_arn IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(aws_principal_arn AS BLOB))) || hex(aws_principal_arn) END) ||
        (CASE WHEN kms_key_arn IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(kms_key_arn AS BLOB))) || hex(kms_key_arn) END) ||
        (CASE WHEN aws_account IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(aws_account AS BLOB))) || hex(aws_account) END) ||
        (CASE WHEN aws_region IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(aws_region AS BLOB))) || hex(aws_region) END) ||
        (CASE WHEN kms_operation IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(kms_operation AS BLOB))) || hex(kms_operation) END) ||
        (CASE WHEN kms_via_service IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(kms_via_service AS BLOB))) || hex(kms_via_service) END) ||
        (CASE WHEN aws_source_vpc IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(aws_source_vpc AS BLOB))) || hex(aws_source_vpc) END) ||
        (CASE WHEN aws_source_vpce IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(aws_source_vpce AS BLOB))) || hex(aws_source_vpce) END) ||
        (CASE WHEN details IS NULL THEN 'FFFFFFFF' ELSE printf('%08X', length(CAST(details AS BLOB))) || hex(details) END) AS body
    FROM audit_records
)
ORDER BY seq;

INSERT INTO audit_batch_keys (key_id, first_seq) SELECT key_id, seq FROM audit_records WHERE key_id IS NOT NULL;

DROP TABLE audit_records;
