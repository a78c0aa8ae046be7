package io.refundbroker.audit;

import io.refundbroker.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Plays the insider with the database owner's rights: writes events (entries and their links) and
 * checkpoints straight into the tables, with the append-only triggers disabled (inside one
 * transaction, so no other session ever sees them off) when rows must be replaced.
 */
final class TrailStore {
  private static final String INSERT_ENTRY =
      "INSERT INTO audit_entries (event_id, occurred_at, actor_client_id, actor_role,"
          + " actor_store_id, action, subject_type, subject_id, chain_id, outcome, request_id,"
          + " details, entry_hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)";
  private static final String INSERT_LINK =
      "INSERT INTO audit_links (seq, event_id, prev_hash, hash) VALUES (?, ?, ?, ?)";
  private static final String INSERT_CHECKPOINT =
      "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, key_id, signature)"
          + " VALUES (?, ?, ?, ?, ?)";
  private static final String[] TABLES = {"audit_entries", "audit_links", "audit_checkpoints"};

  private final TestDatabase database;

  TrailStore(TestDatabase database) {
    this.database = database;
  }

  /** Appends events that continue the stored chain (the triggers stay on and check it). */
  void append(List<ChainedEvent> events) {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      insertEvents(c, events);
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Replaces every event from {@code fromSeq} on with {@code events} (those with seq ≥ {@code
   * fromSeq}) and all checkpoints with {@code checkpoints}, triggers off. The entries linked from
   * {@code fromSeq} on go with their links; events not linked yet stay.
   */
  void replace(long fromSeq, List<ChainedEvent> events, List<Checkpoint> checkpoints) {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        for (String table : TABLES) {
          s.execute("ALTER TABLE " + table + " DISABLE TRIGGER USER");
        }
        s.execute(
            "WITH gone AS (DELETE FROM audit_links WHERE seq >= "
                + fromSeq
                + " RETURNING event_id) DELETE FROM audit_entries WHERE event_id IN"
                + " (SELECT event_id FROM gone)");
        s.execute("DELETE FROM audit_checkpoints");
      }
      insertEvents(c, events.stream().filter(e -> e.seq() >= fromSeq).toList());
      insertCheckpoints(c, checkpoints);
      try (Statement s = c.createStatement()) {
        for (String table : TABLES) {
          s.execute("ALTER TABLE " + table + " ENABLE TRIGGER USER");
        }
      }
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Inserts checkpoints through the trigger (it checks they match the trail). */
  void addCheckpoints(List<Checkpoint> checkpoints) {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      insertCheckpoints(c, checkpoints);
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private Connection connect() throws SQLException {
    return TestDatabase.connect(database.ownerUrl(), Map.of("reWriteBatchedInserts", "true"));
  }

  private static void insertEvents(Connection c, List<ChainedEvent> events) throws SQLException {
    for (int from = 0; from < events.size(); from += 1000) {
      List<ChainedEvent> chunk = events.subList(from, Math.min(events.size(), from + 1000));
      try (PreparedStatement insert = c.prepareStatement(INSERT_ENTRY)) {
        for (ChainedEvent e : chunk) {
          AuditEntry entry = e.entry();
          insert.setObject(
              1,
              entry.legacy()
                  ? UUID.nameUUIDFromBytes(("legacy " + e.seq()).getBytes(StandardCharsets.UTF_8))
                  : entry.eventId());
          insert.setObject(2, e.occurredAt().atOffset(ZoneOffset.UTC));
          insert.setString(3, e.actor().clientId());
          insert.setString(4, e.actor().role());
          insert.setString(5, e.actor().storeId());
          insert.setString(6, e.action());
          insert.setString(7, e.subjectType());
          insert.setString(8, e.subjectId());
          insert.setString(9, e.chainId());
          insert.setString(10, e.outcome());
          insert.setString(11, e.requestId());
          insert.setString(12, e.details().encode());
          insert.setString(13, entry.legacy() ? null : entry.entryHash());
          insert.setString(14, entry.mac());
          insert.addBatch();
        }
        insert.executeBatch();
      }
      try (PreparedStatement insert = c.prepareStatement(INSERT_LINK)) {
        for (ChainedEvent e : chunk) {
          insert.setLong(1, e.seq());
          insert.setObject(
              2,
              e.entry().legacy()
                  ? UUID.nameUUIDFromBytes(("legacy " + e.seq()).getBytes(StandardCharsets.UTF_8))
                  : e.entry().eventId());
          insert.setString(3, e.prevHash());
          insert.setString(4, e.hash());
          insert.addBatch();
        }
        insert.executeBatch();
      }
    }
  }

  private static void insertCheckpoints(Connection c, List<Checkpoint> checkpoints)
      throws SQLException {
    try (PreparedStatement insert = c.prepareStatement(INSERT_CHECKPOINT)) {
      for (Checkpoint cp : checkpoints) {
        insert.setLong(1, cp.seq());
        insert.setString(2, cp.headHash());
        insert.setObject(3, cp.signedAt().atOffset(ZoneOffset.UTC));
        insert.setString(4, cp.keyId());
        insert.setString(5, Base64.getEncoder().encodeToString(cp.signature()));
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }
}
