package io.refundbroker.testing;

import io.refundbroker.app.Main;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker as a separate JVM ({@code Main serve} from this test classpath), so a test can kill it
 * the hard way ({@link #kill()}: SIGKILL) or the polite way ({@link #terminate()}: SIGTERM). Its
 * output goes to a file the test can read.
 */
public final class ChildBroker implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Process process;
  private final int port;
  private final Path log;

  private ChildBroker(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts {@code serve} with exactly {@code env} (plus a free port) and waits until {@code
   * /health/ready} answers 200.
   */
  public static ChildBroker start(Map<String, String> env, Duration readyWithin) {
    int port = freePort();
    try {
      Path log = Files.createTempFile("child-broker", ".log");
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-Xmx256m");
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Main.class.getName());
      command.add("serve");
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().clear();
      builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
      builder.environment().putAll(env);
      builder.environment().put("BROKER_HTTP_PORT", Integer.toString(port));
      builder.environment().put("BROKER_HTTP_HOST", "127.0.0.1");
      builder.environment().putIfAbsent("BROKER_HTTP_INSTANCES", "1");
      ChildBroker child = new ChildBroker(builder.start(), port, log);
      child.awaitReady(readyWithin);
      return child;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  public Process process() {
    return process;
  }

  /** Everything the child printed so far. */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(output unreadable: " + e.getMessage() + ")";
    }
  }

  /** SIGKILL: no shutdown hook runs, as in a crash. Waits for the process to be gone. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(30));
  }

  /** SIGTERM and wait for the exit code. */
  public int terminate(Duration within) {
    process.destroy();
    return waitFor(within);
  }

  private int waitFor(Duration within) {
    try {
      if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("child broker did not exit within " + within + ":\n" + output());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private void awaitReady(Duration within) {
    Instant deadline = Instant.now().plus(within);
    URI ready = URI.create(baseUrl() + "/health/ready");
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "child broker exited with " + process.exitValue() + ":\n" + output());
      }
      try {
        HttpResponse<Void> response =
            HTTP.send(
                HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).GET().build(),
                HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      Poll.pause();
    }
    process.destroyForcibly();
    throw new AssertionError("child broker not ready within " + within + ":\n" + output());
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(30));
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
