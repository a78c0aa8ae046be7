package io.refundbroker.refund.bench;

import io.refundbroker.app.Main;
import io.refundbroker.testing.Poll;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker under test as a process of its own ({@code java … -jar refund-broker.jar serve}, or
 * {@code Main serve} from the test classpath when the jar is missing), so that its resident memory
 * and CPU time are its own. Its output goes to a file.
 */
final class BrokerProcess implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Process process;
  private final int port;
  private final Path log;
  final String command;

  private BrokerProcess(Process process, int port, Path log, String command) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.command = command;
  }

  /** Starts {@code serve} with {@code env} (plus PATH and a free port) and waits until ready. */
  static BrokerProcess start(
      Path jar, List<String> jvmArgs, Map<String, String> env, Path log, Duration readyWithin) {
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    if (jar != null && Files.isRegularFile(jar)) {
      command.add("-jar");
      command.add(jar.toString());
    } else {
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Main.class.getName());
    }
    command.add("serve");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    builder.environment().putAll(env);
    builder.environment().put("BROKER_HTTP_PORT", Integer.toString(port));
    builder.environment().put("BROKER_HTTP_HOST", "127.0.0.1");
    String shown =
        String.join(" ", command)
            .replace(System.getProperty("java.class.path"), "<test classpath>");
    try {
      BrokerProcess broker = new BrokerProcess(builder.start(), port, log, shown);
      broker.awaitReady(readyWithin);
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  int port() {
    return port;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  long pid() {
    return process.pid();
  }

  /** The last {@code lines} lines the broker printed. */
  String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  /** Lines of the log containing {@code text}. */
  long countLines(String text) {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(text)).count();
    } catch (IOException e) {
      return -1;
    }
  }

  private void awaitReady(Duration within) {
    URI ready = URI.create(baseUrl() + "/health/ready");
    try {
      Poll.until(
          "the broker to answer /health/ready with 200",
          within,
          () -> {
            if (!process.isAlive()) {
              throw new IllegalStateException(
                  "the broker exited with " + process.exitValue() + ":\n" + tail(40));
            }
            try {
              return HTTP.send(
                          HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                          HttpResponse.BodyHandlers.discarding())
                      .statusCode()
                  == 200;
            } catch (IOException e) {
              return false;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException(e);
            }
          });
    } catch (AssertionError e) {
      process.destroyForcibly();
      throw new IllegalStateException(e.getMessage() + "\n" + tail(40), e);
    }
  }

  /** SIGTERM, then wait for the exit code (SIGKILL after {@code within}). */
  int stop(Duration within) {
    process.destroy();
    try {
      if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        return -1;
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      stop(Duration.ofSeconds(60));
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
