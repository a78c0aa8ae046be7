package io.refundbroker.app;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.db.Database;
import io.refundbroker.db.EmbeddedDatabase;
import io.refundbroker.db.Migrations;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a whole broker process up and down: database (embedded or external, migrated), Vert.x with
 * metrics, the {@link BrokerApp}. Blocking; used from the CLI's main thread only. Thread-safe only
 * in {@link #close}, which a shutdown hook may call from its own thread: an {@link AtomicBoolean}
 * lets the first close run and makes the others no-ops.
 */
public final class Launcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);

  private final EmbeddedDatabase embedded;
  private final Vertx vertx;
  private final BrokerApp app;
  private final Duration grace;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Launcher(EmbeddedDatabase embedded, Vertx vertx, BrokerApp app, Duration grace) {
    this.embedded = embedded;
    this.vertx = vertx;
    this.app = app;
    this.grace = grace;
  }

  /**
   * Starts everything and returns once the HTTP API is listening.
   *
   * @throws Exception when any part fails to start (what has started is stopped again)
   */
  public static Launcher start(BrokerConfig config) throws Exception {
    long started = System.nanoTime();
    EmbeddedDatabase embedded = null;
    Vertx vertx = null;
    try {
      DatabaseUrl appUrl;
      String schemaVersion;
      if (config.database().embedded()) {
        embedded = EmbeddedDatabase.start(config.dataDir().resolve("postgres"));
        schemaVersion =
            Migrations.migrate(
                embedded.ownerUrl(EmbeddedDatabase.DATABASE), EmbeddedDatabase.APP_USER);
        appUrl = embedded.appUrl(EmbeddedDatabase.DATABASE);
      } else {
        appUrl = config.database().url().orElseThrow();
        DatabaseUrl owner = config.database().migrationUrl().orElse(appUrl);
        schemaVersion = Migrations.migrate(owner, appUrl.user());
      }

      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      vertx = newVertx(registry);
      Database database =
          Database.connect(vertx, appUrl, config.database().poolSize(), schemaVersion);
      BrokerApp app =
          BrokerApp.start(vertx, config, database, registry, Clock.systemUTC())
              .toCompletionStage()
              .toCompletableFuture()
              .get(120, TimeUnit.SECONDS);
      LOG.atInfo()
          .setMessage("refund-broker ready")
          .addKeyValue("port", app.httpPort())
          .addKeyValue("startupMs", (System.nanoTime() - started) / 1_000_000)
          .addKeyValue("database", config.database().embedded() ? "embedded" : appUrl.toString())
          .log();
      return new Launcher(embedded, vertx, app, config.http().shutdownGrace());
    } catch (Exception | Error e) {
      closeQuietly(vertx, embedded);
      throw e;
    }
  }

  /** A Vert.x instance that reports its metrics (and the JVM's) to {@code registry}. */
  public static Vertx newVertx(PrometheusMeterRegistry registry) {
    return Vertx.builder()
        .with(
            new VertxOptions()
                .setMetricsOptions(
                    new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
  }

  public BrokerApp app() {
    return app;
  }

  /**
   * SIGHUP: reads the TLS files again and serves the new certificate (the outcome is logged).
   * Returns at once; safe to call from the signal thread.
   */
  public void reloadTls() {
    app.reloadTls()
        .onFailure(
            failure ->
                LOG.atWarn()
                    .setMessage("SIGHUP: nothing reloaded")
                    .addKeyValue("reason", failure.getMessage())
                    .log());
  }

  public Vertx vertx() {
    return vertx;
  }

  /**
   * Graceful stop: in-flight requests finish, then the pool, Vert.x and PostgreSQL close. Safe to
   * call more than once (the signal handler and the fallback shutdown hook may both call it).
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    LOG.info("refund-broker stopping");
    try {
      app.stop()
          .toCompletionStage()
          .toCompletableFuture()
          .get(grace.toMillis() + 10_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("broker did not stop cleanly", e);
    }
    closeQuietly(vertx, embedded);
    LOG.info("refund-broker stopped");
  }

  private static void closeQuietly(Vertx vertx, EmbeddedDatabase embedded) {
    if (vertx != null) {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("Vert.x did not close cleanly", e);
      }
    }
    if (embedded != null) {
      embedded.close();
    }
  }
}
