-- refund-broker schema, version 3: signed checkpoints of the audit chain, and
-- indexes for the auditor's refund log and clearing statement.
-- Forward only: never edit a migration that has landed; add V<n>__... instead.

-- A checkpoint says "event seq has hash head_hash", signed (Ed25519, over the
-- canonical JSON {"headHash","seq","signedAt","type"}) with a key the database
-- never holds: a key file (local backend) or Vault Transit. Insert-only.
CREATE TABLE audit_checkpoints (
  seq        bigint      PRIMARY KEY CHECK (seq > 0),
  head_hash  text        NOT NULL CHECK (head_hash ~ '^[0-9a-f]{64}$'),
  signed_at  timestamptz NOT NULL,
  key_id     text        NOT NULL CHECK (length(key_id) BETWEEN 1 AND 200),
  algorithm  text        NOT NULL DEFAULT 'Ed25519' CHECK (algorithm = 'Ed25519'),
  -- base64 of the 64-byte signature
  signature  text        NOT NULL CHECK (signature ~ '^[A-Za-z0-9+/]{86}==$')
);

-- Refuse anything but a checkpoint that moves forward and signs the hash the
-- trail really has at its seq: a checkpoint can never vouch for an event that
-- is not there (committed, as seen by the inserting transaction).
CREATE FUNCTION audit_checkpoints_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  last_seq   bigint;
  event_hash text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'audit checkpoints are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT max(c.seq) INTO last_seq FROM audit_checkpoints c;
  IF NEW.seq <= coalesce(last_seq, 0) THEN
    RAISE EXCEPTION 'audit checkpoint at seq % does not move past the last checkpoint (seq %)', NEW.seq, last_seq
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  SELECT e.hash INTO event_hash FROM audit_events e WHERE e.seq = NEW.seq;
  IF event_hash IS NULL OR event_hash <> NEW.head_hash THEN
    RAISE EXCEPTION 'audit checkpoint at seq % does not match the trail', NEW.seq
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_checkpoints_append_only
  BEFORE INSERT OR UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_guard();
CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_guard();

-- The auditor's refund log pages by (created_at, refund_id); the clearing
-- statement reads one chain's refunds.
CREATE INDEX refunds_audit_page_idx ON refunds (created_at, refund_id);
CREATE INDEX refunds_audit_chain_idx ON refunds (chain_id, created_at);

REVOKE ALL ON audit_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON audit_checkpoints TO refund_broker_app;
