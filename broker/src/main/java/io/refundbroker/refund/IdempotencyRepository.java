package io.refundbroker.refund;

import io.refundbroker.db.SqlErrors;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Caller-supplied idempotency keys, unique per calling client. */
public final class IdempotencyRepository {
  private static final String PRIMARY_KEY = "idempotency_records_pkey";
  private static final String FIND =
      """
      SELECT request_hash, state, resource_id FROM idempotency_records
       WHERE client_id = #{clientId} AND idempotency_key = #{key}
      """;
  private static final String INSERT_IN_FLIGHT =
      """
      INSERT INTO idempotency_records (client_id, idempotency_key, operation, request_hash, state,
                                       resource_id, created_at)
      VALUES (#{clientId}, #{key}, #{operation}, #{hash}, 'IN_FLIGHT', #{resourceId}, #{now})
      """;
  private static final String COMPLETE =
      """
      UPDATE idempotency_records
         SET state = 'COMPLETED', response_status = #{status}, completed_at = #{now}
       WHERE client_id = #{clientId} AND idempotency_key = #{key} AND state = 'IN_FLIGHT'
      """;

  /** A stored key: the hash of the request it was first used with, and what it produced. */
  public record Record(byte[] requestHash, String state, String resourceId) {
    public boolean sameRequest(byte[] hash) {
      return Arrays.equals(requestHash, hash);
    }

    public boolean inFlight() {
      return "IN_FLIGHT".equals(state);
    }
  }

  /**
   * The record for (client, key) with the refund it produced, in one statement (the replay path's
   * one round trip): null when the key is unused; {@code refund} null when the record names none.
   */
  private static final String FIND_WITH_REFUND =
      """
      SELECT i.request_hash, i.state, i.resource_id, %s
        FROM idempotency_records i
        LEFT JOIN refunds r
          ON r.refund_id = CASE WHEN i.operation = 'refund' THEN i.resource_id::uuid END
       WHERE i.client_id = $1 AND i.idempotency_key = $2
      """
          .formatted(prefixed("r.", Refund.COLUMNS));

  /** A used key and the refund it produced (null if none). */
  public record Keyed(Record record, Refund refund) {}

  /** The record for (client, key) and its refund, or null when the key is unused. */
  public Future<Keyed> findWithRefund(SqlClient sql, String clientId, String key) {
    return sql.preparedQuery(FIND_WITH_REFUND)
        .execute(Tuple.of(clientId, key))
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              var row = rows.iterator().next();
              Record record =
                  new Record(
                      row.getBuffer("request_hash").getBytes(),
                      row.getString("state"),
                      row.getString("resource_id"));
              return new Keyed(
                  record, row.getUUID("refund_id") == null ? null : Refund.fromRow(row));
            });
  }

  private static String prefixed(String prefix, String columns) {
    StringBuilder out = new StringBuilder();
    for (String column : columns.split(",")) {
      out.append(out.length() == 0 ? "" : ", ").append(prefix).append(column.trim());
    }
    return out.toString();
  }

  /** The record for (client, key), or null. */
  public Future<Record> find(SqlClient sql, String clientId, String key) {
    return SqlTemplate.forQuery(sql, FIND)
        .execute(Map.of("clientId", clientId, "key", key))
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              var row = rows.iterator().next();
              return new Record(
                  row.getBuffer("request_hash").getBytes(),
                  row.getString("state"),
                  row.getString("resource_id"));
            });
  }

  /**
   * A concurrent request of the same client claimed the same key first (the caller answers as a
   * replay would).
   */
  public static final class KeyTaken extends RuntimeException {
    KeyTaken() {
      super("idempotency key already claimed", null, false, false);
    }
  }

  /** Claims the key; fails with {@link KeyTaken} when the client already used it. */
  public Future<Void> insertInFlight(
      SqlClient sql,
      String clientId,
      String key,
      String operation,
      byte[] hash,
      String resourceId,
      Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("clientId", clientId);
    p.put("key", key);
    p.put("operation", operation);
    p.put("hash", Buffer.buffer(hash));
    p.put("resourceId", resourceId);
    p.put("now", now.atOffset(ZoneOffset.UTC));
    return SqlTemplate.forUpdate(sql, INSERT_IN_FLIGHT)
        .execute(p)
        .<Void>mapEmpty()
        .recover(failure -> SqlErrors.translate(failure, Map.of(PRIMARY_KEY, new KeyTaken())));
  }

  /** Marks the key's request as answered (no-op when it already is). */
  public Future<Void> complete(
      SqlClient sql, String clientId, String key, int responseStatus, Instant now) {
    return SqlTemplate.forUpdate(sql, COMPLETE)
        .execute(
            Map.of(
                "clientId",
                clientId,
                "key",
                key,
                "status",
                responseStatus,
                "now",
                now.atOffset(ZoneOffset.UTC)))
        .mapEmpty();
  }
}
