-- Which outcomes each audit batch holds, so a search for refused or failed calls reads only the
-- batches that have one (docs/audit-storage.md, "Searching by outcome"). A batch's records are packed
-- with Brotli, which SQL cannot search: before this, such a search unpacked every batch in its range.
--
-- outcomes is a bit mask, 1 << the outcome's number (ok 1, denied 2, error 4, requested 8), written
-- with the batch (src/Coffer.Storage/Repositories/AuditBatchOutcomes.cs). A batch stored before this
-- migration, or split by an archive run, says 15: it may hold any outcome, so every search still reads
-- it. The index covers what the search tests, so batches without a refusal or failure are never read
-- and the ones it names are read only when their time and bit match.

ALTER TABLE audit_batches ADD COLUMN outcomes INTEGER NOT NULL DEFAULT 15;
CREATE INDEX ix_audit_batches_unsuccessful ON audit_batches (first_seq, time, outcomes) WHERE (outcomes & 6) <> 0;
