-- How many AES-GCM encryptions nodes have reserved under each key version
-- (src/Coffer.Server/Xks/EncryptionBudgets.cs). Coffer draws a random 96-bit IV for every encryption,
-- and NIST SP 800-38D (8.3) allows at most 2^32 invocations per key with random IVs. A node reserves
-- blocks of encryptions here before it makes them, so the total it can have made is never more than
-- this column, across restarts and nodes; what a node reserved but did not use is lost when it stops,
-- which errs on the safe side.

ALTER TABLE key_versions ADD COLUMN encryptions_reserved BIGINT NOT NULL DEFAULT 0;
