package io.refundbroker.audit;

import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test; never run by {@code mvn verify}): how long verifying 1,000,000 audit
 * events takes on this machine.
 *
 * <ol>
 *   <li><b>offline</b>: {@code audit verify} on a JSON Lines export (parse + canonical JSON +
 *       SHA-256 + a checkpoint signature every 1,000 events), from a generated file;
 *   <li><b>endpoint</b> (with {@code --endpoint}): {@code GET /v1/audit/verify} of a broker whose
 *       embedded PostgreSQL holds the same number of events (bulk-inserted first, not timed).
 * </ol>
 *
 * Run: {@code mvn -B -pl broker -am -Pbench verify} (arguments via {@code -Dbench.args="1000000
 * --endpoint"}).
 */
public final class AuditVerifierBenchmark {
  private static final int CHECKPOINT_EVERY = 1000;

  private AuditVerifierBenchmark() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    boolean endpoint = List.of(args).contains("--endpoint");
    System.out.printf(
        "audit verification benchmark: %,d events, a checkpoint every %,d, %d cores, max heap %,d MB%n",
        events,
        CHECKPOINT_EVERY,
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() / (1024 * 1024));
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    Path dir = Files.createTempDirectory("audit-bench");
    try {
      Path eventsFile = dir.resolve("events.jsonl");
      Path checkpointsFile = dir.resolve("checkpoints.jsonl");
      long started = System.nanoTime();
      generate(events, key, eventsFile, checkpointsFile);
      System.out.printf(
          "generated the export in %,d ms (%,d MB), not counted%n",
          millis(started), Files.size(eventsFile) / (1024 * 1024));

      List<Checkpoint> checkpoints = new ArrayList<>();
      for (String line : Files.readAllLines(checkpointsFile)) {
        checkpoints.add(Checkpoint.fromJson(new JsonObject(line)));
      }
      for (int run = 1; run <= 2; run++) {
        resetPeaks();
        long start = System.nanoTime();
        AuditVerifier.Result result;
        try (BufferedReader reader = Files.newBufferedReader(eventsFile, StandardCharsets.UTF_8)) {
          result = AuditCommand.verifyExport(reader, checkpoints, List.of(key.publicKey()));
        }
        report("offline run " + run, result, start);
      }
      if (endpoint) {
        endpoint(events, key, dir);
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path file : files.toList()) {
          Files.deleteIfExists(file);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static void endpoint(int events, Ed25519KeyPair key, Path dir) throws IOException {
    Path keyFile = Files.writeString(dir.resolve("key.pem"), key.toPem());
    try (TestBroker broker =
        TestBroker.builder()
            .env("AUDIT_SIGNING_KEY_FILE", keyFile.toString())
            .env("AUDIT_CHECKPOINT_EVERY", "10000000")
            .env("AUDIT_CHECKPOINT_INTERVAL", "24h")
            .env("BROKER_LOG_LEVEL", "warn")
            .start()) {
      String auditor = broker.issueToken("AUDITOR", null);
      TrailStore store = new TrailStore(broker.database());
      AuditLinks.await(broker.database());
      Map<String, Object> head =
          broker
              .database()
              .query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1")
              .get(0);
      long seq = ((Number) head.get("seq")).longValue();
      String hash = (String) head.get("hash");
      TrailGenerator generator = new TrailGenerator(42, broker.app().auditMac());
      long started = System.nanoTime();
      Instant time = Instant.now();
      while (seq < events) {
        int chunk = (int) Math.min(20_000, events - seq);
        TrailGenerator.Trail trail =
            generator.generate(chunk, seq, hash, time, key, "local:bench", CHECKPOINT_EVERY * 2);
        store.append(trail.events());
        store.addCheckpoints(trail.checkpoints());
        seq = trail.lastSeq();
        hash = trail.head().hash();
        time = trail.head().occurredAt();
      }
      System.out.printf("inserted %,d events in %,d ms, not counted%n", seq, millis(started));
      for (int run = 1; run <= 2; run++) {
        long start = System.nanoTime();
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        HttpResult result =
            Await.result(
                broker.sendAsync(HttpMethod.GET, "/v1/audit/verify", auditor, null, headers),
                Duration.ofMinutes(15));
        long ms = millis(start);
        JsonObject verdict = result.json();
        System.out.printf(
            "GET /v1/audit/verify run %d: valid=%s, %,d events in %,d ms = %,.0f events/s%n",
            run,
            verdict.getBoolean("valid"),
            verdict.getLong("checkedEvents"),
            ms,
            verdict.getLong("checkedEvents") * 1000.0 / Math.max(1, ms));
      }
    }
  }

  private static void generate(int count, Ed25519KeyPair key, Path eventsFile, Path checkpointsFile)
      throws IOException {
    TrailGenerator generator = new TrailGenerator(42, AuditMac.random());
    String previous = ChainedEvent.GENESIS_HASH;
    Instant time = Instant.parse("2025-01-01T00:00:00Z");
    try (BufferedWriter events = Files.newBufferedWriter(eventsFile, StandardCharsets.UTF_8);
        BufferedWriter checkpoints =
            Files.newBufferedWriter(checkpointsFile, StandardCharsets.UTF_8)) {
      for (long seq = 1; seq <= count; seq++) {
        time = time.plusMillis(3);
        ChainedEvent event = ChainedEvent.chain(seq, generator.entry(time), previous);
        events.write(event.toJson().encode());
        events.write('\n');
        previous = event.hash();
        if (seq % CHECKPOINT_EVERY == 0) {
          Checkpoint checkpoint =
              TrailGenerator.sign(
                  new Checkpoint(seq, event.hash(), time, "local:bench", null), key);
          checkpoints.write(checkpoint.toJson().encode());
          checkpoints.write('\n');
        }
      }
    }
  }

  private static void report(String label, AuditVerifier.Result result, long start) {
    long ms = millis(start);
    System.out.printf(
        "%s: valid=%s, %,d events, %,d checkpoints in %,d ms = %,.0f events/s, peak heap %,d MB%n",
        label,
        result.valid(),
        result.checkedEvents(),
        result.checkpointsVerified(),
        ms,
        result.checkedEvents() * 1000.0 / Math.max(1, ms),
        peakHeapMb());
    if (!result.valid()) {
      throw new IllegalStateException("benchmark trail did not verify: " + result.reason());
    }
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
  }

  private static long peakHeapMb() {
    long bytes = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        bytes += pool.getPeakUsage().getUsed();
      }
    }
    return bytes / (1024 * 1024);
  }

  private static long millis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
