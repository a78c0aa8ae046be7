package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.app.Main;
import io.refundbroker.audit.Tampering.Kind;
import io.refundbroker.audit.Tampering.Tampered;
import io.refundbroker.audit.TrailGenerator.Trail;
import io.refundbroker.audit.signing.Ed25519KeyPair;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tampering with a real 10,000-event trail is detected and the right event named, both by {@code
 * GET /v1/audit/verify} (the insider rewrites rows in PostgreSQL as the owner, triggers off; every
 * case is restored before the next) and by the offline {@code audit verify} command on exported
 * files. Seeded; the seed is in every assertion message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditTamperIT {
  private static final int EVENTS = 10_000;
  private static final int ENDPOINT_ITERATIONS = 3;
  private static final int CLI_ITERATIONS = 4;
  private static final long SEED = Long.getLong("audit.seed", System.nanoTime());

  private final Ed25519KeyPair key = Ed25519KeyPair.generate();
  private final Ed25519KeyPair attacker = Ed25519KeyPair.generate();
  private TestBroker broker;
  private TrailStore store;
  private String auditorToken;
  private TrailGenerator generator;
  private Trail trail;

  @BeforeAll
  void start(@TempDir Path keyDir) throws IOException {
    Path keyFile = keyDir.resolve("audit-signing-key.pem");
    Files.writeString(keyFile, key.toPem());
    broker =
        TestBroker.builder()
            .env("AUDIT_SIGNING_KEY_FILE", keyFile.toString())
            .env("AUDIT_CHECKPOINT_EVERY", "10000000")
            .env("AUDIT_CHECKPOINT_INTERVAL", "24h")
            .start();
    auditorToken = broker.issueToken("AUDITOR", null);
    store = new TrailStore(broker.database());
    AuditLinks.await(broker.database());
    Map<String, Object> head =
        broker
            .database()
            .query("SELECT seq, hash FROM audit_links ORDER BY seq DESC LIMIT 1")
            .get(0);
    generator = new TrailGenerator(SEED, broker.app().auditMac());
    trail =
        generator.generate(
            EVENTS,
            ((Number) head.get("seq")).longValue(),
            (String) head.get("hash"),
            Instant.now(),
            key,
            "local:test",
            500);
    store.append(trail.events());
    store.addCheckpoints(trail.checkpoints());
  }

  @AfterAll
  void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void endpointDetectsEveryTamperingAndNamesTheFirstBadEvent() {
    JsonObject untouched = verify();
    assertThat(untouched.getBoolean("valid")).as("seed %d: %s", SEED, untouched).isTrue();
    assertThat(untouched.getLong("checkedEvents")).isGreaterThanOrEqualTo(trail.lastSeq());
    assertThat(untouched.getInteger("checkpointsVerified")).isEqualTo(trail.checkpoints().size());

    Random random = new Random(SEED);
    for (Kind kind : Kind.values()) {
      for (int i = 0; i < ENDPOINT_ITERATIONS; i++) {
        Tampered tampered = Tampering.apply(kind, trail, generator, random, attacker);
        store.replace(tampered.firstChangedSeq(), tampered.events(), tampered.checkpoints());
        JsonObject result;
        try {
          result = verify();
        } finally {
          store.replace(tampered.firstChangedSeq(), trail.events(), trail.checkpoints());
        }
        String context = "seed " + SEED + ", " + tampered + ": " + result;
        if (tampered.expectValid()) {
          assertThat(result.getBoolean("valid")).as(context).isTrue();
        } else {
          assertThat(result.getBoolean("valid")).as(context).isFalse();
          assertThat(result.getLong("firstInvalidSeq"))
              .as(context)
              .isEqualTo(tampered.expectedFirstInvalidSeq());
          assertThat(result.getString("reason")).as(context).isNotBlank();
        }
      }
    }
    JsonObject restored = verify();
    assertThat(restored.getBoolean("valid")).as("seed %d: %s", SEED, restored).isTrue();
  }

  @Test
  void offlineCommandDetectsEveryTamperingOnExportedFiles(@TempDir Path dir) throws IOException {
    // checkpoints first, then events: every exported checkpoint is then within the exported events
    HttpResult checkpoints = export("/v1/audit/checkpoints");
    HttpResult events = export("/v1/audit/events");
    HttpResult publicKey = broker.get("/v1/audit/public-key", auditorToken);
    assertThat(publicKey.status()).isEqualTo(200);
    Path keyFile = Files.writeString(dir.resolve("key.pem"), publicKey.text());
    Path eventsFile = Files.writeString(dir.resolve("events.jsonl"), events.text());
    Path checkpointsFile = Files.writeString(dir.resolve("checkpoints.jsonl"), checkpoints.text());

    Cli valid = cli(eventsFile, checkpointsFile, keyFile);
    assertThat(valid.exitCode()).as(valid.output()).isZero();
    assertThat(valid.output()).startsWith("VALID");

    List<ChainedEvent> exported = new ArrayList<>();
    events
        .text()
        .lines()
        .forEach(line -> exported.add(ChainedEvent.fromJson(new JsonObject(line))));
    List<Checkpoint> signed = new ArrayList<>();
    checkpoints
        .text()
        .lines()
        .forEach(line -> signed.add(Checkpoint.fromJson(new JsonObject(line))));
    assertThat(exported.size()).isGreaterThan(EVENTS);
    assertThat(signed).hasSize(trail.checkpoints().size());
    Trail exportedTrail = new Trail(exported, signed);

    Random random = new Random(SEED + 1);
    for (Kind kind : Kind.values()) {
      for (int i = 0; i < CLI_ITERATIONS; i++) {
        Tampered tampered = Tampering.apply(kind, exportedTrail, generator, random, attacker);
        Path tamperedEvents = dir.resolve("tampered-events.jsonl");
        Path tamperedCheckpoints = dir.resolve("tampered-checkpoints.jsonl");
        Files.writeString(
            tamperedEvents, jsonl(tampered.events().stream().map(ChainedEvent::toJson)));
        Files.writeString(
            tamperedCheckpoints, jsonl(tampered.checkpoints().stream().map(Checkpoint::toJson)));
        Cli result = cli(tamperedEvents, tamperedCheckpoints, keyFile);
        String context = "seed " + SEED + ", " + tampered + ": " + result.output();
        if (tampered.expectValid()) {
          assertThat(result.exitCode()).as(context).isZero();
        } else {
          assertThat(result.exitCode()).as(context).isEqualTo(AuditCommand.EXIT_INVALID);
          assertThat(result.output())
              .as(context)
              .contains("first bad event is seq " + tampered.expectedFirstInvalidSeq() + ":");
        }
      }
    }
  }

  @Test
  void offlineCommandRejectsUnreadableInputWithExitCode2(@TempDir Path dir) throws IOException {
    Path events = Files.writeString(dir.resolve("events.jsonl"), "");
    Path checkpoints = Files.writeString(dir.resolve("checkpoints.jsonl"), "");
    Path notAKey = Files.writeString(dir.resolve("key.pem"), "not a key");
    assertThat(cli(events, checkpoints, notAKey).exitCode()).isEqualTo(AuditCommand.EXIT_INPUT);
    Path key = Files.writeString(dir.resolve("good.pem"), this.key.publicKey().pem());
    assertThat(cli(dir.resolve("missing.jsonl"), checkpoints, key).exitCode())
        .isEqualTo(AuditCommand.EXIT_INPUT);
    Cli empty = cli(events, checkpoints, key);
    assertThat(empty.exitCode()).as(empty.output()).isZero();
  }

  /**
   * The verdict; then waits until the read's own audit.read event is linked, so the next tampering
   * is made on a trail the sequencer no longer changes.
   */
  private JsonObject verify() {
    HttpResult result = broker.get("/v1/audit/verify", auditorToken);
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    AuditLinks.await(broker.database());
    return result.json();
  }

  private HttpResult export(String path) {
    HttpResult result =
        broker.send(
            HttpMethod.GET, path, auditorToken, null, Map.of("Accept", "application/x-ndjson"));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    assertThat(result.header("Content-Type")).startsWith("application/x-ndjson");
    AuditLinks.await(broker.database());
    return result;
  }

  private static String jsonl(java.util.stream.Stream<JsonObject> lines) {
    return lines.map(JsonObject::encode).collect(Collectors.joining("\n", "", "\n"));
  }

  private record Cli(int exitCode, String output) {}

  private static synchronized Cli cli(Path events, Path checkpoints, Path key) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    System.setErr(capture);
    try {
      int code =
          Main.run(
              "audit",
              "verify",
              "--events",
              events.toString(),
              "--checkpoints",
              checkpoints.toString(),
              "--public-key",
              key.toString());
      return new Cli(code, captured.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
