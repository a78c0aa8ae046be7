package io.refundbroker.refund;

import io.refundbroker.caller.Actor;
import io.refundbroker.config.BrokerConfig.RefundConfig;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.vipps.RefundLookup;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves PENDING and UNKNOWN refunds (the janitor). Each pass claims due refunds ({@code FOR
 * UPDATE SKIP LOCKED} plus a lease, so several broker instances share the work), then for each one
 * reads the payment's event log for its idempotency key: applied → SUCCEEDED; not applied → the
 * refund is sent again with the SAME key (Vipps's idempotency guarantees at most one refund),
 * within Vipps's limit of refund calls per payment per minute. Vipps or the credential store being
 * unreachable only postpones it. {@link RefundReconcilerVerticle} runs the passes.
 *
 * <p>Thread-safety: {@link #runOnce} may be called from any thread; the running pass is kept in an
 * {@link AtomicReference} replaced only by compare-and-set. Everything else is immutable.
 */
public final class RefundReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(RefundReconciler.class);
  private static final Actor ACTOR = Actor.system("reconciler");

  private final Pool pool;
  private final RefundRepository refunds;
  private final RefundRecorder recorder;
  private final CredentialProvider credentials;
  private final VippsGateway vipps;
  private final Clock clock;
  private final RefundConfig config;
  private final Duration lease;

  /** The pass running now, or the last one; replaced only by compare-and-set. */
  private final AtomicReference<Future<Integer>> running = new AtomicReference<>();

  public RefundReconciler(
      Pool pool,
      RefundRepository refunds,
      RefundRecorder recorder,
      CredentialProvider credentials,
      VippsGateway vipps,
      Clock clock,
      RefundConfig config,
      Duration callBudget) {
    this.pool = pool;
    this.refunds = refunds;
    this.recorder = recorder;
    this.credentials = credentials;
    this.vipps = vipps;
    this.clock = clock;
    this.config = config;
    this.lease = callBudget.multipliedBy(2);
  }

  /**
   * One pass over the refunds that are due. A pass already running is joined, not duplicated: the
   * pass is claimed with a compare-and-set, so two callers on different threads (the verticle's
   * timer, a test, another event loop) never start two.
   *
   * @return how many refunds this pass looked at (0 when none were due)
   */
  public Future<Integer> runOnce() {
    Promise<Integer> mine = Promise.promise();
    Future<Integer> current = running.get();
    while (current == null || current.isComplete()) {
      if (running.compareAndSet(current, mine.future())) {
        pass().onComplete(mine);
        return mine.future();
      }
      current = running.get();
    }
    return current;
  }

  /** Completes when no pass is running (at once when none is); never fails. */
  public Future<Void> idle() {
    Future<Integer> current = running.get();
    return current == null ? Future.succeededFuture() : current.<Void>mapEmpty().otherwiseEmpty();
  }

  private Future<Integer> pass() {
    Instant now = clock.instant();
    return refunds
        .claimDue(pool, now, now.plus(lease), config.reconcilerBatch())
        .compose(this::reconcileAll)
        .onFailure(e -> LOG.warn("reconciler pass failed; will retry", e));
  }

  private Future<Integer> reconcileAll(List<Refund> due) {
    Future<Void> chain = Future.succeededFuture();
    for (Refund refund : due) {
      chain = chain.compose(v -> reconcile(refund).recover(e -> postpone(refund, e)));
    }
    return chain.map(v -> due.size());
  }

  private Future<Void> reconcile(Refund refund) {
    return credentials
        .current(refund.msn())
        .compose(
            keys ->
                vipps
                    .lookupRefund(keys.inUse(refund.api()), refund.orderId(), refund.upstreamKey())
                    .compose(
                        lookup ->
                            lookup == RefundLookup.APPLIED
                                ? record(refund, RefundOutcome.applied(200))
                                : resend(refund, keys)));
  }

  private Future<Void> resend(Refund refund, StoreCredentials keys) {
    Instant now = clock.instant();
    return refunds
        .recentCalls(pool, refund.msn(), refund.orderId(), now.minus(Duration.ofMinutes(1)))
        .compose(
            recent -> {
              if (recent.calls() >= config.upstreamCallsPerMinute()) {
                return refunds.reschedule(
                    pool, refund.refundId(), recent.oldest().plus(Duration.ofMinutes(1)));
              }
              return refunds
                  .recordAttempt(pool, refund.refundId(), keys.version(), now)
                  .compose(v -> vipps.refund(RefundService.callFor(refund, keys)))
                  .compose(outcome -> record(refund, outcome));
            });
  }

  private Future<Void> record(Refund refund, RefundOutcome outcome) {
    return recorder
        .record(refund.refundId(), outcome, ACTOR, null)
        .onSuccess(
            updated ->
                LOG.atInfo()
                    .setMessage("reconciled refund")
                    .addKeyValue("refundId", updated.refundId())
                    .addKeyValue("status", updated.status())
                    .log())
        .mapEmpty();
  }

  private Future<Void> postpone(Refund refund, Throwable cause) {
    Duration delay = recorder.backoff(refund.attempts());
    LOG.atInfo()
        .setMessage("refund not resolved yet; postponed")
        .addKeyValue("refundId", refund.refundId())
        .addKeyValue("retryInMs", delay.toMillis())
        .addKeyValue("cause", cause.getClass().getSimpleName())
        .log();
    return refunds.reschedule(pool, refund.refundId(), clock.instant().plus(delay));
  }
}
