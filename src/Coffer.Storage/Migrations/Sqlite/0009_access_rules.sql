-- XKS access rules (docs/design.md, "Policies and control"; issue 6).
--
-- Each PUT of a key store's or a key's rule document adds version N+1; earlier versions stay, so
-- what was in force when can be shown. A clear adds a version whose document is NULL. The current
-- rules of a scope are its highest version. scope is 'keystore' or 'key'; scope_id the key store's
-- or key's id. No foreign key: a deleted key store's history is kept like its audit records.
-- document is the rule document as canonical JSON text (TEXT, not a JSON column: portable).

CREATE TABLE access_policies (
    scope      TEXT NOT NULL,
    scope_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    document   TEXT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NULL,           -- a management token id
    PRIMARY KEY (scope, scope_id, version)
);

-- User-defined region sets that rules name in kmsKeyRegion / signingRegion; regions is a
-- comma-separated list of region names. The built-in sets (eea, eu-adequacy) live in code.
CREATE TABLE region_sets (
    name       TEXT NOT NULL PRIMARY KEY,
    regions    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
