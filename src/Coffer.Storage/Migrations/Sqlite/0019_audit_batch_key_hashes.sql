-- Nothing changes on SQLite: PostgreSQL's 0019 stores a hash of the key id in audit_batch_keys, because
-- there each key row is a heap tuple and a B-tree entry of its own. SQLite's WITHOUT ROWID table keeps a
-- key row in one B-tree entry already (about 15 bytes a record in all), and SQLite's SQL has no SHA-256
-- to convert the stored rows with (docs/audit-storage.md). The number is taken so that a schema version
-- means the same on both engines (Migration.cs).

SELECT 1;
