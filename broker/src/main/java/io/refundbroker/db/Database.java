package io.refundbroker.db;

import io.refundbroker.config.DatabaseUrl;
import io.refundbroker.config.Secret;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;

/** The broker's run-time connection to PostgreSQL: a reactive pool built with {@link PgBuilder}. */
public final class Database {
  private static final String SCHEMA_APPLIED =
      """
      SELECT EXISTS (SELECT 1 FROM flyway_schema_history WHERE success AND version = $1) AS applied
      """;

  private final Pool pool;
  private final String schemaVersion;
  private final PgConnectOptions connectOptions;

  private Database(Pool pool, String schemaVersion, PgConnectOptions connectOptions) {
    this.pool = pool;
    this.schemaVersion = schemaVersion;
    this.connectOptions = connectOptions;
  }

  /**
   * Creates the pool. Connections are opened lazily, with the URL's TLS settings ({@code sslmode},
   * {@code sslrootcert}) applied as pgjdbc applies them to the migrations.
   *
   * @param schemaVersion the migration version this build expects (for readiness)
   */
  public static Database connect(Vertx vertx, DatabaseUrl url, int poolSize, String schemaVersion) {
    PgConnectOptions connect =
        new PgConnectOptions()
            .setHost(url.host())
            .setPort(url.port())
            .setDatabase(url.database())
            .setUser(url.user())
            .setCachePreparedStatements(true)
            .setPreparedStatementCacheMaxSize(512)
            .setPipeliningLimit(256)
            .setReconnectAttempts(2)
            .setReconnectInterval(500);
    url.password().map(Secret::reveal).ifPresent(connect::setPassword);
    PgTls.apply(url, connect);
    connect.getProperties().put("application_name", "refund-broker");
    PoolOptions options =
        new PoolOptions().setMaxSize(poolSize).setName("refund-broker").setMaxWaitQueueSize(10_000);
    Pool pool = PgBuilder.pool().with(options).connectingTo(connect).using(vertx).build();
    return new Database(pool, schemaVersion, connect);
  }

  public Pool pool() {
    return pool;
  }

  /**
   * A copy of the pool's connection settings, for a dedicated connection outside the pool (e.g. one
   * that stays in {@code LISTEN}).
   */
  public PgConnectOptions connectOptions() {
    return new PgConnectOptions(connectOptions);
  }

  /**
   * Succeeds when the database answers and the migrations this build was made with are applied.
   *
   * @return a future failed with the reason otherwise
   */
  public Future<Void> checkReady() {
    return pool.preparedQuery(SCHEMA_APPLIED)
        .execute(Tuple.of(schemaVersion))
        .compose(
            rows ->
                rows.iterator().next().getBoolean("applied")
                    ? Future.succeededFuture()
                    : Future.failedFuture("schema version " + schemaVersion + " is not applied"));
  }

  public Future<Void> close() {
    return pool.close();
  }
}
