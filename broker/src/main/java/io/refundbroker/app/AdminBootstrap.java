package io.refundbroker.app;

import io.refundbroker.audit.AuditMacKey;
import io.refundbroker.auth.ClientService;
import io.refundbroker.config.BrokerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the first admin client ({@code BROKER_ADMIN_TOKEN}, or a generated token written to its
 * file) when there is none. Its audit event needs the MAC key: while that cannot be read (Vault
 * down at the first start) the broker starts anyway, unready, and creates the admin as soon as the
 * key can be read (checked every {@link #RETRY}).
 *
 * <p>Thread safety: one attempt runs at a time (a compare-and-set guard); the retry timer's id is
 * volatile, so {@link #stop()} may run on any thread.
 */
final class AdminBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(AdminBootstrap.class);

  /** How often a deferred first-admin creation is tried again. */
  static final Duration RETRY = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final BrokerConfig config;
  private final AuditMacKey mac;
  private final ClientService clients;
  private final AtomicBoolean attempting = new AtomicBoolean();
  private volatile long timer = -1;

  AdminBootstrap(Vertx vertx, BrokerConfig config, AuditMacKey mac, ClientService clients) {
    this.vertx = vertx;
    this.config = config;
    this.mac = mac;
    this.clients = clients;
  }

  /**
   * Creates the first admin now, or defers it while the MAC key cannot be read.
   *
   * @return the generated token when one was created now; empty when none was needed, the token was
   *     configured, or the creation was deferred
   */
  Future<Optional<String>> start() {
    return mac.get()
        .transform(
            key -> {
              if (key.succeeded()) {
                return attempt();
              }
              LOG.atWarn()
                  .setMessage(
                      "the first admin client is created once the audit MAC key can be read"
                          + " (nothing can be recorded before); trying again periodically")
                  .addKeyValue("every", RETRY)
                  .log();
              timer = vertx.setPeriodic(RETRY.toMillis(), this::retry);
              return Future.succeededFuture(Optional.empty());
            });
  }

  /** Stops a deferred creation's retries. */
  void stop() {
    long id = timer;
    if (id >= 0) {
      vertx.cancelTimer(id);
    }
  }

  private Future<Optional<String>> attempt() {
    return clients.bootstrapAdmin(
        config.http().adminToken(), token -> AdminTokenFile.write(vertx, config.dataDir(), token));
  }

  private void retry(long id) {
    if (!attempting.compareAndSet(false, true)) {
      return;
    }
    mac.get()
        .compose(key -> attempt())
        .onSuccess(
            generated -> {
              vertx.cancelTimer(id);
              generated.ifPresent(
                  token ->
                      LOG.atInfo()
                          .setMessage("generated the first admin token")
                          .addKeyValue("file", AdminTokenFile.path(config.dataDir()))
                          .log());
            })
        .onComplete(done -> attempting.set(false));
  }
}
