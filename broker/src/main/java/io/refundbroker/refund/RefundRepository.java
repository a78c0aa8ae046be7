package io.refundbroker.refund;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** SQL for refunds. Methods take a {@link SqlClient} so they work in or out of a transaction. */
public final class RefundRepository {
  private static final String RESERVED_FOR_ORDER =
      """
      SELECT coalesce(sum(amount_value) FILTER (WHERE status = 'SUCCEEDED'), 0) AS succeeded,
             coalesce(sum(amount_value) FILTER (WHERE status IN ('PENDING', 'UNKNOWN')), 0)
               AS in_flight
        FROM refunds
       WHERE origin_store_id = #{storeId} AND order_id = #{orderId}
      """;

  private static final String INSERT_REFUND =
      """
      INSERT INTO refunds (refund_id, requesting_client_id, requesting_store_id, origin_store_id,
                           order_id, chain_id, msn, api, amount_value, currency, reason, status,
                           upstream_key, idempotency_key, request_id, credentials_version,
                           attempts, next_attempt_at, last_attempt_at, created_at, updated_at)
      VALUES (#{refundId}, #{requestingClientId}, #{requestingStoreId}, #{originStoreId},
              #{orderId}, #{chainId}, #{msn}, #{api}, #{amount}, #{currency}, #{reason}, 'PENDING',
              #{upstreamKey}, #{idempotencyKey}, #{requestId}, #{credentialsVersion},
              1, #{nextAttemptAt}, #{now}, #{now}, #{now})
      RETURNING %s
      """
          .formatted(Refund.COLUMNS);
  private static final String FIND_REFUND =
      "SELECT " + Refund.COLUMNS + " FROM refunds WHERE refund_id = #{refundId}";
  private static final String LOCK_REFUND = FIND_REFUND + " FOR UPDATE";
  private static final String LIST_VISIBLE_FOR_ORDER =
      """
      SELECT %s FROM refunds
       WHERE order_id = #{orderId}
         AND (requesting_store_id = #{storeId} OR origin_store_id = #{storeId})
       ORDER BY created_at, refund_id
      """
          .formatted(Refund.COLUMNS);
  private static final String RECORD_OUTCOME =
      """
      UPDATE refunds
         SET status = #{status}, failure_code = #{failureCode}, failure_detail = #{failureDetail},
             upstream_status = #{upstreamStatus}, next_attempt_at = #{nextAttemptAt},
             updated_at = #{now},
             completed_at = CASE WHEN #{terminal} THEN #{now} ELSE completed_at END
       WHERE refund_id = #{refundId}
      RETURNING %s
      """
          .formatted(Refund.COLUMNS);
  private static final String RECORD_ATTEMPT =
      """
      UPDATE refunds SET attempts = attempts + 1, last_attempt_at = #{now}, updated_at = #{now},
             credentials_version = #{credentialsVersion}
       WHERE refund_id = #{refundId}
      """;
  private static final String CLAIM_DUE =
      """
      UPDATE refunds SET next_attempt_at = #{leaseUntil}
       WHERE refund_id IN (SELECT refund_id FROM refunds
                            WHERE status IN ('PENDING', 'UNKNOWN') AND next_attempt_at <= #{now}
                            ORDER BY next_attempt_at
                            LIMIT #{batch}
                            FOR UPDATE SKIP LOCKED)
      RETURNING %s
      """
          .formatted(Refund.COLUMNS);
  private static final String RESCHEDULE =
      """
      UPDATE refunds SET next_attempt_at = #{nextAttemptAt}
       WHERE refund_id = #{refundId} AND status IN ('PENDING', 'UNKNOWN')
      """;
  private static final String RECENT_PAYMENT_CALLS =
      """
      SELECT count(*) AS calls, min(last_attempt_at) AS oldest FROM refunds
       WHERE msn = #{msn} AND order_id = #{orderId} AND last_attempt_at > #{since}
      """;
  private static final String REQUESTED_IN_PERIOD =
      """
      SELECT coalesce(sum(amount_value), 0) AS total FROM refunds
       WHERE requesting_store_id = #{storeId} AND currency = #{currency}
         AND status <> 'FAILED' AND created_at >= #{from} AND created_at < #{to}
      """;

  /** What the broker has refunded (or may have) against one order. */
  public record Reserved(long succeeded, long inFlight) {
    public long total() {
      return succeeded + inFlight;
    }
  }

  /** Sums of succeeded and in-flight (pending or unknown) refunds of the order. */
  public Future<Reserved> reserved(SqlClient sql, String storeId, String orderId) {
    return SqlTemplate.forQuery(sql, RESERVED_FOR_ORDER)
        .execute(Map.of("storeId", storeId, "orderId", orderId))
        .map(
            rows -> {
              var row = rows.iterator().next();
              return new Reserved(row.getLong("succeeded"), row.getLong("in_flight"));
            });
  }

  /** Recent upstream refund calls on one payment (for Vipps's per-payment limit). */
  public record RecentCalls(long calls, Instant oldest) {}

  public Future<Refund> insert(SqlClient sql, Refund r, String requestId, Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("refundId", r.refundId());
    p.put("requestingClientId", r.requestingClientId());
    p.put("requestingStoreId", r.requestingStoreId());
    p.put("originStoreId", r.originStoreId());
    p.put("orderId", r.orderId());
    p.put("chainId", r.chainId());
    p.put("msn", r.msn());
    p.put("api", r.api().wireName());
    p.put("amount", r.amount().value());
    p.put("currency", r.amount().currency());
    p.put("reason", r.reason());
    p.put("upstreamKey", r.upstreamKey());
    p.put("idempotencyKey", r.idempotencyKey());
    p.put("requestId", requestId);
    p.put("credentialsVersion", r.credentialsVersion());
    p.put("nextAttemptAt", utc(r.nextAttemptAt()));
    p.put("now", utc(now));
    return SqlTemplate.forQuery(sql, INSERT_REFUND)
        .mapTo(Refund::fromRow)
        .execute(p)
        .map(rows -> rows.iterator().next());
  }

  /** The refund, or null. */
  public Future<Refund> find(SqlClient sql, UUID refundId) {
    return one(sql, FIND_REFUND, refundId);
  }

  /** The refund locked until the transaction ends, or null. */
  public Future<Refund> lock(SqlClient sql, UUID refundId) {
    return one(sql, LOCK_REFUND, refundId);
  }

  /** Refunds of an order that {@code storeId} requested or that were made on its behalf. */
  public Future<List<Refund>> listVisible(SqlClient sql, String orderId, String storeId) {
    return SqlTemplate.forQuery(sql, LIST_VISIBLE_FOR_ORDER)
        .mapTo(Refund::fromRow)
        .execute(Map.of("orderId", orderId, "storeId", storeId))
        .map(RefundRepository::toList);
  }

  /** Writes an outcome (status, failure, upstream status, next attempt). */
  public Future<Refund> recordOutcome(
      SqlClient sql,
      UUID refundId,
      RefundStatus status,
      String failureCode,
      String failureDetail,
      Integer upstreamStatus,
      Instant nextAttemptAt,
      Instant now) {
    Map<String, Object> p = new HashMap<>();
    p.put("refundId", refundId);
    p.put("status", status.name());
    p.put("failureCode", failureCode);
    p.put("failureDetail", failureDetail);
    p.put("upstreamStatus", upstreamStatus);
    p.put("nextAttemptAt", utc(nextAttemptAt));
    p.put("terminal", !status.unresolved());
    p.put("now", utc(now));
    return SqlTemplate.forQuery(sql, RECORD_OUTCOME)
        .mapTo(Refund::fromRow)
        .execute(p)
        .map(rows -> rows.iterator().next());
  }

  /**
   * Counts one more upstream refund call for this refund, made with version {@code
   * credentialsVersion} of the origin store's keys (a resend after a rotation uses the new keys,
   * and the audit events that follow must name them).
   */
  public Future<Void> recordAttempt(
      SqlClient sql, UUID refundId, int credentialsVersion, Instant now) {
    return SqlTemplate.forUpdate(sql, RECORD_ATTEMPT)
        .execute(
            Map.of("refundId", refundId, "credentialsVersion", credentialsVersion, "now", utc(now)))
        .mapEmpty();
  }

  /**
   * Claims up to {@code batch} unresolved refunds that are due, pushing their next attempt to
   * {@code leaseUntil} so no other instance takes them meanwhile ({@code SKIP LOCKED}).
   */
  public Future<List<Refund>> claimDue(SqlClient sql, Instant now, Instant leaseUntil, int batch) {
    return SqlTemplate.forQuery(sql, CLAIM_DUE)
        .mapTo(Refund::fromRow)
        .execute(Map.of("now", utc(now), "leaseUntil", utc(leaseUntil), "batch", batch))
        .map(RefundRepository::toList);
  }

  /** Moves an unresolved refund's next attempt. */
  public Future<Void> reschedule(SqlClient sql, UUID refundId, Instant nextAttemptAt) {
    return SqlTemplate.forUpdate(sql, RESCHEDULE)
        .execute(Map.of("refundId", refundId, "nextAttemptAt", utc(nextAttemptAt)))
        .mapEmpty();
  }

  /** Upstream refund calls on the payment {@code (msn, orderId)} since {@code since}. */
  public Future<RecentCalls> recentCalls(SqlClient sql, String msn, String orderId, Instant since) {
    return SqlTemplate.forQuery(sql, RECENT_PAYMENT_CALLS)
        .execute(Map.of("msn", msn, "orderId", orderId, "since", utc(since)))
        .map(
            rows -> {
              var row = rows.iterator().next();
              var oldest = row.getOffsetDateTime("oldest");
              return new RecentCalls(
                  row.getLong("calls"), oldest == null ? null : oldest.toInstant());
            });
  }

  /** Sum of non-failed refunds a store requested in {@code [from, to)} in one currency. */
  public Future<Long> requestedInPeriod(
      SqlClient sql, String storeId, String currency, Instant from, Instant to) {
    return SqlTemplate.forQuery(sql, REQUESTED_IN_PERIOD)
        .execute(Map.of("storeId", storeId, "currency", currency, "from", utc(from), "to", utc(to)))
        .map(rows -> rows.iterator().next().getLong("total"));
  }

  private static Future<Refund> one(SqlClient sql, String query, UUID refundId) {
    return SqlTemplate.forQuery(sql, query)
        .mapTo(Refund::fromRow)
        .execute(Map.of("refundId", refundId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  private static List<Refund> toList(Iterable<Refund> rows) {
    List<Refund> list = new ArrayList<>();
    rows.forEach(list::add);
    return list;
  }

  private static Object utc(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }
}
