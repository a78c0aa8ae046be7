package io.refundbroker.refund;

import io.refundbroker.caller.Actor;
import io.refundbroker.config.BrokerConfig.RefundConfig;
import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.vipps.RefundLookup;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves PENDING and UNKNOWN refunds (the janitor). At start-up and every {@code
 * RECONCILER_INTERVAL} it claims due refunds ({@code FOR UPDATE SKIP LOCKED} plus a lease, so
 * several broker instances share the work), then for each one reads the payment's event log for its
 * idempotency key: applied → SUCCEEDED; not applied → the refund is sent again with the SAME key
 * (Vipps's idempotency guarantees at most one refund), within Vipps's limit of refund calls per
 * payment per minute. Vipps or the credential store being unreachable only postpones it.
 */
public final class RefundReconciler {
  private static final Logger LOG = LoggerFactory.getLogger(RefundReconciler.class);
  private static final Actor ACTOR = Actor.system("reconciler");

  private final Vertx vertx;
  private final Pool pool;
  private final RefundRepository refunds;
  private final RefundRecorder recorder;
  private final CredentialProvider credentials;
  private final VippsGateway vipps;
  private final Clock clock;
  private final RefundConfig config;
  private final Duration lease;
  private final AtomicReference<Future<Integer>> running = new AtomicReference<>();
  private long timer = -1;

  public RefundReconciler(
      Vertx vertx,
      Pool pool,
      RefundRepository refunds,
      RefundRecorder recorder,
      CredentialProvider credentials,
      VippsGateway vipps,
      Clock clock,
      RefundConfig config,
      Duration callBudget) {
    this.vertx = vertx;
    this.pool = pool;
    this.refunds = refunds;
    this.recorder = recorder;
    this.credentials = credentials;
    this.vipps = vipps;
    this.clock = clock;
    this.config = config;
    this.lease = callBudget.multipliedBy(2);
  }

  /** Runs a pass now and then every interval, until {@link #stop()}. */
  public void start() {
    runOnce();
    timer = vertx.setPeriodic(config.reconcilerInterval().toMillis(), id -> runOnce());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  /**
   * One pass over the refunds that are due. A pass already running is joined, not duplicated.
   *
   * @return how many refunds this pass looked at (0 when none were due)
   */
  public Future<Integer> runOnce() {
    Future<Integer> current = running.get();
    if (current != null && !current.isComplete()) {
      return current;
    }
    Instant now = clock.instant();
    Future<Integer> pass =
        refunds
            .claimDue(pool, now, now.plus(lease), config.reconcilerBatch())
            .compose(this::reconcileAll)
            .onFailure(e -> LOG.warn("reconciler pass failed; will retry", e));
    running.set(pass);
    return pass;
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
