package io.refundbroker.audit;

import io.refundbroker.audit.AuditTrailRepository.Anchor;
import io.refundbroker.audit.AuditTrailRepository.CheckpointState;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.db.Transactions;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes signed checkpoints of the audit chain: one every {@code every} events or when the oldest
 * unsigned event is {@code interval} old, whichever comes first, and only when there are new
 * events.
 *
 * <p><b>Nothing is signed unchecked.</b> Before it signs, the checkpointer verifies every event
 * since the last checkpoint — its link, its hash and its {@link AuditMac MAC} — starting from the
 * head hash that checkpoint signed. It signs the head only when all of them are genuine; at the
 * first event that is not (forged by someone without the MAC key, or tampered with), it signs up to
 * the event before, raises the alarm ({@link AuditAlarms}) and stops there: later rounds sign
 * nothing past that event until an operator acknowledges it ({@code POST
 * /v1/admin/audit/forgeries}, which appends a genuine {@value AuditVerifier#ACKNOWLEDGED} event
 * naming it). A checkpoint never covers a forged event without also covering its acknowledgement.
 *
 * <p>Safe with several broker instances: a maker first takes a transaction-scoped advisory lock
 * without waiting (whoever does not get it skips this round), re-reads the state under the lock and
 * signs the head <em>as committed</em> (read in its own transaction). The table's trigger refuses a
 * checkpoint that does not move forward or does not match the trail.
 */
public final class CheckpointService {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointService.class);

  /** Events read per batch while checking. */
  private static final int BATCH = 2000;

  private final Pool pool;
  private final AuditTrailRepository trail;
  private final CheckpointSigner signer;
  private final AuditMacKey mac;
  private final AuditAlarms alarms;
  private final WorkerExecutor worker;
  private final Clock clock;
  private final int every;
  private final Duration interval;

  /**
   * @param worker a bounded executor for the hashing and MAC checks
   */
  public CheckpointService(
      Pool pool,
      AuditTrailRepository trail,
      CheckpointSigner signer,
      AuditMacKey mac,
      AuditAlarms alarms,
      WorkerExecutor worker,
      Clock clock,
      int every,
      Duration interval) {
    this.pool = pool;
    this.trail = trail;
    this.signer = signer;
    this.mac = mac;
    this.alarms = alarms;
    this.worker = worker;
    this.clock = clock;
    this.every = every;
    this.interval = interval;
  }

  /**
   * Makes a checkpoint if one is due.
   *
   * @return the checkpoint made, or empty (none due, another instance is making one, or the first
   *     new event is not genuine); fails when the database or the signer fails
   */
  public Future<Optional<Checkpoint>> checkpointIfDue() {
    return trail
        .checkpointState(pool)
        .compose(
            state -> due(state, false) ? make(false) : Future.succeededFuture(Optional.empty()));
  }

  /**
   * Checkpoints the committed head now, unless it already is (used on shutdown, and by operators'
   * tests); like every checkpoint, only as far as the events are genuine.
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

  /** What a round did: the checkpoint it signed (if any) and the bad event it found (if any). */
  private record Round(Optional<Checkpoint> signed, Long badSeq, String reason) {
    static Round nothing() {
      return new Round(Optional.empty(), null, null);
    }
  }

  private Future<Optional<Checkpoint>> make(boolean force) {
    return Transactions.run(
            pool,
            tx ->
                trail
                    .tryLockCheckpoints(tx)
                    .compose(
                        locked ->
                            locked
                                ? signIfDue(tx, force)
                                : Future.succeededFuture(Round.nothing())))
        .compose(this::alarmIfBad);
  }

  /** With the checkpoint lock held: a checkpoint when one is due (or forced). */
  private Future<Round> signIfDue(SqlConnection tx, boolean force) {
    return trail
        .checkpointState(tx)
        .compose(
            state ->
                due(state, force)
                    ? checkAndSign(tx, state)
                    : Future.succeededFuture(Round.nothing()));
  }

  private Future<Optional<Checkpoint>> alarmIfBad(Round round) {
    if (round.badSeq() == null) {
      return Future.succeededFuture(round.signed());
    }
    return alarms.raise(round.badSeq(), round.reason()).map(raised -> round.signed());
  }

  /** Verifies the events since the last checkpoint, then signs as far as they are genuine. */
  private Future<Round> checkAndSign(SqlConnection tx, CheckpointState state) {
    return trail
        .anchor(tx)
        .compose(
            anchor ->
                trail
                    .acknowledgements(tx, anchor.seq())
                    .compose(acks -> check(tx, anchor, acks, state.headSeq())))
        .compose(
            result -> {
              if (result.valid()) {
                // exactly the head that was checked (the sequencer may have linked more since)
                return sign(tx, result.headSeq(), result.headHash())
                    .map(signed -> new Round(signed, null, null));
              }
              long good = result.firstInvalidSeq() - 1;
              Future<Optional<Checkpoint>> signed =
                  good > state.checkpointSeq()
                      ? trail.hashAt(tx, good).compose(hash -> sign(tx, good, hash))
                      : Future.succeededFuture(Optional.empty());
              return signed.map(
                  checkpoint -> new Round(checkpoint, result.firstInvalidSeq(), result.reason()));
            });
  }

  /** Streams the events after the anchor up to {@code headSeq}, stopping at the first bad one. */
  private Future<AuditVerifier.Result> check(
      SqlConnection tx,
      Anchor anchor,
      Map<Long, AuditVerifier.Acknowledgement> acks,
      long headSeq) {
    return mac.get()
        .map(key -> AuditVerifier.segment(anchor.seq(), anchor.hash(), anchor.hasMac(), key, acks))
        .compose(verifier -> checkWith(tx, verifier, anchor, headSeq));
  }

  private Future<AuditVerifier.Result> checkWith(
      SqlConnection tx, AuditVerifier verifier, Anchor anchor, long headSeq) {
    return AsyncLoop.until(
            anchor.seq(),
            after -> after >= headSeq || verifier.failed(),
            after ->
                trail
                    .eventsAfter(tx, after, headSeq, BATCH)
                    .compose(events -> feed(verifier, events, headSeq)))
        .compose(end -> worker.executeBlocking(verifier::finish, true));
  }

  private Future<Long> feed(AuditVerifier verifier, List<ChainedEvent> events, long headSeq) {
    if (events.isEmpty()) {
      return Future.succeededFuture(headSeq);
    }
    long last = events.get(events.size() - 1).seq();
    return worker.executeBlocking(
        () -> {
          events.forEach(verifier::accept);
          return last;
        },
        true);
  }

  private Future<Optional<Checkpoint>> sign(SqlConnection tx, long seq, String hash) {
    Checkpoint unsigned = new Checkpoint(seq, hash, clock.instant(), signer.keyId(), null);
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
  }
}
