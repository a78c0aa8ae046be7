package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the audit trail (linked events and checkpoints, in keyset batches, and what is not linked
 * yet) and inserts checkpoints. Methods take a {@link SqlClient} so they work in or out of a
 * transaction.
 */
public final class AuditTrailRepository {
  /** Serialises checkpoint makers across broker instances (distinct from the sequencer lock). */
  private static final long CHECKPOINT_LOCK = 727364002L;

  private static final String EVENT_COLUMNS =
      "l.seq, l.prev_hash, l.hash, e.event_id, e.occurred_at, e.actor_client_id, e.actor_role,"
          + " e.actor_store_id, e.action, e.subject_type, e.subject_id, e.chain_id, e.outcome,"
          + " e.request_id, e.details, e.mac";
  private static final String EVENTS_AFTER =
      "SELECT "
          + EVENT_COLUMNS
          + " FROM audit_links l JOIN audit_entries e ON e.event_id = l.event_id"
          + " WHERE l.seq > #{afterSeq} AND l.seq <= #{throughSeq}"
          + " ORDER BY l.seq LIMIT #{limit}";
  private static final String HEAD =
      """
      SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1
      """;
  private static final String HASH_AT =
      """
      SELECT hash FROM audit_links WHERE seq = $1
      """;
  private static final String SPAN =
      """
      SELECT h.seq, h.hash, u.unlinked, u.oldest
        FROM (SELECT count(*) AS unlinked, min(e.occurred_at) AS oldest
                FROM audit_entries e
               WHERE NOT EXISTS (SELECT 1 FROM audit_links l WHERE l.event_id = e.event_id)) u
        LEFT JOIN (SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1) h ON true
      """;
  private static final String MAC_BEFORE =
      """
      SELECT EXISTS (SELECT 1 FROM audit_links l JOIN audit_entries e ON e.event_id = l.event_id
                      WHERE l.seq < $1 AND e.mac IS NOT NULL) AS found
      """;
  private static final String ANCHOR =
      """
      SELECT c.seq, c.head_hash, e.mac IS NOT NULL AS has_mac
        FROM audit_checkpoints c
        LEFT JOIN audit_links l ON l.seq = c.seq
        LEFT JOIN audit_entries e ON e.event_id = l.event_id
       ORDER BY c.seq DESC LIMIT 1
      """;
  private static final String ACKNOWLEDGEMENTS =
      """
      SELECT l.seq, e.details
        FROM audit_entries e JOIN audit_links l ON l.event_id = e.event_id
       WHERE e.subject_type = 'audit-event' AND e.action = $1 AND l.seq > $2
       ORDER BY l.seq
      """;
  private static final String CHECKPOINT_COLUMNS =
      "seq, head_hash, signed_at, key_id, key_version, signature";
  private static final String CHECKPOINTS_AFTER =
      "SELECT "
          + CHECKPOINT_COLUMNS
          + " FROM audit_checkpoints WHERE seq > #{afterSeq} AND seq <= #{throughSeq}"
          + " ORDER BY seq LIMIT #{limit}";
  private static final String CHECKPOINT_STATE =
      """
      SELECT h.seq AS head_seq, c.seq AS checkpoint_seq,
             (SELECT e.occurred_at FROM audit_links l JOIN audit_entries e ON e.event_id = l.event_id
               WHERE l.seq = c.seq + 1) AS first_unsigned_at
        FROM (SELECT coalesce(max(seq), 0) AS seq FROM audit_links) h,
             (SELECT coalesce(max(seq), 0) AS seq FROM audit_checkpoints) c
      """;
  private static final String TRY_CHECKPOINT_LOCK =
      "SELECT pg_try_advisory_xact_lock(" + CHECKPOINT_LOCK + ") AS locked";
  private static final String INSERT_CHECKPOINT =
      """
      INSERT INTO audit_checkpoints
        (seq, head_hash, signed_at, key_id, key_version, algorithm, signature)
      VALUES (#{seq}, #{headHash}, #{signedAt}, #{keyId}, #{keyVersion}, 'Ed25519', #{signature})
      """;
  private static final String KEY_USAGE =
      """
      SELECT key_id, key_version, min(seq) AS first_seq, max(seq) AS last_seq,
             count(*) AS checkpoints
        FROM audit_checkpoints
       GROUP BY key_id, key_version
       ORDER BY min(seq)
      """;

  /**
   * Which checkpoints one key version signed ({@code keyVersion} null for checkpoints made before
   * versions were recorded).
   */
  public record KeyUsage(
      String keyId, String keyVersion, long firstSeq, long lastSeq, long checkpoints) {}

  /** The last event's seq and hash ({@code 0} and the all-zero hash when the trail is empty). */
  public record Head(long seq, String hash) {}

  /**
   * The chain head and the committed events not linked yet (how many, and when the oldest happened;
   * null if none), seen at one instant.
   */
  public record Span(Head head, long unlinked, Instant oldestUnlinked) {}

  /**
   * Where the last checkpoint stands: its seq, the head hash it signed, and whether the event there
   * carries a MAC ({@code 0}, the all-zero hash and false before the first checkpoint).
   */
  public record Anchor(long seq, String hash, boolean hasMac) {}

  /**
   * Where checkpointing stands: the head, the last checkpoint's seq, and when the first event after
   * it happened (null when there is none).
   */
  public record CheckpointState(long headSeq, long checkpointSeq, Instant firstUnsignedAt) {}

  /** Events with {@code afterSeq < seq ≤ throughSeq}, in seq order, at most {@code limit}. */
  public Future<List<ChainedEvent>> eventsAfter(
      SqlClient sql, long afterSeq, long throughSeq, int limit) {
    return SqlTemplate.forQuery(sql, EVENTS_AFTER)
        .mapTo(AuditTrailRepository::eventFromRow)
        .execute(Map.of("afterSeq", afterSeq, "throughSeq", throughSeq, "limit", limit))
        .map(
            rows -> {
              List<ChainedEvent> events = new ArrayList<>(rows.size());
              rows.forEach(events::add);
              return events;
            });
  }

  /** The committed head as seen by {@code sql}. */
  public Future<Head> head(SqlClient sql) {
    return sql.preparedQuery(HEAD)
        .execute()
        .map(
            rows ->
                rows.size() == 0
                    ? new Head(0, ChainedEvent.GENESIS_HASH)
                    : new Head(
                        rows.iterator().next().getLong("seq"),
                        rows.iterator().next().getString("hash")));
  }

  /** The hash of the linked event at {@code seq}. */
  public Future<String> hashAt(SqlClient sql, long seq) {
    return sql.preparedQuery(HASH_AT)
        .execute(Tuple.of(seq))
        .map(
            rows -> {
              if (rows.size() == 0) {
                throw new IllegalStateException("no audit event is linked at seq " + seq);
              }
              return rows.iterator().next().getString("hash");
            });
  }

  /**
   * The head and what waits to be linked, in one snapshot (so an event linked meanwhile is counted
   * once); the unlinked ones are found by a full scan.
   */
  public Future<Span> span(SqlClient sql) {
    return sql.preparedQuery(SPAN)
        .execute()
        .map(
            rows -> {
              Row row = rows.iterator().next();
              OffsetDateTime oldest = row.getOffsetDateTime("oldest");
              Head head =
                  row.getValue("seq") == null
                      ? new Head(0, ChainedEvent.GENESIS_HASH)
                      : new Head(row.getLong("seq"), row.getString("hash"));
              return new Span(
                  head, row.getLong("unlinked"), oldest == null ? null : oldest.toInstant());
            });
  }

  /** Whether an event linked before {@code seq} carries a MAC. */
  public Future<Boolean> macBefore(SqlClient sql, long seq) {
    return sql.preparedQuery(MAC_BEFORE)
        .execute(Tuple.of(seq))
        .map(rows -> rows.iterator().next().getBoolean("found"));
  }

  /** The last checkpoint as the checkpointer continues from it. */
  public Future<Anchor> anchor(SqlClient sql) {
    return sql.preparedQuery(ANCHOR)
        .execute()
        .map(
            rows ->
                rows.size() == 0
                    ? new Anchor(0, ChainedEvent.GENESIS_HASH, false)
                    : new Anchor(
                        rows.iterator().next().getLong("seq"),
                        rows.iterator().next().getString("head_hash"),
                        Boolean.TRUE.equals(rows.iterator().next().getBoolean("has_mac"))));
  }

  /**
   * The acknowledgements of forged events linked after {@code afterSeq}, by the seq they name (the
   * first one for each), as stored: the verifier confirms each when it reaches it.
   */
  public Future<Map<Long, AuditVerifier.Acknowledgement>> acknowledgements(
      SqlClient sql, long afterSeq) {
    return sql.preparedQuery(ACKNOWLEDGEMENTS)
        .execute(Tuple.of(AuditVerifier.ACKNOWLEDGED, afterSeq))
        .map(
            rows -> {
              Map<Long, AuditVerifier.Acknowledgement> claims = new HashMap<>();
              for (Row row : rows) {
                if (row.getValue("details") instanceof JsonObject details
                    && details.getValue("seq") instanceof Number named
                    && details.getValue("hash") instanceof String hash) {
                  claims.putIfAbsent(
                      named.longValue(),
                      new AuditVerifier.Acknowledgement(row.getLong("seq"), hash));
                }
              }
              return claims;
            });
  }

  /** Checkpoints with {@code afterSeq < seq ≤ throughSeq}, in seq order, at most {@code limit}. */
  public Future<List<Checkpoint>> checkpointsAfter(
      SqlClient sql, long afterSeq, long throughSeq, int limit) {
    return SqlTemplate.forQuery(sql, CHECKPOINTS_AFTER)
        .mapTo(AuditTrailRepository::checkpointFromRow)
        .execute(Map.of("afterSeq", afterSeq, "throughSeq", throughSeq, "limit", limit))
        .map(
            rows -> {
              List<Checkpoint> checkpoints = new ArrayList<>(rows.size());
              rows.forEach(checkpoints::add);
              return checkpoints;
            });
  }

  /** Head, last checkpoint and the time of the first event after it, as seen by {@code sql}. */
  public Future<CheckpointState> checkpointState(SqlClient sql) {
    return sql.preparedQuery(CHECKPOINT_STATE)
        .execute()
        .map(
            rows -> {
              Row row = rows.iterator().next();
              OffsetDateTime firstUnsigned = row.getOffsetDateTime("first_unsigned_at");
              return new CheckpointState(
                  row.getLong("head_seq"),
                  row.getLong("checkpoint_seq"),
                  firstUnsigned == null ? null : firstUnsigned.toInstant());
            });
  }

  /**
   * Takes the checkpoint makers' lock for the rest of the transaction, without waiting.
   *
   * @return true when this transaction holds it; false when another one does
   */
  public Future<Boolean> tryLockCheckpoints(SqlClient tx) {
    return tx.preparedQuery(TRY_CHECKPOINT_LOCK)
        .execute()
        .map(rows -> rows.iterator().next().getBoolean("locked"));
  }

  /** Per key id and version, the first and last checkpoint it signed, in order of first use. */
  public Future<List<KeyUsage>> keyUsage(SqlClient sql) {
    return sql.preparedQuery(KEY_USAGE)
        .execute()
        .map(
            rows -> {
              List<KeyUsage> usage = new ArrayList<>(rows.size());
              for (Row row : rows) {
                usage.add(
                    new KeyUsage(
                        row.getString("key_id"),
                        row.getString("key_version"),
                        row.getLong("first_seq"),
                        row.getLong("last_seq"),
                        row.getLong("checkpoints")));
              }
              return usage;
            });
  }

  /** Inserts a signed checkpoint; fails when the trigger refuses it (see V3). */
  public Future<Void> insertCheckpoint(SqlClient tx, Checkpoint checkpoint) {
    Map<String, Object> p = new HashMap<>();
    p.put("seq", checkpoint.seq());
    p.put("headHash", checkpoint.headHash());
    p.put("signedAt", checkpoint.signedAt().atOffset(ZoneOffset.UTC));
    p.put("keyId", checkpoint.keyId());
    p.put("keyVersion", checkpoint.keyVersion());
    p.put("signature", Base64.getEncoder().encodeToString(checkpoint.signature()));
    return SqlTemplate.forUpdate(tx, INSERT_CHECKPOINT).execute(p).mapEmpty();
  }

  /**
   * Like {@link AuditLog#fromRow} but never fails: a row whose {@code details} is not a JSON object
   * (which the broker never writes) is read with its raw details wrapped in an object, so its hash
   * no longer matches and verification names it instead of aborting.
   */
  private static ChainedEvent eventFromRow(Row row) {
    if (row.getValue("details") instanceof JsonObject) {
      return AuditLog.fromRow(row);
    }
    ChainedEvent readable =
        AuditLog.fromRow(
            row,
            new JsonObject().put("unreadableDetails", String.valueOf(row.getValue("details"))));
    return readable;
  }

  private static Checkpoint checkpointFromRow(Row row) {
    return new Checkpoint(
        row.getLong("seq"),
        row.getString("head_hash"),
        row.getOffsetDateTime("signed_at").toInstant(),
        row.getString("key_id"),
        row.getString("key_version"),
        Base64.getDecoder().decode(row.getString("signature")));
  }
}
