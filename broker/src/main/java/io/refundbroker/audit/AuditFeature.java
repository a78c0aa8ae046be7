package io.refundbroker.audit;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.audit.AuditLinkRepository.Link;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.config.BrokerConfig.AuditConfig;
import io.refundbroker.http.Api;
import io.refundbroker.http.Feature;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit feature: the auditors' endpoints, the sequencer that links committed events into the
 * chain and the checkpointer that signs it. Its verticles are deployed checkpointer first, so that
 * on shutdown (reverse order) the sequencer links the last events before the checkpointer signs a
 * last checkpoint over them.
 */
public final class AuditFeature implements Feature {
  private static final Logger LOG = LoggerFactory.getLogger(AuditFeature.class);

  /** The most audit events one sequencer batch links (a backlog is linked batch after batch). */
  private static final int SEQUENCER_BATCH = 5000;

  private final AuditRoutes routes;
  private final AuditSequencer sequencer;
  private final CheckpointService checkpoints;
  private final AuditConfig config;

  private AuditFeature(
      AuditRoutes routes,
      AuditSequencer sequencer,
      CheckpointService checkpoints,
      AuditConfig config) {
    this.routes = routes;
    this.sequencer = sequencer;
    this.checkpoints = checkpoints;
    this.config = config;
  }

  /**
   * @param mac the key every event's MAC is made with
   * @param signer signs checkpoints (its key outside the database)
   * @param worker the bounded worker for signing and verification hashing
   */
  public static AuditFeature create(
      Vertx vertx,
      Pool pool,
      PgConnectOptions connectOptions,
      AuditLog audit,
      AuditMacKey mac,
      CheckpointSigner signer,
      WorkerExecutor worker,
      MeterRegistry registry,
      Clock clock,
      AuditConfig config) {
    AuditTrailRepository trail = new AuditTrailRepository();
    AuditService service =
        new AuditService(pool, audit, trail, new RefundLogRepository(), signer, mac, worker);
    AuditSequencer sequencer =
        new AuditSequencer(
            vertx, connectOptions, new AuditLinkRepository(), SEQUENCER_BATCH, testPause(config));
    CheckpointService checkpoints =
        new CheckpointService(
            pool,
            trail,
            signer,
            mac,
            new AuditAlarms(pool, audit, registry),
            worker,
            clock,
            config.checkpointEvery(),
            config.checkpointInterval());
    return new AuditFeature(new AuditRoutes(service), sequencer, checkpoints, config);
  }

  public AuditSequencer sequencer() {
    return sequencer;
  }

  public CheckpointService checkpoints() {
    return checkpoints;
  }

  @Override
  public void mount(Api api) {
    routes.mount(api);
  }

  @Override
  public List<Deployable> verticles() {
    return List.of(
        new CheckpointVerticle(checkpoints, config.checkpointInterval()),
        new AuditSequencerVerticle(sequencer, config.sequencerInterval()));
  }

  /**
   * Nothing, unless {@code AUDIT_SEQUENCER_TEST_PAUSE} names an action (tests only): then the first
   * batch that links such an event stays open forever just before its commit, so a test can kill
   * the process in the middle of a batch.
   */
  private static AuditSequencer.BatchHook testPause(AuditConfig config) {
    return config
        .sequencerTestPause()
        .<AuditSequencer.BatchHook>map(PauseOnce::new)
        .orElse(batch -> Future.succeededFuture());
  }

  /**
   * Holds the first batch linking {@code action} open forever. Runs on the sequencer's context; the
   * flag is atomic only so that a test reading it from elsewhere sees it.
   */
  private static final class PauseOnce implements AuditSequencer.BatchHook {
    private final String action;
    private final AtomicBoolean paused = new AtomicBoolean();

    PauseOnce(String action) {
      this.action = action;
    }

    @Override
    public Future<Void> beforeCommit(List<Link> batch) {
      if (paused.get() || batch.stream().noneMatch(link -> link.action().equals(action))) {
        return Future.succeededFuture();
      }
      paused.set(true);
      LOG.atWarn()
          .setMessage(
              "audit sequencer paused inside its batch before the commit"
                  + " (AUDIT_SEQUENCER_TEST_PAUSE, tests only)")
          .addKeyValue("from", batch.get(0).seq())
          .addKeyValue("to", batch.get(batch.size() - 1).seq())
          .log();
      return Promise.<Void>promise().future();
    }
  }
}
