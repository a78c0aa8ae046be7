package io.refundbroker.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Stops an {@link EmbeddedDatabase}'s server the abrupt way ({@code pg_ctl stop -m immediate}: no
 * checkpoint, every connection cut, crash recovery at the next start) and starts it again on the
 * same data directory and port, with the same settings, for tests of a database outage.
 */
public final class ClusterOutage {
  private static final long TIMEOUT_SECONDS = 120;

  private ClusterOutage() {}

  /** {@code pg_ctl stop -m immediate}; returns once the server is gone. */
  public static void stopImmediately(EmbeddedDatabase db) {
    pgCtl(db, "stop", "-m", "immediate");
  }

  /** Starts the server again on its data directory and port; returns once it accepts logins. */
  public static void startAgain(EmbeddedDatabase db) {
    List<String> options = new ArrayList<>(List.of("-p", Integer.toString(db.port())));
    EmbeddedDatabase.SETTINGS.forEach((name, value) -> options.add("-c " + name + "=" + value));
    pgCtl(
        db,
        "start",
        "-l",
        db.dataDir().resolve("server.log").toString(),
        "-o",
        String.join(" ", options));
  }

  private static void pgCtl(EmbeddedDatabase db, String action, String... args) {
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "-D", db.dataDir().toString(), "-w", "-t", Long.toString(TIMEOUT_SECONDS), action));
    arguments.addAll(List.of(args));
    List<String> command = PostgresBinaries.installed().command("pg_ctl", arguments);
    try {
      Path output = Files.createTempFile("pg-ctl", ".out");
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!process.waitFor(TIMEOUT_SECONDS + 10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("pg_ctl " + action + " did not finish");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "pg_ctl " + action + " failed: " + Files.readString(output));
      }
      Files.deleteIfExists(output);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
