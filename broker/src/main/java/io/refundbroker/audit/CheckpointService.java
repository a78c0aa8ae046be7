package io.refundbroker.audit;

import io.refundbroker.audit.AuditTrailRepository.CheckpointState;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes signed checkpoints of the audit chain: one every {@code every} events or when the oldest
 * unsigned event is {@code interval} old, whichever comes first, and only when there are new
 * events.
 *
 * <p>Safe with several broker instances: a maker first takes a transaction-scoped advisory lock
 * without waiting (whoever does not get it skips this round), re-reads the state under the lock and
 * signs the head <em>as committed</em> (read in its own transaction, so an append still in flight
 * elsewhere is never signed). The table's trigger refuses a checkpoint that does not move forward
 * or does not match the trail.
 */
public final class CheckpointService {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointService.class);

  private final Pool pool;
  private final AuditTrailRepository trail;
  private final CheckpointSigner signer;
  private final Clock clock;
  private final int every;
  private final Duration interval;

  public CheckpointService(
      Pool pool,
      AuditTrailRepository trail,
      CheckpointSigner signer,
      Clock clock,
      int every,
      Duration interval) {
    this.pool = pool;
    this.trail = trail;
    this.signer = signer;
    this.clock = clock;
    this.every = every;
    this.interval = interval;
  }

  /**
   * Makes a checkpoint if one is due.
   *
   * @return the checkpoint made, or empty (none due, or another instance is making one); fails when
   *     the database or the signer fails
   */
  public Future<Optional<Checkpoint>> checkpointIfDue() {
    return trail
        .checkpointState(pool)
        .compose(
            state -> due(state, false) ? make(false) : Future.succeededFuture(Optional.empty()));
  }

  /**
   * Checkpoints the committed head now, unless it already is (used on shutdown, and by operators'
   * tests).
   *
   * @return the checkpoint made, or empty; fails when the database or the signer fails
   */
  public Future<Optional<Checkpoint>> checkpointNow() {
    return make(true);
  }

  private boolean due(CheckpointState state, boolean force) {
    if (state.headSeq() <= state.checkpointSeq()) {
      return false;
    }
    if (force || state.headSeq() - state.checkpointSeq() >= every) {
      return true;
    }
    Instant firstUnsigned = state.firstUnsignedAt();
    return firstUnsigned == null || !firstUnsigned.plus(interval).isAfter(clock.instant());
  }

  private Future<Optional<Checkpoint>> make(boolean force) {
    return pool.withTransaction(
        tx ->
            trail
                .tryLockCheckpoints(tx)
                .compose(
                    locked ->
                        locked
                            ? trail
                                .checkpointState(tx)
                                .compose(
                                    state ->
                                        due(state, force)
                                            ? signHead(tx)
                                            : Future.succeededFuture(Optional.empty()))
                            : Future.succeededFuture(Optional.<Checkpoint>empty())));
  }

  private Future<Optional<Checkpoint>> signHead(SqlConnection tx) {
    return trail
        .head(tx)
        .compose(
            head -> {
              Checkpoint unsigned =
                  new Checkpoint(head.seq(), head.hash(), clock.instant(), signer.keyId(), null);
              return signer
                  .sign(unsigned.signedMessage())
                  .map(unsigned::signedWith)
                  .compose(
                      signed ->
                          trail
                              .insertCheckpoint(tx, signed)
                              .map(
                                  done -> {
                                    LOG.atDebug()
                                        .setMessage("audit checkpoint signed")
                                        .addKeyValue("seq", signed.seq())
                                        .addKeyValue("keyId", signed.keyId())
                                        .addKeyValue("keyVersion", signed.keyVersion())
                                        .log();
                                    return Optional.of(signed);
                                  }));
            });
  }
}
