package io.refundbroker.refund;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link RefundReconciler} pass at deployment and then every {@code RECONCILER_INTERVAL} (a
 * pass still running when the timer fires is joined, not doubled). Undeploying it stops the timer
 * and waits (a while) for a pass in flight, so the audit events it appends are linked and signed by
 * the audit verticles that stop after it.
 */
public final class RefundReconcilerVerticle extends VerticleBase {
  /** The longest a stop waits for a running pass (what it has not recorded, the next pass does). */
  private static final Duration STOP_WAIT = Duration.ofSeconds(10);

  private final RefundReconciler reconciler;
  private final Duration interval;
  private long timer = -1;

  public RefundReconcilerVerticle(RefundReconciler reconciler, Duration interval) {
    this.reconciler = reconciler;
    this.interval = interval;
  }

  @Override
  public Future<?> start() {
    reconciler.runOnce();
    timer = vertx.setPeriodic(Math.max(1, interval.toMillis()), id -> reconciler.runOnce());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return reconciler.idle().timeout(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS).otherwiseEmpty();
  }
}
