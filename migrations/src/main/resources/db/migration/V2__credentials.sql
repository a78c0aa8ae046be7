-- refund-broker schema, version 2: the local credential backend.
--
-- With CREDENTIALS_BACKEND=local (the embedded default, single node / development only) each
-- version of a store's Vipps key set is one row, envelope-encrypted by the broker before it
-- gets here: a fresh random AES-256 data key per version encrypts the key set (AES-GCM), and
-- the key-encryption key from LOCAL_KEK_FILE wraps the data key (AES-GCM). Both GCM operations
-- bind msn and version as additional authenticated data, so a row copied to another store or
-- version fails to decrypt. The database never sees a plaintext secret or the KEK.
--
-- Versions mirror Vault KV v2: 1, 2, 3, ... per MSN, written with check-and-set (the primary
-- key makes concurrent writers of the same version collide), never updated, never deleted.
CREATE TABLE credential_versions (
  msn              text        NOT NULL REFERENCES stores (msn),
  version          integer     NOT NULL CHECK (version > 0),
  kek_id           text        NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
  wrapped_key      bytea       NOT NULL CHECK (length(wrapped_key) BETWEEN 28 AND 128),
  ciphertext       bytea       NOT NULL CHECK (length(ciphertext) BETWEEN 28 AND 8192),
  created_at       timestamptz NOT NULL,
  rotated_by       text        NOT NULL CHECK (length(rotated_by) BETWEEN 1 AND 200),
  validated_at     timestamptz,
  restored_version integer     CHECK (restored_version > 0),
  PRIMARY KEY (msn, version)
);

-- Versions are history: the broker may add them and read them, nothing else.
GRANT SELECT, INSERT ON credential_versions TO refund_broker_app;
