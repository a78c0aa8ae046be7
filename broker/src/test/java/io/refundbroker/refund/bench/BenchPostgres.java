package io.refundbroker.refund.bench;

import io.refundbroker.testing.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's PostgreSQL: the same binaries the broker embeds (io.zonky), started as its own
 * server processes so the broker reaches it through {@code DATABASE_URL} like an external database
 * and its CPU can be told apart from the broker's. {@code synchronous_commit} is chosen by the
 * caller (zonky's embedded default is {@code off}; PostgreSQL's own default is {@code on}).
 */
final class BenchPostgres implements AutoCloseable {
  static final String DATABASE = "refund_broker";
  static final String APP_USER = "refund_broker";

  private final EmbeddedPostgres postgres;
  private final Path dataDir;
  private final Map<String, Connection> monitoring = new java.util.HashMap<>();

  private BenchPostgres(EmbeddedPostgres postgres, Path dataDir) {
    this.postgres = postgres;
    this.dataDir = dataDir;
  }

  /**
   * Starts a fresh cluster in {@code dataDir}. The library passes {@code -F} (fsync off) to the
   * server; an explicit {@code fsync} setting comes later on the command line and wins.
   */
  static BenchPostgres start(
      Path dataDir, String synchronousCommit, String fsync, boolean statementStats) {
    try {
      EmbeddedPostgres.Builder builder =
          EmbeddedPostgres.builder()
              .setDataDirectory(dataDir)
              .setCleanDataDirectory(true)
              .setPGStartupWait(Duration.ofSeconds(60))
              .setServerConfig("max_connections", "300")
              .setServerConfig("listen_addresses", "127.0.0.1")
              .setServerConfig("synchronous_commit", synchronousCommit)
              .setServerConfig("fsync", fsync);
      if (statementStats) {
        builder.setServerConfig("shared_preload_libraries", "pg_stat_statements");
        // statements inside triggers too (marked toplevel = false): what a trigger costs shows
        builder.setServerConfig("pg_stat_statements.track", "all");
      }
      BenchPostgres db = new BenchPostgres(builder.start(), dataDir);
      db.execute("postgres", "CREATE ROLE " + APP_USER + " LOGIN");
      db.execute("postgres", "CREATE DATABASE " + DATABASE);
      if (statementStats) {
        // read from the postgres database: the measuring stays out of the measured database
        db.execute("postgres", "CREATE EXTENSION pg_stat_statements");
      }
      return db;
    } catch (IOException e) {
      throw new UncheckedIOException("could not start PostgreSQL in " + dataDir, e);
    }
  }

  int port() {
    return postgres.getPort();
  }

  /** {@code DATABASE_URL} for the broker's least-privilege login. */
  String appUrl() {
    return appUrl(DATABASE);
  }

  /** {@code DATABASE_MIGRATION_URL}: the owner (superuser) account. */
  String ownerUrl() {
    return ownerUrl(DATABASE);
  }

  String appUrl(String database) {
    return "postgresql://" + APP_USER + "@127.0.0.1:" + port() + "/" + database;
  }

  String ownerUrl(String database) {
    return "postgresql://postgres@127.0.0.1:" + port() + "/" + database;
  }

  /** A JDBC connection as the owner (superuser) to {@code database}. */
  Connection ownerConnection(String database) throws SQLException {
    return connect(database);
  }

  /** The settings that decide what a commit costs, for the record. */
  Map<String, String> durabilitySettings() {
    Map<String, String> settings = new java.util.LinkedHashMap<>();
    for (String name :
        List.of(
            "server_version",
            "fsync",
            "synchronous_commit",
            "wal_sync_method",
            "full_page_writes",
            "commit_delay",
            "wal_buffers",
            "shared_buffers",
            "max_wal_size",
            "checkpoint_timeout",
            "max_connections")) {
      settings.put(name, setting(name));
    }
    return settings;
  }

  /** The postmaster's pid (its children are the backends and helpers). */
  long postmasterPid() {
    try {
      return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A server setting as the broker's sessions see it. */
  String setting(String name) {
    return query("SHOW " + name).get(0).values().iterator().next().toString();
  }

  /** Rows of {@code sql} in the broker's database, as the owner. */
  List<Map<String, Object>> query(String sql) {
    return query(DATABASE, sql);
  }

  /**
   * Rows of {@code sql} in {@code database}, as the owner, on a connection kept open for such
   * queries (so measuring does not fork a backend per query).
   */
  synchronized List<Map<String, Object>> query(String database, String sql) {
    try {
      Connection c = monitoring.get(database);
      if (c == null || c.isClosed()) {
        c = connect(database);
        monitoring.put(database, c);
      }
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(sql)) {
        return TestDatabase.rows(rs);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  /** Executes {@code sql} on the kept owner session of {@code database} (session settings stay). */
  synchronized void execute(String database, String sql, boolean onKeptSession) {
    if (!onKeptSession) {
      execute(database, sql);
      return;
    }
    try {
      Connection c = monitoring.get(database);
      if (c == null || c.isClosed()) {
        c = connect(database);
        monitoring.put(database, c);
      }
      try (Statement s = c.createStatement()) {
        s.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  long queryLong(String sql) {
    return queryLong(DATABASE, sql);
  }

  long queryLong(String database, String sql) {
    return ((Number) query(database, sql).get(0).values().iterator().next()).longValue();
  }

  void execute(String database, String sql) {
    try (Connection c = connect(database);
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  private Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port() + "/" + database, "postgres", null);
  }

  @Override
  public synchronized void close() {
    for (Connection c : monitoring.values()) {
      try {
        c.close();
      } catch (SQLException e) {
        // the server stops next anyway
      }
    }
    monitoring.clear();
    try {
      postgres.close();
    } catch (IOException e) {
      System.err.println("PostgreSQL did not stop cleanly: " + e.getMessage());
    }
  }
}
