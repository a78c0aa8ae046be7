package io.refundbroker.refund.bench;

import io.refundbroker.audit.AuditMac;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.LedgerEntry;
import io.refundbroker.sandbox.PaymentView;
import io.refundbroker.sandbox.SandboxOptions;
import io.refundbroker.sandbox.SandboxPayment;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.sandbox.VippsSandbox;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.ChildBroker;
import io.refundbroker.testing.ChildSetup;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark (not a test; never run by {@code mvn verify}) of the refund path against the
 * performance budget in DESIGN.md and issue #13: ≥ 1,000 refunds/s sustained at a fixed arrival
 * rate with p99 ≤ 25 ms and no errors, the broker adding ≤ 2 ms at p50 over calling Vipps (the
 * sandbox) directly, CPU per refund ≤ 0.6 ms in the broker and ≤ 0.9 ms in PostgreSQL, broker
 * throughput ≥ 50% of the database's own ceiling for the same write path, 0 credential-store reads
 * per refund at steady state, broker RSS ≤ 300 MB — everything on this one machine, durable ({@code
 * fsync} and {@code synchronous_commit} on).
 *
 * <p>Set-up: PostgreSQL (the broker's own binaries, as separate server processes, reached through
 * {@code DATABASE_URL}; {@code pg_stat_statements} loaded); in this JVM the Vipps sandbox
 * (per-payment rate limit off), the Vault test double (credential backend) and the load generator;
 * the broker as a process of its own started from the fat jar. One chain of {@code --stores}
 * stores, {@code --orders} registered orders (imported through the admin API) with captured sandbox
 * payments; every refund is requested by another store than the order's (cross-store), with a fresh
 * Idempotency-Key.
 *
 * <p>Stages, each phase measured on its own (refunds/s, p50/p95/p99/p99.9, errors, CPU per refund
 * of the broker and of PostgreSQL, statements and commits per refund, WAL flushes, RSS):
 *
 * <ol>
 *   <li><b>ceiling</b>: the database's own ceiling for this write path ({@link DatabaseCeiling}:
 *       the broker's statements, straight to PostgreSQL, same pool and clients, no broker);
 *   <li><b>broker</b>: warm-up, a closed loop of {@code --clients} (with {@code --jfr}: profiled),
 *       the ladder of fixed rates {@code --rates} (open loop, latency from when each request was
 *       due; climbing stops at the first rate not sustained), one client alone;
 *   <li><b>scale-out</b> ({@code --instances} ≥ 2): more broker instances on the same database,
 *       requests round-robin; closed loop and ladder; the sequencer lock watched;
 *   <li><b>growth</b> ({@code --growth}): the broker stopped, {@code --growth-orders} orders with
 *       refunds and {@code --growth-events} audit events preloaded ({@link GrowthLoad}), the broker
 *       restarted; closed loop and ladder again;
 *   <li>the books: nothing refunded above captured, nothing left PENDING/UNKNOWN, sandbox ledger ==
 *       succeeded refunds key for key, per-order sums equal on both sides, audit chain verifies
 *       (timed: the cost of {@code /v1/audit/verify} per 1,000,000 events);
 *   <li><b>direct</b>: the same refund call straight to the sandbox (closed loop, one client).
 * </ol>
 *
 * Prints a summary, writes every figure to {@code --summary} (default {@code
 * target/bench/summary.json}) and exits 1 when a check fails.
 *
 * <p>Run: {@code mvn -B -pl broker -am -Pbench verify
 * -Dbench.main=io.refundbroker.refund.bench.RefundBenchmark} (options via {@code -Dbench.args}; see
 * {@link BenchOptions}).
 */
public final class RefundBenchmark {
  private static final String CHAIN = "bench-chain";
  private static final String REASON = "Returned goods";
  private static final String ORDER_PREFIX = "bo-";
  private static final int IMPORT_CHUNK = 10_000;
  private static final int DIRECT_PAYMENTS_PER_STORE = 10;
  private static final long DIRECT_CAPTURED = 1_000_000_000L;
  private static final int MAX_OUTSTANDING = 1000;

  /** The brokers' CREDENTIALS_CACHE_TTL: the default, which the benchmark does not change. */
  private static final Duration CREDENTIALS_CACHE_TTL = Duration.ofMinutes(5);

  private static final String LEADER_LINE = "now links the audit chain";

  private final BenchOptions options;
  private final Path dir;
  private final String[] args;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final List<Store> stores = new ArrayList<>();
  private final List<String> failedChecks = new ArrayList<>();
  private final List<String> passedChecks = new ArrayList<>();
  private final AtomicLong peakRssKib = new AtomicLong();
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private final List<PhaseResult> results = new ArrayList<>();
  private final JsonObject summary = new JsonObject();

  /** The broker instances taking load now (the first is the primary; round-robin over all). */
  private final List<ChildBroker> brokers = new CopyOnWriteArrayList<>();

  private final List<ChildBroker> stopped = new ArrayList<>();
  private final String loadAtStart = ProcStats.loadAverage();
  private Map<String, String> brokerEnv;
  private String adminToken;
  private BenchPostgres postgres;
  private VaultDouble vault;
  private Vertx sandboxVertx;
  private VippsSandbox sandbox;
  private ChildSetup setup;
  private long brokerOk;
  private long brokerOther;
  private int brokerStarts;

  /** Warm-up answers of the last closed loop (the ceiling counts them in its books). */
  private long warmedUp;

  /** A store of the chain: ids, Vipps keys, a STORE token, and a sandbox token for direct calls. */
  private record Store(
      String storeId, String msn, String clientId, String secret, String subKey, String token) {}

  /** CPU, memory, Vault and PostgreSQL counters at one moment. */
  private record Snapshot(
      long nanos,
      long brokerTicks,
      long brokerJitTicks,
      Map<String, Long> postgresByKind,
      long benchTicks,
      ProcStats.MachineCpu machine,
      long credentialReads,
      PgCounters pg) {

    /** PostgreSQL's CPU without the benchmark's own monitoring sessions. */
    long postgresTicks() {
      return postgresByKind.entrySet().stream()
          .filter(e -> !e.getKey().equals("backends of postgres"))
          .mapToLong(Map.Entry::getValue)
          .sum();
    }
  }

  /** One measured phase: its figures as printed and as JSON. */
  private record PhaseResult(
      String stage,
      String key,
      double rate,
      PhaseStats stats,
      boolean sustained,
      double cpuBrokerMs,
      double cpuPostgresMs,
      double statementsPerRefund,
      JsonObject json) {

    double perSecond() {
      return stats.okPerSecond();
    }

    PhaseStats.Percentiles latency() {
      return stats.percentiles();
    }
  }

  private RefundBenchmark(BenchOptions options, Path dir, String[] args) {
    this.options = options;
    this.dir = dir;
    this.args = args;
  }

  public static void main(String[] args) throws Exception {
    BenchOptions options = BenchOptions.parse(args);
    Path dir = Files.createTempDirectory("refund-bench");
    RefundBenchmark bench = new RefundBenchmark(options, dir, args);
    int exit;
    try {
      exit = bench.run();
    } finally {
      bench.shutDown();
      if (!options.keep()) {
        deleteQuietly(dir);
      } else {
        System.out.println("kept " + dir);
      }
    }
    System.exit(exit);
  }

  private int run() throws Exception {
    printMachine();
    startParts();
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(
        () -> {
          for (ChildBroker b : brokers) {
            peakRssKib.accumulateAndGet(ProcStats.rssKib(b.pid()), Math::max);
          }
        },
        0,
        250,
        TimeUnit.MILLISECONDS);
    try (LoadGenerator load = new LoadGenerator(Math.max(options.clients(), 256))) {
      if (options.ceiling()) {
        ceilingStage(load);
      }
      startBroker("broker");
      setUpChain();
      System.out.printf(
          "after set-up: broker RSS %,d MiB (peak so far %,d MiB), credential reads so far %d%n",
          ProcStats.rssKib(primary().pid()) / 1024,
          ProcStats.peakRssKib(primary().pid()) / 1024,
          credentialReads());
      RefundSource refunds = new RefundSource(load.client());
      brokerStage(load, refunds);
      if (options.instances() >= 2) {
        scaleOutStage(load, refunds);
      }
      if (options.growth()) {
        growthStage(load, refunds);
      }
      // the books first: the direct calls below pile up sandbox state the checks do not need
      checkBooks();
      directStage(load);
      printSummary();
    } finally {
      sampler.shutdownNow();
    }
    int exit = failedChecks.isEmpty() ? 0 : 1;
    writeSummary(exit);
    if (exit == 0) {
      System.out.println("\nALL CHECKS PASSED");
    } else {
      System.out.println("\nFAILED CHECKS:");
      failedChecks.forEach(c -> System.out.println("  - " + c));
    }
    return exit;
  }

  private ChildBroker primary() {
    return brokers.get(0);
  }

  // ------------------------------------------------------------------------------ set-up

  private void printMachine() {
    System.out.println("== refund benchmark ==");
    System.out.printf(
        "date %s, %d cores (%s), %,d MiB RAM, Java %s, load average at start: %s%n",
        Instant.now().truncatedTo(ChronoUnit.SECONDS),
        Runtime.getRuntime().availableProcessors(),
        ProcStats.cpuModel(),
        ProcStats.memTotalMib(),
        System.getProperty("java.version"),
        loadAtStart);
    System.out.println("options: " + options);
    summary
        .put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
        .put("arguments", String.join(" ", args))
        .put(
            "machine",
            new JsonObject()
                .put("cores", Runtime.getRuntime().availableProcessors())
                .put("cpu", ProcStats.cpuModel())
                .put("memoryMiB", ProcStats.memTotalMib())
                .put("java", System.getProperty("java.version"))
                .put("javaVm", System.getProperty("java.vm.name"))
                .put("loadAverageAtStart", loadAtStart));
  }

  private void startParts() {
    long started = System.nanoTime();
    postgres =
        BenchPostgres.start(
            dir.resolve("postgres"),
            options.synchronousCommit(),
            options.fsync(),
            options.pgStats());
    vault = options.backend().equals("vault") ? VaultDouble.start() : null;
    sandboxVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    sandbox =
        Await.result(
            VippsSandbox.start(
                sandboxVertx, SandboxOptions.defaults().withPort(0).withRefundCallsPerMinute(0)));
    adminToken = "bench-admin-" + TestSandbox.randomHex(24);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("BROKER_ADMIN_TOKEN", adminToken);
    env.put("BROKER_HTTP_INSTANCES", Integer.toString(options.httpInstances()));
    env.put("BROKER_ACCESS_LOG_LEVEL", options.accessLog());
    env.put("DATABASE_URL", postgres.appUrl());
    env.put("DATABASE_MIGRATION_URL", postgres.ownerUrl());
    env.put("DATABASE_POOL_SIZE", Integer.toString(options.poolSize()));
    env.put("VIPPS_BASE_URL", sandbox.baseUrl());
    env.put("VIPPS_REFUND_CALLS_PER_MINUTE", "1000");
    env.put("RECONCILER_INTERVAL", "5s");
    if (vault != null) {
      env.put("CREDENTIALS_BACKEND", "vault");
      env.put("VAULT_ADDR", vault.address());
      env.put("VAULT_ROLE_ID", vault.roleId());
      env.put("VAULT_SECRET_ID", vault.secretId());
    } else {
      env.put("CREDENTIALS_BACKEND", "local");
    }
    brokerEnv = env;
    Map<String, String> settings = postgres.durabilitySettings();
    summary.put("postgres", new JsonObject(new LinkedHashMap<>(settings)));
    System.out.printf(
        "started in %,d ms: PostgreSQL %s (data on %s), Vipps sandbox %s (refund rate limit off),"
            + " credentials %s%n  PostgreSQL settings: %s%n",
        millis(started),
        settings.get("server_version"),
        fileSystem(dir),
        sandbox.baseUrl(),
        vault == null ? "local (AES-GCM in PostgreSQL)" : "Vault test double " + vault.address(),
        settings);
  }

  /** Starts one more broker instance (the first one migrates the database). */
  private ChildBroker startBroker(String name) {
    Map<String, String> env = new LinkedHashMap<>(brokerEnv);
    int n = brokerStarts++;
    env.put("BROKER_DATA_DIR", dir.resolve("broker-data-" + n).toString());
    ChildBroker broker =
        ChildBroker.start(
            options.brokerJar().toAbsolutePath(),
            options.brokerJvm(),
            env,
            dir.resolve(name + "-" + n + ".log"),
            Duration.ofMinutes(3));
    brokers.add(broker);
    if (brokers.size() == 1) {
      setup = new ChildSetup(broker.baseUrl(), adminToken);
    }
    System.out.printf(
        "broker instance %d (%s) pid %d on port %d: %s%n",
        n, name, broker.pid(), broker.port(), broker.command());
    if (n == 0) {
      System.out.println(
          "broker environment: "
              + env.entrySet().stream()
                  .filter(e -> !e.getKey().contains("TOKEN") && !e.getKey().contains("SECRET"))
                  .map(e -> e.getKey() + "=" + e.getValue())
                  .toList());
      summary.put("brokerJvm", String.join(" ", options.brokerJvm()));
    }
    return broker;
  }

  private void stopBroker(ChildBroker broker) {
    int exit = broker.terminate(Duration.ofSeconds(60));
    brokers.remove(broker);
    stopped.add(broker);
    check(
        exit == 0,
        "broker pid " + broker.pid() + " stopped cleanly (SIGTERM, exit 0)",
        "broker pid " + broker.pid() + " exited with " + exit + " on SIGTERM:\n" + broker.tail(30));
  }

  private void setUpChain() {
    long started = System.nanoTime();
    for (int i = 0; i < options.stores(); i++) {
      String storeId = String.format("bench-s%02d", i);
      String msn = Integer.toString(710_000 + i);
      String clientId = UUID.randomUUID().toString();
      String secret = "cs-" + TestSandbox.randomHex(24);
      String subKey = "sk-" + TestSandbox.randomHex(16);
      sandbox.registerStore(new SandboxStore(msn, clientId, Secret.of(secret), Secret.of(subKey)));
      String token =
          setup.store(
              storeId,
              CHAIN,
              new StoreCredentials(msn, 1, clientId, Secret.of(secret), Secret.of(subKey)));
      stores.add(new Store(storeId, msn, clientId, secret, subKey, token));
    }
    Instant capturedAt = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS);
    long captured = options.refundValue() * options.refundsPerOrder();
    StringBuilder csv = new StringBuilder();
    int rows = 0;
    long imported = 0;
    for (int n = 0; n < options.orders(); n++) {
      Store store = stores.get(n % stores.size());
      String orderId = orderId(n);
      sandbox.seedPayment(
          SandboxPayment.captured(
              store.msn(), orderId, VippsApi.EPAYMENT, new Money(captured, "NOK"), capturedAt));
      csv.append(store.storeId())
          .append(',')
          .append(orderId)
          .append(',')
          .append(captured)
          .append(",NOK,")
          .append(capturedAt)
          .append('\n');
      if (++rows == IMPORT_CHUNK || n == options.orders() - 1) {
        imported += importOrders(csv.toString());
        csv.setLength(0);
        rows = 0;
      }
    }
    if (imported != options.orders()) {
      throw new IllegalStateException(
          "imported " + imported + " orders, expected " + options.orders());
    }
    for (int i = 0; i < stores.size(); i++) {
      for (int p = 0; p < DIRECT_PAYMENTS_PER_STORE; p++) {
        sandbox.seedPayment(
            SandboxPayment.captured(
                stores.get(i).msn(),
                directReference(i, p),
                VippsApi.EPAYMENT,
                new Money(DIRECT_CAPTURED, "NOK"),
                capturedAt));
      }
    }
    // only the seeded tables, as DatabaseCeiling does: an ANALYZE of the refund and audit tables
    // while they are still (nearly) empty records them as empty, and the broker's long-lived
    // sessions keep the sequential-scan plans chosen then (the sequencer's link trigger, the
    // idempotency look-up) until autovacuum analyzes again, a minute or more into the load
    postgres.execute(BenchPostgres.DATABASE, "ANALYZE chains, stores, api_clients, orders");
    System.out.printf(
        "set-up in %,d ms: chain '%s' with %d stores (keys proved against the sandbox and stored"
            + " in the credential backend), %,d orders of %s imported and captured at the sandbox,"
            + " %,d sandbox payments for the direct calls%n",
        millis(started),
        CHAIN,
        stores.size(),
        imported,
        new Money(captured, "NOK"),
        stores.size() * DIRECT_PAYMENTS_PER_STORE);
  }

  private static String orderId(int n) {
    return String.format(ORDER_PREFIX + "%08d", n);
  }

  private static String directReference(int store, int payment) {
    return String.format("direct-%02d-%03d", store, payment);
  }

  private long importOrders(String rows) {
    String csv = "storeId,orderId,amount,currency,capturedAt\n" + rows;
    var response =
        sendRaw(
            HttpRequest.newBuilder(URI.create(primary().baseUrl() + "/v1/admin/orders/import"))
                .timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + adminToken)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(csv))
                .build());
    ChildSetup.expect(response, 200);
    JsonObject report = new JsonObject(response.body());
    if (!report.getJsonArray("rejected").isEmpty()) {
      throw new IllegalStateException("import rejected rows: " + report.encode());
    }
    return report.getLong("imported");
  }

  // ------------------------------------------------------------------------------ stages

  /** The database's own ceiling, before any broker runs. */
  private void ceilingStage(LoadGenerator load) {
    for (DatabaseCeiling.Shape shape : options.ceilingShapes()) {
      ceilingStage(load, shape, shape == options.ceilingShapes().get(0));
    }
  }

  /** One shape of the ceiling; the first is stage "ceiling", others "ceiling-" + shape. */
  private void ceilingStage(LoadGenerator load, DatabaseCeiling.Shape shape, boolean first) {
    String stage = first ? "ceiling" : "ceiling-" + shape.name().toLowerCase(Locale.ROOT);
    System.out.printf(
        "%n== stage: %s: database ceiling (the broker's SQL for one refund, writes as %s, straight"
            + " to PostgreSQL, pool %d, %d clients, no broker) ==%n",
        stage, shape, options.poolSize(), options.clients());
    long started = System.nanoTime();
    DatabaseCeiling ceiling =
        DatabaseCeiling.start(
            postgres,
            shape,
            load.vertx(),
            options.poolSize(),
            options.stores(),
            options.orders(),
            options.refundValue(),
            options.refundsPerOrder());
    System.out.printf(
        "  database %s migrated and seeded (%,d orders) in %,d ms; the driver sends %s%n",
        ceiling.database(), options.orders(), millis(started), ceiling.shape());
    try {
      PhaseResult result =
          closedLoop(
              stage,
              "database ceiling ("
                  + shape.name().toLowerCase(Locale.ROOT)
                  + "), closed loop, "
                  + options.clients()
                  + " clients",
              load,
              ceiling,
              options.ceilingWarmup(),
              ceiling.database(),
              false);
      long completed = result.stats().okCount() + warmedUp;
      List<String> wrong = ceiling.check(postgres, completed);
      check(
          wrong.isEmpty(),
          stage
              + ": "
              + completed
              + " refunds SUCCEEDED, none above captured, every audit event linked once",
          String.join("; ", wrong));
      result
          .json()
          .put("driverStatementsPerRefund", ceiling.statementsPerRefund())
          .put("driverShape", ceiling.shape());
    } finally {
      ceiling.close();
    }
  }

  private void brokerStage(LoadGenerator load, RefundSource refunds) {
    System.out.printf(
        "%n== stage: broker (one instance, pool %d, %d HTTP verticles) ==%n",
        options.poolSize(), options.httpInstances());
    closedLoop(
        "broker",
        "broker closed loop, " + options.clients() + " clients",
        load,
        refunds,
        options.warmup(),
        BenchPostgres.DATABASE,
        options.jfr());
    summary.put("sequencerPlansSmall", explainSequencer("after the broker's closed loop"));
    ladder("broker", load, refunds);
    oneClient("broker", "broker, one client", 201, load, refunds, BenchPostgres.DATABASE);
  }

  /** More instances on the same database, requests round-robin; the sequencer lock watched. */
  private void scaleOutStage(LoadGenerator load, RefundSource refunds) throws SQLException {
    System.out.printf(
        "%n== stage: scale-out (%d broker instances on one PostgreSQL, round-robin) ==%n",
        options.instances());
    List<ChildBroker> added = new ArrayList<>();
    for (int i = 1; i < options.instances(); i++) {
      added.add(startBroker("broker"));
    }
    JsonObject json = new JsonObject().put("instances", options.instances());
    try (SequencerWatch watch = new SequencerWatch(postgres)) {
      closedLoop(
          "scale-out",
          "scale-out closed loop, "
              + options.clients()
              + " clients, "
              + brokers.size()
              + " instances",
          load,
          refunds,
          options.scaleWarmup(),
          BenchPostgres.DATABASE,
          false);
      ladder("scale-out", load, refunds);
      watch.close();
      List<Long> leaderLines = new ArrayList<>();
      for (ChildBroker b : brokers) {
        leaderLines.add(b.countLines(LEADER_LINE));
      }
      System.out.printf(
          "  sequencer lock: %,d samples, at most %d holder(s) at once, %d distinct holder"
              + " session(s), %d samples without a holder; '%s' logged per instance: %s%n",
          watch.samples(),
          watch.mostHoldersAtOnce(),
          watch.distinctHolders(),
          watch.samplesWithoutLeader(),
          LEADER_LINE,
          leaderLines);
      check(
          watch.failure() == null && watch.samples() > 0 && watch.mostHoldersAtOnce() <= 1,
          "one sequencer at a time: never more than one session held the sequencer lock ("
              + watch.samples()
              + " samples)",
          "sequencer lock: "
              + watch.mostHoldersAtOnce()
              + " holders at once, failure "
              + watch.failure());
      long leaders = leaderLines.stream().filter(n -> n > 0).count();
      check(
          leaders == 1 && watch.distinctHolders() == 1,
          "one instance led the sequencer throughout the stage",
          "leadership moved or was shared: holders "
              + watch.distinctHolders()
              + ", leader lines per instance "
              + leaderLines);
      json.put("sequencerSamples", watch.samples())
          .put("sequencerMostHoldersAtOnce", watch.mostHoldersAtOnce())
          .put("sequencerDistinctHolders", watch.distinctHolders())
          .put("sequencerSamplesWithoutHolder", watch.samplesWithoutLeader())
          .put("leaderLogLinesPerInstance", new JsonArray(new ArrayList<>(leaderLines)));
      JsonArray rss = new JsonArray();
      for (ChildBroker b : brokers) {
        rss.add(ProcStats.peakRssKib(b.pid()) / 1024);
      }
      json.put("vmHwmMiBPerInstance", rss);
    }
    summary.put("scaleOut", json);
    for (ChildBroker b : added) {
      stopBroker(b);
    }
  }

  /** History preloaded while the broker is stopped, then the same measurements again. */
  private void growthStage(LoadGenerator load, RefundSource refunds) throws SQLException {
    System.out.printf(
        "%n== stage: growth (%,d more orders with refunds, %,d more audit events) ==%n",
        options.growthOrders(), options.growthEvents());
    AuditMac mac = macKey();
    stopBroker(primary());
    long started = System.nanoTime();
    GrowthLoad.Result loaded =
        GrowthLoad.preload(postgres, mac, CHAIN, options.growthOrders(), options.growthEvents());
    long preloadMs = millis(started);
    System.out.printf("  preloaded in %,d ms%n", preloadMs);
    started = System.nanoTime();
    startBroker("broker-growth");
    long restartMs = millis(started);
    started = System.nanoTime();
    Poll.until(
        "the checkpointer signed the preloaded trail",
        Duration.ofMinutes(20),
        () ->
            postgres.queryLong("SELECT coalesce(max(seq), 0) FROM audit_checkpoints")
                >= loaded.headSeq());
    long catchUpMs = millis(started);
    JsonObject json =
        new JsonObject()
            .put("orders", postgres.queryLong("SELECT count(*) FROM orders"))
            .put("refunds", postgres.queryLong("SELECT count(*) FROM refunds"))
            .put("auditEvents", postgres.queryLong("SELECT count(*) FROM audit_entries"))
            .put("preloadMs", preloadMs)
            .put("preloadRowsMs", loaded.rowsTime().toMillis())
            .put("preloadEventsMs", loaded.eventsTime().toMillis())
            .put("vacuumMs", loaded.vacuumTime().toMillis())
            .put("brokerRestartMs", restartMs)
            .put("checkpointCatchUpMs", catchUpMs)
            .put(
                "databaseSize",
                postgres
                    .query("SELECT pg_size_pretty(pg_database_size(current_database())) AS s")
                    .get(0)
                    .get("s"));
    System.out.printf(
        "  broker restarted in %,d ms; its checkpointer checked and signed the preloaded trail in"
            + " %,d ms; now %s%n",
        restartMs, catchUpMs, json.encode());
    summary.put("growth", json);
    closedLoop(
        "growth",
        "growth closed loop, " + options.clients() + " clients",
        load,
        refunds,
        options.scaleWarmup(),
        BenchPostgres.DATABASE,
        false);
    summary.put("sequencerPlansGrowth", explainSequencer("after the growth closed loop"));
    ladder("growth", load, refunds);
    compareGrowth(json);
  }

  private void compareGrowth(JsonObject json) {
    PhaseResult small = find("broker", "closed");
    PhaseResult grown = find("growth", "closed");
    if (small == null || grown == null) {
      return;
    }
    double ratio = grown.perSecond() / Math.max(1, small.perSecond());
    json.put("closedLoopRatio", round(ratio));
    System.out.printf(
        "  growth: closed loop %,.0f/s against %,.0f/s before the preload (%.0f%%; target: within"
            + " 10%%)%n",
        grown.perSecond(), small.perSecond(), ratio * 100);
    JsonArray rates = new JsonArray();
    for (PhaseResult r : results) {
      if (r.stage().equals("growth") && r.rate() > 0) {
        PhaseResult before = findRate("broker", r.rate());
        if (before != null) {
          rates.add(
              new JsonObject()
                  .put("rate", r.rate())
                  .put("sustainedBefore", before.sustained())
                  .put("sustainedAfter", r.sustained())
                  .put("p99BeforeMs", round(before.latency().p99()))
                  .put("p99AfterMs", round(r.latency().p99())));
        }
      }
    }
    json.put("fixedRates", rates);
  }

  private AuditMac macKey() {
    VaultDouble.OperatorReply reply =
        vault.operator("GET", VaultDouble.KV_MOUNT + "/data/broker/" + AuditMac.SECRET, null);
    if (reply.status() != 200) {
      throw new IllegalStateException("cannot read the audit MAC key from the Vault double");
    }
    Map<String, String> fields = new HashMap<>();
    reply
        .body()
        .getJsonObject("data")
        .getJsonObject("data")
        .forEach(e -> fields.put(e.getKey(), String.valueOf(e.getValue())));
    return Await.result(AuditMac.fromSecret(fields));
  }

  private void directStage(LoadGenerator load) {
    System.out.printf("%n== stage: the same refund call straight to the sandbox ==%n");
    DirectSource direct = new DirectSource(load.client());
    PhaseStats warm = new PhaseStats("sandbox direct warm-up", 200);
    PhaseStats capacity =
        new PhaseStats("sandbox direct closed loop, " + options.clients() + " clients", 200);
    Duration directWarmup = Duration.ofSeconds(5);
    LoadGenerator.Run closed =
        load.closedLoop(
            options.clients(), directWarmup, options.directDuration(), warm, capacity, direct);
    LoadGenerator.await(closed.windowStarted(), directWarmup.plusMinutes(1));
    Snapshot before = snapshot(BenchPostgres.DATABASE);
    LoadGenerator.await(closed.done(), options.directDuration().plusMinutes(5));
    measure("direct", "closed", 0, capacity, before, snapshot(BenchPostgres.DATABASE));
    oneClient("direct", "sandbox direct, one client", 200, load, direct, BenchPostgres.DATABASE);
  }

  // ------------------------------------------------------------------------------ phases

  private PhaseResult closedLoop(
      String stage,
      String name,
      LoadGenerator load,
      LoadGenerator.Source source,
      Duration warmup,
      String database,
      boolean profile) {
    PhaseStats warm = new PhaseStats(stage + " warm-up", 201);
    PhaseStats measured = new PhaseStats(name, 201);
    System.out.printf(
        "%nphase: %s: %s warm-up (not counted), then %s measured%n",
        name, warmup, options.duration());
    LoadGenerator.Run closed =
        load.closedLoop(options.clients(), warmup, options.duration(), warm, measured, source);
    CompletableFuture<Void> analyzed = analyzeMidway(database, warmup);
    Path jfrFile = dir.resolve("broker-" + stage + ".jfr");
    if (profile) {
      // during the warm-up: attaching takes a moment; the analysis keeps the window only
      JfrProfile.start(primary().pid(), dir);
    }
    LoadGenerator.await(closed.windowStarted(), warmup.plusMinutes(1));
    analyzed.join();
    Snapshot start = snapshot(database);
    Instant windowFrom = Instant.now();
    peakRssKib.set(0);
    PgActivitySampler activity = null;
    if (profile) {
      try {
        activity = new PgActivitySampler(postgres, BenchPostgres.APP_USER, database, 10);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
    LoadGenerator.await(closed.done(), options.duration().plusMinutes(5));
    Instant windowTo = Instant.now();
    if (profile) {
      activity.close();
    }
    Snapshot end = snapshot(database);
    if (profile) {
      JfrProfile.stop(primary().pid(), jfrFile);
    }
    System.out.printf(
        "  warm-up: %,d answered 201, %,d other answers %s; latency %s%n",
        warm.okCount(), warm.othersCount(), warm.others(), warm.percentiles().describe());
    warmedUp = warm.okCount();
    if (!stage.startsWith("ceiling")) {
      brokerOk += warm.okCount() + measured.okCount();
      brokerOther += warm.othersCount() + measured.othersCount();
    }
    PhaseResult result = measure(stage, "closed", 0, measured, start, end);
    if (profile) {
      profile(
          result,
          jfrFile,
          windowFrom,
          windowTo,
          activity,
          end.pg() == null ? null : end.pg().since(start.pg()),
          measured.okCount());
    }
    return result;
  }

  /**
   * Half-way through a warm-up, ANALYZE of the tables the refunds write, as autovacuum does within
   * its naptime (a minute) once they grow: until then the plans chosen while they were nearly empty
   * (the sequencer's link trigger and polls read {@code audit_entries} by sequential scans, 440–900
   * µs per look-up) would be measured instead of the steady state. The windows are shorter than the
   * naptime; in a broker running for minutes, autovacuum has done the same.
   */
  private CompletableFuture<Void> analyzeMidway(String database, Duration warmup) {
    return CompletableFuture.runAsync(
        () ->
            postgres.execute(
                database, "ANALYZE refunds, idempotency_records, audit_entries, audit_links"),
        CompletableFuture.delayedExecutor(warmup.toMillis() / 2, TimeUnit.MILLISECONDS));
  }

  /** Climbs the fixed rates until one is not sustained. */
  private void ladder(String stage, LoadGenerator load, LoadGenerator.Source source) {
    for (double rate : options.rates()) {
      PhaseResult result = openLoop(stage, load, source, rate);
      if (!result.sustained()) {
        System.out.printf(
            "  %,.0f/s not sustained: the higher rates of this stage are skipped%n", rate);
        break;
      }
    }
  }

  private PhaseResult openLoop(
      String stage, LoadGenerator load, LoadGenerator.Source source, double rate) {
    PhaseStats fixed = new PhaseStats(String.format("%s, fixed rate %.0f/s", stage, rate), 201);
    System.out.printf(
        "%nphase: %s, fixed rate %.0f requests/s for %s (latency from when each request was"
            + " due; stops when %,d are unanswered)%n",
        stage, rate, options.duration(), MAX_OUTSTANDING);
    Snapshot before = snapshot(BenchPostgres.DATABASE);
    peakRssKib.set(0);
    LoadGenerator.await(
        load.openLoop(rate, options.duration(), MAX_OUTSTANDING, fixed, source),
        options.duration().plusMinutes(10));
    Snapshot after = snapshot(BenchPostgres.DATABASE);
    if (fixed.gaveUpAfterNanos > 0) {
      System.out.printf(
          "  NOT SUSTAINED: %,d requests were unanswered after %.1f s; the phase stopped there%n",
          MAX_OUTSTANDING, fixed.gaveUpAfterNanos / 1e9);
    }
    brokerOk += fixed.okCount();
    brokerOther += fixed.othersCount();
    return measure(stage, "rate " + (long) rate, rate, fixed, before, after);
  }

  /** Unloaded latency: {@code --latency-requests} requests sent one after the other. */
  private PhaseResult oneClient(
      String stage,
      String name,
      int okStatus,
      LoadGenerator load,
      LoadGenerator.Source source,
      String database) {
    PhaseStats single = new PhaseStats(name, okStatus);
    System.out.printf("%nphase: %s, %,d sequential requests%n", name, options.latencyRequests());
    Snapshot before = snapshot(database);
    LoadGenerator.await(
        load.closedLoop(
                1,
                Duration.ZERO,
                Duration.ofMinutes(30),
                null,
                single,
                limit(source, options.latencyRequests()))
            .done(),
        Duration.ofMinutes(31));
    if (okStatus == 201) {
      brokerOk += single.okCount();
      brokerOther += single.othersCount();
    }
    return measure(stage, "single", 0, single, before, snapshot(database));
  }

  private static LoadGenerator.Source limit(LoadGenerator.Source source, int count) {
    int[] left = {count};
    return () -> left[0]-- > 0 ? source.sendNext() : null;
  }

  /** Cross-store refunds: every order gets {@code refundsPerOrder} refunds, one round at a time. */
  private final class RefundSource implements LoadGenerator.Source {
    private final WebClient client;
    private long next;
    private boolean ranOut;

    RefundSource(WebClient client) {
      this.client = client;
    }

    @Override
    public Future<LoadGenerator.Answer> sendNext() {
      long i = next;
      if (i >= (long) options.orders() * options.refundsPerOrder()) {
        if (!ranOut) {
          ranOut = true;
          fail("ran out of orders after " + i + " refunds: raise --orders");
        }
        return null;
      }
      next++;
      int order = (int) (i % options.orders());
      int origin = order % stores.size();
      int requester = (origin + 1 + (int) (i % (stores.size() - 1))) % stores.size();
      ChildBroker target = brokers.get((int) (i % brokers.size()));
      Buffer body =
          Buffer.buffer(
              "{\"orderId\":\""
                  + orderId(order)
                  + "\",\"amount\":{\"value\":"
                  + options.refundValue()
                  + ",\"currency\":\"NOK\"},\"reason\":\""
                  + REASON
                  + "\"}");
      return LoadGenerator.http(
          client
              .post(target.port(), "127.0.0.1", "/v1/refunds")
              .putHeader("Authorization", "Bearer " + stores.get(requester).token())
              .putHeader("Idempotency-Key", "bench-" + runId + "-" + i)
              .putHeader("Content-Type", "application/json")
              .timeout(30_000)
              .sendBuffer(body));
    }
  }

  /**
   * The refund call the broker makes for a refund, sent straight to the sandbox: the same endpoint,
   * headers (access token, subscription key, MSN, idempotency key, Vipps-System-*) and body, on
   * payments of the same stores.
   */
  private final class DirectSource implements LoadGenerator.Source {
    private final WebClient client;
    private final List<String> accessTokens = new ArrayList<>();
    private final Buffer body;
    private long next;

    DirectSource(WebClient client) {
      this.client = client;
      for (Store store : stores) {
        var response =
            sendRaw(
                HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/accesstoken/get"))
                    .header(VippsHeaders.CLIENT_ID, store.clientId())
                    .header(VippsHeaders.CLIENT_SECRET, store.secret())
                    .header(VippsHeaders.SUBSCRIPTION_KEY, store.subKey())
                    .header(VippsHeaders.MSN, store.msn())
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
        ChildSetup.expect(response, 200);
        accessTokens.add(new JsonObject(response.body()).getString("access_token"));
      }
      this.body =
          new JsonObject()
              .put(
                  "modificationAmount",
                  new JsonObject().put("currency", "NOK").put("value", options.refundValue()))
              .toBuffer();
    }

    @Override
    public Future<LoadGenerator.Answer> sendNext() {
      long i = next++;
      int payment = (int) (i % ((long) stores.size() * DIRECT_PAYMENTS_PER_STORE));
      int store = payment / DIRECT_PAYMENTS_PER_STORE;
      Store s = stores.get(store);
      return LoadGenerator.http(
          client
              .post(
                  sandbox.port(),
                  "127.0.0.1",
                  "/epayment/v1/payments/"
                      + directReference(store, payment % DIRECT_PAYMENTS_PER_STORE)
                      + "/refund")
              .putHeader(VippsHeaders.AUTHORIZATION, "Bearer " + accessTokens.get(store))
              .putHeader(VippsHeaders.SUBSCRIPTION_KEY, s.subKey())
              .putHeader(VippsHeaders.MSN, s.msn())
              .putHeader(VippsHeaders.IDEMPOTENCY_KEY, "direct-" + runId + "-" + i)
              .putHeader(VippsHeaders.SYSTEM_NAME, "refund-broker")
              .putHeader(VippsHeaders.SYSTEM_VERSION, "bench")
              .putHeader(VippsHeaders.PLUGIN_NAME, "refund-broker")
              .putHeader(VippsHeaders.PLUGIN_VERSION, "bench")
              .putHeader("Content-Type", "application/json")
              .timeout(30_000)
              .sendBuffer(body));
    }
  }

  // ------------------------------------------------------------------------------ figures

  private Snapshot snapshot(String database) {
    long brokerTicks = 0;
    long brokerJitTicks = 0;
    for (ChildBroker b : brokers) {
      brokerTicks += ProcStats.treeCpuTicks(b.pid());
      brokerJitTicks += ProcStats.compilerTicks(b.pid());
    }
    return new Snapshot(
        System.nanoTime(),
        brokerTicks,
        brokerJitTicks,
        ProcStats.postgresTicksByKind(postgres.postmasterPid()),
        ProcStats.cpuTicks(ProcessHandle.current().pid()),
        ProcStats.machineCpu(),
        credentialReads(),
        options.pgStats() ? PgCounters.read(postgres, database) : null);
  }

  /**
   * Reads of stored credentials: GETs of KV v2 {@code data/} paths of the stores' keys that the
   * Vault double answered, or (local backend) scans of the {@code credential_versions} table.
   */
  private long credentialReads() {
    if (vault != null) {
      return vault.count(
          r ->
              r.method().equals("GET")
                  && r.path().startsWith(VaultDouble.KV_MOUNT + "/data/")
                  && !r.path().startsWith(VaultDouble.KV_MOUNT + "/data/broker/"));
    }
    return postgres.queryLong(
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables"
            + " WHERE relname = 'credential_versions'");
  }

  /** Prints one phase's figures and keeps them for the summary. */
  private PhaseResult measure(
      String stage, String key, double rate, PhaseStats stats, Snapshot before, Snapshot after) {
    double seconds = (after.nanos() - before.nanos()) / 1e9;
    long answered = stats.okCount() + stats.othersCount();
    PhaseStats.Percentiles p = stats.percentiles();
    boolean sustained =
        rate <= 0
            || (stats.gaveUpAfterNanos == 0
                && stats.othersCount() == 0
                && stats.okPerSecond() >= 0.98 * rate);
    System.out.printf(
        "  %s: %,d sent, %,d answered %d (%,.0f/s in the %.1f s window), %,d other answers%s%n",
        stats.name,
        stats.sentCount(),
        stats.okCount(),
        stats.expectedStatus,
        stats.okPerSecond(),
        stats.windowNanos / 1e9,
        stats.othersCount(),
        rate > 0 ? (sustained ? " — sustained" : " — NOT sustained") : "");
    System.out.println("  latency of the " + stats.expectedStatus + "s: " + p.describe());
    if (rate > 0) {
      System.out.println("  timeline: " + stats.timeline(25, 5));
    }
    stats
        .others()
        .forEach(
            (k, count) ->
                System.out.printf(
                    "  other answer %s: %,d (e.g. %s)%n", k, count, stats.exampleBodies().get(k)));
    long brokerTicks = after.brokerTicks() - before.brokerTicks();
    long brokerJitTicks = Math.max(0, after.brokerJitTicks() - before.brokerJitTicks());
    long postgresTicks = after.postgresTicks() - before.postgresTicks();
    long benchTicks = after.benchTicks() - before.benchTicks();
    System.out.printf(
        "  max in flight %d; CPU over %.1f s: machine %.0f%% of %d cores busy (%.1f%% stolen);"
            + " broker %.2f cores, PostgreSQL %.2f cores, this JVM (load generator, sandbox, Vault"
            + " double%s) %.2f cores%n",
        stats.maxInFlight,
        seconds,
        after.machine().busySince(before.machine()) * 100,
        Runtime.getRuntime().availableProcessors(),
        after.machine().stealSince(before.machine()) * 100,
        cores(brokerTicks, seconds),
        cores(postgresTicks, seconds),
        stage.startsWith("ceiling") ? ", ceiling driver" : "",
        cores(benchTicks, seconds));
    double brokerMs = answered == 0 ? 0 : ticksMs(brokerTicks) / answered;
    double postgresMs = answered == 0 ? 0 : ticksMs(postgresTicks) / answered;
    JsonObject pgKinds = new JsonObject();
    StringBuilder kinds = new StringBuilder();
    after
        .postgresByKind()
        .forEach(
            (kind, ticks) -> {
              long delta = ticks - before.postgresByKind().getOrDefault(kind, 0L);
              if (delta > 0 && answered > 0) {
                double ms = ticksMs(delta) / answered;
                pgKinds.put(kind, round(ms));
                kinds.append(String.format("%s %.3f, ", kind, ms));
              }
            });
    JsonObject json =
        new JsonObject()
            .put("stage", stage)
            .put("phase", key)
            .put("name", stats.name)
            .put("targetRate", rate)
            .put("sustained", sustained)
            .put("seconds", round(stats.windowNanos / 1e9))
            .put("sent", stats.sentCount())
            .put("ok", stats.okCount())
            .put("errors", stats.othersCount())
            .put("errorKinds", new JsonObject(new LinkedHashMap<>(stats.others())))
            .put("perSecond", round(stats.okPerSecond()))
            .put("p50Ms", round(p.p50()))
            .put("p95Ms", round(p.p95()))
            .put("p99Ms", round(p.p99()))
            .put("p999Ms", round(p.p999()))
            .put("maxMs", round(p.max()))
            .put("maxInFlight", stats.maxInFlight)
            .put("gaveUpAfterSeconds", round(stats.gaveUpAfterNanos / 1e9))
            .put("machineBusyPercent", round(after.machine().busySince(before.machine()) * 100))
            .put("brokerCores", round(cores(brokerTicks, seconds)))
            .put("postgresCores", round(cores(postgresTicks, seconds)))
            .put("benchJvmCores", round(cores(benchTicks, seconds)))
            .put("loadAverage", ProcStats.loadAverage());
    if (stats.expectedStatus == 201 && answered > 0) {
      double jitMs = ticksMs(brokerJitTicks) / answered;
      json.put("cpuBrokerMsPerRefund", round(brokerMs))
          .put("cpuBrokerJitMsPerRefund", round(jitMs))
          .put("cpuBrokerWithoutJitMsPerRefund", round(brokerMs - jitMs))
          .put("cpuPostgresMsPerRefund", round(postgresMs))
          .put("cpuPostgresByProcessMsPerRefund", pgKinds)
          .put("cpuBenchJvmMsPerRefund", round(ticksMs(benchTicks) / answered));
      System.out.printf(
          "  CPU per refund answered: broker %.3f ms (of which its JIT compiler threads %.3f ms),"
              + " PostgreSQL %.3f ms (%s), this JVM %.3f ms%n",
          brokerMs,
          jitMs,
          postgresMs,
          kinds.length() > 2 ? kinds.substring(0, kinds.length() - 2) : "-",
          ticksMs(benchTicks) / answered);
    }
    double statements = 0;
    if (after.pg() != null && answered > 0 && !stage.equals("direct")) {
      PgCounters pg = after.pg().since(before.pg());
      statements = (double) pg.statements() / answered;
      double walFlushes = pg.walSyncs();
      System.out.printf(
          "  PostgreSQL per refund: %.1f statements of %s (request path %.1f), %.2f commits,"
              + " %.0f bytes of WAL, %.2f WAL flushes (%.1f refunds per flush), %.2f full-page"
              + " images%n",
          statements,
          BenchPostgres.APP_USER,
          pg.requestPathStatementsPer(answered),
          (double) pg.commits() / answered,
          (double) pg.walBytes() / answered,
          walFlushes / answered,
          walFlushes == 0 ? 0 : answered / walFlushes,
          (double) pg.walFpi() / answered);
      JsonObject rows = new JsonObject();
      StringBuilder rowText = new StringBuilder();
      pg.tables()
          .forEach(
              (table, t) -> {
                if (t.inserted() + t.updated() + t.seqRead() > 0) {
                  rows.put(
                      table,
                      new JsonObject()
                          .put("inserted", round((double) t.inserted() / answered))
                          .put("updated", round((double) t.updated() / answered))
                          .put("hotUpdated", round((double) t.hotUpdated() / answered))
                          .put("seqReadRows", round((double) t.seqRead() / answered))
                          .put("indexes", t.indexes()));
                  rowText.append(
                      String.format(
                          "%s +%.1f/~%.1f (HOT %.1f, %d indexes, %.1f rows read by"
                              + " sequential scans); ",
                          table,
                          (double) t.inserted() / answered,
                          (double) t.updated() / answered,
                          (double) t.hotUpdated() / answered,
                          t.indexes(),
                          (double) t.seqRead() / answered));
                }
              });
      System.out.println("  rows per refund (inserted/updated): " + rowText);
      if (key.equals("closed")) {
        json.put("statements", statementTable(pg, answered));
      }
      json.put("statementsPerRefund", round(statements))
          .put("requestPathStatementsPerRefund", round(pg.requestPathStatementsPer(answered)))
          .put("commitsPerRefund", round((double) pg.commits() / answered))
          .put("walBytesPerRefund", round((double) pg.walBytes() / answered))
          .put("walFlushesPerRefund", round(walFlushes / answered))
          .put("fullPageImagesPerRefund", round((double) pg.walFpi() / answered))
          .put("rowsPerRefund", rows);
    }
    if (!stage.startsWith("ceiling")) {
      long reads = after.credentialReads() - before.credentialReads();
      long vmHwm = brokers.isEmpty() ? 0 : ProcStats.peakRssKib(primary().pid());
      System.out.printf(
          "  credential reads (%s): %d = %.6f per request; broker RSS highest sample %,d MiB,"
              + " VmHWM %,d MiB; load average %s%n",
          vault == null ? "credential_versions scans" : "Vault KV data GETs",
          reads,
          stats.okCount() == 0 ? 0.0 : (double) reads / stats.okCount(),
          peakRssKib.get() / 1024,
          vmHwm / 1024,
          ProcStats.loadAverage());
      // the brokers' credential cache expires every CREDENTIALS_CACHE_TTL (default 5 min, not set
      // here): each store's keys are read again once per instance per TTL, whatever the rate
      long ttlRefreshes =
          (long) stores.size()
              * brokers.size()
              * (long) Math.ceil(seconds / CREDENTIALS_CACHE_TTL.toSeconds());
      json.put("credentialReads", reads)
          .put("credentialReadsTtlRefreshesAtMost", ttlRefreshes)
          .put("brokerRssPeakMiB", peakRssKib.get() / 1024)
          .put("brokerVmHwmMiB", vmHwm / 1024);
    } else {
      System.out.printf("  load average %s%n", ProcStats.loadAverage());
    }
    PhaseResult result =
        new PhaseResult(stage, key, rate, stats, sustained, brokerMs, postgresMs, statements, json);
    results.add(result);
    return result;
  }

  /** The JFR profile and PostgreSQL's view of the profiled phase. */
  private void profile(
      PhaseResult phase,
      Path jfrFile,
      Instant from,
      Instant to,
      PgActivitySampler activity,
      PgCounters statements,
      long refunds) {
    Path out = options.summary().toAbsolutePath().getParent();
    try {
      Files.createDirectories(out);
      Files.copy(
          jfrFile,
          out.resolve(jfrFile.getFileName()),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JfrProfile.Report report =
        JfrProfile.analyse(jfrFile, from, to, 30, Runtime.getRuntime().availableProcessors());
    StringBuilder text = new StringBuilder();
    text.append("\n== profile of '").append(phase.stats().name).append("' ==\n");
    text.append(report.text());
    text.append('\n').append(activity.describe());
    System.out.print(text);
    try {
      Files.writeString(out.resolve("profile-" + phase.stage() + ".txt"), text.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    summary.put(
        "profile",
        new JsonObject()
            .put("phase", phase.stats().name)
            .put("jfr", report.json())
            .put("postgresSessions", activity.meanSessions())
            .put("statements", phase.json().getJsonArray("statements")));
  }

  /** The statements of one phase per refund, most frequent first (printed and as JSON). */
  private static JsonArray statementTable(PgCounters statements, long refunds) {
    StringBuilder text = new StringBuilder();
    text.append(
        String.format(
            "  statements of %s in the window (pg_stat_statements; per refund):%n",
            BenchPostgres.APP_USER));
    text.append("  | issuer | calls/refund | mean µs | total ms | statement |\n");
    text.append("  |---|---|---|---|---|\n");
    JsonArray table = new JsonArray();
    for (PgCounters.Statement s : statements.statementsByCalls()) {
      double perRefund = (double) s.calls() / Math.max(1, refunds);
      if (perRefund < 0.005) {
        continue;
      }
      String query = s.query().length() > 110 ? s.query().substring(0, 110) + "…" : s.query();
      text.append(
          String.format(
              "  | %s | %.2f | %,.0f | %,.0f | %s |%n",
              PgCounters.issuer(s), perRefund, s.totalMs() * 1000 / s.calls(), s.totalMs(), query));
      table.add(
          new JsonObject()
              .put("issuer", PgCounters.issuer(s))
              .put("callsPerRefund", round(perRefund))
              .put("meanMicros", round(s.totalMs() * 1000 / s.calls()))
              .put("totalMs", round(s.totalMs()))
              .put("query", s.query()));
    }
    System.out.print(text);
    return table;
  }

  /**
   * How PostgreSQL runs the sequencer's two polling statements now (EXPLAIN ANALYZE of the prepared
   * statement, with the generic plan a cached statement may switch to and with a custom plan), at
   * the horizon a running sequencer uses (the current xmin) and at 0 (a new leader).
   */
  private JsonObject explainSequencer(String label) {
    JsonObject json = new JsonObject();
    String home = "io.refundbroker.audit.AuditLinkRepository";
    Map<String, String> statements = new LinkedHashMap<>();
    statements.put("PENDING", WritePathSql.sql(home, "PENDING"));
    statements.put("UNLINKED", WritePathSql.sql(home, "UNLINKED"));
    long xmin =
        postgres.queryLong("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x");
    System.out.printf("  sequencer statements (%s), EXPLAIN ANALYZE:%n", label);
    for (Map.Entry<String, String> e : statements.entrySet()) {
      String name = "bench_" + e.getKey().toLowerCase(java.util.Locale.ROOT);
      String args = e.getKey().equals("PENDING") ? "%d" : "%d, 5000";
      postgres.execute(BenchPostgres.DATABASE, "PREPARE " + name + " AS " + e.getValue(), true);
      for (String mode : List.of("force_generic_plan", "force_custom_plan")) {
        for (long horizon : List.of(xmin, 0L)) {
          postgres.execute(BenchPostgres.DATABASE, "SET plan_cache_mode = " + mode, true);
          List<Map<String, Object>> plan =
              postgres.query(
                  "EXPLAIN (ANALYZE, BUFFERS) EXECUTE "
                      + name
                      + "("
                      + String.format(args, horizon)
                      + ")");
          StringBuilder lines = new StringBuilder();
          String time = "";
          for (Map<String, Object> row : plan) {
            String line = String.valueOf(row.values().iterator().next());
            lines.append(line).append('\n');
            if (line.startsWith("Execution Time")) {
              time = line;
            }
          }
          String key = e.getKey() + " " + mode + " horizon=" + (horizon == 0 ? "0" : "xmin");
          json.put(key, lines.toString());
          System.out.printf("    %s: %s%n", key, time);
        }
      }
      postgres.execute(BenchPostgres.DATABASE, "RESET plan_cache_mode", true);
      postgres.execute(BenchPostgres.DATABASE, "DEALLOCATE " + name, true);
    }
    return json;
  }

  private static double cores(long ticks, double seconds) {
    return seconds <= 0 ? 0 : ticks / ProcStats.TICKS_PER_SECOND / seconds;
  }

  private static double ticksMs(long ticks) {
    return ticks * 1000 / ProcStats.TICKS_PER_SECOND;
  }

  private static double round(double value) {
    return Double.isFinite(value) ? Math.round(value * 1000) / 1000.0 : -1;
  }

  private PhaseResult find(String stage, String key) {
    return results.stream()
        .filter(r -> r.stage().equals(stage) && r.key().equals(key))
        .findFirst()
        .orElse(null);
  }

  private PhaseResult findRate(String stage, double rate) {
    return results.stream()
        .filter(r -> r.stage().equals(stage) && r.rate() == rate)
        .findFirst()
        .orElse(null);
  }

  /** The highest fixed rate of {@code stage} that was sustained, or null. */
  private PhaseResult bestSustained(String stage) {
    return results.stream()
        .filter(r -> r.stage().equals(stage) && r.rate() > 0 && r.sustained())
        .max(Comparator.comparingDouble(PhaseResult::rate))
        .orElse(null);
  }

  // ------------------------------------------------------------------------------ summary

  private void printSummary() {
    System.out.println("\n== summary ==");
    System.out.println(
        "| stage | phase | refunds/s | errors | p50 | p99 | p99.9 | max | CPU/refund broker |"
            + " CPU/refund PostgreSQL | statements/refund |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    for (PhaseResult r : results) {
      PhaseStats.Percentiles p = r.latency();
      System.out.printf(
          "| %s | %s%s | %,.0f | %,d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %s | %s | %s |%n",
          r.stage(),
          r.key(),
          r.rate() > 0 && !r.sustained()
              ? (r.stats().gaveUpAfterNanos > 0
                  ? String.format(
                      " (not sustained: stopped after %.1f s)", r.stats().gaveUpAfterNanos / 1e9)
                  : " (not sustained)")
              : "",
          r.perSecond(),
          r.stats().othersCount(),
          p.p50(),
          p.p99(),
          p.p999(),
          p.max(),
          r.stage().equals("direct") || r.stage().startsWith("ceiling")
              ? "-"
              : String.format("%.3f ms", r.cpuBrokerMs()),
          r.stage().equals("direct") ? "-" : String.format("%.3f ms", r.cpuPostgresMs()),
          r.stage().equals("direct") ? "-" : String.format("%.1f", r.statementsPerRefund()));
    }
    JsonObject ratios = new JsonObject();
    JsonObject targets = new JsonObject();
    PhaseResult single = find("broker", "single");
    PhaseResult directSingle = find("direct", "single");
    PhaseResult closed = find("broker", "closed");
    PhaseResult directClosed = find("direct", "closed");
    PhaseResult ceiling = find("ceiling", "closed");
    double added = Double.NaN;
    if (single != null && directSingle != null) {
      added = single.latency().p50() - directSingle.latency().p50();
      ratios.put("brokerAddsP50MsUnloaded", round(added));
      System.out.printf(
          "broker adds %.2f ms at p50 with one client (%.2f vs %.2f ms)%n",
          added, single.latency().p50(), directSingle.latency().p50());
    }
    if (closed != null && directClosed != null) {
      double loaded = closed.latency().p50() - directClosed.latency().p50();
      ratios.put("brokerAddsP50MsClosedLoop", round(loaded));
    }
    double ofCeiling = Double.NaN;
    if (closed != null && ceiling != null) {
      ofCeiling = closed.perSecond() / Math.max(1, ceiling.perSecond());
      ratios.put("brokerOverCeiling", round(ofCeiling));
      System.out.printf(
          "broker closed loop %,.0f/s = %.0f%% of the database ceiling %,.0f/s measured in this"
              + " run (CPU per refund: broker %.3f + PostgreSQL %.3f ms, against PostgreSQL %.3f ms"
              + " + driver %.3f ms for the ceiling)%n",
          closed.perSecond(),
          ofCeiling * 100,
          ceiling.perSecond(),
          closed.cpuBrokerMs(),
          closed.cpuPostgresMs(),
          ceiling.cpuPostgresMs(),
          ceiling.json().getDouble("cpuBenchJvmMsPerRefund", 0.0));
      PhaseResult scale = find("scale-out", "closed");
      if (scale != null) {
        ratios.put(
            "scaleOutOverCeiling", round(scale.perSecond() / Math.max(1, ceiling.perSecond())));
      }
    }
    summary.put("ratios", ratios);

    PhaseResult thousand = findRate("broker", 1000);
    boolean thousandMet =
        thousand != null
            && thousand.sustained()
            && thousand.latency().p99() <= 25
            && thousand.stats().othersCount() == 0;
    PhaseResult best = bestSustained("broker");
    PhaseResult cpuPhase = best != null ? best : closed;
    long vmHwmKib = ProcStats.peakRssKib(primary().pid());
    long reads = 0;
    long refunds = 0;
    long ttlRefreshes = 0;
    for (PhaseResult r : results) {
      if (r.json().containsKey("credentialReads") && !r.stage().equals("direct")) {
        reads += r.json().getLong("credentialReads");
        ttlRefreshes += r.json().getLong("credentialReadsTtlRefreshesAtMost");
        refunds += r.stats().okCount();
      }
    }
    target(
        targets,
        "thousandPerSecondP99Under25ms",
        thousandMet,
        thousand == null
            ? "1,000/s not reached in the ladder"
            : String.format(
                "1,000/s %s, p99 %.2f ms, %d errors",
                thousand.sustained() ? "sustained" : "not sustained",
                thousand.latency().p99(),
                thousand.stats().othersCount()));
    target(targets, "brokerAddsAtMost2msP50", added <= 2, String.format("%.2f ms", added));
    if (cpuPhase != null) {
      target(
          targets,
          "brokerCpuAtMost0.6msPerRefund",
          cpuPhase.cpuBrokerMs() <= 0.6,
          String.format(
              "%.3f ms at %s, of which JIT compilation %.3f ms",
              cpuPhase.cpuBrokerMs(),
              cpuPhase.stats().name,
              cpuPhase.json().getDouble("cpuBrokerJitMsPerRefund", 0.0)));
      target(
          targets,
          "postgresCpuAtMost0.9msPerRefund",
          cpuPhase.cpuPostgresMs() <= 0.9,
          String.format("%.3f ms at %s", cpuPhase.cpuPostgresMs(), cpuPhase.stats().name));
    }
    target(
        targets,
        "brokerRssAtMost300MB",
        vmHwmKib * 1024L <= 300_000_000L,
        String.format("VmHWM %,.0f MB", vmHwmKib * 1024 / 1e6));
    target(
        targets,
        "noCredentialReadsPerRefund",
        reads <= ttlRefreshes,
        String.format(
            "%d reads over %,d refunds of the measured phases; the cache's expiry (every %d min,"
                + " per store and instance) accounts for up to %d",
            reads, refunds, CREDENTIALS_CACHE_TTL.toMinutes(), ttlRefreshes));
    target(
        targets,
        "brokerAtLeastHalfTheCeiling",
        ofCeiling >= 0.5,
        Double.isNaN(ofCeiling) ? "no ceiling measured" : String.format("%.0f%%", ofCeiling * 100));
    summary.put("targets", targets);
    summary.put("loadAverageAtEnd", ProcStats.loadAverage());
  }

  private static void target(JsonObject targets, String name, boolean met, String value) {
    System.out.printf("target %s: %s (%s)%n", name, met ? "MET" : "NOT MET", value);
    targets.put(name, new JsonObject().put("met", met).put("value", value));
  }

  private void writeSummary(int exit) {
    JsonArray phases = new JsonArray();
    results.forEach(r -> phases.add(r.json()));
    summary
        .put("phases", phases)
        .put(
            "checks",
            new JsonObject()
                .put("passed", new JsonArray(new ArrayList<>(passedChecks)))
                .put("failed", new JsonArray(new ArrayList<>(failedChecks))))
        .put("exitCode", exit);
    try {
      Path file = options.summary().toAbsolutePath();
      Files.createDirectories(file.getParent());
      Files.writeString(file, summary.encodePrettily());
      System.out.println("\nfigures written to " + file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------------------ the books

  private void checkBooks() {
    System.out.println("\n== correctness ==");
    System.out.printf(
        "brokers answered %,d refunds 201 and %,d otherwise over all phases%n",
        brokerOk, brokerOther);
    String ours = "order_id LIKE '" + ORDER_PREFIX + "%'";
    Await.result(sandbox.whenIdle(), Duration.ofMinutes(1));
    try {
      Poll.until(
          "no refund PENDING or UNKNOWN (the reconciler runs every 5 s)",
          Duration.ofMinutes(3),
          () ->
              postgres.queryLong(
                      "SELECT count(*) FROM refunds WHERE status IN ('PENDING', 'UNKNOWN')")
                  == 0);
      pass("no refund left PENDING or UNKNOWN");
    } catch (AssertionError e) {
      fail(
          postgres.queryLong("SELECT count(*) FROM refunds WHERE status IN ('PENDING', 'UNKNOWN')")
              + " refunds still PENDING/UNKNOWN after 3 minutes");
    }
    System.out.println(
        "refunds of the benchmark's orders by status: "
            + postgres.query(
                "SELECT status, count(*) AS n, sum(amount_value) AS amount FROM refunds WHERE "
                    + ours
                    + " GROUP BY status ORDER BY status"));
    long over =
        postgres.queryLong(
            """
            SELECT count(*) FROM (
              SELECT o.store_id, o.order_id FROM orders o
                JOIN refunds r ON r.origin_store_id = o.store_id AND r.order_id = o.order_id
               WHERE r.status IN ('SUCCEEDED', 'PENDING', 'UNKNOWN')
               GROUP BY o.store_id, o.order_id, o.amount_value
              HAVING sum(r.amount_value) > o.amount_value) x
            """);
    check(over == 0, "no order refunded above its captured amount", over + " orders over-refunded");

    long succeeded =
        postgres.queryLong("SELECT count(*) FROM refunds WHERE status = 'SUCCEEDED' AND " + ours);
    check(
        succeeded == brokerOk,
        "SUCCEEDED refunds in the database (" + succeeded + ") == 201 answers (" + brokerOk + ")",
        "SUCCEEDED refunds " + succeeded + " != 201 answers " + brokerOk);

    Set<String> keys = new HashSet<>();
    for (Map<String, Object> row :
        postgres.query("SELECT upstream_key FROM refunds WHERE status = 'SUCCEEDED' AND " + ours)) {
      keys.add((String) row.get("upstream_key"));
    }
    List<LedgerEntry> ledger =
        sandbox.ledger().stream().filter(e -> !e.idempotencyKey().startsWith("direct-")).toList();
    Set<String> ledgerKeys = new HashSet<>();
    ledger.forEach(e -> ledgerKeys.add(e.idempotencyKey()));
    check(
        ledger.size() == brokerOk && ledgerKeys.size() == ledger.size() && ledgerKeys.equals(keys),
        "sandbox ledger: "
            + ledger.size()
            + " refunds, one per SUCCEEDED refund, same idempotency keys, none twice",
        "sandbox ledger has "
            + ledger.size()
            + " entries ("
            + ledgerKeys.size()
            + " distinct keys) for "
            + keys.size()
            + " SUCCEEDED refunds and "
            + brokerOk
            + " 201 answers");
    Map<String, String> msnOf = new HashMap<>();
    stores.forEach(s -> msnOf.put(s.storeId(), s.msn()));
    long mismatched = 0;
    for (Map<String, Object> row :
        postgres.query(
            "SELECT o.store_id, o.order_id, o.amount_value,"
                + " coalesce(sum(r.amount_value) FILTER (WHERE r.status = 'SUCCEEDED'), 0) AS done"
                + " FROM orders o LEFT JOIN refunds r"
                + " ON r.origin_store_id = o.store_id AND r.order_id = o.order_id"
                + " WHERE o."
                + ours
                + " GROUP BY o.store_id, o.order_id, o.amount_value")) {
      PaymentView payment =
          sandbox
              .payment(msnOf.get((String) row.get("store_id")), (String) row.get("order_id"))
              .orElseThrow();
      if (payment.refunded().value() != ((Number) row.get("done")).longValue()
          || payment.refunded().value() > payment.captured().value()) {
        mismatched++;
      }
    }
    check(
        mismatched == 0,
        "per order, refunded at the sandbox == SUCCEEDED sum in the broker, never above captured",
        mismatched + " orders whose sums differ between broker and sandbox");

    Poll.until(
        "every audit event linked",
        Duration.ofMinutes(2),
        () ->
            postgres.queryLong(
                    "SELECT count(*) FROM audit_entries e WHERE NOT EXISTS"
                        + " (SELECT 1 FROM audit_links l WHERE l.event_id = e.event_id)")
                == 0);
    long events = postgres.queryLong("SELECT count(*) FROM audit_entries");
    long links = postgres.queryLong("SELECT count(*) FROM audit_links");
    long maxSeq = postgres.queryLong("SELECT coalesce(max(seq), 0) FROM audit_links");
    check(
        links == events && maxSeq == links,
        "every audit event linked exactly once, seq 1.." + maxSeq + " without gaps",
        events + " audit events, " + links + " links, highest seq " + maxSeq);
    timeVerify(events);
    long reads = credentialReads();
    System.out.printf(
        "credential reads over the whole run (%s): %d for %d stores and %d broker starts%n",
        vault == null ? "credential_versions scans" : "Vault KV data GETs",
        reads,
        stores.size(),
        brokerStarts);
    long warnings = 0;
    List<ChildBroker> all = new ArrayList<>(stopped);
    all.addAll(brokers);
    for (ChildBroker b : all) {
      long w = b.countLines(" WARN ") + b.countLines(" ERROR ");
      warnings += w;
      if (w > 0) {
        System.out.println(
            "broker pid "
                + b.pid()
                + ", its WARN/ERROR lines (the first 10):\n"
                + String.join("\n", b.linesContaining(10, " WARN ", " ERROR ")));
      }
    }
    System.out.printf("broker logs: %,d WARN/ERROR lines%n", warnings);
  }

  /** {@code GET /v1/audit/verify} over the whole trail: its verdict, time and CPU. */
  private void timeVerify(long events) {
    Snapshot before = snapshot(BenchPostgres.DATABASE);
    long started = System.nanoTime();
    java.net.http.HttpResponse<String> verify;
    try {
      verify =
          sendRaw(
              HttpRequest.newBuilder(URI.create(primary().baseUrl() + "/v1/audit/verify"))
                  .timeout(Duration.ofMinutes(30))
                  .header("Authorization", "Bearer " + setup.token("AUDITOR", null))
                  .GET()
                  .build());
    } catch (UncheckedIOException e) {
      // a verification longer than the broker's HTTP idle timeout (120 s) gets no answer
      fail(
          "GET /v1/audit/verify over "
              + events
              + " events gave no answer after "
              + millis(started)
              + " ms: "
              + e.getCause());
      return;
    }
    long verifyMs = millis(started);
    Snapshot after = snapshot(BenchPostgres.DATABASE);
    JsonObject verdict = verify.statusCode() == 200 ? new JsonObject(verify.body()) : null;
    check(
        verdict != null && Boolean.TRUE.equals(verdict.getBoolean("valid")),
        "audit chain verifies (" + events + " events)",
        "audit verify answered " + verify.statusCode() + " " + verify.body());
    double perMillion = events == 0 ? 0 : verifyMs * 1e6 / events;
    double brokerCpu = ticksMs(after.brokerTicks() - before.brokerTicks());
    double pgCpu = ticksMs(after.postgresTicks() - before.postgresTicks());
    System.out.printf(
        "GET /v1/audit/verify over %,d events: %,d ms = %,.0f ms per 1,000,000 events (CPU per"
            + " 1,000,000 events: broker %,.0f ms, PostgreSQL %,.0f ms)%n",
        events,
        verifyMs,
        perMillion,
        events == 0 ? 0 : brokerCpu * 1e6 / events,
        events == 0 ? 0 : pgCpu * 1e6 / events);
    summary.put(
        "auditVerify",
        new JsonObject()
            .put("events", events)
            .put("ms", verifyMs)
            .put("msPerMillionEvents", round(perMillion))
            .put("brokerCpuMsPerMillionEvents", round(events == 0 ? 0 : brokerCpu * 1e6 / events))
            .put("postgresCpuMsPerMillionEvents", round(events == 0 ? 0 : pgCpu * 1e6 / events)));
  }

  private void check(boolean ok, String passed, String failed) {
    if (ok) {
      pass(passed);
    } else {
      fail(failed);
    }
  }

  private void pass(String what) {
    System.out.println("ok: " + what);
    passedChecks.add(what);
  }

  private void fail(String what) {
    System.out.println("FAILED: " + what);
    failedChecks.add(what);
  }

  // ------------------------------------------------------------------------------ plumbing

  private java.net.http.HttpResponse<String> sendRaw(HttpRequest request) {
    try {
      return http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(request.method() + " " + request.uri(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void shutDown() {
    for (ChildBroker broker : brokers) {
      int exit = broker.terminate(Duration.ofSeconds(60));
      System.out.println("broker pid " + broker.pid() + " stopped (SIGTERM), exit code " + exit);
      if (exit != 0) {
        System.out.println(broker.tail(30));
      }
    }
    if (sandbox != null) {
      Await.result(sandbox.close());
    }
    if (sandboxVertx != null) {
      Await.result(sandboxVertx.close());
    }
    if (vault != null) {
      vault.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private static String fileSystem(Path path) {
    try {
      var store = Files.getFileStore(path);
      return store.type() + " " + store.name();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static long millis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not delete " + dir + ": " + e.getMessage());
    }
  }
}
