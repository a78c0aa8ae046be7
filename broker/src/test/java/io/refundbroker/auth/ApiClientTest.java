package io.refundbroker.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Role;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What an admin sees of a client: never a token, the certificate's public facts only. */
class ApiClientTest {
  private static final Instant CREATED = Instant.parse("2026-11-01T08:00:00Z");

  @Test
  void aTokenClientShowsItsStoreAndNothingAboutACertificate() {
    JsonObject json =
        new ApiClient("cl_1", "till 1", Role.STORE, "oslo", CREATED, "cl_admin", null, null)
            .toJson();
    assertThat(json)
        .isEqualTo(
            new JsonObject()
                .put("clientId", "cl_1")
                .put("name", "till 1")
                .put("role", "STORE")
                .put("createdAt", "2026-11-01T08:00:00Z")
                .put("createdBy", "cl_admin")
                .put("authentication", "token")
                .put("storeId", "oslo"));
  }

  @Test
  void aRevokedCertificateClientShowsWhenAndWhichCertificate() {
    ApiClient.CertificateInfo certificate =
        new ApiClient.CertificateInfo(
            "1f2e", new byte[] {0x00, 0x7f, (byte) 0xff}, Instant.parse("2027-11-01T08:00:00Z"));
    JsonObject json =
        new ApiClient(
                "cl_2",
                "auditor",
                Role.AUDITOR,
                null,
                CREATED,
                "cl_admin",
                Instant.parse("2026-11-02T08:00:00Z"),
                certificate)
            .toJson();
    assertThat(json.getString("authentication")).isEqualTo("certificate");
    assertThat(json.containsKey("storeId")).isFalse();
    assertThat(json.getString("revokedAt")).isEqualTo("2026-11-02T08:00:00Z");
    assertThat(json.getJsonObject("certificate"))
        .isEqualTo(
            new JsonObject()
                .put("serialNumber", "1f2e")
                .put("fingerprintSha256", "007fff")
                .put("notAfter", "2027-11-01T08:00:00Z"));
  }
}
