package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
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
 * Reads the audit trail (events and checkpoints, in keyset batches) and inserts checkpoints.
 * Methods take a {@link SqlClient} so they work in or out of a transaction.
 */
public final class AuditTrailRepository {
  /** Serialises checkpoint makers across broker instances (distinct from the append lock). */
  private static final long CHECKPOINT_LOCK = 727364002L;

  private static final String EVENT_COLUMNS =
      "seq, occurred_at, actor_client_id, actor_role, actor_store_id, action, subject_type,"
          + " subject_id, chain_id, outcome, request_id, details, prev_hash, hash";
  private static final String EVENTS_AFTER =
      "SELECT "
          + EVENT_COLUMNS
          + " FROM audit_events WHERE seq > #{afterSeq} AND seq <= #{throughSeq}"
          + " ORDER BY seq LIMIT #{limit}";
  private static final String HEAD =
      """
      SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1
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
             (SELECT e.occurred_at FROM audit_events e WHERE e.seq = c.seq + 1) AS first_unsigned_at
        FROM (SELECT coalesce(max(seq), 0) AS seq FROM audit_events) h,
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
