package io.refundbroker.testing.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The request check against Vault's OpenAPI description catches what the spec states. */
class VaultSpecCheckTest {
  private static VaultSpecCheck check;

  @BeforeAll
  static void load() {
    check =
        VaultSpecCheck.load(
            Map.of(
                "kv_v2_mount_path", "refund-broker",
                "transit_mount_path", "transit",
                "approle_mount_path", "approle"));
    assumeTrue(check.enabled(), "Vault spec absent (CONTRACTS_DIR): check skipped");
  }

  @Test
  void acceptsWhatTheBrokerSends() {
    assertThat(
            check.check(
                "POST",
                "refund-broker/data/salesunits/123",
                Map.of(),
                new JsonObject()
                    .put("data", new JsonObject().put("client_id", "x"))
                    .put("options", new JsonObject().put("cas", 0))))
        .isEmpty();
    assertThat(
            check.check(
                "GET", "refund-broker/data/salesunits/123", Map.of("version", List.of("2")), null))
        .isEmpty();
    assertThat(check.check("POST", "auth/token/renew-self", Map.of(), null)).isEmpty();
    assertThat(
            check.check(
                "POST", "auth/token/renew-self", Map.of(), new JsonObject().put("increment", 3600)))
        .isEmpty();
    assertThat(
            check.check(
                "POST",
                "auth/approle/login",
                Map.of(),
                new JsonObject().put("role_id", "r").put("secret_id", "s")))
        .isEmpty();
    assertThat(
            check.check(
                "GET", "refund-broker/metadata/salesunits/", Map.of("list", List.of("true")), null))
        .isEmpty();
  }

  @Test
  void healthTakesTheParametersVaultDocumentsAndNoOthers() {
    assertThat(
            check.check(
                "GET",
                "sys/health",
                Map.of("standbyok", List.of("true"), "perfstandbyok", List.of("true")),
                null))
        .isEmpty();
    assertThat(check.check("HEAD", "sys/health", Map.of("drsecondarycode", List.of("200")), null))
        .isEmpty();
    assertThat(check.check("GET", "sys/health", Map.of("activecod", List.of("200")), null))
        .singleElement()
        .asString()
        .contains("'activecod'");
    assertThat(check.check("POST", "transit/keys/k/rotate", Map.of(), new JsonObject())).isEmpty();
  }

  @Test
  void reportsWhatTheSpecForbids() {
    assertThat(
            check.check(
                "POST",
                "refund-broker/data/salesunits/123",
                Map.of(),
                new JsonObject().put("data", "not-an-object")))
        .singleElement()
        .asString()
        .contains("'data' should be object");
    assertThat(check.check("POST", "refund-broker/data/salesunits/123", Map.of(), null))
        .singleElement()
        .asString()
        .contains("requires a request body");
    assertThat(
            check.check(
                "GET", "refund-broker/data/salesunits/1", Map.of("verison", List.of("2")), null))
        .singleElement()
        .asString()
        .contains("verison");
    assertThat(check.check("GET", "nothing/here/at/all", Map.of(), null)).hasSize(1);
    assertThat(check.check("POST", "transit/sign/k", Map.of(), new JsonObject().put("input", 12)))
        .singleElement()
        .asString()
        .contains("'input' should be string");
    assertThat(check.check("PATCH", "refund-broker/data/salesunits/1", Map.of(), null))
        .singleElement()
        .asString()
        .contains("no such operation");
  }
}
