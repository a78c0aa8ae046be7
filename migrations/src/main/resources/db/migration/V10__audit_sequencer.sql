-- refund-broker schema, version 10: the audit trail without a global append lock, and with a
-- MAC on every event.
-- Forward only: never edit a migration that has landed; add V<n>__... instead.
--
-- Until now every append took one advisory lock (audit_lock_head) and held it through the
-- commit, so all audited changes of the whole chain committed one at a time. Now:
--
--   audit_entries  what the broker appends, in the same transaction as the change it records:
--                  a unique event id, the content, the SHA-256 of its canonical content
--                  (entry_hash) and an HMAC-SHA256 over that content (mac) keyed with a key the
--                  database never holds (Vault KV broker/audit-mac, or the local backend's
--                  envelope). No chain position, no lock.
--   audit_links    the chain: one row per event, inserted by the single sequencer (leader by a
--                  session advisory lock, any instance) in batches, with seq, prev_hash and hash
--                  = sha256(prev_hash || E'\n' || seq || E'\n' || entry_hash || E'\n' || mac).
--                  The trigger recomputes that hash and refuses any link that does not continue
--                  the chain, so not even the application role can insert a malformed link.
--   audit_events   a view of every event (seq, prev_hash and hash are NULL while unlinked).
--
-- Both tables are insert-only for everyone (triggers refuse UPDATE, DELETE and TRUNCATE even
-- for the owner); the application role may only SELECT and INSERT them.
--
-- Events already in the trail keep their seq and hash: they become legacy entries without
-- event hash or MAC (the broker did not MAC them), and their links are copied as they were.

CREATE TABLE audit_entries (
  event_id        uuid        PRIMARY KEY,
  -- the inserting transaction's id (pg_current_xact_id), forced by the trigger: the sequencer
  -- finds events committed since its last batch by it
  tx_id           bigint      NOT NULL DEFAULT pg_current_xact_id()::text::bigint,
  occurred_at     timestamptz NOT NULL,
  actor_client_id text,
  actor_role      text        NOT NULL,
  actor_store_id  text,
  action          text        NOT NULL,
  subject_type    text        NOT NULL,
  subject_id      text        NOT NULL,
  chain_id        text,
  outcome         text        NOT NULL,
  request_id      text,
  details         jsonb       NOT NULL,
  entry_hash      text        CHECK (entry_hash ~ '^[0-9a-f]{64}$'),
  mac             text        CHECK (mac ~ '^[0-9a-f]{64}$')
);

-- No foreign key to audit_entries: the trigger below finds the entry (and refuses a link to none),
-- entries are never deleted, and a foreign key would lock every linked entry row (FOR KEY SHARE
-- writes each row's header) for nothing.
CREATE TABLE audit_links (
  seq        bigint      PRIMARY KEY CHECK (seq > 0),
  event_id   uuid        NOT NULL UNIQUE,
  prev_hash  text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash       text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  linked_at  timestamptz NOT NULL DEFAULT now()
);

-- The legacy trail, moved over unchanged (a deterministic event id per seq).
INSERT INTO audit_entries (event_id, tx_id, occurred_at, actor_client_id, actor_role,
                           actor_store_id, action, subject_type, subject_id, chain_id, outcome,
                           request_id, details, entry_hash, mac)
SELECT md5('refund-broker legacy audit event ' || seq)::uuid, 0, occurred_at, actor_client_id,
       actor_role, actor_store_id, action, subject_type, subject_id, chain_id, outcome,
       request_id, details, NULL, NULL
  FROM audit_events;
INSERT INTO audit_links (seq, event_id, prev_hash, hash, linked_at)
SELECT seq, md5('refund-broker legacy audit event ' || seq)::uuid, prev_hash, hash, occurred_at
  FROM audit_events;

DROP TABLE audit_events;
DROP FUNCTION audit_lock_head();
DROP FUNCTION audit_events_guard();

-- Every event appended from now on carries its entry hash and MAC (the legacy rows above do
-- not, which is why the constraint is not validated against them).
ALTER TABLE audit_entries ADD CONSTRAINT audit_entries_mac_required
  CHECK (entry_hash IS NOT NULL AND mac IS NOT NULL) NOT VALID;

CREATE INDEX audit_entries_tx_idx ON audit_entries (tx_id);
CREATE INDEX audit_entries_subject_idx ON audit_entries (subject_type, subject_id);
CREATE INDEX audit_entries_time_idx ON audit_entries (occurred_at);

-- Insert-only; an entry's tx_id is always its own transaction's.
CREATE FUNCTION audit_entries_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  NEW.tx_id := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_entries_append_only
  BEFORE INSERT OR UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_entries_guard();
CREATE TRIGGER audit_entries_no_truncate
  BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_guard();

-- Insert-only; a link must continue the chain and carry the hash its entry gives it.
CREATE FUNCTION audit_links_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  last_seq   bigint;
  last_hash  text;
  entry_hash text;
  entry_mac  text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT l.seq, l.hash INTO last_seq, last_hash FROM audit_links l ORDER BY l.seq DESC LIMIT 1;
  IF NEW.seq <> coalesce(last_seq, 0) + 1 OR NEW.prev_hash <> coalesce(last_hash, repeat('0', 64)) THEN
    RAISE EXCEPTION 'audit link does not continue the chain at seq %', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  SELECT e.entry_hash, e.mac INTO entry_hash, entry_mac FROM audit_entries e WHERE e.event_id = NEW.event_id;
  IF entry_mac IS NULL OR entry_hash IS NULL THEN
    RAISE EXCEPTION 'audit link at seq % names no linkable event', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.hash <> encode(sha256(convert_to(
       NEW.prev_hash || E'\n' || NEW.seq::text || E'\n' || entry_hash || E'\n' || entry_mac, 'UTF8')), 'hex') THEN
    RAISE EXCEPTION 'audit link at seq % does not carry its hash', NEW.seq USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  NEW.linked_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_links_append_only
  BEFORE INSERT OR UPDATE OR DELETE ON audit_links
  FOR EACH ROW EXECUTE FUNCTION audit_links_guard();
CREATE TRIGGER audit_links_no_truncate
  BEFORE TRUNCATE ON audit_links
  FOR EACH STATEMENT EXECUTE FUNCTION audit_links_guard();

-- Every event, linked or not (seq, prev_hash, hash and linked_at are NULL while unlinked).
CREATE VIEW audit_events AS
SELECT l.seq, e.event_id, e.occurred_at, e.actor_client_id, e.actor_role, e.actor_store_id,
       e.action, e.subject_type, e.subject_id, e.chain_id, e.outcome, e.request_id, e.details,
       e.entry_hash, e.mac, l.prev_hash, l.hash, l.linked_at
  FROM audit_entries e LEFT JOIN audit_links l ON l.event_id = e.event_id;

REVOKE ALL ON audit_entries, audit_links, audit_events FROM PUBLIC;
GRANT SELECT, INSERT ON audit_entries, audit_links TO refund_broker_app;
GRANT SELECT ON audit_events TO refund_broker_app;
