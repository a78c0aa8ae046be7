package io.refundbroker.refund.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Watches the audit sequencer's leader lock while several broker instances run: every few
 * milliseconds, which sessions hold the session-level advisory lock the sequencers compete for
 * (read from the broker's own constant). At most one may hold it at any moment; the number of
 * distinct holders tells whether leadership moved.
 *
 * <p>Thread-safe: fields are written by the watching thread only and read after {@link #close()}
 * joined it.
 */
final class SequencerWatch implements AutoCloseable {
  private final Connection connection;
  private final long key;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;
  private final Set<Integer> holders = new HashSet<>();
  private long samples;
  private long samplesWithoutLeader;
  private int mostHoldersAtOnce;
  private String failure;

  SequencerWatch(BenchPostgres pg) throws SQLException {
    this.connection = pg.ownerConnection("postgres");
    this.key =
        WritePathSql.constant(
            "io.refundbroker.audit.AuditLinkRepository", "SEQUENCER_LOCK", Long.class);
    this.thread = new Thread(this::watch, "sequencer-watch");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void watch() {
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                + " AND classid = ? AND objid = ? AND objsubid = 1")) {
      s.setLong(1, key >>> 32);
      s.setLong(2, key & 0xffffffffL);
      while (running.get()) {
        int now = 0;
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            holders.add(rs.getInt(1));
            now++;
          }
        }
        samples++;
        if (now == 0) {
          samplesWithoutLeader++;
        }
        mostHoldersAtOnce = Math.max(mostHoldersAtOnce, now);
        Thread.sleep(20);
      }
    } catch (SQLException e) {
      failure = e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    running.set(false);
    try {
      thread.join(10_000);
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      // nothing to keep
    }
  }

  long samples() {
    return samples;
  }

  long samplesWithoutLeader() {
    return samplesWithoutLeader;
  }

  int mostHoldersAtOnce() {
    return mostHoldersAtOnce;
  }

  int distinctHolders() {
    return holders.size();
  }

  String failure() {
    return failure;
  }
}
