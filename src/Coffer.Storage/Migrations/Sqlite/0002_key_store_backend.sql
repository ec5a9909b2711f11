-- Each key store says where its keys live: 'software' (material sealed under the master key, in
-- key_versions.material) or 'pkcs11' (generated inside the HSM; key_versions.material holds only
-- the object reference). Existing key stores are software ones.
ALTER TABLE key_stores ADD COLUMN backend TEXT NOT NULL DEFAULT 'software';
