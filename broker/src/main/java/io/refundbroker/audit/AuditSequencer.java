package io.refundbroker.audit;

import io.refundbroker.audit.AuditLinkRepository.Found;
import io.refundbroker.audit.AuditLinkRepository.Head;
import io.refundbroker.audit.AuditLinkRepository.Link;
import io.refundbroker.audit.AuditLinkRepository.Unlinked;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Transaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Links committed audit events into the chain: gives each its {@code seq}, {@code prevHash} and
 * {@code hash}, in batches, one sequencer per cluster — as Certificate Transparency logs and
 * Trillian sequence their entries.
 *
 * <p><b>Leader election.</b> Every instance keeps one dedicated connection and tries a
 * <em>session-level</em> advisory lock on it (at once, then at most every {@link #PROBE} while
 * another instance holds it). The holder links, on that same connection, until it stops or its
 * connection dies; PostgreSQL then releases the lock and a follower takes over at its next probe.
 * Session-level rather than per-batch: leadership is sticky (only the leader polls at the short
 * interval, followers once a second), and since batches run on the connection that holds the lock,
 * an instance that lost its connection cannot link any more. The lock excludes other sequencers
 * only — it is never held by, or waited for by, a refund's transaction. The connection sets short
 * TCP keepalive and user timeouts, so PostgreSQL notices a leader whose host vanished within about
 * 15 seconds, and plans every poll for the horizon it is given ({@code plan_cache_mode =
 * force_custom_plan}): a generic plan cannot use the horizon and reads the whole trail.
 *
 * <p><b>A batch</b> is one transaction: read up to {@code maxBatch} committed unlinked events, read
 * the head, insert their links (the table's trigger checks each against the chain as committed),
 * commit. A crash before the commit leaves nothing behind; the next leader links those events
 * again, once. Which events are unlinked is found through each entry's transaction id (see {@link
 * AuditLinkRepository}); each batch's links record the horizon the next batch starts from, and a
 * new leader resumes from the head link's (from the beginning of the trail when it has none), so
 * events committed while no sequencer ran are linked when one comes back, without a scan of the
 * whole trail.
 *
 * <p>Not thread-safe: call it from one Vert.x context only (its verticle's), one round at a time.
 */
public final class AuditSequencer {
  /** How often a follower tries to take over. */
  public static final Duration PROBE = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(AuditSequencer.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  /** Runs inside a batch's transaction, after its links are inserted and before the commit. */
  @FunctionalInterface
  public interface BatchHook {
    Future<Void> beforeCommit(List<Link> links);
  }

  private final Vertx vertx;
  private final PgConnectOptions options;
  private final AuditLinkRepository links;
  private final int maxBatch;
  private final BatchHook beforeCommit;

  private PgConnection connection;
  // read from other threads (readiness, metrics, tests): volatile; written on the sequencer's
  // context
  private volatile boolean leading;
  private long horizon;
  private long nextAttemptAt;
  private Duration backoff = Duration.ofMillis(200);
  private volatile long linked;
  private boolean failing;
  private boolean closed;

  /**
   * @param options the pool's connection settings (a dedicated connection is opened from them)
   * @param maxBatch the most events one batch links (more are linked by the next batch at once)
   */
  public AuditSequencer(
      Vertx vertx,
      PgConnectOptions options,
      AuditLinkRepository links,
      int maxBatch,
      BatchHook beforeCommit) {
    this.vertx = vertx;
    this.options = dedicated(options);
    this.links = links;
    this.maxBatch = maxBatch;
    this.beforeCommit = beforeCommit;
    this.nextAttemptAt = System.nanoTime();
  }

  /** The settings of the sequencer's own connection, made from the pool's. */
  static PgConnectOptions dedicated(PgConnectOptions pool) {
    PgConnectOptions own = new PgConnectOptions(pool).setReconnectAttempts(0);
    own.getProperties().put("application_name", "refund-broker-audit-sequencer");
    // plan every poll for its horizon: the generic plan PostgreSQL may pick for a prepared poll
    // after five executions cannot use it and scans the whole trail (13–25 ms a poll, measured)
    own.getProperties().put("plan_cache_mode", "force_custom_plan");
    // notice a leader whose host vanished (no FIN) within about 15 s, so a follower can take over
    own.getProperties().put("tcp_keepalives_idle", "5");
    own.getProperties().put("tcp_keepalives_interval", "2");
    own.getProperties().put("tcp_keepalives_count", "3");
    own.getProperties().put("tcp_user_timeout", "10000");
    return own;
  }

  /** Whether this instance holds the sequencer lock. */
  public boolean leading() {
    return leading;
  }

  /** How many events this instance has linked since it started. */
  public long linked() {
    return linked;
  }

  /**
   * One round: connects and tries to lead when due, and links every committed event when leading. A
   * failure is logged (the first of a streak at ERROR) and retried by a later round.
   *
   * @return the number of events linked in this round; fails when the database fails
   */
  public Future<Integer> round() {
    if (closed) {
      return Future.succeededFuture(0);
    }
    if (connection != null && leading) {
      return linkAll().onSuccess(count -> recovered()).onFailure(this::logFailure);
    }
    if (System.nanoTime() - nextAttemptAt < 0) {
      return Future.succeededFuture(0);
    }
    return (connection == null ? connect() : Future.<Void>succeededFuture())
        .compose(connected -> tryLead())
        .compose(lead -> lead ? linkAll() : Future.succeededFuture(0))
        .onSuccess(count -> recovered())
        .onFailure(this::retryLater);
  }

  /**
   * On a clean stop: takes the lead if nobody holds it, links every committed event, then closes
   * the connection (which releases the lock for the next leader).
   *
   * @return completes when done; never fails (a failure is logged)
   */
  public Future<Void> stop() {
    nextAttemptAt = System.nanoTime();
    Future<Integer> last = closed ? Future.succeededFuture(0) : round();
    return last.recover(
            failure -> {
              LOG.atWarn()
                  .setMessage("audit sequencer could not link the last events on shutdown")
                  .setCause(failure)
                  .log();
              return Future.succeededFuture(0);
            })
        .compose(count -> close());
  }

  /** Closes the connection (releasing the lock) and stops linking. */
  public Future<Void> close() {
    closed = true;
    leading = false;
    PgConnection open = connection;
    connection = null;
    return open == null ? Future.succeededFuture() : open.close();
  }

  private Future<Void> connect() {
    return PgConnection.connect(vertx, options)
        .map(
            conn -> {
              if (closed) {
                conn.close();
                return null;
              }
              connection = conn;
              conn.closeHandler(lost -> onLost(conn));
              return null;
            });
  }

  private Future<Boolean> tryLead() {
    PgConnection conn = connection;
    if (conn == null) {
      return Future.succeededFuture(false);
    }
    nextAttemptAt = System.nanoTime() + PROBE.toNanos();
    return links
        .tryLead(conn)
        .compose(
            lead ->
                lead && connection == conn && !closed
                    ? links.resumeHorizon(conn).map(resumeAt -> lead(conn, resumeAt))
                    : Future.succeededFuture(leading));
  }

  private boolean lead(PgConnection conn, long resumeAt) {
    if (connection == conn && !closed) {
      leading = true;
      horizon = resumeAt;
      backoff = Duration.ofMillis(200);
      LOG.atInfo()
          .setMessage("audit sequencer: this instance now links the audit chain")
          .addKeyValue("resumeAtTx", resumeAt)
          .log();
    }
    return leading;
  }

  /** The transaction id from which this instance looks for unlinked events (for tests). */
  long horizon() {
    return horizon;
  }

  private void onLost(PgConnection conn) {
    if (connection != conn) {
      return;
    }
    connection = null;
    if (leading && !closed) {
      LOG.warn(
          "audit sequencer lost its database connection; linking resumes when this or another"
              + " instance takes the lead");
    }
    leading = false;
  }

  /** Links batches until nothing committed is left unlinked. */
  private Future<Integer> linkAll() {
    return AsyncLoop.until(
            new Progress(0, false),
            Progress::done,
            at ->
                linkOnce()
                    .map(count -> new Progress(at.linked() + count, count < maxBatch || !leading)))
        .map(Progress::linked);
  }

  private record Progress(int linked, boolean done) {}

  /** One batch (or none, when nothing waits). */
  private Future<Integer> linkOnce() {
    PgConnection conn = connection;
    if (conn == null || !leading) {
      return Future.succeededFuture(0);
    }
    return links
        .pending(conn, horizon)
        .compose(
            pending -> {
              if (!pending.pending()) {
                // nothing visible with tx_id ≥ horizon is unlinked, and everything older was
                horizon = pending.xmin();
                return Future.succeededFuture(0);
              }
              return conn.begin().compose(tx -> batch(conn, tx));
            });
  }

  private Future<Integer> batch(PgConnection conn, Transaction tx) {
    return links
        .unlinked(conn, horizon, maxBatch)
        .compose(found -> links.head(conn).compose(head -> insertAndCommit(conn, tx, head, found)))
        .recover(failure -> tx.rollback().transform(rolledBack -> Future.failedFuture(failure)));
  }

  private Future<Integer> insertAndCommit(
      PgConnection conn, Transaction tx, Head head, Found found) {
    List<Link> batch = chain(head, found.events());
    int count = found.events().size();
    // a full batch may have left events of older transactions behind: resume from the last one
    long nextHorizon =
        count < maxBatch
            ? found.xmin()
            : Math.min(found.xmin(), found.events().get(count - 1).txId());
    return links
        .insert(conn, batch, nextHorizon)
        .compose(done -> beforeCommit.beforeCommit(batch))
        .compose(done -> tx.commit())
        .map(
            committed -> {
              horizon = nextHorizon;
              linked += batch.size();
              if (!batch.isEmpty()) {
                LOG.atDebug()
                    .setMessage("audit events linked")
                    .addKeyValue("from", batch.get(0).seq())
                    .addKeyValue("to", batch.get(batch.size() - 1).seq())
                    .log();
              }
              return batch.size();
            });
  }

  private static List<Link> chain(Head head, List<Unlinked> found) {
    List<Link> chained = new ArrayList<>(found.size());
    long seq = head.seq();
    String previous = head.hash();
    for (Unlinked event : found) {
      seq++;
      String hash = ChainedEvent.linkHash(seq, event.entryHash(), event.mac(), previous);
      chained.add(new Link(seq, event.eventId(), event.action(), previous, hash));
      previous = hash;
    }
    return chained;
  }

  private void retryLater(Throwable failure) {
    nextAttemptAt = System.nanoTime() + backoff.toNanos();
    backoff =
        backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    logFailure(failure);
  }

  private void recovered() {
    if (failing) {
      failing = false;
      LOG.info("audit sequencer is linking again");
    }
  }

  private void logFailure(Throwable failure) {
    // the first failure of a streak with its cause, then quiet until it recovers
    if (!failing && !closed) {
      failing = true;
      LOG.atError().setMessage("audit sequencer failed; retrying").setCause(failure).log();
    }
  }
}
