-- audit_batch_keys names a key by a 64-bit hash of its id instead of the id's text (docs/audit-storage.md,
-- "What a record costs now"). Here every key row is a heap tuple and a B-tree entry of its own, so the
-- text of the id (21 bytes for "key_" and 16 hex digits, and more for longer ids) was most of the
-- table, the largest audit cost after the records themselves: about 63 of 213 bytes a record. With a
-- bigint it is about 40 % smaller. The table only narrows a listing by key to candidate batches; every
-- record of a candidate is then tested against the key id itself (AuditBatchFilter), so two ids sharing
-- a hash cost a batch read, never a wrong answer.
--
--   key_hash = the first 8 bytes of SHA-256(UTF-8 of the key id), read as a big-endian signed integer
--              (PostgresDialect.BatchKey computes the same for the rows the audit writer adds)
--
-- SQLite keeps the id (its 0019 changes nothing): its WITHOUT ROWID table already stores a key row as one
-- B-tree entry, and SQLite's SQL has no SHA-256 to convert the rows with.

CREATE TABLE audit_batch_key_hashes (
    key_hash  BIGINT NOT NULL,
    first_seq BIGINT NOT NULL
);

-- DISTINCT: two ids of one batch may share a hash. In batch order, as the writer adds them.
INSERT INTO audit_batch_key_hashes (key_hash, first_seq)
SELECT DISTINCT ('x' || encode(substr(sha256(convert_to(key_id, 'UTF8')), 1, 8), 'hex'))::bit(64)::bigint, first_seq
FROM audit_batch_keys
ORDER BY first_seq, 1;

DROP TABLE audit_batch_keys;
ALTER TABLE audit_batch_key_hashes RENAME TO audit_batch_keys;
ALTER TABLE audit_batch_keys
    ADD CONSTRAINT "audit_batch_keys.key_hash, audit_batch_keys.first_seq" PRIMARY KEY (key_hash, first_seq);
