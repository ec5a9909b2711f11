-- The key version lifecycle (docs/design.md, "Lifecycle"; issue 5).
--
-- key_versions.state stays the stored KMIP state; these times change it without anyone acting
-- (VersionLifecycle.StateAt applies them on the hot path, a scheduler persists them later):
--   activates_at    PreActive becomes Active
--   deactivates_at  Active becomes Deactivated (expiry)
--   destroys_at     the end of a destruction waiting period; while set the version is unusable
-- state_changed_at/by record the last change and who made it: a management token id, or 'system'.
-- Times are the fixed-width UTC text of 0001_initial.sql, so "due" is a plain text comparison.

ALTER TABLE key_versions ADD COLUMN activates_at TEXT NULL;
ALTER TABLE key_versions ADD COLUMN deactivates_at TEXT NULL;
ALTER TABLE key_versions ADD COLUMN destroys_at TEXT NULL;
ALTER TABLE key_versions ADD COLUMN state_changed_at TEXT NULL;
ALTER TABLE key_versions ADD COLUMN state_changed_by TEXT NULL;

-- Whether a Compromised version may still decrypt (issue 5: per key, default no).
ALTER TABLE keys ADD COLUMN compromised_may_decrypt INTEGER NOT NULL DEFAULT 0;

-- For the schedulers to come: each finds its due versions without scanning every version. Partial
-- indexes (both SQLite and PostgreSQL have them) hold only the few rows with a time set.
CREATE INDEX ix_key_versions_activates_at ON key_versions (activates_at) WHERE activates_at IS NOT NULL;
CREATE INDEX ix_key_versions_deactivates_at ON key_versions (deactivates_at) WHERE deactivates_at IS NOT NULL;
CREATE INDEX ix_key_versions_destroys_at ON key_versions (destroys_at) WHERE destroys_at IS NOT NULL;
