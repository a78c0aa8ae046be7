package io.refundbroker.testing;

import io.refundbroker.app.Main;
import io.refundbroker.http.ExchangeTap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The broker as a separate JVM ({@code serve} from the fat jar, or {@code Main serve} from this
 * test classpath), so a test can kill it the hard way ({@link #kill()}: SIGKILL) or the polite way
 * ({@link #terminate}: SIGTERM), and a benchmark can measure its memory and CPU on their own. Its
 * output goes to a file the caller can read.
 */
public final class ChildBroker implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * Only for the readiness probe of an HTTPS child: it asks whether the broker answers at all,
   * whatever certificate it has (tests check the certificate with clients that verify it).
   */
  private static final HttpClient TRUSTING_PROBE =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(2))
          .sslContext(trustingContext())
          .build();

  private static SSLContext trustingContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public void checkServerTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private final Process process;
  private final int port;
  private final Path log;
  private final String command;
  private final boolean https;
  private final Path exchanges;

  private ChildBroker(
      Process process, int port, Path log, String command, boolean https, Path exchanges) {
    this.process = process;
    this.port = port;
    this.log = log;
    this.command = command;
    this.https = https;
    this.exchanges = exchanges;
  }

  /** How a child that was expected to stop by itself ended. */
  public record Exited(int code, String output) {}

  /**
   * Runs {@code serve} from this test classpath with exactly {@code env} (plus PATH; nothing is
   * forced, not even the host) and waits for it to exit by itself, e.g. on a configuration error.
   */
  public static Exited runToExit(Map<String, String> env, Duration within) {
    try {
      Path log = Files.createTempFile("child-broker", ".log");
      ProcessBuilder builder =
          new ProcessBuilder(command(null, List.of("-Xmx128m")))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      builder.environment().clear();
      builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
      builder.environment().putAll(env);
      Process process = builder.start();
      if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(
            "child broker still running after " + within + ":\n" + Files.readString(log));
      }
      return new Exited(process.exitValue(), Files.readString(log));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static List<String> command(Path jar, List<String> jvmArgs) {
    List<String> command = new ArrayList<>();
    if (hangupIgnored()) {
      // a test run started under nohup passes SIGHUP's "ignore" on to every child, and a JVM
      // keeps ignoring what it was started ignoring: the broker's reload on SIGHUP would never run
      command.addAll(List.of("env", "--default-signal=HUP"));
    }
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
    return command;
  }

  /** Whether this JVM was started with SIGHUP ignored (bit 0 of {@code SigIgn}, Linux). */
  static boolean hangupIgnored() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 1L) != 0;
        }
      }
      return false;
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  /**
   * Starts {@code serve} from this test classpath with exactly {@code env} (plus a free port and
   * one HTTP verticle unless {@code env} says otherwise) and waits until {@code /health/ready}
   * answers 200.
   */
  public static ChildBroker start(Map<String, String> env, Duration readyWithin) {
    try {
      Path log = Files.createTempFile("child-broker", ".log");
      Map<String, String> withDefaults = new LinkedHashMap<>(env);
      withDefaults.putIfAbsent("BROKER_HTTP_INSTANCES", "1");
      return start(null, List.of("-Xmx256m"), withDefaults, log, readyWithin);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts {@code java jvmArgs -jar jar serve} (from this test classpath when {@code jar} is null
   * or missing) with exactly {@code env} (plus PATH and a free port), output to {@code log}, and
   * waits until {@code /health/ready} answers 200. From the test classpath in a test run, the child
   * records every response it sends ({@link ResponseRecorder}); they are checked against the
   * contract when it stops.
   */
  public static ChildBroker start(
      Path jar, List<String> jvmArgs, Map<String, String> env, Path log, Duration readyWithin) {
    int port = freePort();
    boolean fromClasspath = jar == null || !Files.isRegularFile(jar);
    Path exchanges = fromClasspath && ContractWitness.installed() ? exchangeLog() : null;
    List<String> args = new ArrayList<>(jvmArgs);
    if (exchanges != null) {
      args.add("-D" + ExchangeTap.PROPERTY + "=" + ResponseRecorder.class.getName());
      args.add("-D" + ResponseRecorder.LOG_PROPERTY + "=" + exchanges);
    }
    List<String> command = command(jar, args);
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
      ChildBroker child =
          new ChildBroker(
              builder.start(), port, log, shown, env.containsKey("BROKER_TLS_CERT"), exchanges);
      child.awaitReady(readyWithin);
      return child;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  /** {@code http://} or, when started with {@code BROKER_TLS_CERT}, {@code https://}. */
  public String baseUrl() {
    return (https ? "https" : "http") + "://127.0.0.1:" + port;
  }

  /** Sends SIGHUP (the broker reloads its TLS certificate). */
  public void hangUp() {
    try {
      Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new AssertionError("kill -HUP " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public Process process() {
    return process;
  }

  public long pid() {
    return process.pid();
  }

  /** The command line it was started with (the test classpath shortened). */
  public String command() {
    return command;
  }

  /** Everything the child printed so far. */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(output unreadable: " + e.getMessage() + ")";
    }
  }

  /** The last {@code lines} lines the child printed. */
  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(output unreadable: " + e.getMessage() + ")";
    }
  }

  /** How many lines of its output contain {@code text}. */
  public long countLines(String text) {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(text)).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first {@code max} lines of the log that contain any of {@code texts}. */
  public java.util.List<String> linesContaining(int max, String... texts) {
    try (var lines = Files.lines(log)) {
      return lines
          .filter(l -> java.util.Arrays.stream(texts).anyMatch(l::contains))
          .limit(max)
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGKILL: no shutdown hook runs, as in a crash. Waits for the process to be gone. */
  public void kill() {
    process.destroyForcibly();
    waitFor(Duration.ofSeconds(30));
  }

  /**
   * Waits for the child to end by itself (e.g. at a crash point) and returns its exit code; fails
   * when it is still running after {@code within} (and kills it).
   */
  public int awaitExit(Duration within) {
    return waitFor(within);
  }

  /**
   * How many exchanges the child has recorded so far (0 when it records none). A response is
   * recorded once it has been sent, so a caller that already holds the answer may look a moment
   * before its record is written.
   */
  public int recordedExchanges() {
    return exchanges == null ? 0 : ExchangeLog.read(exchanges).size();
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
      collectExchanges();
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private void awaitReady(Duration within) {
    Instant deadline = Instant.now().plus(within);
    URI ready = URI.create(baseUrl() + "/health/ready");
    HttpClient probe = https ? TRUSTING_PROBE : HTTP;
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError(
            "child broker exited with " + process.exitValue() + ":\n" + output());
      }
      try {
        HttpResponse<Void> response =
            probe.send(
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
    collectExchanges();
  }

  /** Hands what the (stopped) child sent to the contract check. */
  private void collectExchanges() {
    if (exchanges != null && !process.isAlive()) {
      ContractWitness.global().collect(exchanges);
    }
  }

  private static Path exchangeLog() {
    try {
      return Files.createTempFile("child-broker-exchanges", ".jsonl");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
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
