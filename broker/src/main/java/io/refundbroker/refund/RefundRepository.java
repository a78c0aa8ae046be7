package io.refundbroker.refund;

import io.refundbroker.audit.AuditLog;
import io.refundbroker.db.SqlErrors;
import io.refundbroker.order.Order;
import io.refundbroker.order.RefundBalance;
import io.refundbroker.sabotage.Sabotage;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
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
  private static final String RESERVED_FOR_ORDERS =
      """
      SELECT origin_store_id, order_id,
             coalesce(sum(amount_value) FILTER (WHERE status = 'SUCCEEDED'), 0) AS succeeded,
             coalesce(sum(amount_value) FILTER (WHERE status IN ('PENDING', 'UNKNOWN')), 0)
               AS in_flight
        FROM refunds
       WHERE (origin_store_id, order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
       GROUP BY origin_store_id, order_id
      """;

  private static final String INSERT_REFUND =
      """
      INSERT INTO refunds (refund_id, requesting_client_id, requesting_store_id, origin_store_id,
                           order_id, chain_id, msn, api, amount_value, currency, reason, status,
                           upstream_key, idempotency_key, request_id, credentials_version,
                           partner_id, attempts, next_attempt_at, last_attempt_at, created_at, updated_at)
      VALUES (#{refundId}, #{requestingClientId}, #{requestingStoreId}, #{originStoreId},
              #{orderId}, #{chainId}, #{msn}, #{api}, #{amount}, #{currency}, #{reason}, 'PENDING',
              #{upstreamKey}, #{idempotencyKey}, #{requestId}, #{credentialsVersion},
              #{partnerId}, 1, #{nextAttemptAt}, #{now}, #{now}, #{now})
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

  /** V12's write-ahead: checks, claim, insert and audit append in one call (one transaction). */
  static final String WRITE_AHEAD = call("refund_write_ahead", 31 + AuditLog.Sealed.COLUMNS);

  /**
   * {@link Sabotage#DROP_ORDER_LOCK} only: the write-ahead's transaction reads the order unlocked.
   */
  private static final String SABOTAGE_ORDER_LOCK =
      "SELECT set_config('refundbroker.sabotage', 'DROP_ORDER_LOCK', true)";

  /** V12's outcome of a refund the caller holds a copy of; true when it was written. */
  static final String RECORD_KNOWN_OUTCOME =
      call("refund_record_outcome", 17 + AuditLog.Sealed.COLUMNS);

  private static String call(String function, int parameters) {
    StringBuilder sql = new StringBuilder("SELECT ").append(function).append('(');
    for (int i = 1; i <= parameters; i++) {
      sql.append(i == 1 ? "$" : ", $").append(i);
    }
    return sql.append(") AS done").toString();
  }

  /**
   * The bounds of the write-ahead's checks, computed by the caller: a payment captured before
   * {@code windowFrom} is past the refund window; at most {@code callsPerMinute} upstream calls on
   * the payment since {@code callsSince}; the requesting store's refunds in {@code [dayFrom,
   * dayTo)} plus this one at most {@code perDay} (null: no per-day limit).
   */
  public record Checks(
      Instant windowFrom,
      Instant callsSince,
      int callsPerMinute,
      Long perDay,
      Instant dayFrom,
      Instant dayTo) {}

  /**
   * Writes {@code pending} ahead in one call (V12 {@code refund_write_ahead}, its own transaction):
   * inserts {@code vippsOrder} unless present, checks that neither store is frozen, locks the
   * order, checks currency, window and what is left (captured − succeeded − pending − unknown),
   * Vipps's per-payment rate and the per-day limit, claims the idempotency key, inserts the refund
   * as PENDING and appends {@code event}.
   *
   * @return fails with {@link SqlErrors.Refused} naming the check that refused ({@code
   *     STORE_FROZEN}, {@code ORDER_NOT_FOUND}, {@code CURRENCY_MISMATCH}, {@code
   *     REFUND_WINDOW_PASSED}, {@code REFUND_EXCEEDS_REFUNDABLE}, {@code TOO_MANY_REFUNDS}, {@code
   *     LIMIT_EXCEEDED}, {@code KEY_TAKEN}); nothing is written then
   */
  public Future<Void> writeAhead(
      SqlClient sql,
      Refund pending,
      String requestId,
      Checks checks,
      String operation,
      byte[] requestHash,
      Order vippsOrder,
      AuditLog.Sealed event) {
    Instant now = pending.createdAt();
    List<Object> p = new ArrayList<>(31 + AuditLog.Sealed.COLUMNS);
    p.add(pending.refundId());
    p.add(pending.requestingClientId());
    p.add(pending.requestingStoreId());
    p.add(pending.originStoreId());
    p.add(pending.orderId());
    p.add(pending.chainId());
    p.add(pending.msn());
    p.add(pending.api().wireName());
    p.add(pending.amount().value());
    p.add(pending.amount().currency());
    p.add(pending.reason());
    p.add(pending.upstreamKey());
    p.add(pending.idempotencyKey());
    p.add(requestId);
    p.add(pending.credentialsVersion());
    p.add(pending.partnerId());
    p.add(utc(pending.nextAttemptAt()));
    p.add(utc(now));
    p.add(utc(checks.windowFrom()));
    p.add(utc(checks.callsSince()));
    p.add(checks.callsPerMinute());
    p.add(checks.perDay());
    p.add(utc(checks.dayFrom()));
    p.add(utc(checks.dayTo()));
    p.add(operation);
    p.add(Buffer.buffer(requestHash));
    p.add(vippsOrder == null ? null : vippsOrder.amount().value());
    p.add(vippsOrder == null ? null : vippsOrder.amount().currency());
    p.add(vippsOrder == null ? null : utc(vippsOrder.capturedAt()));
    p.add(vippsOrder == null ? null : vippsOrder.source());
    p.add(vippsOrder == null ? null : vippsOrder.registeredBy());
    p.addAll(event.values());
    Tuple parameters = Tuple.from(p);
    if (Sabotage.DROP_ORDER_LOCK.on() && sql instanceof Pool pool) {
      // tests only: the function reads the order without its lock (see V12)
      return pool.withTransaction(
              tx ->
                  tx.query(SABOTAGE_ORDER_LOCK)
                      .execute()
                      .compose(set -> tx.preparedQuery(WRITE_AHEAD).execute(parameters)))
          .<Void>mapEmpty()
          .recover(SqlErrors::refusedOr);
    }
    return sql.preparedQuery(WRITE_AHEAD)
        .execute(parameters)
        .<Void>mapEmpty()
        .recover(SqlErrors::refusedOr);
  }

  /**
   * Writes the transition from {@code current} to {@code updated} in one call (V12 {@code
   * refund_record_outcome}, its own transaction) if the stored refund still is {@code current}: the
   * refund's new state, its idempotency key completed with {@code responseStatus} (when it has one)
   * and {@code event} appended.
   *
   * @return true when written; false (nothing written) when the stored refund is no longer {@code
   *     current}
   */
  public Future<Boolean> recordKnownOutcome(
      SqlClient sql, Refund current, Refund updated, int responseStatus, AuditLog.Sealed event) {
    List<Object> p = new ArrayList<>(17 + AuditLog.Sealed.COLUMNS);
    p.add(current.refundId());
    p.add(current.status().name());
    p.add(current.attempts());
    p.add(current.credentialsVersion());
    p.add(current.upstreamStatus());
    p.add(current.failureCode());
    p.add(current.failureDetail());
    p.add(updated.status().name());
    p.add(updated.failureCode());
    p.add(updated.failureDetail());
    p.add(updated.upstreamStatus());
    p.add(utc(updated.nextAttemptAt()));
    p.add(!updated.status().unresolved());
    p.add(utc(updated.updatedAt()));
    boolean keyed = updated.idempotencyKey() != null;
    p.add(keyed ? updated.requestingClientId() : null);
    p.add(keyed ? updated.idempotencyKey() : null);
    p.add(keyed ? responseStatus : null);
    p.addAll(event.values());
    return sql.preparedQuery(RECORD_KNOWN_OUTCOME)
        .execute(Tuple.from(p))
        .map(rows -> rows.iterator().next().getBoolean("done"))
        .recover(SqlErrors::refusedOr);
  }

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

  /**
   * {@link #reserved} of several orders in one query.
   *
   * @return the sums of each order with any refund; orders without one are absent
   */
  public Future<Map<RefundBalance.OrderKey, RefundBalance.Totals>> reservedFor(
      SqlClient sql, List<RefundBalance.OrderKey> orders) {
    if (orders.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    String[] stores = orders.stream().map(RefundBalance.OrderKey::storeId).toArray(String[]::new);
    String[] ids = orders.stream().map(RefundBalance.OrderKey::orderId).toArray(String[]::new);
    return sql.preparedQuery(RESERVED_FOR_ORDERS)
        .execute(Tuple.tuple().addArrayOfString(stores).addArrayOfString(ids))
        .map(
            rows -> {
              Map<RefundBalance.OrderKey, RefundBalance.Totals> totals = new HashMap<>();
              rows.forEach(
                  row ->
                      totals.put(
                          new RefundBalance.OrderKey(
                              row.getString("origin_store_id"), row.getString("order_id")),
                          new RefundBalance.Totals(
                              row.getLong("succeeded"), row.getLong("in_flight"))));
              return totals;
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
    p.put("partnerId", r.partnerId());
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
   * credentialsVersion} of the key set the refund was written with (a resend after a rotation uses
   * the new keys, and the audit events that follow must name them).
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
