package io.refundbroker.audit;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link AuditSequencer#round()} every {@code AUDIT_SEQUENCER_INTERVAL}, one round at a time
 * (a round that is still running when the timer fires is not doubled). On undeploy it cancels the
 * timer, waits for the running round, links what is committed (taking the lead if nobody holds it)
 * and releases the lead, so the checkpointer's last checkpoint on shutdown covers every event.
 */
public final class AuditSequencerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AuditSequencerVerticle.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

  private final AuditSequencer sequencer;
  private final Duration interval;
  private long timer = -1;
  private Future<?> running = Future.succeededFuture();

  public AuditSequencerVerticle(AuditSequencer sequencer, Duration interval) {
    this.sequencer = sequencer;
    this.interval = interval;
  }

  @Override
  public Future<?> start() {
    running = sequencer.round();
    timer = vertx.setPeriodic(Math.max(1, interval.toMillis()), id -> tick());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return running
        .transform(previous -> sequencer.stop())
        .timeout(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .recover(
            failure -> {
              LOG.atWarn()
                  .setMessage(
                      "audit sequencer did not stop cleanly; the next leader links the rest")
                  .setCause(failure)
                  .log();
              return sequencer.close();
            });
  }

  private void tick() {
    if (running.isComplete()) {
      running = sequencer.round();
    }
  }
}
