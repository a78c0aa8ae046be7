package io.refundbroker.refund;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.caller.Actor;
import io.refundbroker.db.Transactions;
import io.refundbroker.vipps.RefundOutcome;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;

/**
 * Records what a Vipps call did to a refund, for the request path and the reconciler alike: one
 * transaction locks the refund, writes the transition, completes the caller's idempotency key and
 * appends exactly one audit event per state change. A refund that is already resolved is left
 * alone, so the request path and the reconciler can race safely.
 */
public final class RefundRecorder {
  private static final Duration MAX_BACKOFF = Duration.ofHours(1);

  private final Pool pool;
  private final RefundRepository refunds;
  private final IdempotencyRepository idempotency;
  private final AuditLog audit;
  private final Clock clock;
  private final Duration backoffBase;

  public RefundRecorder(
      Pool pool,
      RefundRepository refunds,
      IdempotencyRepository idempotency,
      AuditLog audit,
      Clock clock,
      Duration backoffBase) {
    this.pool = pool;
    this.refunds = refunds;
    this.idempotency = idempotency;
    this.audit = audit;
    this.clock = clock;
    this.backoffBase = backoffBase;
  }

  /**
   * Applies {@code outcome}: {@code APPLIED} → SUCCEEDED, {@code REJECTED} → FAILED (the amount is
   * released, the reason kept), {@code UNKNOWN} → UNKNOWN with a later reconciliation.
   *
   * @return the refund as stored afterwards
   */
  public Future<Refund> record(
      UUID refundId, RefundOutcome outcome, Actor actor, String requestId) {
    return Transactions.run(pool, tx -> recordIn(tx, refundId, outcome, actor, requestId));
  }

  private Future<Refund> recordIn(
      SqlConnection tx, UUID refundId, RefundOutcome outcome, Actor actor, String requestId) {
    Instant now = clock.instant();
    return refunds
        .lock(tx, refundId)
        .compose(
            current -> {
              if (!current.status().unresolved()) {
                return Future.succeededFuture(current);
              }
              RefundStatus next = statusFor(outcome);
              Instant nextAttempt =
                  next.unresolved() ? now.plus(backoff(current.attempts())) : null;
              String failureCode =
                  next == RefundStatus.FAILED ? outcome.reason().name() : current.failureCode();
              String failureDetail =
                  next == RefundStatus.FAILED ? outcome.detail() : current.failureDetail();
              Integer upstreamStatus =
                  outcome.httpStatus() == 0
                      ? current.upstreamStatus()
                      : Integer.valueOf(outcome.httpStatus());
              return refunds
                  .recordOutcome(
                      tx,
                      refundId,
                      next,
                      failureCode,
                      failureDetail,
                      upstreamStatus,
                      nextAttempt,
                      now)
                  .compose(updated -> completeKey(tx, updated, now).map(v -> updated))
                  .compose(
                      updated -> {
                        if (updated.status() == current.status()) {
                          return Future.succeededFuture(updated);
                        }
                        return audit
                            .append(tx, actor, requestId, event(updated, outcome))
                            .map(e -> updated);
                      });
            });
  }

  private Future<Void> completeKey(SqlConnection tx, Refund refund, Instant now) {
    if (refund.idempotencyKey() == null) {
      return Future.succeededFuture();
    }
    return idempotency.complete(
        tx,
        refund.requestingClientId(),
        refund.idempotencyKey(),
        RefundReplies.status(refund),
        now);
  }

  private static AuditEvent event(Refund refund, RefundOutcome outcome) {
    String action = "refund." + refund.status().name().toLowerCase(Locale.ROOT);
    var details = refund.auditDetails().put("upstreamOutcome", outcome.detail());
    return new AuditEvent(
        action,
        "refund",
        refund.refundId().toString(),
        refund.chainId(),
        refund.status() == RefundStatus.FAILED ? "FAILED" : "SUCCESS",
        details);
  }

  static RefundStatus statusFor(RefundOutcome outcome) {
    return switch (outcome.kind()) {
      case APPLIED -> RefundStatus.SUCCEEDED;
      case REJECTED -> RefundStatus.FAILED;
      case UNKNOWN -> RefundStatus.UNKNOWN;
    };
  }

  /** Exponential backoff from the reconciler interval, capped at an hour. */
  Duration backoff(int attempts) {
    int exponent = Math.max(0, Math.min(attempts - 1, 16));
    Duration delay = backoffBase.multipliedBy(1L << exponent);
    return delay.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : delay;
  }
}
