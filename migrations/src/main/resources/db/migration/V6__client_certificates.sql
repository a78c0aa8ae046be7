-- refund-broker schema, version 6: API clients identified by a client certificate.
--
-- A till may enrol with a PKCS#10 request instead of receiving a bearer token: the broker's CA
-- (its private key kept by the credential backend, see broker_secrets / Vault broker/client-ca)
-- issues a certificate whose subject names the client id. The broker keeps what it needs to
-- recognise that certificate on every request: its SHA-256 fingerprint (of the DER encoding),
-- its serial number and its expiry. Nothing here is secret: a certificate is public.
--
-- Every client authenticates one way: a token (its SHA-256 in token_hash) or a certificate
-- (the three cert_* columns together), never both, never neither.
ALTER TABLE api_clients
  ALTER COLUMN token_hash DROP NOT NULL,
  ADD COLUMN cert_serial      text        CHECK (cert_serial ~ '^[0-9a-f]{1,40}$'),
  ADD COLUMN cert_fingerprint bytea       UNIQUE CHECK (length(cert_fingerprint) = 32),
  ADD COLUMN cert_not_after   timestamptz,
  ADD CONSTRAINT api_clients_certificate_complete CHECK (
    (cert_fingerprint IS NULL) = (cert_serial IS NULL)
    AND (cert_fingerprint IS NULL) = (cert_not_after IS NULL)),
  ADD CONSTRAINT api_clients_one_credential CHECK (
    num_nonnulls(token_hash, cert_fingerprint) = 1);
