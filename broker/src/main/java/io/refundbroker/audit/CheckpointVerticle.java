package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link CheckpointService#checkpointIfDue()} on a timer (at most every second, so "every N
 * events" is honoured within about a second), one round at a time. On undeploy it cancels the timer
 * and signs a last checkpoint of the committed head, so a clean shutdown leaves no unsigned tail.
 */
public final class CheckpointVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointVerticle.class);
  private static final Duration FINAL_CHECKPOINT_TIMEOUT = Duration.ofSeconds(10);

  private final CheckpointService checkpoints;
  private final Duration period;
  private long timer = -1;
  private Future<?> running = Future.succeededFuture();
  private boolean failing;

  public CheckpointVerticle(CheckpointService checkpoints, Duration interval) {
    this.checkpoints = checkpoints;
    this.period = interval.compareTo(Duration.ofSeconds(1)) < 0 ? interval : Duration.ofSeconds(1);
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(period.toMillis(), id -> tick());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return running
        .transform(previous -> checkpoints.checkpointNow())
        .timeout(FINAL_CHECKPOINT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .onFailure(
            failure ->
                LOG.atWarn()
                    .setMessage("could not sign a last audit checkpoint on shutdown")
                    .setCause(failure)
                    .log())
        .otherwiseEmpty();
  }

  private void tick() {
    if (!running.isComplete()) {
      return;
    }
    running = checkpoints.checkpointIfDue().onSuccess(made -> recovered()).onFailure(this::failed);
  }

  private void recovered() {
    if (failing) {
      failing = false;
      LOG.info("audit checkpoints are being signed again");
    }
  }

  private void failed(Throwable failure) {
    // log the first failure of a streak with its cause, then stay quiet until it recovers
    if (!failing) {
      failing = true;
      LOG.atError()
          .setMessage("audit checkpoint failed; retrying every round")
          .setCause(failure)
          .log();
    }
  }
}
