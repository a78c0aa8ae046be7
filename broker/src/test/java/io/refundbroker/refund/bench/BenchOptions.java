package io.refundbroker.refund.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The refund benchmark's knobs ({@code --name value} arguments; every one has a default).
 *
 * @param stores stores of the one chain (every refund is requested by another store than the
 *     order's)
 * @param orders registered orders (and captured sandbox payments) to refund
 * @param refundsPerOrder refunds per order; each is {@code refundValue}, the order captured exactly
 *     that many times it, so a successful run refunds every order in full and never more
 * @param refundValue amount of one refund in øre
 * @param clients concurrent clients of the closed-loop phases
 * @param warmup closed-loop warm-up before the measured window, not counted (the broker's JIT
 *     compiler still takes a sixth of a core 30 s into the load)
 * @param duration length of the closed-loop window and of the fixed-rate window
 * @param rate requests per second of the fixed-rate (open-loop) phase; 0 skips it
 * @param latencyRequests sequential requests (one client) for the unloaded latency, broker and
 *     sandbox each
 * @param directDuration closed-loop window when calling the sandbox directly
 * @param synchronousCommit PostgreSQL {@code synchronous_commit} ({@code on}: every commit waits
 *     for its WAL flush, PostgreSQL's default; {@code off}: the broker's embedded default)
 * @param brokerJvm JVM options of the broker process
 * @param brokerJar the fat jar to run (the test classpath when it does not exist)
 * @param poolSize {@code DATABASE_POOL_SIZE}
 * @param httpInstances {@code BROKER_HTTP_INSTANCES}
 * @param accessLog {@code BROKER_ACCESS_LOG_LEVEL} ({@code info}: one line per request, the
 *     default)
 * @param backend {@code vault} (the Vault test double over HTTP) or {@code local}
 * @param keep keep the temporary directory (logs, data) afterwards
 */
record BenchOptions(
    int stores,
    int orders,
    int refundsPerOrder,
    long refundValue,
    int clients,
    Duration warmup,
    Duration duration,
    double rate,
    int latencyRequests,
    Duration directDuration,
    String synchronousCommit,
    String fsync,
    boolean pgStats,
    List<String> brokerJvm,
    Path brokerJar,
    int poolSize,
    int httpInstances,
    String accessLog,
    String backend,
    boolean keep) {

  static BenchOptions parse(String[] args) {
    int stores = 20;
    int orders = 60_000;
    int refundsPerOrder = 4;
    long refundValue = 2_500;
    int clients = 32;
    Duration warmup = Duration.ofSeconds(60);
    Duration duration = Duration.ofSeconds(60);
    double rate = 1000;
    int latencyRequests = 2000;
    Duration directDuration = Duration.ofSeconds(5);
    String synchronousCommit = "on";
    String fsync = "on";
    boolean pgStats = false;
    List<String> brokerJvm = List.of("-Xmx256m");
    Path brokerJar = Path.of("target", "refund-broker.jar");
    int poolSize = 16;
    int httpInstances = Runtime.getRuntime().availableProcessors();
    String accessLog = "info";
    String backend = "vault";
    boolean keep = false;
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (name.isBlank()) {
        continue;
      }
      if (name.equals("--keep")) {
        keep = true;
        continue;
      }
      if (name.equals("--pg-stats")) {
        pgStats = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(name + " needs a value");
      }
      String value = args[++i];
      switch (name) {
        case "--stores" -> stores = Integer.parseInt(value);
        case "--orders" -> orders = Integer.parseInt(value);
        case "--refunds-per-order" -> refundsPerOrder = Integer.parseInt(value);
        case "--refund-value" -> refundValue = Long.parseLong(value);
        case "--clients" -> clients = Integer.parseInt(value);
        case "--warmup" -> warmup = seconds(value);
        case "--duration" -> duration = seconds(value);
        case "--rate" -> rate = Double.parseDouble(value);
        case "--latency-requests" -> latencyRequests = Integer.parseInt(value);
        case "--direct-duration" -> directDuration = seconds(value);
        case "--synchronous-commit" -> synchronousCommit = value;
        case "--fsync" -> fsync = value;
        case "--broker-jvm" -> brokerJvm = Arrays.asList(value.trim().split("\\s+"));
        case "--broker-jar" -> brokerJar = Path.of(value);
        case "--pool-size" -> poolSize = Integer.parseInt(value);
        case "--http-instances" -> httpInstances = Integer.parseInt(value);
        case "--access-log" -> accessLog = value;
        case "--backend" -> backend = value;
        default -> throw new IllegalArgumentException("unknown option " + name + "\n" + usage());
      }
    }
    if (stores < 2) {
      throw new IllegalArgumentException("--stores must be at least 2 (refunds are cross-store)");
    }
    if (!List.of("vault", "local").contains(backend)) {
      throw new IllegalArgumentException("--backend is vault or local");
    }
    return new BenchOptions(
        stores,
        orders,
        refundsPerOrder,
        refundValue,
        clients,
        warmup,
        duration,
        rate,
        latencyRequests,
        directDuration,
        synchronousCommit,
        fsync,
        pgStats,
        List.copyOf(brokerJvm),
        brokerJar,
        poolSize,
        httpInstances,
        accessLog,
        backend,
        keep);
  }

  private static Duration seconds(String value) {
    String v = value.endsWith("s") ? value.substring(0, value.length() - 1) : value;
    return Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
  }

  static String usage() {
    return """
        options (all optional): --stores 20 --orders 60000 --refunds-per-order 4 \
        --refund-value 2500 --clients 32 --warmup 60s --duration 60s --rate 1000 \
        --latency-requests 2000 --direct-duration 5s --synchronous-commit on|off --fsync on|off --pg-stats \
        --broker-jvm "-Xmx256m" --broker-jar target/refund-broker.jar --pool-size 16 \
        --http-instances <cores> --access-log info|warn --backend vault|local --keep""";
  }
}
