package io.refundbroker.testing;

import io.refundbroker.db.EmbeddedDatabase;
import io.refundbroker.db.Migrations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL (embedded) per test JVM, started by the broker's own {@link EmbeddedDatabase}
 * (so with the same durability settings and password authentication as production). The schema is
 * migrated once into a template database; every test class gets its own fresh copy ({@code CREATE
 * DATABASE … TEMPLATE}), so tests never see each other's rows and need no cleanup.
 */
public final class TestPostgres {
  private static final String TEMPLATE = "rb_template";
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static EmbeddedDatabase server;
  private static String schemaVersion;

  private TestPostgres() {}

  /** A migrated database of its own. */
  public static synchronized TestDatabase newDatabase() {
    start();
    String name = "rb_test_" + COUNTER.incrementAndGet();
    execute("CREATE DATABASE " + name + " TEMPLATE " + TEMPLATE);
    return new TestDatabase(server.appUrl(name), server.ownerUrl(name), schemaVersion, name);
  }

  /** The shared server (to inspect its settings and password files). */
  public static synchronized EmbeddedDatabase server() {
    start();
    return server;
  }

  /** The migration version in the template. */
  public static synchronized String schemaVersion() {
    start();
    return schemaVersion;
  }

  private static void start() {
    if (server != null) {
      return;
    }
    try {
      Path dir = Files.createTempDirectory("rb-test-pg");
      server = EmbeddedDatabase.start(dir.resolve("cluster"));
      server.ensureDatabase(TEMPLATE);
      schemaVersion = Migrations.migrate(server.ownerUrl(TEMPLATE), EmbeddedDatabase.APP_USER);
      EmbeddedDatabase stopping = server;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    stopping.close();
                    deleteQuietly(dir);
                  }));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void execute(String sql) {
    try (Connection c = TestDatabase.connect(server.ownerUrl("postgres"));
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: the directory is under java.io.tmpdir
    }
  }
}
