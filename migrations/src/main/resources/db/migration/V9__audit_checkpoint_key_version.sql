-- Audit signing keys have versions (issue 11): a Vault Transit key rotates (by hand or by its
-- auto_rotate_period), a key file is replaced by `audit rotate-key`. Each checkpoint records
-- the version of the key that signed it ('3' for Transit's vault:v3:, the public key's SHA-256
-- fingerprint for a key file), so a verifier checks it with that version's public key and a
-- rotation never looks like tampering. Checkpoints made before this migration have none.
-- The version is not signed: relabelling a checkpoint only makes it fail to verify.
ALTER TABLE audit_checkpoints
  ADD COLUMN key_version text CHECK (key_version IS NULL OR length(key_version) BETWEEN 1 AND 200);

-- GET /v1/audit/public-keys reports the first and last checkpoint of each key version.
CREATE INDEX audit_checkpoints_key_idx ON audit_checkpoints (key_id, key_version, seq);
