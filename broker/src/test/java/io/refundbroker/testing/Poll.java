package io.refundbroker.testing;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition without sleeping: a Vert.x timer re-checks it (on a worker thread, so it
 * may block) every few milliseconds until it holds or the deadline passes.
 */
public final class Poll {
  private Poll() {}

  /**
   * Blocks the test thread until {@code condition} is true.
   *
   * @throws AssertionError naming {@code what} when {@code timeout} passes first
   */
  public static void until(Vertx vertx, Duration timeout, String what, BooleanSupplier condition) {
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + timeout.toNanos();
    AtomicBoolean checking = new AtomicBoolean();
    long timer =
        vertx.setPeriodic(
            25,
            id -> {
              if (!checking.compareAndSet(false, true)) {
                return;
              }
              vertx
                  .executeBlocking(condition::getAsBoolean, false)
                  .onComplete(
                      result -> {
                        checking.set(false);
                        if (result.succeeded() && result.result()) {
                          done.tryComplete();
                        } else if (System.nanoTime() > deadline) {
                          done.tryFail(new AssertionError("timed out waiting until " + what));
                        }
                      });
            });
    try {
      Await.result(done.future(), timeout.plusSeconds(5));
    } finally {
      vertx.cancelTimer(timer);
    }
  }
}
