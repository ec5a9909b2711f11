-- Audit retention (issue 4; docs/formats.md, "Audit archive").
--
-- An administrator moves the oldest part of the chain into an archive file. Each archive leaves one
-- row here, MACed under the audit checkpoint key, so an editor of the database cannot forge a cut to
-- hide removed records. The checkpoint at through_seq stays in audit_checkpoints; the live chain
-- continues from through_seq + 1 (its prev_hash is through_hash).

CREATE TABLE audit_archives (
    through_seq  BIGINT NOT NULL PRIMARY KEY,  -- the last record in the file
    first_seq    BIGINT NOT NULL,              -- the first record in the file
    through_hash BLOB NOT NULL,                -- 32 bytes: the hash of record through_seq
    file_name    TEXT NOT NULL,
    file_sha256  BLOB NOT NULL,                -- 32 bytes: SHA-256 of the whole file
    created_at   TEXT NOT NULL,
    mac          BLOB NOT NULL                 -- HMAC-SHA256 (AuditArchiveMac)
);
