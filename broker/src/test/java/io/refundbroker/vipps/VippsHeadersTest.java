package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class VippsHeadersTest {

  @Test
  void secretHeadersAreRedactedWhateverTheirCase() {
    MultiMap headers =
        MultiMap.caseInsensitiveMultiMap()
            .add("client_id", "id-canary")
            .add("CLIENT_SECRET", "secret-canary")
            .add("ocp-apim-subscription-key", "key-canary")
            .add("Authorization", "Bearer token-canary")
            .add("Merchant-Serial-Number", "123456")
            .add("Idempotency-Key", "rf-1");

    String described = VippsHeaders.describe(headers);

    assertThat(described)
        .doesNotContain("id-canary", "secret-canary", "key-canary", "token-canary")
        .contains("Merchant-Serial-Number: 123456")
        .contains("Idempotency-Key: rf-1")
        .contains("Authorization: [redacted]");
  }

  @Test
  void tokenBodiesLoseTheirTokenAndUnreadableOnesAreOmitted() {
    Buffer token =
        new JsonObject()
            .put("token_type", "Bearer")
            .put("expires_in", "3600")
            .put("access_token", "eyJ-token-canary")
            .toBuffer();

    assertThat(VippsHeaders.describeBody(token, true))
        .doesNotContain("token-canary")
        .contains("\"expires_in\":\"3600\"");
    assertThat(VippsHeaders.describeBody(Buffer.buffer("access_token=eyJ-token-canary"), true))
        .doesNotContain("token-canary")
        .contains("omitted");
    assertThat(VippsHeaders.describeBody(Buffer.buffer("{\"a\":1}"), false)).isEqualTo("{\"a\":1}");
  }
}
