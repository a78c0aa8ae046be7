package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.TestBroker;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An appended event must recompute to its stored hash after the round trip through PostgreSQL
 * ({@code jsonb} reorders keys and normalises numbers), whatever the content.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditAppendIT {
  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @Test
  void awkwardContentRecomputesToItsHashAfterTheRoundTrip() {
    var database =
        io.refundbroker.db.Database.connect(
            broker.vertx(), broker.database().appUrl(), 2, broker.database().schemaVersion());
    try {
      JsonObject details =
          new JsonObject()
              .put("storeName", "Bærum Øst — «kasse 2» 🧾")
              .put("quoted", "a \"quote\", a \\ backslash,\n a newline, a \u0001 control")
              .put("seq", Long.MIN_VALUE)
              .put("nested", new JsonObject().put("seq", -9).put("subject", "not the top level"))
              .put("amount", new JsonObject().put("value", 12_345L).put("currency", "NOK"))
              .put("ratio", 0.25)
              .put("none", (Object) null);
      AuditLog log = new AuditLog(java.time.Clock.systemUTC());
      ChainedEvent appended =
          io.refundbroker.testing.Await.result(
              database
                  .pool()
                  .withTransaction(
                      tx ->
                          log.append(
                              tx,
                              new Actor("client-é", "ADMIN", null),
                              "req-\"1\"",
                              AuditEvent.success(
                                  "test.awkward", "test", "sübject \"x\"", "chain-ø", details))));
      var row =
          io.refundbroker.testing.Await.result(
                  database
                      .pool()
                      .preparedQuery("SELECT * FROM audit_events WHERE seq = $1")
                      .execute(io.vertx.sqlclient.Tuple.of(appended.seq())))
              .iterator()
              .next();
      ChainedEvent stored = AuditLog.fromRow(row);
      assertThat(stored.hash()).isEqualTo(appended.hash());
      assertThat(stored.computeHash()).isEqualTo(stored.hash());
      assertThat(stored.details().getString("storeName")).isEqualTo("Bærum Øst — «kasse 2» 🧾");
    } finally {
      io.refundbroker.testing.Await.result(database.close());
    }
  }
}
