package io.refundbroker.credential;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.error.ProblemException;
import io.refundbroker.sandbox.SandboxStore;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.MutableClock;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.TestSandbox;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end of a Vault token the broker cannot replace by itself ({@code VAULT_TOKEN}) or that a
 * Vault Agent replaces in a file ({@code VAULT_TOKEN_FILE}): renewal stops once Vault caps it, and
 * when the token can no longer be used readiness goes DOWN naming it, the operator is told once at
 * ERROR, and no request carries a token Vault has already refused; a new token in the file brings
 * the broker back without a restart.
 */
class VaultTokenLifeIT {
  private static final AtomicInteger MSN = new AtomicInteger(620_000);
  private static final String UNUSABLE = "can no longer be used";
  private static final String ADMIN_TOKEN = io.refundbroker.auth.Tokens.newToken();
  private static final String SESSION_LOGGER = "io.refundbroker.credential.vault.VaultSession";

  @TempDir Path dir;
  private final MutableClock clock = MutableClock.now();
  private VaultDouble vault;
  private TestSandbox vipps;
  private TestBroker broker;

  @BeforeEach
  void start() {
    vault = VaultDouble.start();
    vipps = TestSandbox.start();
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    assertThat(vault.specViolations()).isEmpty();
    assertThat(vault.count(VaultDouble.Request::tokenRefusedBefore))
        .as("requests that carried a token Vault had already refused")
        .isZero();
    vault.close();
    vipps.close();
  }

  private TestBroker startBroker(String name, String value) {
    return startBroker(name, value, TestPostgres.newDatabase());
  }

  private TestBroker startBroker(String name, String value, TestDatabase database) {
    broker =
        TestBroker.builder()
            .database(database)
            .clock(clock)
            .env("BROKER_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("CREDENTIALS_BACKEND", "vault")
            .env("VAULT_ADDR", vault.address())
            .env(name, value)
            .env("VAULT_TIMEOUT", "2s")
            .env("CREDENTIALS_CACHE_TTL", "60s")
            .env("VIPPS_BASE_URL", vipps.baseUrl())
            .start();
    return broker;
  }

  @Test
  void aTokenAtItsExplicitMaxTtlIsNotRenewedInALoopAndReadinessGoesDownWhenItRunsOut() {
    // a first start on the same database warms the JVM up (classes, the contract), so the short
    // token's few seconds are not spent starting
    TestDatabase database = TestPostgres.newDatabase();
    startBroker("VAULT_TOKEN", vault.issueToken(Duration.ofHours(1), "default", "broker"), database)
        .close();
    broker = null;
    // vault token create -ttl=3s -explicit-max-ttl=5s: renewable, but never past 5 s
    Instant issued = Instant.now();
    String token =
        vault.issueToken(Duration.ofSeconds(3), Duration.ofSeconds(5), "default", "broker");
    try (LogCapture logs = LogCapture.atTrace()) {
      startBroker("VAULT_TOKEN", token, database);
      broker.createStore("tok-none", "acme", "623999");
      // down no later than one renewal period (2/3 of the 3 s TTL) after the token's end, with
      // room for a loaded machine; never, before the fix
      Duration deadline = Duration.between(Instant.now(), issued.plusSeconds(5 + 2 + 3));
      HttpResult ready =
          Poll.value(
              "readiness DOWN after the token ran out",
              deadline,
              () -> {
                HttpResult probe = broker.get("/health/ready", null);
                return probe.status() == 503 ? probe : null;
              });
      assertThat(credentialsCheck(ready).getString("reason")).contains("token");

      // 3 s TTL, 5 s max: at most one renewal that extends it and one that Vault caps, after
      // which the broker waits for the end instead of renewing ever more often
      assertThat(vault.count(r -> r.path().equals("auth/token/renew-self")))
          .as("no tightening loop")
          .isLessThanOrEqualTo(2);
      // the broker counts the TTL from before Vault computed it, so it gives the token up first;
      // at most a request already on its way at that moment can meet the end
      assertThat(vault.count(r -> r.status() == 403)).isLessThanOrEqualTo(1);

      int sent = vault.requests().size();
      assertProblem(rotateUnvalidated("tok-none", "623999"), 503, "CREDENTIALS_UNAVAILABLE");
      ProblemException read = failure("623999");
      assertThat(read.status()).isEqualTo(503);
      assertThat(read.detail()).contains("token").contains("expired or was revoked");
      assertThat(broker.get("/health/ready", null).status()).isEqualTo(503);
      List<VaultDouble.Request> after = vault.requests().subList(sent, vault.requests().size());
      assertThat(after)
          .as("after the token's end only sys/health (no token) is asked")
          .allSatisfy(r -> assertThat(r.withToken()).as(r.toString()).isFalse());
      assertThat(occurrences(logs.text(), "ERROR " + SESSION_LOGGER + " VAULT_TOKEN " + UNUSABLE))
          .as("the operator is told once what to do")
          .isEqualTo(1);
      assertThat(logs.text()).contains("restarted with a new token").contains("VAULT_TOKEN_FILE");
    }
  }

  @Test
  void aRevokedTokenIsRefusedOnceThenNeverSentAgainAndReadinessSaysSo() {
    String token = vault.issueToken(Duration.ofHours(1), "default", "broker");
    try (LogCapture logs = LogCapture.atTrace()) {
      startBroker("VAULT_TOKEN", token);
      String[] store = storeWithKeys();
      assertThat(broker.get("/health/ready", null).status()).isEqualTo(200);

      vault.revokeToken(token);
      clock.advance(Duration.ofMinutes(2));
      assertThat(failure(store[1]).status()).isEqualTo(503);
      assertThat(vault.count(r -> r.status() == 403)).isEqualTo(1);

      HttpResult ready = broker.get("/health/ready", null);
      assertThat(ready.status()).isEqualTo(503);
      assertThat(credentialsCheck(ready).getString("reason")).contains("token");
      int sent = vault.requests().size();
      assertThat(failure(store[1]).detail()).contains("expired or was revoked");
      assertProblem(rotate(store[0], store[1]), 503, "CREDENTIALS_UNAVAILABLE");
      assertThat(vault.requests().subList(sent, vault.requests().size()))
          .allSatisfy(r -> assertThat(r.withToken()).as(r.toString()).isFalse());
      assertThat(vault.count(r -> r.status() == 403))
          .as("refused once, never asked again")
          .isEqualTo(1);
      assertThat(occurrences(logs.text(), "ERROR " + SESSION_LOGGER + " VAULT_TOKEN " + UNUSABLE))
          .isEqualTo(1);
    }
  }

  @Test
  void aNewTokenWrittenToTheTokenFileBringsTheBrokerBackWithoutARestart() throws IOException {
    Path file = dir.resolve("vault-token");
    String first = vault.issueToken(Duration.ofHours(1), "default", "broker");
    writeToken(file, first);
    startBroker("VAULT_TOKEN_FILE", file.toString());
    String[] store = storeWithKeys();

    // the agent authenticated again early: the broker adopts the new token from the file
    String second = vault.issueToken(Duration.ofHours(1), "default", "broker");
    String secondAccessor = vault.accessorOf(second);
    writeToken(file, second);
    Poll.until(
        "the broker reads with the new token from the file",
        Duration.ofSeconds(10),
        () -> {
          broker.get("/health/ready", null);
          return vault.count(
                  r ->
                      secondAccessor.equals(r.accessor())
                          && r.path().endsWith("/data/salesunits/readiness-probe"))
              > 0;
        });
    vault.revokeToken(first);
    clock.advance(Duration.ofMinutes(2));
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
    assertThat(vault.count(r -> r.status() == 403)).as("the old token was no longer used").isZero();

    // the agent is gone and its token revoked: down, until a new token appears in the file
    vault.revokeToken(second);
    clock.advance(Duration.ofMinutes(2));
    assertThat(failure(store[1]).status()).isEqualTo(503);
    HttpResult down = broker.get("/health/ready", null);
    assertThat(down.status()).isEqualTo(503);
    assertThat(credentialsCheck(down).getString("reason")).contains("token");

    writeToken(file, vault.issueToken(Duration.ofHours(1), "default", "broker"));
    Poll.until(
        "readiness UP with the token the agent wrote",
        Duration.ofSeconds(10),
        () -> broker.get("/health/ready", null).status() == 200);
    assertThat(Await.result(broker.app().credentials().current(store[1])).version()).isEqualTo(1);
    assertThat(vault.logins()).as("no AppRole involved").isZero();
  }

  @Test
  void aTokenFileThatHoldsJsonIsReportedNotSent() throws IOException {
    Path file = dir.resolve("vault-token");
    Files.writeString(file, "{\"token\":\"wrapped\",\"ttl\":300}");
    try (LogCapture logs = LogCapture.atTrace()) {
      startBroker("VAULT_TOKEN_FILE", file.toString());
      HttpResult ready = broker.get("/health/ready", null);
      assertThat(ready.status()).isEqualTo(503);
      assertThat(logs.text()).contains("holds JSON, not a token").doesNotContain("wrapped\"");
    }
    assertThat(vault.count(r -> r.withToken())).isZero();
  }

  private static void writeToken(Path file, String token) throws IOException {
    // as a Vault Agent file sink does: write a temporary file, then rename it over the old one
    Path temp = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), token + "\n");
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static JsonObject credentialsCheck(HttpResult ready) {
    for (Object check : ready.json().getJsonArray("checks")) {
      JsonObject c = (JsonObject) check;
      if (c.getString("id").equals("credentials")) {
        return c;
      }
    }
    throw new AssertionError("no credentials check in " + ready);
  }

  private String[] storeWithKeys() {
    String msn = Integer.toString(MSN.incrementAndGet());
    String storeId = "tok-" + msn;
    broker.createStore(storeId, "acme", msn);
    vipps
        .sandbox()
        .registerStore(
            new SandboxStore(
                msn, "client-" + msn, Secret.of("secret-" + msn), Secret.of("sub-" + msn)));
    HttpResult rotated = rotate(storeId, msn);
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
    return new String[] {storeId, msn};
  }

  private HttpResult rotate(String storeId, String msn) {
    return broker.send(
        HttpMethod.PUT,
        "/v1/admin/stores/" + storeId + "/credentials",
        broker.adminToken(),
        new JsonObject()
            .put("clientId", "client-" + msn)
            .put("clientSecret", "secret-" + msn)
            .put("subscriptionKey", "sub-" + msn));
  }

  private HttpResult rotateUnvalidated(String storeId, String msn) {
    return broker.send(
        HttpMethod.PUT,
        "/v1/admin/stores/" + storeId + "/credentials?validate=false",
        broker.adminToken(),
        new JsonObject()
            .put("clientId", "client-" + msn)
            .put("clientSecret", "secret-" + msn)
            .put("subscriptionKey", "sub-" + msn));
  }

  private ProblemException failure(String msn) {
    Throwable failure = Await.failure(broker.app().credentials().current(msn));
    assertThat(failure).isInstanceOf(ProblemException.class);
    return (ProblemException) failure;
  }

  private static int occurrences(String text, String what) {
    Matcher matcher = Pattern.compile(Pattern.quote(what)).matcher(text);
    int count = 0;
    while (matcher.find()) {
      count++;
    }
    return count;
  }
}
