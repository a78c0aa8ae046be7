package io.refundbroker.testing.vault;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Under {@code vault-config/broker.hcl}, the broker's token may write a store key's {@code
 * custom_metadata} and nothing else in its metadata: the settings that would prune or expire the
 * key history ({@code max_versions}, {@code delete_version_after}) or relax check-and-set are
 * denied by the policy's {@code allowed_parameters}, as Vault's ACL denies them.
 */
class BrokerPolicyMetadataIT {
  private static final String MSN = "500100";
  private static final String DATA = "/v1/refund-broker/data/salesunits/" + MSN;
  private static final String METADATA = "/v1/refund-broker/metadata/salesunits/" + MSN;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private VaultDouble vault;
  private String brokerToken;

  @BeforeEach
  void start() throws Exception {
    vault = VaultDouble.start();
    brokerToken = vault.issueToken(Duration.ofMinutes(10), "default", "broker");
    assertThat(
            send(
                "POST",
                DATA,
                "{\"options\":{\"cas\":0},\"data\":{\"client_id\":\"c\",\"client_secret\":\"s\","
                    + "\"subscription_key\":\"k\"}}"))
        .isEqualTo(200);
  }

  @AfterEach
  void stop() {
    vault.close();
  }

  @Test
  void theBrokerMayWriteCustomMetadataOnly() throws Exception {
    assertThat(send("POST", METADATA, "{\"custom_metadata\":{\"rotated_by\":\"cl_1\"}}"))
        .isEqualTo(204);
    assertThat(vault.customMetadata(MSN)).isEqualTo(Map.of("rotated_by", "cl_1"));
    assertThat(send("GET", METADATA, null)).isEqualTo(200);

    for (String body :
        new String[] {
          "{\"max_versions\":1}",
          "{\"delete_version_after\":\"1s\"}",
          "{\"cas_required\":false}",
          "{\"custom_metadata\":{\"rotated_by\":\"cl_2\"},\"max_versions\":1}"
        }) {
      assertThat(send("POST", METADATA, body)).as(body).isEqualTo(403);
    }
    assertThat(vault.customMetadata(MSN)).isEqualTo(Map.of("rotated_by", "cl_1"));
    assertThat(send("DELETE", METADATA, null)).isEqualTo(403);
  }

  private int send(String method, String path, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(vault.address() + path))
            .timeout(Duration.ofSeconds(10))
            .header("X-Vault-Token", brokerToken);
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
