package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.caller.Actor;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The trail is append-only: by privilege for the broker's role, by trigger for everyone; the links
 * table's trigger refuses any link that does not continue the chain or does not carry its hash, and
 * an event without a MAC cannot be appended at all.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditAppendOnlyIT {
  private static final List<String> TABLES = List.of("audit_entries", "audit_links");

  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
    broker.createStore("alta-1", "acme", "1111");
    broker.issueToken("STORE", "alta-1");
    AuditLinks.await(broker.database());
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @Test
  void applicationRoleCannotUpdateDeleteOrTruncate() throws SQLException {
    try (Connection c = broker.database().appConnection();
        Statement s = c.createStatement()) {
      for (String table : TABLES) {
        for (String sql :
            List.of(
                "UPDATE " + table + " SET event_id = event_id",
                "DELETE FROM " + table,
                "TRUNCATE " + table)) {
          assertThatThrownBy(() -> s.execute(sql))
              .as(sql)
              .isInstanceOf(SQLException.class)
              .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
              .hasMessageContaining("permission denied");
        }
      }
    }
  }

  @Test
  void triggerRefusesEvenTheOwner() throws SQLException {
    try (Connection c = broker.database().ownerConnection();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("UPDATE audit_entries SET outcome = 'FORGED'"))
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> s.execute("UPDATE audit_links SET hash = repeat('f', 64)"))
          .hasMessageContaining("append-only");
      assertThatThrownBy(() -> s.execute("DELETE FROM audit_links WHERE seq = 1"))
          .hasMessageContaining("append-only");
      for (String table : TABLES) {
        assertThatThrownBy(() -> s.execute("TRUNCATE " + table + " CASCADE"))
            .hasMessageContaining("append-only");
      }
    }
    assertThat(
            broker
                .database()
                .queryLong("SELECT count(*) FROM audit_events WHERE outcome = 'FORGED'"))
        .isZero();
  }

  @Test
  void aLinkThatDoesNotContinueTheChainOrCarryItsHashIsRefused() throws SQLException {
    AuditMac mac = broker.app().auditMac();
    try (Connection c = broker.database().appConnection()) {
      c.setAutoCommit(false);
      AuditEntry entry = entry(mac);
      insertEntry(c, entry);
      Map<String, Object> head =
          broker
              .database()
              .query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1")
              .get(0);
      long next = ((Number) head.get("seq")).longValue() + 1;
      String prev = (String) head.get("hash");
      ChainedEvent right = ChainedEvent.chain(next, entry, prev);

      assertThatThrownBy(() -> link(c, right.seq() + 5, entry, prev, right.hash()))
          .hasMessageContaining("does not continue the chain");
      c.rollback();
      insertEntry(c, entry);
      assertThatThrownBy(() -> link(c, next, entry, "0".repeat(64), right.hash()))
          .hasMessageContaining("does not continue the chain");
      c.rollback();
      insertEntry(c, entry);
      assertThatThrownBy(() -> link(c, next, entry, prev, "a".repeat(64)))
          .hasMessageContaining("does not carry its hash");
      c.rollback();
      AuditEntry nowhere = entry(mac);
      assertThatThrownBy(
              () -> link(c, next, nowhere, prev, ChainedEvent.linkHash(next, nowhere, prev)))
          .as("a link to an event that was never appended")
          .hasMessageContaining("names no linkable event");
      c.rollback();
      insertEntry(c, entry);
      link(c, next, entry, prev, right.hash());
      String again = ChainedEvent.linkHash(next + 1, entry, right.hash());
      assertThatThrownBy(() -> link(c, next + 1, entry, right.hash(), again))
          .as("an event is linked once")
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23505"));
      c.rollback();
    }
  }

  @Test
  void anEventWithoutAMacIsRefusedAndItsTransactionIdIsItsOwn() throws SQLException {
    try (Connection c = broker.database().appConnection();
        Statement s = c.createStatement()) {
      assertThatThrownBy(
              () ->
                  s.execute(
                      "INSERT INTO audit_entries (event_id, occurred_at, actor_role, action,"
                          + " subject_type, subject_id, outcome, details) VALUES"
                          + " (gen_random_uuid(), now(), 'ADMIN', 'x', 'x', 'x', 'SUCCESS', '{}')"))
          .hasMessageContaining("audit_entries_mac_required");
      c.setAutoCommit(false);
      AuditEntry entry = entry(broker.app().auditMac());
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO audit_entries (event_id, tx_id, occurred_at, actor_role, action,"
                  + " subject_type, subject_id, outcome, details, entry_hash, mac)"
                  + " VALUES (?, 1, ?, 'SYSTEM', 'test.append', 'test', 'x', 'SUCCESS', '{}', ?, ?)")) {
        insert.setObject(1, entry.eventId());
        insert.setObject(2, entry.occurredAt().atOffset(ZoneOffset.UTC));
        insert.setString(3, entry.entryHash());
        insert.setString(4, entry.mac());
        insert.executeUpdate();
      }
      try (var rs =
          s.executeQuery(
              "SELECT tx_id = pg_current_xact_id()::text::bigint FROM audit_entries WHERE event_id = '"
                  + entry.eventId()
                  + "'")) {
        rs.next();
        assertThat(rs.getBoolean(1)).as("tx_id is forced to the inserting transaction").isTrue();
      }
      c.rollback();
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
  void storedEventsRecomputeToTheirHashesAndCarryValidMacs() {
    var database =
        io.refundbroker.db.Database.connect(
            broker.vertx(), broker.database().appUrl(), 2, broker.database().schemaVersion());
    try {
      var rows =
          io.refundbroker.testing.Await.result(
              database
                  .pool()
                  .query("SELECT * FROM audit_events WHERE seq IS NOT NULL ORDER BY seq")
                  .execute());
      assertThat(rows.size()).isGreaterThanOrEqualTo(3);
      for (var row : rows) {
        ChainedEvent event = AuditLog.fromRow(row);
        assertThat(event.computeHash()).as("seq %d", event.seq()).isEqualTo(event.hash());
        assertThat(broker.app().auditMac().verifies(event.entry()))
            .as("seq %d", event.seq())
            .isTrue();
      }
    } finally {
      io.refundbroker.testing.Await.result(database.close());
    }
  }

  private static AuditEntry entry(AuditMac mac) {
    return AuditEntry.create(
        Instant.now(),
        Actor.system("test"),
        null,
        AuditEvent.success("test.append", "test", "x", null, new JsonObject()),
        mac);
  }

  private static void insertEntry(Connection c, AuditEntry entry) throws SQLException {
    try (PreparedStatement insert =
        c.prepareStatement(
            "INSERT INTO audit_entries (event_id, occurred_at, actor_role, actor_client_id,"
                + " action, subject_type, subject_id, outcome, details, entry_hash, mac)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)")) {
      insert.setObject(1, entry.eventId());
      insert.setObject(2, entry.occurredAt().atOffset(ZoneOffset.UTC));
      insert.setString(3, entry.actor().role());
      insert.setString(4, entry.actor().clientId());
      insert.setString(5, entry.action());
      insert.setString(6, entry.subjectType());
      insert.setString(7, entry.subjectId());
      insert.setString(8, entry.outcome());
      insert.setString(9, entry.entryHash());
      insert.setString(10, entry.mac());
      insert.executeUpdate();
    }
  }

  private static void link(Connection c, long seq, AuditEntry entry, String prev, String hash)
      throws SQLException {
    try (PreparedStatement insert =
        c.prepareStatement(
            "INSERT INTO audit_links (seq, event_id, prev_hash, hash) VALUES (?, ?, ?, ?)")) {
      insert.setLong(1, seq);
      insert.setObject(2, entry.eventId());
      insert.setString(3, prev);
      insert.setString(4, hash);
      insert.executeUpdate();
    }
  }
}
