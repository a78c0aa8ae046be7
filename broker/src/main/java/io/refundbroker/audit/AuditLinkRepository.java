package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The sequencer's SQL: the leader lock, the events committed but not yet linked, and the insert of
 * links. Methods take a {@link SqlClient} (the sequencer's own connection).
 *
 * <p>How committed events are found without scanning the whole trail: every entry records its
 * transaction's id ({@code tx_id}). A batch reads the unlinked events and its snapshot's {@code
 * xmin} in one statement (one snapshot): {@code xmin} is the oldest transaction still running when
 * the snapshot was taken, so every transaction with a smaller id had ended and its events were
 * visible to the batch, which linked them (or they were linked earlier). The next batch therefore
 * only looks at {@code tx_id ≥} that horizon — an event whose transaction commits after a batch's
 * snapshot has an id at or above the horizon. A batch runs READ COMMITTED: the links table's
 * trigger checks each link against the chain as last committed, so a batch computed from a head
 * that changed meanwhile is refused, never stored.
 */
public final class AuditLinkRepository {
  /** Held (session-level) by the instance that links; distinct from the checkpoint lock. */
  public static final long SEQUENCER_LOCK = 727364003L;

  private static final String TRY_LEAD =
      "SELECT pg_try_advisory_lock(" + SEQUENCER_LOCK + ") AS locked";
  private static final String PENDING =
      """
      SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
             EXISTS (SELECT 1 FROM audit_entries e
                      WHERE e.tx_id >= $1
                        AND NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.event_id))
               AS pending
      """;
  private static final String UNLINKED =
      """
      SELECT s.xmin, u.event_id, u.tx_id, u.action, u.entry_hash, u.mac
        FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) s
        LEFT JOIN LATERAL (
              SELECT e.event_id, e.tx_id, e.action, e.entry_hash, e.mac, e.occurred_at
                FROM audit_entries e
               WHERE e.tx_id >= $1
                 AND NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.event_id)
               ORDER BY e.tx_id, e.occurred_at, e.event_id
               LIMIT $2) u ON true
       ORDER BY u.tx_id, u.occurred_at, u.event_id
      """;
  private static final String HEAD =
      """
      SELECT coalesce((SELECT seq FROM audit_links ORDER BY seq DESC LIMIT 1), 0) AS head_seq,
             coalesce((SELECT hash FROM audit_links ORDER BY seq DESC LIMIT 1), repeat('0', 64))
               AS head_hash
      """;
  private static final String INSERT_LINK =
      """
      INSERT INTO audit_links (seq, event_id, prev_hash, hash, horizon) VALUES ($1, $2, $3, $4, $5)
      """;
  private static final String RESUME =
      """
      SELECT coalesce((SELECT horizon FROM audit_links ORDER BY seq DESC LIMIT 1), 0) AS horizon,
             pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
      """;

  /**
   * Whether any committed event with {@code tx_id ≥ horizon} is unlinked, and the snapshot's xmin.
   */
  public record Pending(long xmin, boolean pending) {}

  /** The unlinked events a batch found, and the xmin of the snapshot it found them in. */
  public record Found(long xmin, List<Unlinked> events) {}

  /** The chain head a batch continues. */
  public record Head(long seq, String hash) {}

  /** A committed, unlinked event as the sequencer needs it. */
  public record Unlinked(UUID eventId, long txId, String action, String entryHash, String mac) {}

  /** A link about to be inserted (the action only for the test hook and logs). */
  public record Link(long seq, UUID eventId, String action, String prevHash, String hash) {}

  /**
   * Tries to take the sequencer lock for the session of {@code connection}, without waiting.
   *
   * @return true when this session holds it (now or already)
   */
  public Future<Boolean> tryLead(SqlClient connection) {
    return connection
        .query(TRY_LEAD)
        .execute()
        .map(rows -> rows.iterator().next().getBoolean("locked"));
  }

  /** Whether events wait to be linked (outside a transaction: one cheap statement). */
  public Future<Pending> pending(SqlClient connection, long horizon) {
    return connection
        .preparedQuery(PENDING)
        .execute(Tuple.of(horizon))
        .map(
            rows -> {
              Row row = rows.iterator().next();
              return new Pending(row.getLong("xmin"), row.getBoolean("pending"));
            });
  }

  /**
   * Up to {@code limit} committed, unlinked events with {@code tx_id ≥ horizon}, oldest first, and
   * the xmin of the snapshot they were read in.
   */
  public Future<Found> unlinked(SqlClient tx, long horizon, int limit) {
    return tx.preparedQuery(UNLINKED)
        .execute(Tuple.of(horizon, limit))
        .map(
            rows -> {
              List<Unlinked> found = new ArrayList<>(rows.size());
              long xmin = 0;
              for (Row row : rows) {
                xmin = row.getLong("xmin");
                if (row.getUUID("event_id") != null) {
                  found.add(
                      new Unlinked(
                          row.getUUID("event_id"),
                          row.getLong("tx_id"),
                          row.getString("action"),
                          row.getString("entry_hash"),
                          row.getString("mac")));
                }
              }
              return new Found(xmin, found);
            });
  }

  /** The chain head as last committed. */
  public Future<Head> head(SqlClient tx) {
    return tx.query(HEAD)
        .execute()
        .map(
            rows -> {
              Row row = rows.iterator().next();
              return new Head(row.getLong("head_seq"), row.getString("head_hash"));
            });
  }

  /**
   * Where a sequencer that has just taken the lead starts looking for unlinked events: the horizon
   * the head link recorded (every event of an older transaction was linked when its batch
   * committed), or 0 — the whole trail — when the head carries none or one beyond this snapshot's
   * {@code xmin}, which no sequencer can have recorded.
   */
  public Future<Long> resumeHorizon(SqlClient connection) {
    return connection
        .preparedQuery(RESUME)
        .execute()
        .map(
            rows -> {
              Row row = rows.iterator().next();
              long recorded = row.getLong("horizon");
              return recorded <= row.getLong("xmin") ? recorded : 0L;
            });
  }

  /**
   * Inserts {@code links} (the table's trigger checks each one continues the chain), each recording
   * {@code horizon}: where the next batch, or a new leader, starts.
   */
  public Future<Void> insert(SqlClient tx, List<Link> links, long horizon) {
    if (links.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Tuple> batch = new ArrayList<>(links.size());
    for (Link link : links) {
      batch.add(Tuple.of(link.seq(), link.eventId(), link.prevHash(), link.hash(), horizon));
    }
    return tx.preparedQuery(INSERT_LINK).executeBatch(batch).mapEmpty();
  }
}
