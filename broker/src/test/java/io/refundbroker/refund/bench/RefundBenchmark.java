package io.refundbroker.refund.bench;

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
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark (not a test; never run by {@code mvn verify}) of the refund path against the
 * performance budget in DESIGN.md: ≥ 1,000 refunds/s sustained with p99 ≤ 25 ms, the broker adding
 * ≤ 2 ms at p50 over calling Vipps (the sandbox) directly, 0 Vault reads per refund at steady
 * state, broker RSS ≤ 300 MB — everything on this one machine.
 *
 * <p>Set-up: PostgreSQL (the broker's own binaries, as separate server processes, reached through
 * {@code DATABASE_URL}); in this JVM the Vipps sandbox (per-payment rate limit off), the Vault test
 * double (credential backend) and the load generator; the broker as a process of its own started
 * from the fat jar. One chain of {@code --stores} stores, {@code --orders} registered orders
 * (imported through the admin API) with captured sandbox payments; every refund is requested by
 * another store than the order's (cross-store), with a fresh Idempotency-Key.
 *
 * <p>Phases: warm-up, then a closed loop of {@code --clients} clients for {@code --duration}
 * (capacity), then an open loop at {@code --rate} requests/s for {@code --duration} (latency at the
 * target rate, measured from when each request was due), then one client alone (unloaded latency);
 * then the same refund call sent straight to the sandbox (closed loop and one client). Afterwards
 * the books are checked: nothing refunded above captured, nothing left PENDING/UNKNOWN, sandbox
 * ledger == succeeded refunds (key for key), per-order sums equal on both sides, audit chain
 * verifies. Exit code 1 when a check fails.
 *
 * <p>Run: {@code mvn -B -pl broker -am -Pbench verify
 * -Dbench.main=io.refundbroker.refund.bench.RefundBenchmark} (options via {@code -Dbench.args}; see
 * {@link BenchOptions}).
 */
public final class RefundBenchmark {
  private static final String CHAIN = "bench-chain";
  private static final String REASON = "Returned goods";
  private static final int IMPORT_CHUNK = 10_000;
  private static final int DIRECT_PAYMENTS_PER_STORE = 10;
  private static final long DIRECT_CAPTURED = 1_000_000_000L;
  private static final int MAX_OUTSTANDING = 1000;

  private final BenchOptions options;
  private final Path dir;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final List<Store> stores = new ArrayList<>();
  private final List<String> failedChecks = new ArrayList<>();
  private final AtomicLong peakRssKib = new AtomicLong();
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private String adminToken;
  private BenchPostgres postgres;
  private VaultDouble vault;
  private Vertx sandboxVertx;
  private VippsSandbox sandbox;
  private ChildBroker broker;
  private ChildSetup setup;
  private long brokerOk;
  private long brokerOther;

  /** A store of the chain: ids, Vipps keys, a STORE token, and a sandbox token for direct calls. */
  private record Store(
      String storeId, String msn, String clientId, String secret, String subKey, String token) {}

  /** CPU, memory and Vault counters at one moment. */
  private record Snapshot(
      long nanos,
      long brokerTicks,
      long postgresTicks,
      long benchTicks,
      ProcStats.MachineCpu machine,
      long credentialReads) {}

  private RefundBenchmark(BenchOptions options, Path dir) {
    this.options = options;
    this.dir = dir;
  }

  public static void main(String[] args) throws Exception {
    BenchOptions options = BenchOptions.parse(args);
    Path dir = Files.createTempDirectory("refund-bench");
    RefundBenchmark bench = new RefundBenchmark(options, dir);
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
    setUpChain();
    Snapshot setUpDone = snapshot();
    System.out.printf(
        "after set-up: broker RSS %,d MiB (peak so far %,d MiB), Vault KV reads so far %d%n",
        ProcStats.rssKib(broker.pid()) / 1024,
        ProcStats.peakRssKib(broker.pid()) / 1024,
        setUpDone.credentialReads());

    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleAtFixedRate(
        () -> peakRssKib.accumulateAndGet(ProcStats.rssKib(broker.pid()), Math::max),
        0,
        250,
        TimeUnit.MILLISECONDS);
    try (LoadGenerator load = new LoadGenerator(Math.max(options.clients(), 256))) {
      RefundSource refunds = new RefundSource(load.client());
      if (options.pgStats()) {
        postgres.execute(BenchPostgres.DATABASE, "SELECT pg_stat_statements_reset()");
      }
      Map<String, PhaseStats> brokerPhases = brokerPhases(load, refunds);
      if (options.pgStats()) {
        printStatements(brokerPhases.values().stream().mapToLong(PhaseStats::okCount).sum());
      }
      // the books first: the direct calls below pile up sandbox state the checks do not need
      checkBooks();
      DirectSource direct = new DirectSource(load.client());
      Map<String, PhaseStats> directPhases = directPhases(load, direct);
      summary(brokerPhases, directPhases);
    } finally {
      sampler.shutdownNow();
    }
    if (failedChecks.isEmpty()) {
      System.out.println("\nALL CHECKS PASSED");
      return 0;
    }
    System.out.println("\nFAILED CHECKS:");
    failedChecks.forEach(c -> System.out.println("  - " + c));
    return 1;
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
        ProcStats.loadAverage());
    System.out.println("options: " + options);
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
    env.put("BROKER_DATA_DIR", dir.resolve("broker-data").toString());
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
    broker =
        ChildBroker.start(
            options.brokerJar().toAbsolutePath(),
            options.brokerJvm(),
            env,
            dir.resolve("broker.log"),
            Duration.ofMinutes(3));
    setup = new ChildSetup(broker.baseUrl(), adminToken);
    System.out.printf(
        "started in %,d ms: PostgreSQL %s on :%d (synchronous_commit=%s, fsync=%s, shared_buffers=%s,"
            + " data on %s), Vipps sandbox"
            + " %s (refund rate limit off), credentials %s, broker pid %d: %s%n",
        millis(started),
        postgres.setting("server_version"),
        postgres.port(),
        postgres.setting("synchronous_commit"),
        postgres.setting("fsync"),
        postgres.setting("shared_buffers"),
        fileSystem(dir),
        sandbox.baseUrl(),
        vault == null ? "local (AES-GCM in PostgreSQL)" : "Vault test double " + vault.address(),
        broker.pid(),
        broker.command());
    System.out.println(
        "broker environment: "
            + env.entrySet().stream()
                .filter(e -> !e.getKey().contains("TOKEN") && !e.getKey().contains("SECRET"))
                .map(e -> e.getKey() + "=" + e.getValue())
                .toList());
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
    return String.format("bo-%08d", n);
  }

  private static String directReference(int store, int payment) {
    return String.format("direct-%02d-%03d", store, payment);
  }

  private long importOrders(String rows) {
    String csv = "storeId,orderId,amount,currency,capturedAt\n" + rows;
    var response =
        sendRaw(
            HttpRequest.newBuilder(URI.create(broker.baseUrl() + "/v1/admin/orders/import"))
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

  // ------------------------------------------------------------------------------ phases

  private Map<String, PhaseStats> brokerPhases(LoadGenerator load, RefundSource refunds) {
    Map<String, PhaseStats> phases = new LinkedHashMap<>();
    PhaseStats warm = new PhaseStats("broker warm-up", 201);
    PhaseStats capacity =
        new PhaseStats("broker closed loop, " + options.clients() + " clients", 201);
    System.out.printf(
        "%nphase: broker, closed loop, %d clients: %s warm-up (not counted), then %s measured%n",
        options.clients(), options.warmup(), options.duration());
    LoadGenerator.Run closed =
        load.closedLoop(
            options.clients(), options.warmup(), options.duration(), warm, capacity, refunds);
    LoadGenerator.await(closed.windowStarted(), options.warmup().plusMinutes(1));
    Snapshot start = snapshot();
    peakRssKib.set(0);
    LoadGenerator.await(closed.done(), options.duration().plusMinutes(5));
    phases.put("warm-up", warm);
    System.out.printf(
        "  warm-up: %,d answered 201, %,d other answers %s; latency %s%n",
        warm.okCount(), warm.othersCount(), warm.others(), warm.percentiles().describe());
    report(capacity, start, snapshot());
    phases.put("capacity", capacity);

    if (options.rate() > 0) {
      phases.put("rate", openLoop(load, refunds, options.rate(), options.duration()));
      if (capacity.okPerSecond() < 0.9 * options.rate()) {
        // the target rate is out of reach: show the latency at a rate the broker does sustain
        double half = Math.max(1, Math.round(capacity.okPerSecond() / 2));
        phases.put("half", openLoop(load, refunds, half, options.duration().dividedBy(2)));
      }
    }

    phases.put("single", oneClient(load, "broker", 201, refunds));
    for (PhaseStats stats : phases.values()) {
      brokerOk += stats.okCount();
      brokerOther += stats.othersCount();
    }
    return phases;
  }

  private PhaseStats openLoop(
      LoadGenerator load, LoadGenerator.Source refunds, double rate, Duration duration) {
    PhaseStats fixed = new PhaseStats(String.format("broker open loop at %.0f/s", rate), 201);
    System.out.printf(
        "%nphase: broker, fixed rate %.0f requests/s for %s (latency from when each request was"
            + " due; stops when %,d are unanswered)%n",
        rate, duration, MAX_OUTSTANDING);
    Snapshot before = snapshot();
    peakRssKib.set(0);
    LoadGenerator.await(
        load.openLoop(rate, duration, MAX_OUTSTANDING, fixed, refunds), duration.plusMinutes(10));
    if (fixed.gaveUpAfterNanos > 0) {
      System.out.printf(
          "  NOT SUSTAINED: %,d requests were unanswered after %.1f s; the phase stopped there%n",
          MAX_OUTSTANDING, fixed.gaveUpAfterNanos / 1e9);
    }
    report(fixed, before, snapshot());
    return fixed;
  }

  private Map<String, PhaseStats> directPhases(LoadGenerator load, DirectSource direct) {
    Map<String, PhaseStats> phases = new LinkedHashMap<>();
    PhaseStats warm = new PhaseStats("sandbox direct warm-up", 200);
    PhaseStats capacity =
        new PhaseStats("sandbox direct closed loop, " + options.clients() + " clients", 200);
    Duration directWarmup = Duration.ofSeconds(5);
    System.out.printf(
        "%nphase: the same refund call straight to the sandbox, closed loop, %d clients: %s"
            + " warm-up, %s measured%n",
        options.clients(), directWarmup, options.directDuration());
    LoadGenerator.Run closed =
        load.closedLoop(
            options.clients(), directWarmup, options.directDuration(), warm, capacity, direct);
    LoadGenerator.await(closed.windowStarted(), directWarmup.plusMinutes(1));
    Snapshot before = snapshot();
    LoadGenerator.await(closed.done(), options.directDuration().plusMinutes(5));
    report(capacity, before, snapshot());
    phases.put("capacity", capacity);

    phases.put("single", oneClient(load, "sandbox direct", 200, direct));
    return phases;
  }

  /** Unloaded latency: {@code --latency-requests} refunds sent one after the other. */
  private PhaseStats oneClient(
      LoadGenerator load, String target, int okStatus, LoadGenerator.Source source) {
    PhaseStats single = new PhaseStats(target + ", one client", okStatus);
    System.out.printf(
        "%nphase: %s, one client, %,d sequential refunds%n", target, options.latencyRequests());
    Snapshot before = snapshot();
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
    report(single, before, snapshot());
    return single;
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
    public Future<HttpResponse<Buffer>> sendNext() {
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
      Buffer body =
          Buffer.buffer(
              "{\"orderId\":\""
                  + orderId(order)
                  + "\",\"amount\":{\"value\":"
                  + options.refundValue()
                  + ",\"currency\":\"NOK\"},\"reason\":\""
                  + REASON
                  + "\"}");
      return client
          .post(broker.port(), "127.0.0.1", "/v1/refunds")
          .putHeader("Authorization", "Bearer " + stores.get(requester).token())
          .putHeader("Idempotency-Key", "bench-" + runId + "-" + i)
          .putHeader("Content-Type", "application/json")
          .timeout(30_000)
          .sendBuffer(body);
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
    public Future<HttpResponse<Buffer>> sendNext() {
      long i = next++;
      int payment = (int) (i % ((long) stores.size() * DIRECT_PAYMENTS_PER_STORE));
      int store = payment / DIRECT_PAYMENTS_PER_STORE;
      Store s = stores.get(store);
      return client
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
          .sendBuffer(body);
    }
  }

  // ------------------------------------------------------------------------------ figures

  private Snapshot snapshot() {
    return new Snapshot(
        System.nanoTime(),
        ProcStats.treeCpuTicks(broker.pid()),
        ProcStats.treeCpuTicks(postgres.postmasterPid()),
        ProcStats.cpuTicks(ProcessHandle.current().pid()),
        ProcStats.machineCpu(),
        credentialReads());
  }

  /**
   * Reads of stored credentials: GETs of KV v2 {@code data/} paths the Vault double answered, or
   * (local backend) scans of the {@code credential_versions} table from PostgreSQL's statistics.
   */
  private long credentialReads() {
    if (vault != null) {
      return vault.count(
          r -> r.method().equals("GET") && r.path().startsWith(VaultDouble.KV_MOUNT + "/data/"));
    }
    return postgres.queryLong(
        "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables"
            + " WHERE relname = 'credential_versions'");
  }

  private void report(PhaseStats stats, Snapshot before, Snapshot after) {
    double seconds = (after.nanos() - before.nanos()) / 1e9;
    System.out.printf(
        "  %s: %,d sent, %,d answered %d (%,.0f/s in the %.1f s window), %,d other answers%n",
        stats.name,
        stats.sentCount(),
        stats.okCount(),
        stats.expectedStatus,
        stats.okPerSecond(),
        stats.windowNanos / 1e9,
        stats.othersCount());
    System.out.println(
        "  latency of the " + stats.expectedStatus + "s: " + stats.percentiles().describe());
    stats
        .others()
        .forEach(
            (key, count) ->
                System.out.printf(
                    "  other answer %s: %,d (e.g. %s)%n",
                    key, count, stats.exampleBodies().get(key)));
    System.out.printf(
        "  max in flight %d; CPU over %.1f s: machine %.0f%% of %d cores busy (%.1f%% stolen by the"
            + " hypervisor); broker %.2f cores, PostgreSQL %.2f cores, load generator + sandbox +"
            + " Vault double %.2f cores%n",
        stats.maxInFlight,
        seconds,
        after.machine().busySince(before.machine()) * 100,
        Runtime.getRuntime().availableProcessors(),
        after.machine().stealSince(before.machine()) * 100,
        cores(after.brokerTicks() - before.brokerTicks(), seconds),
        cores(after.postgresTicks() - before.postgresTicks(), seconds),
        cores(after.benchTicks() - before.benchTicks(), seconds));
    long answered = stats.okCount() + stats.othersCount();
    if (answered > 0 && stats.expectedStatus == 201) {
      System.out.printf(
          "  CPU per refund answered: broker %.2f ms, PostgreSQL %.2f ms%n",
          (after.brokerTicks() - before.brokerTicks())
              * 1000
              / ProcStats.TICKS_PER_SECOND
              / answered,
          (after.postgresTicks() - before.postgresTicks())
              * 1000
              / ProcStats.TICKS_PER_SECOND
              / answered);
    }
    long reads = after.credentialReads() - before.credentialReads();
    System.out.printf(
        "  credential reads (%s): %d = %.6f per refund; broker RSS now %,d MiB, highest sample in"
            + " the phase %,d MiB, VmHWM %,d MiB; load average %s%n",
        vault == null ? "credential_versions scans" : "Vault KV data GETs",
        reads,
        stats.okCount() == 0 ? 0.0 : (double) reads / stats.okCount(),
        ProcStats.rssKib(broker.pid()) / 1024,
        peakRssKib.get() / 1024,
        ProcStats.peakRssKib(broker.pid()) / 1024,
        ProcStats.loadAverage());
  }

  /** The statements PostgreSQL spent most time on during the broker phases, per refund. */
  private void printStatements(long refundCount) {
    System.out.printf(
        "%nPostgreSQL statements during the broker phases (pg_stat_statements, %,d refunds):%n",
        refundCount);
    System.out.println("| calls/refund | total ms | mean µs | statement |");
    System.out.println("|---|---|---|---|");
    for (Map<String, Object> row :
        postgres.query(
            "SELECT calls, total_exec_time, mean_exec_time,"
                + " regexp_replace(query, '\\s+', ' ', 'g') AS query FROM pg_stat_statements"
                + " ORDER BY total_exec_time DESC LIMIT 25")) {
      String query = (String) row.get("query");
      System.out.printf(
          "| %.2f | %,.0f | %,.0f | %s |%n",
          ((Number) row.get("calls")).doubleValue() / Math.max(1, refundCount),
          ((Number) row.get("total_exec_time")).doubleValue(),
          ((Number) row.get("mean_exec_time")).doubleValue() * 1000,
          query.length() > 110 ? query.substring(0, 110) + "…" : query);
    }
    long calls =
        postgres.queryLong(
            "SELECT sum(calls) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
                + " WHERE r.rolname = '"
                + BenchPostgres.APP_USER
                + "'");
    System.out.printf(
        "statements executed by the broker's role: %,d = %.1f per refund%n",
        calls, (double) calls / Math.max(1, refundCount));
  }

  private static double cores(long ticks, double seconds) {
    return seconds <= 0 ? 0 : ticks / ProcStats.TICKS_PER_SECOND / seconds;
  }

  private void summary(Map<String, PhaseStats> brokerPhases, Map<String, PhaseStats> direct) {
    PhaseStats capacity = brokerPhases.get("capacity");
    PhaseStats rate = brokerPhases.get("rate");
    PhaseStats half = brokerPhases.get("half");
    PhaseStats single = brokerPhases.get("single");
    PhaseStats directSingle = direct.get("single");
    PhaseStats directCapacity = direct.get("capacity");
    System.out.println("\n== summary ==");
    System.out.println("| phase | refunds/s (2xx only) | non-2xx | p50 | p95 | p99 | max |");
    System.out.println("|---|---|---|---|---|---|---|");
    List<PhaseStats> rows = new ArrayList<>(List.of(capacity));
    if (rate != null) {
      rows.add(rate);
    }
    if (half != null) {
      rows.add(half);
    }
    rows.addAll(List.of(single, directCapacity, directSingle));
    for (PhaseStats s : rows) {
      PhaseStats.Percentiles p = s.percentiles();
      System.out.printf(
          "| %s%s | %,.0f | %,d | %.2f ms | %.2f ms | %.2f ms | %.2f ms |%n",
          s.name,
          s.gaveUpAfterNanos > 0
              ? String.format(" (not sustained: stopped after %.1f s)", s.gaveUpAfterNanos / 1e9)
              : "",
          s.okPerSecond(),
          s.othersCount(),
          p.p50(),
          p.p95(),
          p.p99(),
          p.max());
    }
    double added = single.percentiles().p50() - directSingle.percentiles().p50();
    double addedLoaded = capacity.percentiles().p50() - directCapacity.percentiles().p50();
    System.out.printf(
        "broker adds %.2f ms at p50 with one client (%.2f vs %.2f ms), %.2f ms at p50 under the"
            + " closed loop of %d clients%n",
        added,
        single.percentiles().p50(),
        directSingle.percentiles().p50(),
        addedLoaded,
        options.clients());
    long peakKib = ProcStats.peakRssKib(broker.pid());
    System.out.printf(
        "broker RSS at the end %,d MiB, VmHWM (peak since start) %,d MiB = %,.0f MB%n",
        ProcStats.rssKib(broker.pid()) / 1024, peakKib / 1024, peakKib * 1024 / 1e6);
    PhaseStats target = rate != null ? rate : capacity;
    System.out.printf(
        "targets: >= 1,000 refunds/s: %s (%,.0f/s closed loop); p99 <= 25 ms at %s: %s (%.2f ms);"
            + " broker adds <= 2 ms at p50: %s (%.2f ms); RSS <= 300 MB: %s (VmHWM %,.0f MB)%n",
        capacity.okPerSecond() >= 1000 ? "MET" : "NOT MET",
        capacity.okPerSecond(),
        target.name,
        target.percentiles().p99() <= 25
                && target.gaveUpAfterNanos == 0
                && target.okPerSecond() >= 0.98 * options.rate()
            ? "MET"
            : "NOT MET",
        target.percentiles().p99(),
        added <= 2 ? "MET" : "NOT MET",
        added,
        peakKib * 1024L <= 300_000_000L ? "MET" : "NOT MET",
        peakKib * 1024 / 1e6);
  }

  // ------------------------------------------------------------------------------ the books

  private void checkBooks() {
    System.out.println("\n== correctness ==");
    System.out.printf(
        "broker answered %,d refunds 201 and %,d otherwise over all phases%n",
        brokerOk, brokerOther);
    Await.result(sandbox.whenIdle(), Duration.ofMinutes(1));
    try {
      Poll.until(
          "no refund PENDING or UNKNOWN (the reconciler runs every 5 s)",
          Duration.ofMinutes(3),
          () ->
              postgres.queryLong(
                      "SELECT count(*) FROM refunds WHERE status IN ('PENDING', 'UNKNOWN')")
                  == 0);
      System.out.println("ok: no refund left PENDING or UNKNOWN");
    } catch (AssertionError e) {
      fail(
          postgres.queryLong("SELECT count(*) FROM refunds WHERE status IN ('PENDING', 'UNKNOWN')")
              + " refunds still PENDING/UNKNOWN after 3 minutes");
    }
    System.out.println(
        "refunds by status: "
            + postgres.query(
                "SELECT status, count(*) AS n, sum(amount_value) AS amount FROM refunds"
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

    long succeeded = postgres.queryLong("SELECT count(*) FROM refunds WHERE status = 'SUCCEEDED'");
    check(
        succeeded == brokerOk,
        "SUCCEEDED refunds in the database (" + succeeded + ") == 201 answers (" + brokerOk + ")",
        "SUCCEEDED refunds " + succeeded + " != 201 answers " + brokerOk);

    Set<String> keys = new HashSet<>();
    for (Map<String, Object> row :
        postgres.query("SELECT upstream_key FROM refunds WHERE status = 'SUCCEEDED'")) {
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
            """
            SELECT o.store_id, o.order_id, o.amount_value,
                   coalesce(sum(r.amount_value) FILTER (WHERE r.status = 'SUCCEEDED'), 0) AS done
              FROM orders o
              LEFT JOIN refunds r ON r.origin_store_id = o.store_id AND r.order_id = o.order_id
             GROUP BY o.store_id, o.order_id, o.amount_value
            """)) {
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

    long events = postgres.queryLong("SELECT count(*) FROM audit_events");
    var verify =
        sendRaw(
            HttpRequest.newBuilder(URI.create(broker.baseUrl() + "/v1/audit/verify"))
                .timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + setup.token("AUDITOR", null))
                .GET()
                .build());
    JsonObject verdict = verify.statusCode() == 200 ? new JsonObject(verify.body()) : null;
    check(
        verdict != null && Boolean.TRUE.equals(verdict.getBoolean("valid")),
        "audit chain verifies (" + events + " events)",
        "audit verify answered " + verify.statusCode() + " " + verify.body());
    System.out.printf(
        "credential reads over the whole run (%s): %d for %d stores%n",
        vault == null ? "credential_versions scans" : "Vault KV data GETs",
        credentialReads(),
        stores.size());
    long warnings = broker.countLines(" WARN ") + broker.countLines(" ERROR ");
    System.out.printf("broker log: %,d WARN/ERROR lines%n", warnings);
    if (warnings > 0) {
      System.out.println(broker.tail(10));
    }
  }

  private void check(boolean ok, String passed, String failed) {
    if (ok) {
      System.out.println("ok: " + passed);
    } else {
      fail(failed);
    }
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
    if (broker != null) {
      int exit = broker.terminate(Duration.ofSeconds(60));
      System.out.println("broker stopped (SIGTERM), exit code " + exit);
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
