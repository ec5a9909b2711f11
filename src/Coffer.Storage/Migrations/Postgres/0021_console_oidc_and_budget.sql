-- Console sessions opened through the identity provider (docs/console.md, "Login through the identity
-- provider"). Such a session stands for no Coffer token: it keeps the ID token's subject, name and
-- groups as they were at login, and every call re-derives the caller from them under the Oidc
-- settings of that moment. Exactly one of token_id and oidc_subject is set.

ALTER TABLE console_sessions ALTER COLUMN token_id DROP NOT NULL;
ALTER TABLE console_sessions ADD COLUMN oidc_subject TEXT COLLATE "C";
ALTER TABLE console_sessions ADD COLUMN oidc_name TEXT COLLATE "C";
ALTER TABLE console_sessions ADD COLUMN oidc_groups TEXT COLLATE "C";   -- a JSON array of strings
ALTER TABLE console_sessions ADD CONSTRAINT "console_sessions.one_login"
    CHECK ((token_id IS NULL) <> (oidc_subject IS NULL));

-- The Overview's versions near their encryption budget (docs/console.md, "Overview"): only Active
-- versions encrypt, so only they are indexed. A reservation takes a block of encryptions at a time
-- (src/Coffer.Server/Xks/EncryptionBudgets.cs), so the index is written rarely.
CREATE INDEX ix_key_versions_encryptions_reserved ON key_versions (encryptions_reserved) WHERE state = 'Active';
