package io.refundbroker.refund;

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
    return refunds
        .lock(tx, refundId)
        .compose(
            current ->
                current.status().unresolved()
                    ? apply(tx, current, outcome, actor, requestId)
                    : Future.succeededFuture(current));
  }

  /**
   * {@link #record} for the request path, which holds the refund it has just written ahead: when
   * the stored refund still is {@code current}, the transition, the key's completion and the audit
   * event are written in one call ({@link RefundRepository#recordKnownOutcome}, its own
   * transaction) from what {@code current} gives; when something changed it meanwhile (the
   * reconciler), the outcome is recorded as {@link #record} does.
   */
  public Future<Refund> recordFrom(
      Refund current, RefundOutcome outcome, Actor actor, String requestId) {
    if (!current.status().unresolved()) {
      return record(current.refundId(), outcome, actor, requestId);
    }
    Refund updated = transition(current, outcome);
    Future<AuditLog.Sealed> event =
        updated.status() == current.status()
            ? Future.succeededFuture(AuditLog.Sealed.none())
            : audit.seal(actor, requestId, RefundTransitions.event(updated, outcome));
    return event
        .compose(
            append ->
                refunds.recordKnownOutcome(
                    pool, current, updated, RefundTransitions.status(updated), append))
        .compose(
            written ->
                written
                    ? Future.succeededFuture(updated)
                    : record(current.refundId(), outcome, actor, requestId));
  }

  /** Writes the transition of an unresolved refund, completes its key, audits a change of state. */
  private Future<Refund> apply(
      SqlConnection tx, Refund current, RefundOutcome outcome, Actor actor, String requestId) {
    Refund next = transition(current, outcome);
    Instant now = next.updatedAt();
    return refunds
        .recordOutcome(
            tx,
            current.refundId(),
            next.status(),
            next.failureCode(),
            next.failureDetail(),
            next.upstreamStatus(),
            next.nextAttemptAt(),
            now)
        .compose(updated -> completeKey(tx, updated, now).map(v -> updated))
        .compose(
            updated ->
                updated.status() == current.status()
                    ? Future.succeededFuture(updated)
                    : audit.record(
                        tx, actor, requestId, RefundTransitions.event(updated, outcome), updated));
  }

  /**
   * What {@code outcome} makes of the unresolved refund {@code current}: {@code APPLIED} →
   * SUCCEEDED, {@code REJECTED} → FAILED (the reason kept), {@code UNKNOWN} → UNKNOWN with the next
   * attempt after a backoff; updated now.
   */
  Refund transition(Refund current, RefundOutcome outcome) {
    Instant now = clock.instant();
    RefundStatus next = RefundTransitions.statusFor(outcome);
    Instant nextAttempt = next.unresolved() ? now.plus(backoff(current.attempts())) : null;
    boolean failed = next == RefundStatus.FAILED;
    Integer upstreamStatus =
        outcome.httpStatus() == 0
            ? current.upstreamStatus()
            : Integer.valueOf(outcome.httpStatus());
    return current.withOutcome(
        next,
        failed ? outcome.reason().name() : current.failureCode(),
        failed ? outcome.detail() : current.failureDetail(),
        upstreamStatus,
        nextAttempt,
        now);
  }

  private Future<Void> completeKey(SqlConnection tx, Refund refund, Instant now) {
    if (refund.idempotencyKey() == null) {
      return Future.succeededFuture();
    }
    return idempotency.complete(
        tx,
        refund.requestingClientId(),
        refund.idempotencyKey(),
        RefundTransitions.status(refund),
        now);
  }

  /** Exponential backoff from the reconciler interval, capped at an hour. */
  Duration backoff(int attempts) {
    int exponent = Math.max(0, Math.min(attempts - 1, 16));
    Duration delay = backoffBase.multipliedBy(1L << exponent);
    return delay.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : delay;
  }
}
