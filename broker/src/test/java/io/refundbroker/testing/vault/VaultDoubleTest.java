package io.refundbroker.testing.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.vault.VaultDouble.Mode;
import io.refundbroker.testing.vault.VaultDouble.OperatorReply;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The double itself behaves as Vault's documentation says for what this issue added: {@code
 * sys/health} codes and parameters per HA/replication state, Transit key versions (rotation by hand
 * and by {@code auto_rotate_period}, {@code vault:v<n>:} signatures, {@code key_version} on sign),
 * explicit max TTL on renewal, and a DR secondary's refusal of client requests.
 */
class VaultDoubleTest {
  private static final String KEY = "transit/keys/" + VaultDouble.TRANSIT_KEY;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private VaultDouble vault;

  @BeforeEach
  void start() {
    vault = VaultDouble.start();
  }

  @AfterEach
  void stop() {
    assertThat(vault.specViolations()).isEmpty();
    vault.close();
  }

  @ParameterizedTest(name = "{0} {1} → {2}")
  @CsvSource({
    "ACTIVE, '', 200",
    "STANDBY, '', 429",
    "STANDBY, standbyok=true, 200",
    "STANDBY, standbycode=200, 200",
    "PERFORMANCE_STANDBY, '', 473",
    "PERFORMANCE_STANDBY, standbyok=true, 473",
    "PERFORMANCE_STANDBY, perfstandbyok=true, 200",
    "PERFORMANCE_STANDBY, performancestandbycode=299, 299",
    "DR_SECONDARY, '', 472",
    "DR_SECONDARY, drsecondarycode=200, 200",
    "DR_SECONDARY, standbyok=true&perfstandbyok=true, 472",
    "UNINITIALIZED, '', 501",
    "UNINITIALIZED, uninitcode=200, 200",
    "ACTIVE, activecode=204, 204",
    "ACTIVE, standbyok=maybe, 400",
    "ACTIVE, sealedcode=x, 400"
  })
  void healthAnswersTheCodeOfItsStateAndHonoursTheParameters(Mode mode, String query, int expected)
      throws Exception {
    vault.mode(mode);
    HttpResponse<String> health = health("GET", query);
    assertThat(health.statusCode()).isEqualTo(expected);
    if (expected != 400 && expected != 204) {
      JsonObject body = new JsonObject(health.body());
      assertThat(body.getBoolean("initialized")).isEqualTo(mode != Mode.UNINITIALIZED);
      assertThat(body.getBoolean("standby"))
          .isEqualTo(mode == Mode.STANDBY || mode == Mode.PERFORMANCE_STANDBY);
      assertThat(body.getBoolean("performance_standby"))
          .isEqualTo(mode == Mode.PERFORMANCE_STANDBY);
      assertThat(body.getString("replication_dr_mode"))
          .isEqualTo(mode == Mode.DR_SECONDARY ? "secondary" : "disabled");
    }
  }

  @Test
  void sealedComesBeforeEveryOtherStateAndHeadHasNoBody() throws Exception {
    vault.mode(Mode.DR_SECONDARY);
    vault.seal();
    assertThat(health("GET", "").statusCode()).isEqualTo(503);
    assertThat(new JsonObject(health("GET", "").body()).containsKey("cluster_name")).isFalse();
    HttpResponse<String> head = health("HEAD", "sealedcode=299");
    assertThat(head.statusCode()).isEqualTo(299);
    assertThat(head.body()).isEmpty();
  }

  @Test
  void aDrSecondaryRefusesClientRequestsLoginsIncluded() {
    vault.mode(Mode.DR_SECONDARY);
    OperatorReply read = vault.operator("GET", "refund-broker/data/salesunits/1", null);
    assertThat(read.status()).isEqualTo(400);
    assertThat(read.body().getJsonArray("errors").getString(0))
        .isEqualTo("path disabled in replication DR secondary mode");
  }

  @Test
  void transitRotationAddsAVersionThatSignsWhileOldVersionsStayPublished() throws Exception {
    byte[] message = "checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    JsonObject first = sign(message, null);
    assertThat(first.getString("signature")).startsWith("vault:v1:");
    assertThat(first.getInteger("key_version")).isEqualTo(1);

    OperatorReply rotated = vault.operator("POST", KEY + "/rotate", new JsonObject());
    assertThat(rotated.status()).isEqualTo(200);
    JsonObject info = vault.operator("GET", KEY, null).body().getJsonObject("data");
    assertThat(info.getInteger("latest_version")).isEqualTo(2);
    assertThat(info.getJsonObject("keys").fieldNames()).containsExactlyInAnyOrder("1", "2");

    JsonObject second = sign(message, null);
    assertThat(second.getString("signature")).startsWith("vault:v2:");
    assertThat(verifies(info, "2", message, second)).isTrue();
    assertThat(verifies(info, "1", message, second)).isFalse();
    JsonObject pinned = sign(message, 1);
    assertThat(pinned.getString("signature")).startsWith("vault:v1:");
    assertThat(verifies(info, "1", message, pinned)).isTrue();

    OperatorReply tooNew =
        vault.operator(
            "POST",
            "transit/sign/" + VaultDouble.TRANSIT_KEY,
            new JsonObject().put("input", "AA==").put("key_version", 3));
    assertThat(tooNew.status()).isEqualTo(400);
    assertThat(tooNew.body().encode()).contains("higher than the latest key version");
  }

  @Test
  void autoRotatePeriodRotatesOnceThePeriodHasPassed() {
    OperatorReply short_ =
        vault.operator("POST", KEY + "/config", new JsonObject().put("auto_rotate_period", "10m"));
    assertThat(short_.status()).as("Vault's minimum is an hour").isEqualTo(400);
    OperatorReply configured =
        vault.operator("POST", KEY + "/config", new JsonObject().put("auto_rotate_period", "24h"));
    assertThat(configured.status()).isEqualTo(200);
    assertThat(configured.body().getJsonObject("data").getLong("auto_rotate_period"))
        .isEqualTo(86_400);
    vault.advance(Duration.ofHours(23));
    assertThat(
            vault
                .operator("GET", KEY, null)
                .body()
                .getJsonObject("data")
                .getInteger("latest_version"))
        .isEqualTo(1);
    vault.advance(Duration.ofHours(2));
    assertThat(
            vault
                .operator("GET", KEY, null)
                .body()
                .getJsonObject("data")
                .getInteger("latest_version"))
        .isEqualTo(2);
  }

  @Test
  void anExplicitMaxTtlCapsRenewalsAndAnExpiredTokenIsRefusedAndRemembered() throws Exception {
    String token = vault.issueToken(Duration.ofSeconds(60), Duration.ofSeconds(100), "default");
    JsonObject self = request("GET", "auth/token/lookup-self", token, null);
    assertThat(self.getJsonObject("data").getLong("explicit_max_ttl")).isEqualTo(100);
    assertThat(self.getJsonObject("data").getLong("creation_ttl")).isEqualTo(60);

    vault.advance(Duration.ofSeconds(50));
    JsonObject renewed = request("POST", "auth/token/renew-self", token, new JsonObject());
    assertThat(renewed.getJsonObject("auth").getLong("lease_duration"))
        .as("capped at the explicit max: at most 100 - 50 s are left")
        .isBetween(1L, 50L);
    assertThat(renewed.getJsonArray("warnings").getString(0)).contains("capped accordingly");

    vault.advance(Duration.ofSeconds(51));
    assertThat(status("GET", "auth/token/lookup-self", token)).isEqualTo(403);
    assertThat(status("GET", "auth/token/lookup-self", token)).isEqualTo(403);
    assertThat(vault.count(VaultDouble.Request::tokenRefusedBefore))
        .as("the second request reused a refused token")
        .isEqualTo(1);
  }

  private HttpResponse<String> health(String method, String query)
      throws IOException, InterruptedException {
    URI uri = URI.create(vault.address() + "/v1/sys/health" + (query.isEmpty() ? "" : "?" + query));
    return HTTP.send(
        HttpRequest.newBuilder(uri)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject sign(byte[] message, Integer version) {
    JsonObject body = new JsonObject().put("input", Base64.getEncoder().encodeToString(message));
    if (version != null) {
      body.put("key_version", version);
    }
    OperatorReply reply = vault.operator("POST", "transit/sign/" + VaultDouble.TRANSIT_KEY, body);
    assertThat(reply.status()).as("%s", reply.body()).isEqualTo(200);
    return reply.body().getJsonObject("data");
  }

  private static boolean verifies(
      JsonObject info, String version, byte[] message, JsonObject signed) throws Exception {
    byte[] raw =
        Base64.getDecoder()
            .decode(info.getJsonObject("keys").getJsonObject(version).getString("public_key"));
    byte[] spki = HexFormat.of().parseHex("302a300506032b6570032100");
    byte[] der = new byte[spki.length + raw.length];
    System.arraycopy(spki, 0, der, 0, spki.length);
    System.arraycopy(raw, 0, der, spki.length, raw.length);
    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    String signature = signed.getString("signature");
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(key);
    verifier.update(message);
    return verifier.verify(
        Base64.getDecoder().decode(signature.substring(signature.indexOf(':', 6) + 1)));
  }

  private JsonObject request(String method, String path, String token, JsonObject body)
      throws IOException, InterruptedException {
    HttpResponse<String> response = send(method, path, token, body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return new JsonObject(response.body());
  }

  private int status(String method, String path, String token)
      throws IOException, InterruptedException {
    return send(method, path, token, null).statusCode();
  }

  private HttpResponse<String> send(String method, String path, String token, JsonObject body)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(vault.address() + "/v1/" + path))
            .header("X-Vault-Token", token)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.encode()))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
