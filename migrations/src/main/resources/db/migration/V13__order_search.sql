-- The cashier's order search (GET /v1/orders): every search is scoped to the caller's chain,
-- so orders carry their store's chain, and the indexes the search needs start with it.

-- A store never moves to another chain, so the chain an order belongs to is fixed; a trigger
-- copies it from the store, so no writer (registration, import, the refund path, fixtures)
-- has to know about the column and none can set it wrong.
ALTER TABLE orders ADD COLUMN chain_id text REFERENCES chains (chain_id);
UPDATE orders o SET chain_id = s.chain_id FROM stores s WHERE s.store_id = o.store_id;
ALTER TABLE orders ALTER COLUMN chain_id SET NOT NULL;

CREATE FUNCTION orders_set_chain() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  SELECT s.chain_id INTO NEW.chain_id FROM stores s WHERE s.store_id = NEW.store_id;
  RETURN NEW;
END
$$;

CREATE TRIGGER orders_chain
  BEFORE INSERT OR UPDATE OF store_id, chain_id ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_set_chain();

-- Search order: newest capture first, then (store, order id) to make the order total. An order
-- whose capture time nobody knows (an import without one) sorts after every dated order; the
-- expression is the same in the indexes and in the search's ORDER BY and keyset condition.
CREATE INDEX orders_search_time_idx
  ON orders (chain_id, (coalesce(captured_at, '-infinity'::timestamptz)) DESC, store_id DESC,
             order_id DESC);
-- A search by amount (usually with a day): equality on (chain, amount), then the same order.
CREATE INDEX orders_search_amount_idx
  ON orders (chain_id, amount_value, (coalesce(captured_at, '-infinity'::timestamptz)) DESC,
             store_id DESC, order_id DESC);

-- A search by a fragment of the order id (q, at least 4 characters: the last digits on a
-- receipt) needs a trigram index: pg_trgm is a contrib extension that PostgreSQL marks trusted,
-- so the database's owner (or any role with CREATE on the database) may create it; the embedded
-- PostgreSQL migrates as its superuser. When the migration role may not, the search still works
-- but scans the chain's orders, and this says so instead of failing the upgrade (a superuser can
-- run CREATE EXTENSION pg_trgm and the CREATE INDEX below later; README, "Finding an order").
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION
  WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE WARNING 'pg_trgm cannot be created here (%): order search by q will scan the chain''s orders; ask a superuser to run CREATE EXTENSION pg_trgm and CREATE INDEX orders_search_q_idx ON orders USING gin (order_id gin_trgm_ops)', SQLERRM;
END
$$;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    EXECUTE 'CREATE INDEX orders_search_q_idx ON orders USING gin (order_id gin_trgm_ops)';
  END IF;
END
$$;
