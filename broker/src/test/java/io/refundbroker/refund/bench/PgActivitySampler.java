package io.refundbroker.refund.bench;

import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Samples what PostgreSQL's sessions of one role are doing ({@code pg_stat_activity}: state and
 * wait event) every few milliseconds on a thread of its own, to tell a database that computes from
 * one that waits for WAL flushes, for locks, or for its client between the statements of an open
 * transaction ({@code idle in transaction}: the round trips). Reads through the {@code postgres}
 * database on a connection of its own (its own cost shows as the owner's backend, not the role's).
 *
 * <p>Thread-safe: counts are written by the sampling thread only and read after {@link #close()}
 * joined it.
 */
final class PgActivitySampler implements AutoCloseable {
  private static final String QUERY =
      """
      SELECT coalesce(application_name, '') AS app, state,
             coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS wait
        FROM pg_stat_activity
       WHERE usename = ? AND datname = ? AND backend_type = 'client backend'
      """;

  private final Connection connection;
  private final String role;
  private final String database;
  private final long periodMillis;
  private final Map<String, Long> counts = new TreeMap<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;
  private long samples;

  PgActivitySampler(BenchPostgres pg, String role, String database, long periodMillis)
      throws SQLException {
    this.connection = pg.ownerConnection("postgres");
    this.role = role;
    this.database = database;
    this.periodMillis = periodMillis;
    this.thread = new Thread(this::sample, "pg-activity-sampler");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void sample() {
    try (PreparedStatement s = connection.prepareStatement(QUERY)) {
      s.setString(1, role);
      s.setString(2, database);
      long next = System.nanoTime();
      while (running.get()) {
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            String app = rs.getString("app");
            String who = app.contains("sequencer") ? "sequencer" : "pool";
            String state = rs.getString("state");
            String what = "idle".equals(state) ? "idle" : state + ", " + rs.getString("wait");
            counts.merge(who + ": " + what, 1L, Long::sum);
          }
        }
        samples++;
        next += periodMillis * 1_000_000;
        long sleep = next - System.nanoTime();
        if (sleep > 0) {
          Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        } else {
          next = System.nanoTime();
        }
      }
    } catch (SQLException e) {
      counts.merge("sampling failed: " + e.getMessage(), 1L, Long::sum);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops sampling and returns the mean number of sessions in each state. */
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

  /** Mean sessions per state over the samples (e.g. 3.2 sessions waiting for a WAL flush). */
  JsonObject meanSessions() {
    JsonObject json = new JsonObject();
    counts.forEach((k, v) -> json.put(k, Math.round(v * 1000.0 / Math.max(1, samples)) / 1000.0));
    return json;
  }

  String describe() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "PostgreSQL sessions of %s (pg_stat_activity every %d ms, %,d samples; mean sessions"
                + " per state; 'idle in transaction' = waiting for the client inside a"
                + " transaction):%n",
            role, periodMillis, samples));
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(
            e ->
                out.append(
                    String.format(
                        "  %6.2f  %s%n",
                        e.getValue() / (double) Math.max(1, samples), e.getKey())));
    return out.toString();
  }
}
