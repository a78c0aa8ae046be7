package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.testing.TestBroker;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The trail is append-only: by privilege for the broker's role, by trigger for everyone. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditAppendOnlyIT {
  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("alta-1", "acme", "1111");
    broker.issueToken("STORE", "alta-1");
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @Test
  void applicationRoleCannotUpdateDeleteOrTruncate() throws SQLException {
    try (Connection c = broker.database().appConnection();
        Statement s = c.createStatement()) {
      for (String sql :
          List.of(
              "UPDATE audit_events SET outcome = 'FORGED'",
              "DELETE FROM audit_events",
              "TRUNCATE audit_events")) {
        assertThatThrownBy(() -> s.execute(sql))
            .as(sql)
            .isInstanceOf(SQLException.class)
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
            .hasMessageContaining("permission denied");
      }
    }
  }

  @Test
  void triggerRefusesEvenTheOwner() throws SQLException {
    try (Connection c = broker.database().ownerConnection();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("UPDATE audit_events SET outcome = 'FORGED'"))
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> s.execute("DELETE FROM audit_events WHERE seq = 1"))
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> s.execute("TRUNCATE audit_events"))
          .hasMessageContaining("append-only");
    }
    assertThat(
            broker
                .database()
                .queryLong("SELECT count(*) FROM audit_events WHERE outcome = 'FORGED'"))
        .isZero();
  }

  @Test
  void anInsertThatDoesNotContinueTheChainIsRefused() throws SQLException {
    try (Connection c = broker.database().appConnection();
        Statement s = c.createStatement()) {
      assertThatThrownBy(
              () ->
                  s.execute(
                      "INSERT INTO audit_events (seq, occurred_at, actor_role, action, subject_type,"
                          + " subject_id, outcome, details, prev_hash, hash) VALUES (1000, now(),"
                          + " 'ADMIN', 'x', 'x', 'x', 'SUCCESS', '{}', repeat('0', 64), repeat('1', 64))"))
          .hasMessageContaining("does not continue the chain");
    }
  }

  @Test
  void everyChangeAppendedOneLinkedEvent() {
    List<Map<String, Object>> events =
        broker
            .database()
            .query(
                "SELECT seq, action, actor_role, request_id, prev_hash, hash FROM audit_events ORDER BY seq");
    assertThat(events)
        .extracting(e -> e.get("action"))
        .containsExactly("client.bootstrapped", "store.created", "client.issued");
    String previous = ChainedEvent.GENESIS_HASH;
    for (int i = 0; i < events.size(); i++) {
      Map<String, Object> e = events.get(i);
      assertThat(((Number) e.get("seq")).longValue()).isEqualTo(i + 1L);
      assertThat(e.get("prev_hash")).isEqualTo(previous);
      previous = (String) e.get("hash");
    }
    assertThat(events.get(1).get("actor_role")).isEqualTo("ADMIN");
    assertThat(events.get(1).get("request_id")).isNotNull();
  }

  @Test
  void storedEventsRecomputeToTheirHashes() {
    var database =
        io.refundbroker.db.Database.connect(
            broker.vertx(), broker.database().appUrl(), 2, broker.database().schemaVersion());
    try {
      var rows =
          io.refundbroker.testing.Await.result(
              database.pool().query("SELECT * FROM audit_events ORDER BY seq").execute());
      assertThat(rows.size()).isGreaterThanOrEqualTo(3);
      for (var row : rows) {
        ChainedEvent event = AuditLog.fromRow(row);
        assertThat(event.computeHash()).as("seq %d", event.seq()).isEqualTo(event.hash());
      }
    } finally {
      io.refundbroker.testing.Await.result(database.close());
    }
  }
}
