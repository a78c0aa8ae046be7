package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.refundbroker.error.ProblemException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The auditor's refund-log filters and the cursor that continues a page. */
class RefundQueryTest {
  private static final UUID ID = UUID.fromString("0d9c3a6e-1b2f-4c5d-8e7f-a1b2c3d4e5f6");

  @Test
  void aCursorRoundTripsToTheMicrosecond() {
    RefundQuery.Position position =
        new RefundQuery.Position(Instant.parse("2026-11-30T12:00:00.123456Z"), ID);
    String cursor = position.encode();
    assertThat(cursor).matches("[A-Za-z0-9_-]+");
    assertThat(RefundQuery.Position.decode(cursor)).isEqualTo(position);
  }

  @Test
  void aCursorThisEndpointDidNotMakeIsA400() {
    for (String cursor :
        new String[] {
          "",
          "%%%",
          encode("no separator"),
          encode("2026-11-30T12:00:00Z|not-a-uuid"),
          encode("yesterday|" + ID),
          encode("|" + ID)
        }) {
      ProblemException refused =
          catchThrowableOfType(() -> RefundQuery.Position.decode(cursor), ProblemException.class);
      assertThat(refused).as(cursor).isNotNull();
      assertThat(refused.status()).isEqualTo(400);
      assertThat(refused.code()).isEqualTo("INVALID_CURSOR");
    }
    assertThat(RefundQuery.Position.decode(encode("2026-11-30T12:00:00Z|" + ID)).refundId())
        .isEqualTo(ID);
  }

  @Test
  void theRecordedFiltersAreExactlyThoseSet() {
    assertThat(new RefundQuery(null, null, null, null, null, null, null, null, 50).filters())
        .isEqualTo(new JsonObject());
    RefundQuery.Position after =
        new RefundQuery.Position(Instant.parse("2026-11-01T00:00:00Z"), ID);
    JsonObject all =
        new RefundQuery(
                Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T00:00:00Z"),
                "acme",
                "bergen",
                "oslo",
                "SUCCEEDED",
                "order-1",
                after,
                50)
            .filters();
    assertThat(all)
        .isEqualTo(
            new JsonObject()
                .put("from", ChainedEvent.formatTime(Instant.parse("2026-11-01T00:00:00Z")))
                .put("to", ChainedEvent.formatTime(Instant.parse("2026-12-01T00:00:00Z")))
                .put("chainId", "acme")
                .put("requestingStoreId", "bergen")
                .put("originStoreId", "oslo")
                .put("status", "SUCCEEDED")
                .put("orderId", "order-1")
                .put("cursor", after.encode()));
  }

  private static String encode(String raw) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }
}
