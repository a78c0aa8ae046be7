package io.refundbroker.refund.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The refund benchmark's knobs ({@code --name value} arguments; every one has a default).
 *
 * @param stores stores of the one chain (every refund is requested by another store than the
 *     order's)
 * @param orders registered orders (and captured sandbox payments) to refund; every phase draws from
 *     them, so they must cover all phases' refunds ({@code orders × refundsPerOrder})
 * @param refundsPerOrder refunds per order; each is {@code refundValue}, the order captured exactly
 *     that many times it, so a successful run refunds every order in full and never more
 * @param refundValue amount of one refund in øre
 * @param clients concurrent clients of the closed-loop phases (and of the database ceiling)
 * @param warmup closed-loop warm-up before the first measured window, not counted (the broker's JIT
 *     compiler still takes a sixth of a core 30 s into the load)
 * @param duration length of every measured window (closed loop, each fixed rate)
 * @param rates the ladder of fixed arrival rates (requests/s), climbed until one is not sustained
 * @param latencyRequests sequential requests (one client) for the unloaded latency, broker and
 *     sandbox each
 * @param directDuration closed-loop window when calling the sandbox directly
 * @param ceiling whether to measure the database's own ceiling for the write path first
 * @param ceilingWarmup warm-up of the ceiling driver before its window
 * @param ceilingShapes how the ceiling driver sends the writes ({@code function}: as the broker
 *     does; {@code statements}: one round trip per statement, as before V12), each measured in a
 *     database of its own; the first is the ceiling the broker is compared with
 * @param instances broker instances of the scale-out stage (round-robin); below 2 skips it
 * @param scaleWarmup warm-up of the scale-out stage (the new instance's JIT)
 * @param growth also run the growth stage: preload history, then measure again
 * @param growthOrders orders (each with one refund) preloaded for the growth stage
 * @param growthEvents audit events preloaded for the growth stage
 * @param jfr profile the broker with JFR during the closed loop, and sample PostgreSQL's sessions
 * @param synchronousCommit PostgreSQL {@code synchronous_commit} ({@code on}: every commit waits
 *     for its WAL flush, PostgreSQL's default)
 * @param fsync PostgreSQL {@code fsync} (keep {@code on}: the figures are meant durable)
 * @param pgStats {@code pg_stat_statements} (statements per refund; costs PostgreSQL a little)
 * @param brokerJvm JVM options of the broker process
 * @param brokerJar the fat jar to run (the test classpath when it does not exist)
 * @param poolSize {@code DATABASE_POOL_SIZE}
 * @param httpInstances {@code BROKER_HTTP_INSTANCES}
 * @param accessLog {@code BROKER_ACCESS_LOG_LEVEL} ({@code info}: one line per request, the
 *     default)
 * @param backend {@code vault} (the Vault test double over HTTP) or {@code local}
 * @param summary where the figures go as JSON
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
    List<Double> rates,
    int latencyRequests,
    Duration directDuration,
    boolean ceiling,
    Duration ceilingWarmup,
    List<DatabaseCeiling.Shape> ceilingShapes,
    int instances,
    Duration scaleWarmup,
    boolean growth,
    int growthOrders,
    int growthEvents,
    boolean jfr,
    String synchronousCommit,
    String fsync,
    boolean pgStats,
    List<String> brokerJvm,
    Path brokerJar,
    int poolSize,
    int httpInstances,
    String accessLog,
    String backend,
    Path summary,
    boolean keep) {

  static BenchOptions parse(String[] args) {
    int stores = 20;
    int orders = 150_000;
    int refundsPerOrder = 4;
    long refundValue = 2_500;
    int clients = 32;
    Duration warmup = Duration.ofSeconds(60);
    Duration duration = Duration.ofSeconds(60);
    List<Double> rates = List.of(250.0, 500.0, 1000.0, 1500.0);
    int latencyRequests = 2000;
    Duration directDuration = Duration.ofSeconds(5);
    boolean ceiling = true;
    Duration ceilingWarmup = Duration.ofSeconds(20);
    List<DatabaseCeiling.Shape> ceilingShapes = List.of(DatabaseCeiling.Shape.FUNCTION);
    int instances = 2;
    Duration scaleWarmup = Duration.ofSeconds(20);
    boolean growth = false;
    int growthOrders = 1_000_000;
    int growthEvents = 5_000_000;
    boolean jfr = false;
    String synchronousCommit = "on";
    String fsync = "on";
    boolean pgStats = true;
    // README, "Memory": the flags it recommends for a broker held to 300 MB of RSS
    List<String> brokerJvm =
        List.of("-Xmx192m", "-XX:TrimNativeHeapInterval=2000", "-XX:GCTimeRatio=4");
    Path brokerJar = Path.of("target", "refund-broker.jar");
    int poolSize = 16;
    int httpInstances = Runtime.getRuntime().availableProcessors();
    String accessLog = "info";
    String backend = "vault";
    Path summary = Path.of("target", "bench", "summary.json");
    boolean keep = false;
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (name.isBlank()) {
        continue;
      }
      switch (name) {
        case "--keep" -> {
          keep = true;
          continue;
        }
        case "--pg-stats" -> {
          pgStats = true;
          continue;
        }
        case "--no-pg-stats" -> {
          pgStats = false;
          continue;
        }
        case "--no-ceiling" -> {
          ceiling = false;
          continue;
        }
        case "--growth" -> {
          growth = true;
          continue;
        }
        case "--jfr" -> {
          jfr = true;
          continue;
        }
        default -> {
          // an option with a value
        }
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
        case "--rates" -> rates = rates(value);
        case "--rate" -> rates = rates(value);
        case "--latency-requests" -> latencyRequests = Integer.parseInt(value);
        case "--direct-duration" -> directDuration = seconds(value);
        case "--ceiling-warmup" -> ceilingWarmup = seconds(value);
        case "--ceiling-shapes" -> ceilingShapes = shapes(value);
        case "--instances" -> instances = Integer.parseInt(value);
        case "--scale-warmup" -> scaleWarmup = seconds(value);
        case "--growth-orders" -> growthOrders = Integer.parseInt(value);
        case "--growth-events" -> growthEvents = Integer.parseInt(value);
        case "--synchronous-commit" -> synchronousCommit = value;
        case "--fsync" -> fsync = value;
        case "--broker-jvm" -> brokerJvm = Arrays.asList(value.trim().split("\\s+"));
        case "--broker-jar" -> brokerJar = Path.of(value);
        case "--pool-size" -> poolSize = Integer.parseInt(value);
        case "--http-instances" -> httpInstances = Integer.parseInt(value);
        case "--access-log" -> accessLog = value;
        case "--backend" -> backend = value;
        case "--summary" -> summary = Path.of(value);
        default -> throw new IllegalArgumentException("unknown option " + name + "\n" + usage());
      }
    }
    if (stores < 2) {
      throw new IllegalArgumentException("--stores must be at least 2 (refunds are cross-store)");
    }
    if (!List.of("vault", "local").contains(backend)) {
      throw new IllegalArgumentException("--backend is vault or local");
    }
    if (growth && !backend.equals("vault")) {
      throw new IllegalArgumentException(
          "--growth needs --backend vault (the preloaded events are MACed with the key the broker"
              + " keeps in the Vault double)");
    }
    return new BenchOptions(
        stores,
        orders,
        refundsPerOrder,
        refundValue,
        clients,
        warmup,
        duration,
        rates,
        latencyRequests,
        directDuration,
        ceiling,
        ceilingWarmup,
        ceilingShapes,
        instances,
        scaleWarmup,
        growth,
        growthOrders,
        growthEvents,
        jfr,
        synchronousCommit,
        fsync,
        pgStats,
        List.copyOf(brokerJvm),
        brokerJar,
        poolSize,
        httpInstances,
        accessLog,
        backend,
        summary,
        keep);
  }

  private static List<Double> rates(String value) {
    List<Double> list = new ArrayList<>();
    if (value.equals("none")) {
      return List.of();
    }
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        list.add(Double.parseDouble(part.trim()));
      }
    }
    return List.copyOf(list);
  }

  private static List<DatabaseCeiling.Shape> shapes(String value) {
    List<DatabaseCeiling.Shape> list = new ArrayList<>();
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        list.add(DatabaseCeiling.Shape.valueOf(part.trim().toUpperCase(java.util.Locale.ROOT)));
      }
    }
    return List.copyOf(list);
  }

  private static Duration seconds(String value) {
    String v = value.endsWith("s") ? value.substring(0, value.length() - 1) : value;
    return Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
  }

  static String usage() {
    return """
        options (all optional): --stores 20 --orders 150000 --refunds-per-order 4 \
        --refund-value 2500 --clients 32 --warmup 60s --duration 60s \
        --rates 250,500,1000,1500 (--rate 1000: one rate; --rates none) \
        --latency-requests 2000 --direct-duration 5s --no-ceiling --ceiling-warmup 20s \
        --ceiling-shapes function (function,statements: both, in databases of their own) \
        --instances 2 (1: no scale-out stage) --scale-warmup 20s \
        --growth --growth-orders 1000000 --growth-events 5000000 --jfr \
        --synchronous-commit on|off --fsync on|off --no-pg-stats \
        --broker-jvm "-Xmx192m -XX:TrimNativeHeapInterval=2000 -XX:GCTimeRatio=4" --broker-jar target/refund-broker.jar --pool-size 16 \
        --http-instances <cores> --access-log info|warn --backend vault|local \
        --summary target/bench/summary.json --keep""";
  }
}
