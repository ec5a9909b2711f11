-- Destruction of whole keys (issue 5; docs/design.md, "Lifecycle").
--
--   destroys_at   the end of the key's destruction waiting period; while set the key serves nothing
--   destroyed_at  when every version's material was destroyed: the row stays as a tombstone, so the
--                 audit log and listings can still name the key and its externalKeyId stays taken
--                 (UNIQUE (key_store_id, external_id)) — no new key can answer to it with other material
--
-- A destroyed version keeps its row too; its key_versions.material is erased (an empty blob: the
-- column is NOT NULL since 0001, and SQLite cannot relax that in place). The SQLite connections run
-- with secure_delete=FAST, so the old bytes are overwritten rather than left in free space.

ALTER TABLE keys ADD COLUMN destroys_at TEXT NULL;
ALTER TABLE keys ADD COLUMN destroyed_at TEXT NULL;

-- For the destruction sweeper: the few keys with a waiting period, without scanning every key.
CREATE INDEX ix_keys_destroys_at ON keys (destroys_at) WHERE destroys_at IS NOT NULL;
