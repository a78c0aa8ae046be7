package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Actor;
import io.refundbroker.db.Database;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An appended event must recompute to its stored hashes after the round trip through PostgreSQL
 * ({@code jsonb} reorders keys and normalises numbers), whatever the content; and appending takes
 * no lock another append waits for.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditAppendIT {
  private TestBroker broker;
  private Database database;
  private AuditLog log;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    database =
        Database.connect(
            broker.vertx(), broker.database().appUrl(), 2, broker.database().schemaVersion());
    log = new AuditLog(Clock.systemUTC(), broker.app().auditMac());
  }

  @AfterAll
  void stop() {
    Await.result(database.close());
    broker.close();
  }

  @Test
  void awkwardContentRecomputesToItsHashAfterTheRoundTrip() {
    JsonObject details =
        new JsonObject()
            .put("storeName", "Bærum Øst — «kasse 2» 🧾")
            .put("quoted", "a \"quote\", a \\ backslash,\n a newline, a \u0001 control")
            .put("seq", Long.MIN_VALUE)
            .put("nested", new JsonObject().put("seq", -9).put("subject", "not the top level"))
            .put("amount", new JsonObject().put("value", 12_345L).put("currency", "NOK"))
            .put("ratio", 0.25)
            .put("none", (Object) null);
    AuditEntry appended =
        Await.result(
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
    AuditLinks.await(broker.database());
    Row row =
        Await.result(
                database
                    .pool()
                    .preparedQuery("SELECT * FROM audit_events WHERE event_id = $1")
                    .execute(Tuple.of(appended.eventId())))
            .iterator()
            .next();
    ChainedEvent stored = AuditLog.fromRow(row);
    assertThat(row.getString("entry_hash")).isEqualTo(appended.entryHash());
    assertThat(stored.entry().entryHash()).isEqualTo(appended.entryHash());
    assertThat(stored.entry().mac()).isEqualTo(appended.mac());
    assertThat(broker.app().auditMac().verifies(stored.entry())).isTrue();
    assertThat(stored.computeHash()).isEqualTo(stored.hash());
    assertThat(stored.details().getString("storeName")).isEqualTo("Bærum Øst — «kasse 2» 🧾");
  }

  @Test
  void anAppendNeverWaitsForAnotherAppendStillOpen() {
    SqlConnection open = Await.result(database.pool().getConnection());
    try {
      Transaction first = Await.result(open.begin());
      AuditEntry held = Await.result(log.append(open, Actor.system("test"), null, event("held")));
      // with one lock for every append (before the sequencer) this append waited for the first
      // one's commit; now it commits while the first is still open
      AuditEntry passing =
          Await.result(
              database
                  .pool()
                  .withTransaction(tx -> log.append(tx, Actor.system("test"), null, event("pass"))),
              Duration.ofSeconds(10));
      Poll.until(
          "the committed event linked while the other append is still open",
          Duration.ofSeconds(30),
          () -> linkedSeq(passing) != null);
      assertThat(linkedSeq(held)).as("not linked before it commits").isNull();
      Await.result(first.commit());
      AuditLinks.await(broker.database());
      assertThat(linkedSeq(held)).isGreaterThan(linkedSeq(passing));
    } finally {
      Await.result(open.close());
    }
  }

  private static AuditEvent event(String subject) {
    return AuditEvent.success("test.append", "test", subject, null, new JsonObject());
  }

  private Long linkedSeq(AuditEntry entry) {
    List<Map<String, Object>> rows =
        broker.database().query("SELECT seq FROM audit_events WHERE event_id = ?", entry.eventId());
    return rows.isEmpty() ? null : (Long) rows.get(0).get("seq");
  }
}
