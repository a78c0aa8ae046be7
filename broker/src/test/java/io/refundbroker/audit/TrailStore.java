package io.refundbroker.audit;

import io.refundbroker.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Plays the insider with the database owner's rights: writes events and checkpoints straight into
 * the tables, with the append-only triggers disabled (inside one transaction, so no other session
 * ever sees them off) when rows must be replaced.
 */
final class TrailStore {
  private static final String INSERT_EVENT =
      "INSERT INTO audit_events (seq, occurred_at, actor_client_id, actor_role, actor_store_id,"
          + " action, subject_type, subject_id, chain_id, outcome, request_id, details, prev_hash,"
          + " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)";
  private static final String INSERT_CHECKPOINT =
      "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, key_id, signature)"
          + " VALUES (?, ?, ?, ?, ?)";

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
   * fromSeq}) and all checkpoints with {@code checkpoints}, triggers off.
   */
  void replace(long fromSeq, List<ChainedEvent> events, List<Checkpoint> checkpoints) {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("ALTER TABLE audit_events DISABLE TRIGGER USER");
        s.execute("ALTER TABLE audit_checkpoints DISABLE TRIGGER USER");
        s.execute("DELETE FROM audit_events WHERE seq >= " + fromSeq);
        s.execute("DELETE FROM audit_checkpoints");
      }
      insertEvents(c, events.stream().filter(e -> e.seq() >= fromSeq).toList());
      insertCheckpoints(c, checkpoints);
      try (Statement s = c.createStatement()) {
        s.execute("ALTER TABLE audit_events ENABLE TRIGGER USER");
        s.execute("ALTER TABLE audit_checkpoints ENABLE TRIGGER USER");
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
    try (PreparedStatement insert = c.prepareStatement(INSERT_EVENT)) {
      int pending = 0;
      for (ChainedEvent e : events) {
        insert.setLong(1, e.seq());
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
        insert.setString(13, e.prevHash());
        insert.setString(14, e.hash());
        insert.addBatch();
        if (++pending == 1000) {
          insert.executeBatch();
          pending = 0;
        }
      }
      if (pending > 0) {
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
