-- Kill switches (issue 6; docs/design.md, "Policies and control").
--
-- A row is engaged while released_at is NULL. Released rows stay: who cut AWS off, when, why, and
-- who restored service is part of the record (the audit log has it too).

CREATE TABLE kill_switches (
    id          TEXT NOT NULL PRIMARY KEY,
    scope       TEXT NOT NULL,   -- all, keystore, key, region, account, principal, vpc, vpce
    value       TEXT NULL,       -- what the scope names; NULL for all
    reason      TEXT NOT NULL,
    engaged_by  TEXT NOT NULL,
    engaged_at  TEXT NOT NULL,
    released_by TEXT NULL,
    released_at TEXT NULL
);

CREATE INDEX ix_kill_switches_engaged ON kill_switches (engaged_at) WHERE released_at IS NULL;
