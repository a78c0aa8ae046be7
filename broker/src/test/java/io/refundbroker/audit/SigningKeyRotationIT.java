package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.app.Main;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.refundbroker.http.Api;
import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.ResponseValidator;
import io.vertx.openapi.validation.ValidatableResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rotating the checkpoint-signing key, as operators do, changes nothing for verification: the
 * Transit key rotated by hand ({@code POST transit/keys/<key>/rotate}) or by its {@code
 * auto_rotate_period}, and the local key file rotated with {@code audit rotate-key}, each between
 * two checkpoints. The online verify stays valid, every key version is published, the offline
 * verify passes with the published key set, and with only the newest key it names the first
 * checkpoint it cannot check (exit 3) instead of calling the trail tampered.
 */
class SigningKeyRotationIT {
  private static final AtomicInteger MSN = new AtomicInteger(610_000);
  private static final String TRANSIT_KEY_PATH = "transit/keys/" + VaultDouble.TRANSIT_KEY;
  private static final Duration CHECKPOINT_WAIT = Duration.ofSeconds(15);

  @TempDir Path dir;
  private VaultDouble vault;
  private TestBroker broker;
  private String auditor;

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    if (vault != null) {
      assertThat(vault.specViolations()).isEmpty();
      vault.close();
    }
  }

  private void startBroker(CredentialBackendKind kind) {
    broker =
        kind.configure(TestBroker.builder(), vault)
            .env("AUDIT_CHECKPOINT_EVERY", "1")
            .env("AUDIT_CHECKPOINT_INTERVAL", "24h")
            .start();
    auditor = broker.issueToken("AUDITOR", null);
  }

  @Test
  void transitKeyRotatedByHandBetweenTwoCheckpoints() throws IOException {
    vault = VaultDouble.start();
    startBroker(CredentialBackendKind.VAULT);
    long first = eventsThenCheckpoint();

    VaultDouble.OperatorReply rotated =
        vault.operator("POST", TRANSIT_KEY_PATH + "/rotate", new JsonObject());
    assertThat(rotated.status()).as("%s", rotated.body()).isEqualTo(200);
    assertThat(rotated.body().getJsonObject("data").getInteger("latest_version")).isEqualTo(2);

    long second = eventsThenCheckpoint();
    assertRotationChangesNothingForVerification("vault-transit:" + VaultDouble.TRANSIT_KEY);
    assertThat(keyVersionAt(first)).isEqualTo("1");
    assertThat(keyVersionAt(second)).as("signed with the new version").isEqualTo("2");
  }

  @Test
  void transitKeyRotatedByItsAutoRotatePeriod() throws IOException {
    vault = VaultDouble.start();
    startBroker(CredentialBackendKind.VAULT);
    VaultDouble.OperatorReply configured =
        vault.operator(
            "POST", TRANSIT_KEY_PATH + "/config", new JsonObject().put("auto_rotate_period", "1h"));
    assertThat(configured.status()).as("%s", configured.body()).isEqualTo(200);
    long first = eventsThenCheckpoint();

    // an hour later Vault has rotated the key on its own (the AppRole token expired meanwhile:
    // the broker logs in again on the way)
    vault.advance(Duration.ofMinutes(61));
    long second = eventsThenCheckpoint();
    assertThat(vault.transitKeyVersions(VaultDouble.TRANSIT_KEY)).isEqualTo(2);
    assertRotationChangesNothingForVerification("vault-transit:" + VaultDouble.TRANSIT_KEY);
    assertThat(keyVersionAt(first)).isEqualTo("1");
    assertThat(keyVersionAt(second)).isEqualTo("2");
  }

  @Test
  void localKeyFileRotatedWithTheRotateKeyCommand() throws IOException {
    startBroker(CredentialBackendKind.LOCAL);
    Path keyFile = broker.config().audit().signingKeyFile();
    long first = eventsThenCheckpoint();

    Cli rotated = cli("audit", "rotate-key", "--key-file", keyFile.toString());
    assertThat(rotated.exitCode()).as(rotated.output()).isZero();

    long second = eventsThenCheckpoint();
    assertRotationChangesNothingForVerification("local");
    String before = keyVersionAt(first);
    String after = keyVersionAt(second);
    assertThat(after).isNotEqualTo(before).matches("[0-9a-f]{64}");
    assertThat(rotated.output())
        .contains("retired: key local version " + before)
        .contains("current: key local version " + after);
  }

  @Test
  void aCheckpointNamingAnUnknownKeyVersionIsReportedAsSuchOnlineNotAsTampering()
      throws SQLException {
    broker =
        TestBroker.builder()
            .env("AUDIT_CHECKPOINT_EVERY", "1000000")
            .env("AUDIT_CHECKPOINT_INTERVAL", "24h")
            .start();
    auditor = broker.issueToken("AUDITOR", null);
    broker.createStore("unknown-1", "acme", "619001");
    // the head is the newest linked event (an unlinked one has no seq yet)
    AuditLinks.await(broker.database());
    Map<String, Object> head =
        broker
            .database()
            .query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .get(0);
    long seq = ((Number) head.get("seq")).longValue();
    // a checkpoint that names a version the signer does not have (e.g. trimmed from Vault)
    try (Connection c = broker.database().appConnection();
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO audit_checkpoints (seq, head_hash, signed_at, key_id, key_version,"
                    + " signature) VALUES (?, ?, now(), 'local', '99', ?)")) {
      insert.setLong(1, seq);
      insert.setString(2, (String) head.get("hash"));
      insert.setString(3, Base64.getEncoder().encodeToString(new byte[64]));
      insert.executeUpdate();
    }

    HttpResult verify = get("/v1/audit/verify");
    JsonObject verdict = verify.json();
    assertThat(verdict.getBoolean("valid")).isFalse();
    assertThat(verdict.containsKey("firstInvalidSeq")).as(verdict.encode()).isFalse();
    assertThat(verdict.getJsonObject("firstUncheckedCheckpoint"))
        .isEqualTo(new JsonObject().put("seq", seq).put("keyId", "local").put("keyVersion", "99"));
    assertThat(verdict.getString("reason"))
        .contains("is signed by key version 99, which was not given")
        .contains("not evidence of tampering");
    assertMatchesContract("verifyAuditTrail", verify);
    assertMatchesContract("listAuditPublicKeys", get("/v1/audit/public-keys"));
  }

  /** The response is exactly what the contract describes for {@code operationId}. */
  private void assertMatchesContract(String operationId, HttpResult response) {
    OpenAPIContract contract = Await.result(Api.loadContract(broker.vertx()));
    ValidatableResponse validatable =
        ValidatableResponse.create(
            response.status(),
            response.body(),
            response.header("Content-Type").replaceAll(";.*", ""));
    Await.result(
        ResponseValidator.create(broker.vertx(), contract).validate(validatable, operationId));
  }

  /**
   * The trail now has checkpoints of two key versions: the online verify is valid, both versions
   * are published (the older no longer current), the offline verify passes with the key set, and
   * fails "cannot check" (not "tampered") with only the newest key, as a key set or as a PEM.
   */
  private void assertRotationChangesNothingForVerification(String keyId) throws IOException {
    JsonObject verdict = get("/v1/audit/verify").json();
    assertThat(verdict.getBoolean("valid")).as(verdict.encode()).isTrue();
    assertThat(verdict.getInteger("checkpointsVerified")).isGreaterThanOrEqualTo(2);

    JsonObject keySet = get("/v1/audit/public-keys").json();
    JsonArray keys = keySet.getJsonArray("keys");
    assertThat(keys).as(keySet.encode()).hasSize(2);
    JsonObject older = keys.getJsonObject(0);
    JsonObject newer = keys.getJsonObject(1);
    assertThat(older.getString("keyId")).isEqualTo(keyId);
    assertThat(newer.getString("keyId")).isEqualTo(keyId);
    assertThat(older.getBoolean("current")).isFalse();
    assertThat(newer.getBoolean("current")).isTrue();
    assertThat(older.getString("publicKeyPem")).isNotEqualTo(newer.getString("publicKeyPem"));
    long olderLast = older.getLong("lastCheckpointSeq");
    long newerFirst = newer.getLong("firstCheckpointSeq");
    assertThat(older.getLong("firstCheckpointSeq")).isLessThanOrEqualTo(olderLast);
    assertThat(olderLast).as("the rotation lies between them").isLessThan(newerFirst);
    // (reading the key set is itself audited, and that event gets a checkpoint of its own)
    assertThat(older.getLong("checkpoints") + newer.getLong("checkpoints"))
        .isEqualTo(
            broker
                .database()
                .queryLong(
                    "SELECT count(*) FROM audit_checkpoints WHERE seq <= ?",
                    newer.getLong("lastCheckpointSeq")));

    HttpResult current = get("/v1/audit/public-key");
    assertThat(current.header("X-Audit-Key-Version")).isEqualTo(newer.getString("keyVersion"));
    assertThat(Ed25519PublicKey.fromPem(current.text()).pem())
        .isEqualTo(newer.getString("publicKeyPem"));

    // offline: checkpoints first, then events, so every exported checkpoint is within the events
    Path checkpoints = Files.writeString(dir.resolve("checkpoints.jsonl"), export("checkpoints"));
    Path events = Files.writeString(dir.resolve("events.jsonl"), export("events"));
    Path allKeys = Files.writeString(dir.resolve("keys.json"), keySet.encode());
    Cli valid = verify(events, checkpoints, "--key-set", allKeys);
    assertThat(valid.exitCode()).as(valid.output()).isZero();
    assertThat(valid.output()).startsWith("VALID");

    String missing = older.getString("keyVersion");
    long firstOld = older.getLong("firstCheckpointSeq");
    Path newestOnly =
        Files.writeString(
            dir.resolve("newest.json"),
            new JsonObject().put("keys", new JsonArray().add(newer)).encode());
    Path newestPem = Files.writeString(dir.resolve("newest.pem"), current.text());
    for (Cli partial :
        List.of(
            verify(events, checkpoints, "--key-set", newestOnly),
            verify(events, checkpoints, "--public-key", newestPem))) {
      assertThat(partial.exitCode()).as(partial.output()).isEqualTo(AuditCommand.EXIT_UNVERIFIED);
      assertThat(partial.output())
          .as("names the first checkpoint it cannot check, and why")
          .startsWith("UNVERIFIED")
          .contains(
              "the checkpoint at seq "
                  + firstOld
                  + " (key "
                  + keyId
                  + ") is signed by key version "
                  + missing
                  + ", which was not given")
          .contains("not evidence of tampering")
          .doesNotContain("INVALID")
          .doesNotContain("first bad event");
    }
  }

  /** Records some events (a new store), then waits until a checkpoint covers the head. */
  private long eventsThenCheckpoint() {
    String msn = Integer.toString(MSN.incrementAndGet());
    broker.createStore("rot-" + msn, "acme", msn);
    AuditLinks.await(broker.database());
    long head = broker.database().queryLong("SELECT max(seq) FROM audit_events");
    Poll.until(
        "a checkpoint at seq " + head,
        CHECKPOINT_WAIT,
        () ->
            broker.database().queryLong("SELECT coalesce(max(seq), 0) FROM audit_checkpoints")
                >= head);
    return broker.database().queryLong("SELECT max(seq) FROM audit_checkpoints");
  }

  private String keyVersionAt(long seq) {
    List<Map<String, Object>> rows =
        broker.database().query("SELECT key_version FROM audit_checkpoints WHERE seq = ?", seq);
    return (String) rows.get(0).get("key_version");
  }

  private HttpResult get(String path) {
    HttpResult result = broker.get(path, auditor);
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    return result;
  }

  private String export(String what) {
    HttpResult result =
        broker.send(
            HttpMethod.GET,
            "/v1/audit/" + what,
            auditor,
            null,
            Map.of("Accept", "application/x-ndjson"));
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    return result.text();
  }

  private record Cli(int exitCode, String output) {}

  private static Cli verify(Path events, Path checkpoints, String keyOption, Path keys) {
    return cli(
        "audit",
        "verify",
        "--events",
        events.toString(),
        "--checkpoints",
        checkpoints.toString(),
        keyOption,
        keys.toString());
  }

  private static synchronized Cli cli(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    System.setOut(capture);
    System.setErr(capture);
    try {
      int code = Main.run(args);
      return new Cli(code, captured.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
