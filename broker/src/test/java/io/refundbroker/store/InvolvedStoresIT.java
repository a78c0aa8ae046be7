package io.refundbroker.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.db.Database;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A refund reads the stores it involves, not the whole chain: with 200 stores in the chain (and a
 * sibling chain with the same order id), {@link StoreRepository#involved} gives exactly the
 * requesting store, the named origin, the stores that registered the order id and those whose
 * prefix it carries.
 */
class InvolvedStoresIT {
  private TestDatabase db;
  private Vertx vertx;
  private Database database;
  private final StoreRepository stores = new StoreRepository();

  @BeforeEach
  void start() throws SQLException {
    db = TestPostgres.newDatabase();
    vertx = Vertx.vertx();
    database = Database.connect(vertx, db.appUrl(), 4, db.schemaVersion());
    try (Connection c = db.ownerConnection();
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO chains (chain_id) VALUES ('north'), ('south')");
      s.execute(
          "INSERT INTO sales_units (msn) SELECT (100000 + n)::text FROM generate_series(1, 202) n");
      s.execute(
          "INSERT INTO stores (store_id, chain_id, name, msn, api, order_id_prefix)"
              + " SELECT 'n' || n, 'north', 'Store ' || n, (100000 + n)::text, 'epayment',"
              + " CASE WHEN n = 7 THEN 'N7-' WHEN n = 8 THEN 'N7-4' WHEN n = 9 THEN 'X-' END"
              + " FROM generate_series(1, 200) n");
      s.execute(
          "INSERT INTO stores (store_id, chain_id, name, msn, api, order_id_prefix) VALUES"
              + " ('s1', 'south', 'South 1', '100201', 'epayment', 'N7-'),"
              + " ('s2', 'south', 'South 2', '100202', 'epayment', NULL)");
      s.execute(
          "INSERT INTO orders (store_id, order_id, amount_value, currency, source, registered_by)"
              + " VALUES ('n42', 'N7-4711', 1000, 'NOK', 'REGISTERED', 'test'),"
              + " ('n43', 'other-order', 1000, 'NOK', 'REGISTERED', 'test'),"
              + " ('s2', 'N7-4711', 1000, 'NOK', 'REGISTERED', 'test')");
    }
  }

  @AfterEach
  void stop() {
    Await.result(database.close());
    Await.result(vertx.close());
  }

  @Test
  void aRefundReadsOnlyTheStoresItInvolves() {
    assertThat(ids(stores.involved(database.pool(), "north", "n1", "N7-4711", null)))
        .as("requesting, both prefixes the id carries, the registrant; nothing of 'south'")
        .containsExactly("n1", "n42", "n7", "n8");
    assertThat(ids(stores.involved(database.pool(), "north", "n1", "N7-4711", "n100")))
        .as("and a named origin store")
        .containsExactly("n1", "n100", "n42", "n7", "n8");
    assertThat(ids(stores.involved(database.pool(), "north", null, "N7-4711", null)))
        .as("an order look-up, no requesting store")
        .containsExactly("n42", "n7", "n8");
    assertThat(ids(stores.involved(database.pool(), "north", "n5", "plain-1", null)))
        .as("an id nobody registered and no prefix matches")
        .containsExactly("n5");
    assertThat(ids(stores.involved(database.pool(), "north", "n5", "plain-1", "s1")))
        .as("an origin named in another chain is not read")
        .containsExactly("n5");
  }

  private static List<String> ids(io.vertx.core.Future<List<Store>> found) {
    return Await.result(found).stream().map(Store::storeId).toList();
  }
}
