package io.refundbroker.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells every broker instance that a store's keys changed, through PostgreSQL {@code
 * LISTEN/NOTIFY}: a rotation calls {@link #notifyChanged} inside its transaction (delivered on
 * commit, carrying the MSN and the sending instance's random id), and each instance keeps one
 * dedicated connection in {@code LISTEN} that drops the MSN from its cache. An instance skips its
 * own notifications: it dropped its cache itself when the rotation committed, and dropping it again
 * later would only cost a second backend read. When the connection is lost it reconnects with
 * backoff and, since notifications may have been missed meanwhile, drops the whole cache.
 *
 * <p>Thread-safety: the listening connection, the reconnect timer, the backoff and the closed flag
 * change on the event loop of whichever context connects, reconnects or closes, and are read by
 * readiness probes and {@link #close} from other threads; every read and write of them holds this
 * object's monitor (the {@code synchronized} sites), and no monitor is held across a future — each
 * site only swaps a field and then acts outside it. {@link #notifyChanged} touches none of them.
 */
public final class CredentialInvalidations {
  /**
   * The notification channel; the payload is {@code "<msn> <instance id>"} (never a secret). A
   * payload of the MSN alone counts as another instance's.
   */
  public static final String CHANNEL = "credentials_changed";

  private static final Logger LOG = LoggerFactory.getLogger(CredentialInvalidations.class);
  private static final String LISTEN = "LISTEN " + CHANNEL;
  private static final String NOTIFY = "SELECT pg_notify($1, $2)";
  private static final Duration MIN_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final PgConnectOptions options;
  private final Consumer<String> changed;
  private final Runnable resync;
  private final String origin = UUID.randomUUID().toString();
  private Duration backoff = MIN_BACKOFF;
  private PgConnection connection;
  private long timer = -1;
  private boolean closed;

  private CredentialInvalidations(
      Vertx vertx, PgConnectOptions options, Consumer<String> changed, Runnable resync) {
    this.vertx = vertx;
    this.options = options;
    this.changed = changed;
    this.resync = resync;
  }

  /**
   * Starts listening. A failed first connection does not fail the start: it is retried in the
   * background (the cache TTL bounds how stale an instance can be meanwhile).
   *
   * @param changed called with the MSN of every change notified by any instance
   * @param resync called after a reconnect, when notifications may have been missed
   */
  public static Future<CredentialInvalidations> start(
      Vertx vertx, PgConnectOptions options, Consumer<String> changed, Runnable resync) {
    CredentialInvalidations listener = new CredentialInvalidations(vertx, options, changed, resync);
    return listener
        .connect()
        .map(listener)
        .recover(
            failure -> {
              LOG.atWarn()
                  .setMessage("credential invalidation listener not connected; retrying")
                  .addKeyValue("error", failure.getClass().getSimpleName())
                  .log();
              listener.scheduleReconnect();
              return Future.succeededFuture(listener);
            });
  }

  /**
   * Queues a change notification for {@code msn} in the transaction {@code tx}; PostgreSQL delivers
   * it to every listener when the transaction commits, and never if it rolls back. The caller drops
   * this instance's own cache entry after the commit.
   */
  public Future<Void> notifyChanged(SqlConnection tx, String msn) {
    return tx.preparedQuery(NOTIFY).execute(Tuple.of(CHANNEL, msn + " " + origin)).mapEmpty();
  }

  /** Whether the listening connection is up (for tests and diagnostics). */
  public synchronized boolean listening() {
    return connection != null;
  }

  /** Stops listening and closes the connection. */
  public Future<Void> close() {
    PgConnection open;
    synchronized (this) {
      closed = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      open = connection;
      connection = null;
    }
    return open == null ? Future.succeededFuture() : open.close();
  }

  private Future<Void> connect() {
    return PgConnection.connect(vertx, options)
        .compose(
            conn ->
                conn.query(LISTEN).execute().map(done -> conn).onFailure(failure -> conn.close()))
        .compose(
            conn -> {
              synchronized (this) {
                if (closed) {
                  return conn.close();
                }
                connection = conn;
                backoff = MIN_BACKOFF;
              }
              conn.notificationHandler(
                  notification -> {
                    if (CHANNEL.equals(notification.getChannel())) {
                      received(notification.getPayload());
                    }
                  });
              conn.closeHandler(lost -> onLost(conn));
              return Future.<Void>succeededFuture();
            });
  }

  private void received(String payload) {
    int space = payload.indexOf(' ');
    if (space >= 0 && payload.substring(space + 1).equals(origin)) {
      return;
    }
    changed.accept(space < 0 ? payload : payload.substring(0, space));
  }

  private void onLost(PgConnection conn) {
    synchronized (this) {
      if (closed || connection != conn) {
        return;
      }
      connection = null;
    }
    LOG.warn("credential invalidation listener lost its database connection; reconnecting");
    resync.run();
    scheduleReconnect();
  }

  private synchronized void scheduleReconnect() {
    if (closed) {
      return;
    }
    Duration delay = backoff;
    backoff =
        backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    timer =
        vertx.setTimer(
            delay.toMillis(),
            id -> {
              synchronized (this) {
                timer = -1;
              }
              connect()
                  .onSuccess(
                      v -> {
                        LOG.info("credential invalidation listener reconnected");
                        resync.run();
                      })
                  .onFailure(failure -> scheduleReconnect());
            });
  }
}
